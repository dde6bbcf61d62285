//! Who calls: a service account signed in by its bearer token, within its rate, and the language
//! its answers are worded in.

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;

use crate::api::problem::ApiError;
use crate::engine::Actor;
use crate::people::{User, tokens};
use crate::store::writer::on_target;
use crate::web::i18n::{Lang, Tr};
use crate::web::state::AppState;
use futures_util::FutureExt;

pub struct Caller {
    pub user: User,
    pub tr: Tr,
}

impl Caller {
    pub fn actor(&self) -> Actor {
        self.user.actor()
    }
    pub fn name(&self) -> &str {
        &self.user.username
    }
}

/// The language asked for by `Accept-Language`: the first of Chinese or English by preference
/// (`q`), else the app's default.
pub fn lang_of(headers: &HeaderMap) -> Tr {
    let Some(value) = headers.get(axum::http::header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()) else {
        return Tr::new(Lang::default());
    };
    let mut best: Option<(f32, Lang)> = None;
    for part in value.split(',').take(20) {
        let mut pieces = part.split(';');
        let tag = pieces.next().unwrap_or_default().trim().to_ascii_lowercase();
        let q =
            pieces.find_map(|p| p.trim().strip_prefix("q=")).and_then(|q| q.trim().parse::<f32>().ok()).unwrap_or(1.0);
        let lang = match tag.split('-').next() {
            Some("zh") => Lang::Zh,
            Some("en") => Lang::En,
            _ => continue,
        };
        if q > 0.0 && best.is_none_or(|(b, _)| q > b) {
            best = Some((q, lang));
        }
    }
    Tr::new(best.map_or_else(Lang::default, |(_, l)| l))
}

/// How many calls with a wrong token one client address may make a minute.
pub const WRONG_TOKENS_PER_MINUTE: u32 = 30;

/// The limiter's key of a client address's wrong tokens: negative, apart from the tokens' ids.
fn failures_key(client: &str) -> i64 {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(client.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    -(i64::from_le_bytes(first) & i64::MAX) - 1
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(axum::http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let tr = lang_of(&parts.headers);
        let token = bearer(&parts.headers).ok_or_else(|| ApiError::unauthorized(&tr))?;
        let found =
            tokens::authenticate(state.db(), token, state.now()).await.map_err(|e| ApiError::internal(&tr, &e))?;
        let Some(signed) = found else {
            // Wrong tokens are counted by the client's address: past the bound it is told to wait
            // rather than given a query per guess.
            let client =
                crate::web::extract::ClientAddr::from_request_parts(parts, state).await.unwrap_or_else(|e| match e {});
            let key = failures_key(&client.0);
            if let Err(wait) = state.api_limits.take(key, WRONG_TOKENS_PER_MINUTE, std::time::Instant::now()) {
                return Err(ApiError::too_many(&tr, wait.as_secs_f64().ceil() as u64, WRONG_TOKENS_PER_MINUTE));
            }
            return Err(ApiError::unauthorized(&tr));
        };
        if let Some(by) = parts.extensions.get::<crate::api::calls::CalledBy>() {
            by.set(&signed.user.username);
        }
        // A use refused for its rate is a use all the same.
        if signed.use_to_record {
            // Best effort, and through the shared commit: a read must not fail for its token's
            // last use, nor queue for SQLite's write lock beside the writer.
            let (token, now) = (signed.token_id, state.now());
            let recorded = state
                .rt
                .write(move |target| {
                    async move { on_target!(target, |conn| tokens::record_use(conn, token, now).await) }.boxed()
                })
                .await;
            if let Ok(Err(e)) | Err(e) = recorded {
                tracing::warn!(error = %e, "recording a token's last use failed");
            }
        }
        let limit = signed.per_minute;
        if let Err(wait) = state.api_limits.take(signed.token_id, limit, std::time::Instant::now()) {
            return Err(ApiError::too_many(&tr, wait.as_secs_f64().ceil() as u64, limit));
        }
        tracing::debug!(account = %signed.user.username, path = %parts.uri.path(), "API call");
        Ok(Caller { user: signed.user, tr })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asked(value: &str) -> Lang {
        let mut headers = HeaderMap::new();
        headers.insert(axum::http::header::ACCEPT_LANGUAGE, value.parse().expect("a header value"));
        lang_of(&headers).lang
    }

    #[test]
    fn the_language_is_the_most_preferred_of_those_we_speak() {
        assert_eq!(asked("en-US,en;q=0.9"), Lang::En);
        assert_eq!(asked("fr, en;q=0.5, zh-CN;q=0.8"), Lang::Zh);
        assert_eq!(asked("de"), Lang::default());
        assert_eq!(asked("zh;q=0, en;q=0.1"), Lang::En);
    }
}
