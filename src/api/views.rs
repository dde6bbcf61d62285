//! What the API answers with: instances, their events, children, timers and history, as JSON
//! documents described in the OpenAPI document.

use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::api::caller::Caller;
use crate::api::problem::{ApiError, refusal_kind};
use crate::runtime::Instance;
use crate::store::audit::AuditRow;
use crate::store::instances::InstanceRow;
use crate::web::state::AppState;
use crate::web::view::refusal_text;

pub use crate::clock::rfc3339;

/// An instance with what the caller may do on it now.
#[derive(Debug, Serialize, ToSchema)]
pub struct InstanceView {
    pub id: i64,
    pub process: String,
    /// The version of the definition the instance runs on.
    pub definition_version: i64,
    pub title: String,
    pub state: String,
    pub state_label: String,
    /// Bumped by every step: send it back as `expected_version` to fire on what you read.
    pub version: i64,
    /// `passed` or `failed` once the instance has finished.
    pub outcome: Option<String>,
    pub parent: Option<i64>,
    #[schema(value_type = Object)]
    pub data: Map<String, Value>,
    pub created_by: String,
    pub created_at: String,
    pub updated_at: String,
    pub children: Vec<ChildView>,
    pub timers: Vec<TimerView>,
    /// Every event of the current state a person may fire: allowed, or refused with the reason.
    pub events: Vec<EventView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChildView {
    pub id: i64,
    pub process: String,
    pub state: String,
    pub outcome: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TimerView {
    pub name: String,
    pub event: String,
    pub due_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventView {
    pub event: String,
    pub label: String,
    pub allowed: bool,
    /// Why the caller may not fire it now (`role_not_allowed`, `guard`...), and in words.
    pub refused: Option<String>,
    pub reason: Option<String>,
    /// The fields it needs, and those it takes if given.
    pub ask: Vec<String>,
    pub optional: Vec<String>,
}

/// An instance in a list: without what the caller may do (ask for the instance for that).
#[derive(Debug, Serialize, ToSchema)]
pub struct InstanceSummary {
    pub id: i64,
    pub process: String,
    pub state: String,
    pub version: i64,
    pub outcome: Option<String>,
    pub parent: Option<i64>,
    #[schema(value_type = Object)]
    pub data: Map<String, Value>,
    pub updated_at: String,
}

impl From<&InstanceRow> for InstanceSummary {
    fn from(r: &InstanceRow) -> Self {
        InstanceSummary {
            id: r.id,
            process: r.process.clone(),
            state: r.state.clone(),
            version: r.version,
            outcome: r.outcome.clone(),
            parent: r.parent_id,
            data: r.data.clone(),
            updated_at: rfc3339(r.updated_at),
        }
    }
}

/// A page of a list, and where the next one starts (absent on the last page).
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `after` for the next page.
    pub next: Option<i64>,
}

/// One audit event with its place in its stream's hash chain.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEventView {
    /// The event's place in the whole trail: `after` pages by it.
    pub id: i64,
    pub stream: String,
    pub seq: i64,
    pub at: String,
    /// When it happened, in microseconds since 1970 as hashed.
    pub at_micros: i64,
    pub actor: String,
    pub kind: String,
    pub process: Option<String>,
    pub instance: Option<i64>,
    pub event: Option<String>,
    pub from_state: Option<String>,
    pub to_state: Option<String>,
    /// The event's details as hashed: canonical JSON text.
    pub data: String,
    pub prev_hash: String,
    pub hash: String,
}

impl From<AuditRow> for AuditEventView {
    fn from(a: AuditRow) -> Self {
        let at = a.at();
        let r = a.record;
        AuditEventView {
            id: a.id,
            stream: r.stream,
            seq: r.seq,
            at: rfc3339(at),
            at_micros: r.at,
            actor: r.actor,
            kind: r.kind,
            process: r.process,
            instance: r.instance_id,
            event: r.event,
            from_state: r.from_state,
            to_state: r.to_state,
            data: r.data,
            prev_hash: a.prev_hash,
            hash: a.hash,
        }
    }
}

/// The instance as the caller sees it now, with the events they may fire and why not the others.
pub async fn instance_view(state: &AppState, caller: &Caller, inst: &Instance) -> Result<InstanceView, ApiError> {
    let tr = &caller.tr;
    let lang = tr.code();
    let rt = &state.rt;
    let def = &inst.definition;
    let roles = &rt.definitions().roles;
    let fail = |e: crate::runtime::RuntimeError| ApiError::from_runtime(tr, Some(def), roles, e);
    let row = &inst.row;
    let children = rt.children(row.id).await.map_err(fail)?;
    let timers = rt.timers(row.id).await.map_err(fail)?;
    let options =
        if row.outcome.is_none() { rt.options_on(inst, &caller.actor()).await.map_err(fail)? } else { vec![] };
    let definition_version =
        rt.registry().version_of(state.db(), row.definition_id).await.map_err(|e| fail(e.into()))?;
    let events = options
        .into_iter()
        .map(|(event, refusal)| {
            let t = def.transition(&row.state, &event);
            EventView {
                label: def.event_label(&event, lang).to_owned(),
                allowed: refusal.is_none(),
                refused: refusal.as_ref().map(|r| refusal_kind(r).1.to_owned()),
                reason: refusal.as_ref().map(|r| refusal_text(tr, Some(def), roles, r)),
                ask: t.map(|t| t.ask.clone()).unwrap_or_default(),
                optional: t.map(|t| t.optional.clone()).unwrap_or_default(),
                event,
            }
        })
        .collect();
    Ok(InstanceView {
        id: row.id,
        process: row.process.clone(),
        definition_version,
        title: def.title_of(&row.data, lang),
        state: row.state.clone(),
        state_label: def.state(&row.state).map_or_else(|| row.state.clone(), |s| s.label.get(lang).to_owned()),
        version: row.version,
        outcome: row.outcome.clone(),
        parent: row.parent_id,
        data: row.data.clone(),
        created_by: row.created_by.clone(),
        created_at: rfc3339(row.created_at),
        updated_at: rfc3339(row.updated_at),
        children: children
            .iter()
            .map(|c| ChildView {
                id: c.id,
                process: c.process.clone(),
                state: c.state.clone(),
                outcome: c.outcome.clone(),
            })
            .collect(),
        timers: timers
            .into_iter()
            .map(|t| TimerView { name: t.name, event: t.event, due_at: rfc3339(t.due_at) })
            .collect(),
        events,
    })
}
