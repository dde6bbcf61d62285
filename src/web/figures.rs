//! The figures page: every process's declared reports (`[[report]]`), drawn as bars on the
//! server and downloadable as CSV. Which figures there are is the definitions' business; this
//! file only draws them.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use crate::definition::{Definition, GroupBy, Period, Report};
use crate::engine::report::{self, Line};
use crate::web::charts::{self, Bar};
use crate::web::csv_export;
use crate::web::errors::WebError;
use crate::web::extract::{FiguresReader, Signed};
use crate::web::i18n::Tr;
use crate::web::state::AppState;
use crate::web::view::{Chrome, page};

/// One process's reports.
pub struct ProcessView {
    pub id: String,
    pub label: String,
    /// Says so when only the newest instances were summed.
    pub truncated: Option<String>,
    pub reports: Vec<ReportView>,
}

/// One report: its chart, the same figures as a table, and its CSV.
pub struct ReportView {
    pub id: String,
    pub label: String,
    pub chart: String,
    pub headings: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

#[derive(Template)]
#[template(path = "figures.html")]
struct FiguresPage {
    chrome: Chrome,
    processes: Vec<ProcessView>,
}

/// The heading of a group's column, in the reader's language.
fn group_heading(tr: &Tr, def: &Definition, group: &GroupBy) -> String {
    let field = |id: &str| def.field(id).map_or_else(|| id.to_owned(), |f| f.label.get(tr.code()).to_owned());
    match group {
        GroupBy::Field(f) | GroupBy::MapKeys { key: Some(f), .. } | GroupBy::MapKeys { map: f, key: None } => field(f),
        GroupBy::State => tr.t("figures.state").to_owned(),
        GroupBy::Stage => tr.t("figures.stage").to_owned(),
        GroupBy::Period { period: Period::Month, .. } => tr.t("figures.month").to_owned(),
        GroupBy::Period { period: Period::Quarter, .. } => tr.t("figures.quarter").to_owned(),
        GroupBy::Period { period: Period::Year, .. } => tr.t("figures.year").to_owned(),
    }
}

/// A line's groups in words, as its bar and its table row name it.
fn keys_in_words(tr: &Tr, def: &Definition, r: &Report, line: &Line) -> Vec<String> {
    line.keys.iter().zip(&r.by).map(|(k, g)| report::key_label(def, g, k, tr.code())).collect()
}

/// A report drawn as bars (one per group, each with its figure as text), and as a table.
pub fn report_view(tr: &Tr, def: &Definition, r: &Report, lines: &[Line], chart_id: &str) -> ReportView {
    let label = r.label.get(tr.code()).to_owned();
    let bars: Vec<Bar> = lines
        .iter()
        .map(|l| {
            let keys = keys_in_words(tr, def, r, l);
            Bar {
                label: if keys.is_empty() { label.clone() } else { keys.join(" · ") },
                share: l.share(lines),
                value: l.figure.text(),
            }
        })
        .collect();
    let mut headings: Vec<String> = r.by.iter().map(|g| group_heading(tr, def, g)).collect();
    headings.push(label.clone());
    let rows = lines
        .iter()
        .map(|l| {
            let mut row = keys_in_words(tr, def, r, l);
            row.push(l.figure.text());
            row
        })
        .collect();
    let chart = if lines.is_empty() { String::new() } else { charts::bars(&label, chart_id, &bars) };
    ReportView { id: r.id.clone(), label, chart, headings, rows }
}

/// Whether `actor` may read `def`'s reports: it declares some, and they act in it without a
/// scope (a unit's secretary, who sees only their unit's instances, does not see every unit's
/// figures). The menu offers the figures page to whoever may read one.
pub fn reads_reports(actor: &crate::engine::Actor, def: &Definition) -> bool {
    !def.reports.is_empty() && actor.may_view(def, &crate::engine::Data::new())
}

fn readable<'s>(state: &'s AppState, signed: &Signed) -> impl Iterator<Item = &'s std::sync::Arc<Definition>> {
    let actor = signed.actor();
    state.rt.definitions().definitions.values().filter(move |d| reads_reports(&actor, d))
}

pub async fn figures_page(
    State(state): State<AppState>,
    FiguresReader(signed): FiguresReader,
) -> Result<Response, WebError> {
    let tr = signed.tr;
    let mut processes = Vec::new();
    for def in readable(&state, &signed) {
        let figures = state.figures.figures(state.db(), def, state.rt.offset(), state.rt.clock().now()).await?;
        let reports = def
            .reports
            .iter()
            .zip(&figures.reports)
            .map(|(r, lines)| report_view(&tr, def, r, lines, &format!("{}-{}", def.id, r.id)))
            .collect();
        processes.push(ProcessView {
            id: def.id.clone(),
            label: def.label.get(tr.code()).to_owned(),
            truncated: figures
                .truncated
                .then(|| tr.f("figures.truncated", &[("limit", crate::store::reports::READ_LIMIT.to_string())])),
            reports,
        });
    }
    let chrome = Chrome::signed(&signed, tr.t("figures.title"));
    page(StatusCode::OK, &FiguresPage { chrome, processes })
}

#[derive(Debug, Deserialize)]
pub struct Which {
    process: String,
    report: String,
}

/// One report as CSV, through `csv_export` like every export: its groups (in the reader's
/// language, as the chart names them; text users typed is neutralised) and its figures.
pub async fn figures_csv(
    State(state): State<AppState>,
    FiguresReader(signed): FiguresReader,
    Query(which): Query<Which>,
) -> Result<Response, WebError> {
    let def = readable(&state, &signed).find(|d| d.id == which.process).cloned().ok_or(WebError::NotFound)?;
    let index = def.reports.iter().position(|r| r.id == which.report).ok_or(WebError::NotFound)?;
    let r = &def.reports[index];
    let figures = state.figures.figures(state.db(), &def, state.rt.offset(), state.rt.clock().now()).await?;
    let mut header: Vec<String> = r.by.iter().map(report::group_column).collect();
    header.extend(report::value_columns(&r.kind).iter().map(|c| (*c).to_owned()));
    let io = |e: csv::Error| WebError::Internal(e.into());
    let mut body = csv_export::head(&header).map_err(io)?;
    for line in &figures.reports[index] {
        let mut row = keys_in_words(&signed.tr, &def, r, line);
        row.extend(line.figure.cells());
        body.extend(csv_export::line(&row).map_err(io)?);
    }
    Ok(csv_export::download("figures.csv", body.into()))
}
