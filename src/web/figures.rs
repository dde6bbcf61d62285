//! The sector dashboard: signing rate per year, rounds by stage and stage durations, as charts
//! and as CSV.

use crate::sector::round;
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use crate::bargaining::figures::{self, YearFigures};
use crate::clock::to_micros;
use crate::engine::Data;
use crate::web::charts::{self, Bar};
use crate::web::csv_export;
use crate::web::errors::WebError;
use crate::web::extract::Signed;
use crate::web::state::AppState;
use crate::web::view::{Chrome, page};

pub struct SectorView {
    pub sector: String,
    pub rate_chart: String,
    pub stage_chart: String,
    pub days_chart: String,
    pub years: Vec<YearFigures>,
}

#[derive(Template)]
#[template(path = "figures.html")]
struct FiguresPage {
    chrome: Chrome,
    sectors: Vec<SectorView>,
}

async fn load(
    state: &AppState,
    signed: &Signed,
) -> Result<(std::sync::Arc<crate::definition::Definition>, Vec<YearFigures>), WebError> {
    let def = state.rt.definitions().get(round::PROCESS).cloned().ok_or(WebError::NotFound)?;
    if !signed.actor().may_view(&def, &Data::new()) {
        return Err(WebError::Forbidden);
    }
    let years = figures::figures(state.db(), &def, to_micros(state.now())).await?;
    Ok((def, years))
}

pub async fn figures_page(State(state): State<AppState>, signed: Signed) -> Result<Response, WebError> {
    let (def, years) = load(&state, &signed).await?;
    let tr = signed.tr;
    let lang = tr.code();
    let stage_label = |id: &str| def.stage(id).map_or_else(|| id.to_owned(), |s| s.label.get(lang).to_owned());
    let mut sectors: Vec<SectorView> = Vec::new();
    for y in years {
        if sectors.last().is_none_or(|s| s.sector != y.sector) {
            sectors.push(SectorView {
                sector: y.sector.clone(),
                rate_chart: String::new(),
                stage_chart: String::new(),
                days_chart: String::new(),
                years: Vec::new(),
            });
        }
        if let Some(s) = sectors.last_mut() {
            s.years.push(y);
        }
    }
    for (i, s) in sectors.iter_mut().enumerate() {
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
        s.rate_chart = charts::bars(&format!("{} — {}", s.sector, tr.t("figures.rate")), &format!("rate-{i}"), &rate);
        if let Some(latest) = s.years.first() {
            let most = latest.by_stage.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1);
            let stage: Vec<Bar> = latest
                .by_stage
                .iter()
                .map(|(id, n)| Bar { label: stage_label(id), share: *n as f64 / most as f64, value: n.to_string() })
                .collect();
            s.stage_chart = charts::bars(
                &format!("{} {} — {}", s.sector, latest.year, tr.t("figures.by_stage")),
                &format!("stage-{i}"),
                &stage,
            );
        }
        let stages: Vec<(String, f64)> = def
            .stages
            .iter()
            .map(|st| {
                let spans: Vec<f64> = s
                    .years
                    .iter()
                    .filter_map(|y| y.days_in_stage.iter().find(|(id, _)| *id == st.id))
                    .map(|(_, d)| *d)
                    .filter(|d| *d > 0.0)
                    .collect();
                (st.id.clone(), if spans.is_empty() { 0.0 } else { spans.iter().sum::<f64>() / spans.len() as f64 })
            })
            .collect();
        let longest = stages.iter().map(|(_, d)| *d).fold(0.0_f64, f64::max).max(1.0);
        let days: Vec<Bar> = stages
            .iter()
            .map(|(id, d)| Bar {
                label: stage_label(id),
                share: d / longest,
                value: tr.f("figures.days", &[("days", format!("{d:.1}"))]),
            })
            .collect();
        s.days_chart =
            charts::bars(&format!("{} — {}", s.sector, tr.t("figures.durations")), &format!("days-{i}"), &days);
    }
    page(StatusCode::OK, &FiguresPage { chrome: Chrome::signed(&signed, tr.t("figures.title")), sectors })
}

/// The figures as CSV, through `csv_export` like every export: the sector is text users typed.
pub async fn figures_csv(State(state): State<AppState>, signed: Signed) -> Result<Response, WebError> {
    let (def, years) = load(&state, &signed).await?;
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
