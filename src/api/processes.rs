//! The processes: their definitions as another system needs them to start and drive instances.

use axum::Json;
use axum::extract::{Path, Query, State};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::api::caller::Caller;
use crate::api::problem::{Always, ApiError, Problem};
use crate::api::views::{InstanceView, instance_view};
use crate::definition::{Definition, FieldKind};
use crate::web::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct ProcessView {
    pub id: String,
    pub label: String,
    /// The version new instances start on.
    pub version: i64,
    pub initial: String,
    /// Who may start one, and what a start needs; absent for a process only spawned by another.
    pub start: Option<StartView>,
    pub states: Vec<StateView>,
    pub events: Vec<TransitionView>,
    pub fields: Vec<FieldView>,
    /// Fields whose values at most one open instance holds at a time (one household, one case).
    pub unique: Vec<Vec<String>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StartView {
    pub roles: Vec<String>,
    pub ask: Vec<String>,
    pub optional: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StateView {
    pub id: String,
    pub label: String,
    pub stage: String,
    #[serde(rename = "final")]
    pub is_final: bool,
    pub outcome: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TransitionView {
    pub event: String,
    pub label: String,
    pub from: Vec<String>,
    /// Absent when the event keeps the state.
    pub to: Option<String>,
    pub roles: Vec<String>,
    pub ask: Vec<String>,
    pub optional: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FieldView {
    pub id: String,
    pub label: String,
    /// text, long_text, int, date, bool, choice, list, map, money, table.
    #[serde(rename = "type")]
    pub kind: String,
    /// For a choice: the ids it takes.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
    /// Computed from other fields: never given.
    pub computed: bool,
}

fn kind_name(kind: &FieldKind) -> &'static str {
    match kind {
        FieldKind::Text { .. } => "text",
        FieldKind::LongText { .. } => "long_text",
        FieldKind::Int { .. } => "int",
        FieldKind::Date => "date",
        FieldKind::Bool => "bool",
        FieldKind::Choice { .. } => "choice",
        FieldKind::List { .. } => "list",
        FieldKind::Map => "map",
        FieldKind::Money { .. } => "money",
        FieldKind::Table { .. } => "table",
    }
}

fn process_view(def: &Definition, version: i64, lang: &str) -> ProcessView {
    ProcessView {
        id: def.id.clone(),
        label: def.label.get(lang).to_owned(),
        version,
        initial: def.initial.clone(),
        start: def.start.as_ref().map(|s| StartView {
            roles: s.roles.clone(),
            ask: s.ask.clone(),
            optional: s.optional.clone(),
        }),
        states: def
            .states
            .iter()
            .map(|s| StateView {
                id: s.id.clone(),
                label: s.label.get(lang).to_owned(),
                stage: s.stage.clone(),
                is_final: s.is_final,
                outcome: s.outcome.map(|o| o.as_str().to_owned()),
            })
            .collect(),
        events: def
            .transitions
            .iter()
            .map(|t| TransitionView {
                event: t.event.clone(),
                label: t.label.get(lang).to_owned(),
                from: t.from.clone(),
                to: t.to.clone(),
                roles: t.roles.clone(),
                ask: t.ask.clone(),
                optional: t.optional.clone(),
            })
            .collect(),
        fields: def
            .fields
            .iter()
            .map(|f| FieldView {
                id: f.id.clone(),
                label: f.label.get(lang).to_owned(),
                kind: kind_name(&f.kind).to_owned(),
                options: match &f.kind {
                    FieldKind::Choice { options } => options.iter().map(|o| o.id.clone()).collect(),
                    _ => Vec::new(),
                },
                computed: f.compute.is_some(),
            })
            .collect(),
        unique: def.unique.iter().map(|k| k.fields.clone()).collect(),
    }
}

/// The process definitions in force, with their current version, states, events and fields.
#[utoipa::path(
    get,
    path = "/processes",
    tag = "processes",
    responses(
        (status = 200, description = "The definitions in force", body = Vec<ProcessView>),
        Always,
    )
)]
pub async fn list(State(state): State<AppState>, caller: Caller) -> Json<Vec<ProcessView>> {
    let rt = &state.rt;
    let lang = caller.tr.code();
    Json(
        rt.definitions()
            .definitions
            .values()
            .map(|d| process_view(d, rt.registry().current_version(&d.id).unwrap_or(1), lang))
            .collect(),
    )
}

/// The open instance holding a unique key (an ID number's open case): the key's fields given as
/// query parameters, `?id_number=330881...`.
#[utoipa::path(
    get,
    path = "/processes/{process}/by-key",
    tag = "processes",
    params(("process" = String, Path, description = "The process id")),
    responses(
        (status = 200, description = "The open instance holding the key", body = InstanceView),
        (status = 400, description = "No key of the process given whole", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such process, or no open instance the caller may read holds the key", body = Problem, content_type = "application/problem+json"),
        Always,
    )
)]
pub async fn by_key(
    State(state): State<AppState>,
    caller: Caller,
    Path(process): Path<String>,
    Query(q): Query<std::collections::BTreeMap<String, String>>,
) -> Result<Json<InstanceView>, ApiError> {
    let tr = &caller.tr;
    let def = state.rt.definitions().get(&process).cloned().ok_or_else(|| ApiError::not_found(tr))?;
    if let Some(unknown) = q.keys().find(|k| !def.unique.iter().any(|u| u.fields.contains(k))) {
        return Err(ApiError::bad_request(tr, format!("{unknown:?} is not a field of a key of {process}")));
    }
    let mut asked = false;
    for key in &def.unique {
        let mut data = crate::engine::Data::new();
        for f in &key.fields {
            let (Some(field), Some(given)) = (def.field(f), q.get(f)) else { continue };
            match crate::engine::parse_value(field, &Value::String(given.clone())) {
                Ok(Some(value)) => {
                    data.insert(f.clone(), value);
                }
                _ => return Err(ApiError::bad_request(tr, format!("{f}: {given:?} is not a value of the field"))),
            }
        }
        let Some(value) = key.of(&data) else { continue };
        asked = true;
        if let Some(open) = crate::store::keys::holder(state.db(), &def.id, &value).await? {
            let roles = &state.rt.definitions().roles;
            let inst = state.rt.instance(open).await.map_err(|e| ApiError::from_runtime(tr, Some(&def), roles, e))?;
            // Not the caller's to read: as if there were none, so a key's holder is not told.
            if !state.rt.may_read(&caller.actor(), &inst).await.map_err(|e| ApiError::internal(tr, &e))? {
                return Err(ApiError::not_found(tr));
            }
            return Ok(Json(instance_view(&state, &caller, &inst).await?));
        }
    }
    if !asked {
        let keys: Vec<String> = def.unique.iter().map(|k| k.fields.join("+")).collect();
        return Err(ApiError::bad_request(tr, format!("give a key of the process: {}", keys.join(" or "))));
    }
    Err(ApiError::not_found(tr))
}
