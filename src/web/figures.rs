//! The sector dashboard: signing rate per year, rounds by stage and stage durations, as charts
//! and as CSV.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use crate::bargaining::figures::{self, YearFigures};
use crate::clock::to_micros;
use crate::definition::Definition;
use crate::sector::round;
use crate::web::charts::{self, Bar};
use crate::web::csv_export;
use crate::web::errors::WebError;
use crate::web::extract::FiguresReader;
use crate::web::i18n::Tr;
use crate::web::state::AppState;
use crate::web::view::{Chrome, page};

pub struct SectorView {
    pub sector: String,
    pub rate_chart: String,
    pub stage_chart: String,
    pub days_chart: String,
    /// The stages a process rests in for its term, charted apart from the work's stages.
    pub term_chart: String,
    /// The captions, each with the year or the years its chart covers.
    pub captions: Captions,
    pub years: Vec<YearFigures>,
}

pub struct Captions {
    pub rate: String,
    pub by_stage: String,
    pub durations: String,
    pub term: String,
}

#[derive(Template)]
#[template(path = "figures.html")]
struct FiguresPage {
    chrome: Chrome,
    sectors: Vec<SectorView>,
}

async fn load(state: &AppState) -> Result<(std::sync::Arc<crate::definition::Definition>, Vec<YearFigures>), WebError> {
    let def = state.rt.definitions().get(round::PROCESS).cloned().ok_or(WebError::NotFound)?;
    let years = figures::figures(state.db(), &def, to_micros(state.now())).await?;
    Ok((def, years))
}

pub async fn figures_page(
    State(state): State<AppState>,
    FiguresReader(signed): FiguresReader,
) -> Result<Response, WebError> {
    let (def, years) = load(&state).await?;
    let tr = signed.tr;
    let sectors =
        figures::by_sector(&def, years).into_iter().enumerate().map(|(i, s)| sector_view(&tr, &def, i, s)).collect();
    page(StatusCode::OK, &FiguresPage { chrome: Chrome::signed(&signed, tr.t("figures.title")), sectors })
}

/// A sector's charts: its signing rate per year, its latest year's rounds by stage, and the
/// average days per stage.
fn sector_view(tr: &Tr, def: &Definition, i: usize, s: figures::SectorFigures) -> SectorView {
    let lang = tr.code();
    let stage_label = |id: &str| def.stage(id).map_or_else(|| id.to_owned(), |st| st.label.get(lang).to_owned());
    let mut by_year: Vec<&YearFigures> = s.years.iter().collect();
    by_year.sort_by_key(|y| y.year);
    let rate: Vec<Bar> = by_year
        .iter()
        .map(|y| Bar {
            label: y.year.to_string(),
            share: y.rate_percent() as f64 / 100.0,
            value: format!("{}% ({}/{})", y.rate_percent(), y.units_signed, y.units_in_scope),
        })
        .collect();
    let rate_chart = charts::bars(&format!("{} — {}", s.sector, tr.t("figures.rate")), &format!("rate-{i}"), &rate);
    let stage_chart = s.years.first().map_or_else(String::new, |latest| {
        let most = latest.by_stage.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1);
        let stage: Vec<Bar> = latest
            .by_stage
            .iter()
            .map(|(id, n)| Bar { label: stage_label(id), share: *n as f64 / most as f64, value: n.to_string() })
            .collect();
        let title = format!("{} {} — {}", s.sector, latest.year, tr.t("figures.by_stage"));
        charts::bars(&title, &format!("stage-{i}"), &stage)
    });
    let (term, work): (Vec<_>, Vec<_>) =
        s.days_per_stage.iter().partition(|(id, _)| def.stage(id).is_some_and(|st| st.term));
    let days_chart = day_bars(tr, &s.sector, tr.t("figures.durations"), &format!("days-{i}"), &work, &stage_label);
    let term_chart = day_bars(tr, &s.sector, tr.t("figures.term"), &format!("term-{i}"), &term, &stage_label);
    let period = match (by_year.first(), by_year.last()) {
        (Some(a), Some(b)) if a.year != b.year => format!("{}–{}", a.year, b.year),
        (Some(a), _) => a.year.to_string(),
        _ => String::new(),
    };
    let latest = s.years.first().map(|y| y.year.to_string()).unwrap_or_default();
    let caption =
        |key: &str, when: &str| tr.f("figures.caption", &[("what", tr.t(key).to_owned()), ("when", when.to_owned())]);
    let captions = Captions {
        rate: caption("figures.rate", &period),
        by_stage: caption("figures.by_stage", &latest),
        durations: caption("figures.durations", &period),
        term: caption("figures.term", &period),
    };
    SectorView { sector: s.sector, rate_chart, stage_chart, days_chart, term_chart, captions, years: s.years }
}

/// Average days per stage as bars, each scaled by the longest of the same chart, so a term of
/// years does not shrink stages of weeks to slivers.
fn day_bars(
    tr: &Tr,
    sector: &str,
    title: &str,
    id: &str,
    stages: &[&(String, f64)],
    stage_label: &dyn Fn(&str) -> String,
) -> String {
    if stages.is_empty() {
        return String::new();
    }
    let longest = stages.iter().map(|(_, d)| *d).fold(0.0_f64, f64::max).max(1.0);
    let bars: Vec<Bar> = stages
        .iter()
        .map(|(id, d)| Bar {
            label: stage_label(id),
            share: d / longest,
            value: tr.f("figures.days", &[("days", format!("{d:.1}"))]),
        })
        .collect();
    charts::bars(&format!("{sector} — {title}"), id, &bars)
}

/// The figures as CSV, through `csv_export` like every export: the sector is text users typed.
pub async fn figures_csv(State(state): State<AppState>, _: FiguresReader) -> Result<Response, WebError> {
    let (def, years) = load(&state).await?;
    let mut header = vec![
        "sector".to_owned(),
        "year".into(),
        "rounds".into(),
        "units_in_scope".into(),
        "units_signed".into(),
        "signing_rate_percent".into(),
    ];
    header.extend(def.stages.iter().map(|s| format!("rounds_in_{}", s.id)));
    header.extend(def.stages.iter().map(|s| format!("avg_days_in_{}", s.id)));
    let io = |e: csv::Error| WebError::Internal(e.into());
    let mut body = csv_export::head(&header).map_err(io)?;
    for y in &years {
        let mut row = vec![
            y.sector.clone(),
            y.year.to_string(),
            y.rounds.to_string(),
            y.units_in_scope.to_string(),
            y.units_signed.to_string(),
            y.rate_percent().to_string(),
        ];
        row.extend(y.by_stage.iter().map(|(_, n)| n.to_string()));
        row.extend(y.days_in_stage.iter().map(|(_, d)| format!("{d:.2}")));
        body.extend(csv_export::line(&row).map_err(io)?);
    }
    Ok(csv_export::download("figures.csv", body.into()))
}
