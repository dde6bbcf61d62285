//! The audit trail for admins: filters, keyset pages, a streamed CSV export, and the chain's
//! verification state, shown as a loud alarm when it is broken.

use askama::Template;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use crate::definition::DefinitionSet;
use crate::definition::calendar::parse_date;
use crate::store::audit::{self, AuditRow, Filter};
use crate::web::csv_export;
use crate::web::errors::{WebError, urlencode};
use crate::web::extract::Admin;
use crate::web::i18n::Tr;
use crate::web::state::AppState;
use crate::web::view::{Chrome, fmt_time, page};

#[derive(Debug, Default, Deserialize)]
pub struct AuditQuery {
    #[serde(default)]
    pub process: String,
    #[serde(default)]
    pub instance: String,
    #[serde(default)]
    pub actor: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub until: String,
    pub before: Option<i64>,
}

impl AuditQuery {
    /// The filter, parsed; a malformed value is a bad request, not an empty filter.
    fn filter(&self, offset: time::UtcOffset) -> Result<Filter, WebError> {
        // Filters are short words: anything else (a NUL, a megabyte) is a bad request, not a query.
        let text = |s: &str| -> Result<Option<String>, WebError> {
            let s = crate::text::line(s, FILTER_MAX).map_err(|p| WebError::BadRequest(format!("a filter {p}")))?;
            Ok(Some(s.to_owned()).filter(|s| !s.is_empty()))
        };
        let day = |s: &str, what: &str| -> Result<Option<time::OffsetDateTime>, WebError> {
            match text(s)? {
                None => Ok(None),
                Some(d) => parse_date(&d)
                    .map(|d| Some(d.midnight().assume_offset(offset)))
                    .ok_or_else(|| WebError::BadRequest(format!("{what} is not a date"))),
            }
        };
        Ok(Filter {
            process: text(&self.process)?,
            instance_id: match text(&self.instance)? {
                None => None,
                // "#48", as instances are shown everywhere, or "48".
                Some(i) => Some(
                    i.trim_start_matches('#')
                        .trim()
                        .parse()
                        .map_err(|_| WebError::BadRequest("instance is not a number".into()))?,
                ),
            },
            actor: text(&self.actor)?,
            kind: text(&self.kind)?,
            from: day(&self.from, "from")?,
            until: day(&self.until, "until")?.map(|d| d + time::Duration::days(1)),
        })
    }

    fn query_string(&self) -> String {
        [
            ("process", &self.process),
            ("instance", &self.instance),
            ("actor", &self.actor),
            ("kind", &self.kind),
            ("from", &self.from),
            ("until", &self.until),
        ]
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", urlencode(v)))
        .collect::<Vec<_>>()
        .join("&")
    }
}

pub struct AuditLine {
    pub id: i64,
    pub when: String,
    pub actor: String,
    pub kind: String,
    /// The ids, shown on hover: the CSV export and the filters use them.
    pub kind_id: String,
    pub process: String,
    pub instance: Option<i64>,
    pub event: String,
    pub event_id: String,
    pub change: String,
    pub bad: bool,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    chrome: Chrome,
    q: AuditQuery,
    query: String,
    processes: Vec<(String, String, bool)>,
    kinds: Vec<(&'static str, String, bool)>,
    /// The people by user name and name, offered as the actor filter is typed.
    people: Vec<(String, String)>,
    rows: Vec<AuditLine>,
    older: Option<i64>,
    intact: String,
    broken: Option<String>,
}

/// The kinds of event the trail records.
pub(crate) const KINDS: &[&str] = &[
    "start",
    "transition",
    "spawn",
    "join",
    "timer",
    "timer_refused",
    "deadline_moved",
    "sign_in",
    "sign_in_failed",
    "sign_out",
    "admin",
    "delegation",
    "comment",
    "substitute",
    "account",
    "attachment",
];
const PAGE: u64 = 100;
/// The longest filter value: longer than any process id, user name or kind.
const FILTER_MAX: usize = 200;

/// An event's row in the reader's words: its kind, its event and its change of state by their
/// labels in the process's definition (the ids stay on hover and in the CSV export).
fn line(tr: &Tr, defs: &DefinitionSet, offset: time::UtcOffset, bad_id: Option<i64>, r: &AuditRow) -> AuditLine {
    let lang = tr.code();
    let def = r.record.process.as_deref().and_then(|p| defs.get(p));
    let state = |s: &str| def.and_then(|d| d.state(s)).map_or_else(|| s.to_owned(), |st| st.label.get(lang).to_owned());
    let event = match (def, r.record.event.as_deref()) {
        (Some(d), Some(e)) => d.event_label(e, lang).to_owned(),
        (None, Some(e)) => e.to_owned(),
        (_, None) => String::new(),
    };
    let change = match (&r.record.from_state, &r.record.to_state) {
        (Some(f), Some(t)) if f != t => format!("{} → {}", state(f), state(t)),
        (None, Some(t)) => format!("→ {}", state(t)),
        _ => String::new(),
    };
    AuditLine {
        id: r.id,
        when: fmt_time(r.at(), offset),
        actor: r.record.actor.clone(),
        kind: tr.t(&format!("kind.{}", r.record.kind)).to_owned(),
        kind_id: r.record.kind.clone(),
        process: def.map_or_else(|| r.record.process.clone().unwrap_or_default(), |d| d.label.get(lang).to_owned()),
        instance: r.record.instance_id,
        event,
        event_id: r.record.event.clone().unwrap_or_default(),
        change,
        bad: Some(r.id) == bad_id,
    }
}

/// The chain's state in words: intact (how many events) or not yet checked, and the break if any.
fn chain_words(tr: &Tr, verification: Option<&audit::Verification>) -> (String, Option<String>) {
    let intact = match verification {
        Some(v) => tr.f("audit.chain.ok", &[("count", v.checked.to_string())]),
        None => tr.t("audit.chain.pending").to_owned(),
    };
    let broken = verification.and_then(|v| v.broken.as_ref());
    (intact, broken.map(|b| tr.f("audit.chain.broken", &[("what", b.to_string())])))
}

pub async fn audit_page(
    State(state): State<AppState>,
    Admin(signed): Admin,
    Query(q): Query<AuditQuery>,
) -> Result<Response, WebError> {
    let offset = state.rt.offset();
    let rows = audit::page(state.db(), &q.filter(offset)?, q.before, PAGE).await?;
    let verification = state.chain_status().await;
    let bad_id = verification.as_ref().and_then(|v| v.broken.as_ref()).and_then(|b| b.id);
    let (tr, defs) = (signed.tr, state.rt.definitions());
    let (intact, broken) = chain_words(&tr, verification.as_ref());
    let page_data = AuditPage {
        chrome: Chrome::signed(&signed, tr.t("audit.title")),
        query: q.query_string(),
        processes: defs
            .definitions
            .values()
            .map(|d| (d.id.clone(), d.label.get(tr.code()).to_owned(), d.id == q.process))
            .collect(),
        kinds: KINDS.iter().map(|k| (*k, tr.t(&format!("kind.{k}")).to_owned(), *k == q.kind)).collect(),
        people: state.directory().await?.people.iter().map(|(u, n)| (u.clone(), n.clone())).collect(),
        older: (rows.len() as u64 == PAGE).then(|| rows.last().map(|r| r.id)).flatten(),
        rows: rows.iter().map(|r| line(&tr, defs, offset, bad_id, r)).collect(),
        intact,
        broken,
        q,
    };
    page(StatusCode::OK, &page_data)
}

/// The columns of the export, in order.
const CSV_COLUMNS: [&str; 11] =
    ["id", "at", "actor", "kind", "process", "instance", "event", "from", "to", "data", "hash"];

fn csv_line(r: &AuditRow, offset: time::UtcOffset) -> Result<Vec<u8>, csv::Error> {
    let rec = &r.record;
    csv_export::line([
        r.id.to_string(),
        fmt_time(r.at(), offset),
        rec.actor.clone(),
        rec.kind.clone(),
        rec.process.clone().unwrap_or_default(),
        rec.instance_id.map(|i| i.to_string()).unwrap_or_default(),
        rec.event.clone().unwrap_or_default(),
        rec.from_state.clone().unwrap_or_default(),
        rec.to_state.clone().unwrap_or_default(),
        rec.data.clone(),
        r.hash.clone(),
    ])
}

/// One page of events as CSV lines.
fn csv_chunk(rows: &[AuditRow], offset: time::UtcOffset) -> Result<Vec<u8>, std::io::Error> {
    let mut chunk = Vec::new();
    for r in rows {
        chunk.extend(csv_line(r, offset).map_err(std::io::Error::other)?);
    }
    Ok(chunk)
}

/// The filtered events as CSV, streamed page by page so an export of millions of events never
/// sits in memory; written through `csv_export`, since actors, events and data are users' text.
pub async fn audit_csv(
    State(state): State<AppState>,
    _: Admin,
    Query(q): Query<AuditQuery>,
) -> Result<Response, WebError> {
    let offset = state.rt.offset();
    let filter = q.filter(offset)?;
    let header_line = csv_export::head(CSV_COLUMNS).map_err(|e| WebError::Internal(e.into()))?;
    Ok(csv_export::download("audit.csv", Body::from_stream(csv_pages(state.db().clone(), filter, offset, header_line))))
}

/// The header, then the filtered events a thousand at a time, newest first.
fn csv_pages(
    db: sea_orm::DatabaseConnection,
    filter: Filter,
    offset: time::UtcOffset,
    header_line: Vec<u8>,
) -> impl futures_util::Stream<Item = Result<Vec<u8>, std::io::Error>> {
    futures_util::stream::unfold((Some(header_line), None::<i64>, false), move |(head, before, done)| {
        let (db, filter) = (db.clone(), filter.clone());
        async move {
            if let Some(head) = head {
                return Some((Ok::<_, std::io::Error>(head), (None, before, false)));
            }
            if done {
                return None;
            }
            match audit::page(&db, &filter, before, 1000).await {
                Ok(rows) if rows.is_empty() => None,
                Ok(rows) => {
                    let last = rows.last().map(|r| r.id);
                    let finished = rows.len() < 1000;
                    Some((csv_chunk(&rows, offset), (None, last, finished)))
                }
                Err(e) => Some((Err(std::io::Error::other(e.to_string())), (None, before, true))),
            }
        }
    })
}
