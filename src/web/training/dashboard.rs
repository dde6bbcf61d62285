//! The cohort dashboard: the trainee tracks' declared reports (`[[report]]` in
//! `workflows/trainee_track.toml`) over this cohort's trainees, kept summed as the tracks change
//! (`store::summaries`), and mentor load, which is the mentors' records rather than instance data.

use crate::web::charts::{self, Bar};
use crate::web::errors::WebError;
use crate::web::extract::Signed;
use crate::web::state::AppState;
use crate::web::training::page::MentorLine;

/// Each declared report of the cohort's tracks as a chart (captioned with its label), from the
/// summary kept as the tracks change, then mentor load.
pub(super) async fn charts(
    state: &AppState,
    signed: &Signed,
    cohort: i64,
    mentors: &[MentorLine],
) -> Result<Vec<(String, String)>, WebError> {
    let tr = signed.tr;
    let mut charts = Vec::new();
    if let Some(def) = state.rt.definitions().get(crate::sector::track::PROCESS) {
        let figures = crate::store::summaries::figures(state.db(), cohort, def).await?;
        for (r, lines) in def.reports.iter().zip(&figures) {
            let view = crate::web::figures::report_view(&tr, def, r, lines, &format!("chart-{}", r.id));
            if !view.chart.is_empty() {
                charts.push((view.label, view.chart));
            }
        }
    }
    let loaded: Vec<Bar> = mentors
        .iter()
        .filter(|m| m.load > 0)
        .map(|m| Bar {
            label: m.name.clone(),
            share: m.load as f64 / m.capacity.max(1) as f64,
            value: format!("{} / {}", m.load, m.capacity),
        })
        .collect();
    if !loaded.is_empty() {
        charts.push((
            tr.t("training.chart.mentors").to_owned(),
            charts::bars(tr.t("training.chart.mentors"), "chart-mentors", &loaded),
        ));
    }
    Ok(charts)
}
