//! Documents of an instance: every version of a long text field (a draft contract) with what
//! changed from the one before, and a printable page of the instance (a draft, a confirmation
//! letter, a signed contract) with the dates and signatures the engine recorded.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::Value;

use crate::definition::FieldKind;
use crate::web::diff::{self, Line};
use crate::web::errors::WebError;
use crate::web::extract::Signed;
use crate::web::process::{display_value, load_visible, namer};
use crate::web::state::AppState;
use crate::web::view::{Chrome, fmt_time, page};

pub struct Version {
    pub number: usize,
    pub label: String,
    pub when: String,
    pub who: String,
    pub lines: Vec<Line>,
}

#[derive(Template)]
#[template(path = "versions.html")]
struct VersionsPage {
    chrome: Chrome,
    id: i64,
    title: String,
    field_label: String,
    versions: Vec<Version>,
}

pub async fn versions(
    State(state): State<AppState>,
    signed: Signed,
    Path((id, field)): Path<(i64, String)>,
) -> Result<Response, WebError> {
    let inst = load_visible(&state, &signed, id).await?;
    let def = inst.definition.clone();
    let spec = def.field(&field).filter(|f| matches!(f.kind, FieldKind::LongText { .. })).ok_or(WebError::NotFound)?;
    let lang = signed.tr.code();
    let mut versions = Vec::new();
    let mut previous = String::new();
    for h in state.rt.history(id).await? {
        let data = h.data();
        let Some(text) = data.get("input").and_then(|i| i.get(&field)).and_then(Value::as_str) else { continue };
        let number = versions.len() + 1;
        versions.push(Version {
            number,
            label: signed.tr.f("documents.version", &[("n", number.to_string())]),
            when: fmt_time(h.at(), state.rt.offset()),
            who: h.record.actor.clone(),
            // The first version has nothing to compare with: it is shown as it is.
            lines: if number == 1 {
                text.lines().map(|l| Line::Same(l.to_owned())).collect()
            } else {
                diff::lines(&previous, text)
            },
        });
        previous = text.to_owned();
    }
    versions.reverse();
    let title = def.title_of(&inst.row.data, lang);
    let field_label = spec.label.get(lang).to_owned();
    let chrome = Chrome::signed(&signed, format!("{title} — {field_label}"));
    page(StatusCode::OK, &VersionsPage { chrome, id, title, field_label, versions })
}

#[derive(Template)]
#[template(path = "print.html")]
struct PrintPage {
    chrome: Chrome,
    process_label: String,
    title: String,
    state_label: String,
    details: Vec<(String, String, bool)>,
    printed: String,
}

pub async fn print(State(state): State<AppState>, signed: Signed, Path(id): Path<i64>) -> Result<Response, WebError> {
    let inst = load_visible(&state, &signed, id).await?;
    let def = inst.definition.clone();
    let units = state.directory().await?;
    let tr = signed.tr;
    let lang = tr.code();
    let details = def
        .fields
        .iter()
        .filter_map(|f| {
            let v = inst.row.data.get(&f.id).filter(|v| !v.is_null())?;
            Some((
                f.label.get(lang).to_owned(),
                display_value(&tr, Some(f), v, &units),
                matches!(f.kind, FieldKind::LongText { .. }),
            ))
        })
        .collect();
    let title = def.title_named(&inst.row.data, lang, namer(&units, lang));
    page(
        StatusCode::OK,
        &PrintPage {
            chrome: Chrome::signed(&signed, title.clone()),
            process_label: def.label.get(lang).to_owned(),
            state_label: def
                .state(&inst.row.state)
                .map_or_else(|| inst.row.state.clone(), |s| s.label.get(lang).to_owned()),
            title,
            details,
            printed: fmt_time(state.now(), state.rt.offset()),
        },
    )
}
