//! The cookies this site sets and reads, through axum-extra's typed jar: one place says how a
//! cookie of ours is made (the whole site, hidden from scripts, not sent on cross-site posts,
//! `Secure` behind HTTPS).

use axum::http::HeaderMap;
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};

use crate::web::i18n::Lang;

pub const SESSION: &str = "uf_session";
pub const LANG: &str = "uf_lang";
/// The token that guards the sign-in form, before there is a session (double submit).
pub const PRE_SESSION: &str = "uf_pre";

/// The cookies a request carries.
pub fn jar(headers: &HeaderMap) -> CookieJar {
    CookieJar::from_headers(headers)
}

/// The value of one cookie the request carries.
pub fn value(headers: &HeaderMap, name: &str) -> Option<String> {
    jar(headers).get(name).map(|c| c.value().to_owned())
}

/// The reader's language: the one they chose, or the default.
pub fn lang(headers: &HeaderMap) -> Lang {
    jar(headers).get(LANG).and_then(|c| Lang::parse(c.value())).unwrap_or_default()
}

/// A cookie of ours; without `max_age` it lasts as long as the browser runs.
pub fn ours(name: &'static str, value: String, max_age: Option<time::Duration>, secure: bool) -> Cookie<'static> {
    let mut c = Cookie::build((name, value)).path("/").http_only(true).same_site(SameSite::Lax).secure(secure);
    if let Some(age) = max_age {
        c = c.max_age(age);
    }
    c.build()
}

/// Tells the browser to forget a cookie of ours.
pub fn forget(name: &'static str, secure: bool) -> Cookie<'static> {
    ours(name, String::new(), Some(time::Duration::ZERO), secure)
}
