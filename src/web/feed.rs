//! "My work" outside the browser: an Atom feed of what waits for a person, at an address with a
//! secret of its own (a feed reader has no session), which the person can replace at any time.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::web::errors::WebError;
use crate::web::extract::Posted;
use crate::web::i18n::Tr;
use crate::web::state::AppState;
use crate::web::view::{Chrome, page};

fn hash_of(secret: &str) -> String {
    crate::audit::sha256_hex(secret.as_bytes())
}

/// The site's address as the request reached it (behind HTTPS when cookies are marked secure).
fn base(state: &AppState, headers: &HeaderMap) -> String {
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("localhost");
    // A host header is the client's word: only a host's characters go into the feed.
    let host: String =
        host.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']')).collect();
    let scheme = if state.config.secure_cookies { "https" } else { "http" };
    format!("{scheme}://{host}")
}

#[derive(Template)]
#[template(path = "feed_link.html")]
struct FeedLink {
    chrome: Chrome,
    url: String,
}

/// A new address for the person's feed, shown once; the old one stops working.
pub async fn new_feed(
    State(state): State<AppState>,
    headers: HeaderMap,
    Posted { by: signed, .. }: Posted,
) -> Result<Response, WebError> {
    let secret = crate::people::random_token();
    let at = crate::clock::to_micros(state.now());
    crate::store::feeds::replace(state.db(), signed.session.user.id, &hash_of(&secret), at).await?;
    let url = format!("{}/feeds/{secret}", base(&state, &headers));
    page(StatusCode::OK, &FeedLink { chrome: Chrome::signed(&signed, signed.tr.t("feed.title")), url })
}

/// Text XML 1.0 can hold: the control characters it forbids (which a title from someone's data
/// might carry) would make a reader refuse the whole feed.
fn xml_text(s: String) -> String {
    if s.chars().all(|c| !c.is_control() || matches!(c, '\t' | '\n' | '\r')) && !s.contains(['\u{fffe}', '\u{ffff}']) {
        return s;
    }
    s.chars()
        .filter(|c| (!c.is_control() || matches!(c, '\t' | '\n' | '\r')) && !matches!(c, '\u{fffe}' | '\u{ffff}'))
        .collect()
}

pub struct Entry {
    pub id: String,
    pub instance: i64,
    pub title: String,
    pub updated: String,
    pub summary: String,
}

#[derive(Template)]
#[template(path = "feed.xml")]
struct Feed {
    lang: &'static str,
    id: String,
    title: String,
    updated: String,
    base: String,
    entries: Vec<Entry>,
}

/// The most entries a feed holds: a reader shows the newest first anyway.
const MAX_ENTRIES: usize = 200;

/// The person's work as Atom: each instance waiting for them (an entry per version, so a change
/// shows as new), and where they were mentioned.
pub async fn work_feed(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(secret): Path<String>,
) -> Result<Response, WebError> {
    if secret.len() != 64 {
        return Err(WebError::NotFound);
    }
    let owner = crate::store::feeds::owner(state.db(), &hash_of(&secret)).await?.ok_or(WebError::NotFound)?;
    let user = crate::people::users::find(state.db(), owner).await?.filter(|u| u.active).ok_or(WebError::NotFound)?;
    let tr = Tr::new(crate::web::cookies::lang(&headers));
    let lang = tr.code();
    let today = crate::definition::calendar::format_date(state.now().to_offset(state.rt.offset()).date());
    let delegations = crate::store::delegations::held(state.db(), &user.username, &today).await?;
    let actor = user.actor().with_delegations(delegations);
    let units = state.directory().await?;
    let stamp = crate::clock::rfc3339;
    let mut entries = Vec::new();
    for (m, inst) in crate::web::comments::mentions_of(&state, &actor, &user.username).await? {
        let who = units.people.get(&m.mentioned_by).cloned().unwrap_or(m.mentioned_by);
        let when = crate::clock::from_micros(m.at);
        entries.push(Entry {
            id: format!("urn:unionflow:mention:{}:{}", m.instance_id, m.at),
            instance: m.instance_id,
            title: inst.definition.title_named(&inst.row.data, lang, crate::web::process::namer(&units, lang)),
            updated: stamp(when),
            summary: tr
                .f("work.mentioned_by", &[("who", who), ("when", crate::web::view::fmt_time(when, state.rt.offset()))]),
        });
    }
    for w in crate::work::waiting_for(&state.rt, &actor).await? {
        let def = &w.definition;
        let actions: Vec<&str> = w.allowed.iter().map(|e| def.event_label(e, lang)).collect();
        let state_label = def.state(&w.row.state).map_or(w.row.state.as_str(), |s| s.label.get(lang));
        entries.push(Entry {
            id: format!("urn:unionflow:work:{}:{}", w.row.id, w.row.version),
            instance: w.row.id,
            title: def.title_named(&w.row.data, lang, crate::web::process::namer(&units, lang)),
            updated: stamp(w.row.updated_at),
            summary: format!("{} · {state_label} · {}", def.label.get(lang), actions.join(tr.t("punct.list"))),
        });
    }
    entries.truncate(MAX_ENTRIES);
    for e in &mut entries {
        e.title = xml_text(std::mem::take(&mut e.title));
        e.summary = xml_text(std::mem::take(&mut e.summary));
    }
    let updated = entries.iter().map(|e| e.updated.clone()).max().unwrap_or_else(|| stamp(state.now()));
    let feed = Feed {
        lang,
        id: format!("urn:unionflow:feed:{}", user.username),
        title: xml_text(format!("{} · {}", tr.t("work.title"), user.display_name)),
        updated,
        base: base(&state, &headers),
        entries,
    };
    let body = feed.render()?;
    let mut response = body.into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/atom+xml; charset=utf-8"));
    Ok(response)
}
