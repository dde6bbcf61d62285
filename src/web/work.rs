//! "My work": the instances where the signed-in person may do something now, and those escalated
//! to a role they hold, most urgent first.

use std::collections::{BTreeMap, BTreeSet};

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::Value;

use crate::clock::from_micros;
use crate::definition::SYSTEM_ROLE;
use crate::engine::{self, ESCALATIONS_KEY};
use crate::store::db::{all, get};
use crate::store::instances::{self, InstanceRow};
use crate::web::errors::WebError;
use crate::web::extract::Signed;
use crate::web::state::AppState;
use crate::web::view::{Chrome, deadline_text, page};

pub struct WorkItem {
    pub id: i64,
    pub title: String,
    pub process: String,
    pub state: String,
    pub actions: String,
    pub deadline: Option<String>,
    pub urgent: bool,
    pub escalated: bool,
}

#[derive(Template)]
#[template(path = "work.html")]
struct WorkPage {
    chrome: Chrome,
    items: Vec<WorkItem>,
}

/// At most this many candidates are read per process and state: the list is a work list, not a
/// report.
const CANDIDATES: usize = 500;

pub async fn my_work(State(state): State<AppState>, signed: Signed) -> Result<Response, WebError> {
    let actor = signed.actor();
    let lang = signed.tr.code();
    let now = state.now();
    let mut rows: Vec<InstanceRow> = Vec::new();
    for def in state.rt.definitions().definitions.values() {
        // States where one of the person's roles can act, or where an escalation may wait.
        let states: BTreeSet<&str> = def
            .transitions
            .iter()
            .filter(|t| {
                t.roles.iter().any(|r| r != SYSTEM_ROLE && actor.roles.contains(r))
                    || t.effects
                        .iter()
                        .any(|e| matches!(e, crate::definition::Effect::Escalate(role) if actor.roles.contains(role)))
            })
            .flat_map(|t| t.from.iter().map(String::as_str))
            .collect();
        if states.is_empty() {
            continue;
        }
        let placeholders: Vec<String> = (0..states.len()).map(|i| format!("${}", i + 2)).collect();
        let sql = format!(
            "SELECT {} FROM instances WHERE outcome IS NULL AND process = $1 AND state IN ({}) ORDER BY id DESC LIMIT {CANDIDATES}",
            instances::COLUMNS,
            placeholders.join(", ")
        );
        let mut values = vec![def.id.clone().into()];
        values.extend(states.iter().map(|s| (*s).into()));
        for r in all(state.db(), &sql, values).await? {
            rows.push(instances::from_row(&r)?);
        }
    }
    let deadlines = earliest_deadlines(&state, &rows).await?;
    let units = state.directory().await?;
    let mut items = Vec::new();
    for row in rows {
        let def = state
            .rt
            .registry()
            .by_row(state.db(), row.definition_id)
            .await
            .map_err(crate::runtime::RuntimeError::from)?;
        let allowed: Vec<String> = engine::options(&def, &row.state, &row.data, &actor)
            .into_iter()
            .filter(|o| o.refusal.is_none())
            .map(|o| o.transition.label.get(lang).to_owned())
            .collect();
        let escalated = matches!(row.data.get(ESCALATIONS_KEY), Some(Value::Array(list)) if list.iter().any(|e| e.get("role").and_then(Value::as_str).is_some_and(|r| actor.roles.contains(r))));
        if allowed.is_empty() && !escalated {
            continue;
        }
        let due = deadlines.get(&row.id).copied();
        let (deadline, urgent) = match due {
            Some(due) => {
                let (text, urgent) = deadline_text(&signed.tr, due, now);
                (Some(text), urgent)
            }
            None => (None, false),
        };
        items.push((
            due,
            WorkItem {
                id: row.id,
                title: def.title_named(&row.data, lang, crate::web::process::namer(&units, lang)),
                process: def.label.get(lang).to_owned(),
                state: def.state(&row.state).map_or_else(|| row.state.clone(), |s| s.label.get(lang).to_owned()),
                actions: allowed.join("、"),
                deadline,
                urgent: urgent || escalated,
                escalated,
            },
        ));
    }
    // Escalated and nearest deadlines first; then the newest.
    items.sort_by(|(a_due, a), (b_due, b)| {
        b.escalated.cmp(&a.escalated).then_with(|| match (a_due, b_due) {
            (Some(x), Some(y)) => x.cmp(y),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => b.id.cmp(&a.id),
        })
    });
    let items = items.into_iter().map(|(_, i)| i).collect();
    page(StatusCode::OK, &WorkPage { chrome: Chrome::signed(&signed, signed.tr.t("work.title")), items })
}

async fn earliest_deadlines(
    state: &AppState,
    rows: &[InstanceRow],
) -> Result<BTreeMap<i64, time::OffsetDateTime>, WebError> {
    let mut out = BTreeMap::new();
    for chunk in rows.chunks(500) {
        let ids = chunk.iter().map(|r| r.id.to_string()).collect::<Vec<_>>().join(",");
        let sql = format!(
            "SELECT instance_id, MIN(due_at) AS due FROM timers WHERE status = 'pending' AND instance_id IN ({ids}) GROUP BY instance_id"
        );
        for r in all(state.db(), &sql, vec![]).await? {
            out.insert(get::<i64>(&r, "instance_id")?, from_micros(get::<i64>(&r, "due")?));
        }
    }
    Ok(out)
}
