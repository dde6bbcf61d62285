//! The cohort dashboard's charts: where the trainees stand, each phase's records and attendance,
//! the spread of levels per competence, and mentor load — drawn from the figures of
//! `training::dashboard`.

use crate::web::charts::{self, Bar};
use crate::web::errors::WebError;
use crate::web::extract::Signed;
use crate::web::state::AppState;
use crate::web::training::page::MentorLine;

/// Where the cohort's trainees stand (by the state of their tracks), each phase's records and
/// attendance, how the assessed levels of each competence are spread, and mentor load.
pub(super) async fn charts(
    state: &AppState,
    signed: &Signed,
    cohort: &crate::runtime::Instance,
    tracks: &[crate::store::instances::InstanceRow],
    mentors: &[MentorLine],
) -> Result<Vec<(String, String)>, WebError> {
    let tr = signed.tr;
    let lang = tr.code();
    let mut charts = Vec::new();
    let chart = |charts: &mut Vec<(String, String)>, key: &str, svg: String| {
        charts.push((tr.t(key).to_owned(), svg));
    };
    if let Some(first) = tracks.first() {
        let def = state
            .rt
            .registry()
            .by_row(state.db(), first.definition_id)
            .await
            .map_err(crate::runtime::RuntimeError::from)?;
        let phases =
            cohort.row.data.get(crate::sector::cohort::PHASES).and_then(serde_json::Value::as_i64).unwrap_or(0);
        let scale = match def.field(crate::sector::track::COMPETENCE_LEVEL).map(|f| &f.kind) {
            Some(crate::definition::FieldKind::Int { min, max }) => (*min, *max),
            _ => (1, 5),
        };
        let figures =
            crate::training::dashboard::summarise(tracks.iter().map(|t| (t.state.as_str(), &t.data)), phases, scale);

        let most = figures.states.values().copied().max().unwrap_or(1).max(1);
        let bars: Vec<Bar> = def
            .states
            .iter()
            .filter_map(|s| figures.states.get(&s.id).map(|n| (s, *n)))
            .map(|(s, n)| Bar {
                label: s.label.get(lang).to_owned(),
                share: n as f64 / most as f64,
                value: n.to_string(),
            })
            .collect();
        chart(&mut charts, "training.chart.states", charts::bars(tr.t("training.chart.states"), "chart-states", &bars));

        let phase_label = |p: i64| tr.f("training.phase_n", &[("n", p.to_string())]);
        let progress: Vec<Bar> = figures
            .phases
            .iter()
            .map(|p| Bar {
                label: phase_label(p.phase),
                share: p.recorded as f64 / p.active.max(1) as f64,
                value: format!("{} / {}", p.recorded, p.active),
            })
            .collect();
        chart(
            &mut charts,
            "training.chart.progress",
            charts::bars(tr.t("training.chart.progress"), "chart-progress", &progress),
        );
        let attendance: Vec<Bar> = figures
            .phases
            .iter()
            .filter_map(|p| p.attendance.map(|a| (p.phase, a)))
            .map(|(phase, a)| Bar { label: phase_label(phase), share: a / 100.0, value: format!("{a:.0}%") })
            .collect();
        if !attendance.is_empty() {
            chart(
                &mut charts,
                "training.chart.attendance",
                charts::bars(tr.t("training.chart.attendance"), "chart-attendance", &attendance),
            );
        }

        let options = def.choice_options(crate::sector::track::COMPETENCE);
        let rows: Vec<charts::Stack> = options
            .iter()
            .filter_map(|o| figures.competences.get(&o.id).map(|spread| (o, spread)))
            .map(|(o, spread)| {
                let n: usize = spread.iter().sum();
                let sum: i64 = spread.iter().zip(scale.0..).map(|(c, level)| *c as i64 * level).sum();
                charts::Stack {
                    label: o.label.get(lang).to_owned(),
                    parts: spread.clone(),
                    value: tr.f("training.mean_level", &[("mean", format!("{:.1}", sum as f64 / n.max(1) as f64))]),
                }
            })
            .collect();
        if !rows.is_empty() {
            let names: Vec<String> = (scale.0..=scale.1).map(|l| l.to_string()).collect();
            chart(
                &mut charts,
                "training.chart.competences",
                charts::stacked(tr.t("training.chart.competences"), "chart-competences", &names, &rows),
            );
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
        chart(
            &mut charts,
            "training.chart.mentors",
            charts::bars(tr.t("training.chart.mentors"), "chart-mentors", &loaded),
        );
    }
    Ok(charts)
}
