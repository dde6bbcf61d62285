//! Documents of an instance: every version of a long text field (a draft contract) with what
//! changed from the one before, the documents its definition issues (a confirmation letter, the
//! draft, the signed contract) laid out for print with the signatures and dates the engine
//! recorded, and a printable record of the whole instance.

use anyhow::Context;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::Value;

use crate::definition::FieldKind;
use crate::web::diff::{self, Line};
use crate::web::errors::WebError;
use crate::web::extract::Signed;
use crate::web::process::{display_value, field_text, load_visible, namer};
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
    let (mut texts, mut written) = (Vec::new(), Vec::new());
    for h in state.rt.history(id).await? {
        let data = h.data();
        let Some(text) = data.get("input").and_then(|i| i.get(&field)).and_then(Value::as_str) else { continue };
        texts.push(text.to_owned());
        written.push((fmt_time(h.at(), state.rt.offset()), h.record.actor.clone()));
    }
    // Comparing drafts of 100,000 characters is CPU work: off the async workers.
    let diffs = tokio::task::spawn_blocking(move || diff::history(&texts)).await.context("comparing draft versions")?;
    let mut versions: Vec<Version> = (1..)
        .zip(written.into_iter().zip(diffs))
        .map(|(number, ((when, who), lines))| Version {
            number,
            label: signed.tr.f("documents.version", &[("n", number.to_string())]),
            when,
            who,
            lines,
        })
        .collect();
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
                field_text(&tr, &def, f, v, &units),
                matches!(f.kind, FieldKind::LongText { .. }),
            ))
        })
        .collect();
    let mut parents = crate::web::process::ParentTitles::default();
    let parent = parents.of(&state, &def, inst.row.parent_id, lang, &units).await?;
    let title = def.title_beside_parent(def.title_named(&inst.row.data, lang, namer(&units, lang)), parent);
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

pub struct SignatureLine {
    pub label: String,
    pub name: String,
    pub date: String,
}

#[derive(Template)]
#[template(path = "document.html")]
struct DocumentPage {
    chrome: Chrome,
    id: i64,
    version: i64,
    process_label: String,
    heading: String,
    /// The text in paragraphs, each a list of lines.
    paragraphs: Vec<Vec<String>>,
    vote: Option<String>,
    signatures: Vec<SignatureLine>,
    printed: String,
}

/// A document the definition declares, filled with the instance's values; only in the states
/// that issue it.
pub async fn document(
    State(state): State<AppState>,
    signed: Signed,
    Path((id, doc)): Path<(i64, String)>,
) -> Result<Response, WebError> {
    let inst = load_visible(&state, &signed, id).await?;
    let def = inst.definition.clone();
    let spec = def.document(&doc).filter(|d| d.states.contains(&inst.row.state)).ok_or(WebError::NotFound)?;
    let directory = state.directory().await?;
    let filled = Filled::new(&signed.tr, &def, spec, &inst.row.data, &directory);
    let vote = inst
        .row
        .data
        .get(crate::engine::VOTE_KEY)
        .and_then(|v| crate::web::view::decided_vote(&signed.tr, &def, v))
        .map(|(_, figures)| figures);
    page(
        StatusCode::OK,
        &DocumentPage {
            chrome: Chrome::signed(&signed, filled.heading.clone()),
            id,
            version: inst.row.version,
            process_label: spec.label.get(signed.tr.code()).to_owned(),
            heading: filled.heading,
            paragraphs: filled.paragraphs,
            vote,
            signatures: filled.signatures,
            printed: fmt_time(state.now(), state.rt.offset()),
        },
    )
}

/// A document's text with the instance's values in its blanks.
struct Filled {
    heading: String,
    /// The text in paragraphs, each a list of lines.
    paragraphs: Vec<Vec<String>>,
    signatures: Vec<SignatureLine>,
}

impl Filled {
    fn new(
        tr: &crate::web::i18n::Tr,
        def: &crate::definition::Definition,
        spec: &crate::definition::Document,
        data: &crate::engine::Data,
        directory: &crate::web::state::Directory,
    ) -> Filled {
        let lang = tr.code();
        // What a blank looks like on paper, in the reader's typography: a line to fill in by hand.
        let blank = tr.t("documents.blank");
        let value = |name: &str| {
            data.get(name)
                .filter(|v| !v.is_null())
                .map(|v| match def.field(name) {
                    Some(f) => field_text(tr, def, f, v, directory),
                    None => display_value(tr, None, v, directory),
                })
                .unwrap_or_else(|| blank.to_owned())
        };
        let wording = data
            .get(crate::engine::VOTE_KEY)
            .and_then(|v| crate::web::view::pass_wording(tr, def, v))
            .unwrap_or_else(|| blank.to_owned());
        let fill = |text: &str| {
            crate::definition::fill_placeholders(text, |name| {
                if name == crate::definition::VOTE_WORDING {
                    Some(wording.clone())
                } else {
                    def.field(name).is_some().then(|| value(name))
                }
            })
        };
        let paragraphs = fill(spec.text.get(lang).trim())
            .split("\n\n")
            .map(|p| p.lines().map(str::to_owned).collect::<Vec<_>>())
            .filter(|p| !p.is_empty())
            .collect();
        let signatures = spec
            .signatures
            .iter()
            .map(|s| {
                let name = s.by.as_deref().map_or_else(|| blank.to_owned(), value);
                // Who really signed, when it was not the person named: a written delegate.
                let raw = |f: &Option<String>| f.as_deref().and_then(|f| data.get(f)).filter(|v| !v.is_null());
                let by_value = s.by.as_deref().and_then(|f| data.get(f));
                let name = match (raw(&s.signer), raw(&s.delegation)) {
                    (Some(signer), Some(letter)) if Some(signer) != by_value => {
                        let signer = s.signer.as_deref().map(value).unwrap_or_default();
                        let delegated =
                            tr.f("signature.delegated", &[("signer", signer), ("letter", letter.to_string())]);
                        format!("{name}{}{delegated}", tr.t("punct.sentence_break"))
                    }
                    _ => name,
                };
                SignatureLine { label: s.label.get(lang).to_owned(), name, date: value(&s.on) }
            })
            .collect();
        Filled { heading: fill(spec.heading.get(lang)), paragraphs, signatures }
    }
}
