//! Instances: start one (once, with an idempotency key), read it, find them, fire its events,
//! read its history.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::api::body::Body;
use crate::api::caller::Caller;
use crate::api::problem::{Always, ApiError, Problem};
use crate::api::views::{AuditEventView, InstanceSummary, InstanceView, Page, instance_view};
use crate::definition::{Definition, FieldKind};
use crate::engine::{Data, Refusal};
use crate::runtime::{Instance, RuntimeError};
use crate::store::idempotency::{self, Claim};
use crate::web::state::AppState;

/// What a start is given.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartRequest {
    /// The values of the start's fields (`ask` and `optional` of the process's `start`).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub data: Map<String, Value>,
    /// For a process with a unique key: when an open instance already holds the key, fire this
    /// event on it instead, with the fields of `data` the event takes (a department's signal added
    /// to the household's open case). The answer is then 200, not 201.
    pub on_duplicate: Option<String>,
}

/// What a step is given.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FireRequest {
    /// The instance's version as you read it: a change since is refused with 409. Leave it out
    /// to fire on whatever the instance is now.
    pub expected_version: Option<i64>,
    /// The values of the event's fields (`ask` and `optional`).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub data: Map<String, Value>,
}

/// The longest idempotency key taken.
const MAX_KEY_LEN: usize = 200;

fn idempotency_key<'a>(caller: &Caller, headers: &'a HeaderMap) -> Result<Option<&'a str>, ApiError> {
    let Some(value) = headers.get("idempotency-key") else { return Ok(None) };
    let key =
        value.to_str().ok().map(str::trim).filter(|k| {
            !k.is_empty() && k.len() <= MAX_KEY_LEN && k.bytes().all(|b| b.is_ascii_graphic() || b == b' ')
        });
    key.map(Some).ok_or_else(|| {
        ApiError::bad_request(&caller.tr, format!("Idempotency-Key: 1 to {MAX_KEY_LEN} visible ASCII characters"))
    })
}

/// The values given, refused where a directory (units, people) does not know them.
async fn checked_data(
    state: &AppState,
    caller: &Caller,
    def: &Definition,
    data: &Map<String, Value>,
) -> Result<Data, ApiError> {
    let directory = state.directory().await?;
    let errors = crate::web::process::directory_errors(def, data, &directory, caller.tr.code());
    if errors.is_empty() {
        Ok(data.clone())
    } else {
        Err(ApiError::refused(&caller.tr, Some(def), &state.rt.definitions().roles, &Refusal::Input(errors)))
    }
}

/// An instance the caller may read.
pub(crate) async fn visible(state: &AppState, caller: &Caller, id: i64) -> Result<Instance, ApiError> {
    let tr = &caller.tr;
    let roles = &state.rt.definitions().roles;
    let inst = state.rt.instance(id).await.map_err(|e| ApiError::from_runtime(tr, None, roles, e))?;
    if !state.rt.may_read(&caller.actor(), &inst).await.map_err(|e| ApiError::internal(tr, &e))? {
        return Err(ApiError::forbidden(tr));
    }
    Ok(inst)
}

/// The instance `id` as the caller sees it now, answered with `status`.
async fn answer(state: &AppState, caller: &Caller, id: i64, status: StatusCode) -> Result<Response, ApiError> {
    let roles = &state.rt.definitions().roles;
    let inst = state.rt.instance(id).await.map_err(|e| ApiError::from_runtime(&caller.tr, None, roles, e))?;
    let view = instance_view(state, caller, &inst).await?;
    let mut response = (status, Json(view)).into_response();
    if let Ok(location) = HeaderValue::from_str(&format!("/api/v1/instances/{id}")) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

/// Starts an instance. With an `Idempotency-Key` header, a retried request (the same key and
/// body, within a day) starts nothing and answers with the instance the first one started.
#[utoipa::path(
    post,
    path = "/processes/{process}/instances",
    tag = "instances",
    params(
        ("process" = String, Path, description = "The process id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: the same key and body start one instance"),
    ),
    request_body = StartRequest,
    responses(
        (status = 201, description = "Started", body = InstanceView),
        (status = 200, description = "An open instance held the key: `on_duplicate` fired on it", body = InstanceView),
        (status = 400, description = "Not JSON, an unknown member, a bad Idempotency-Key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The caller may not start this process", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such process", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "An open instance holds the key (see `open_instance`)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over 256 KiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not application/json", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Refused: each field's problem in `errors`, or the rule that refused", body = Problem, content_type = "application/problem+json"),
        Always,
    )
)]
pub async fn start(
    State(state): State<AppState>,
    caller: Caller,
    Path(process): Path<String>,
    headers: HeaderMap,
    Body(req): Body<StartRequest>,
) -> Result<Response, ApiError> {
    let tr = &caller.tr;
    let rt = &state.rt;
    let roles = &rt.definitions().roles;
    let def = rt.definitions().get(&process).cloned().ok_or_else(|| ApiError::not_found(tr))?;
    if let Some(event) = &req.on_duplicate
        && !def.transitions.iter().any(|t| &t.event == event)
    {
        return Err(ApiError::bad_request(tr, format!("on_duplicate: {process} has no event {event:?}")));
    }
    let key = idempotency_key(&caller, &headers)?;
    let txn = crate::store::db::begin_write(state.db()).await?;
    let request = serde_json::json!({ "process": process, "data": req.data, "on_duplicate": req.on_duplicate });
    if let Some(answered) = claim(&state, &caller, &txn, key, &request).await? {
        txn.commit().await?;
        return answered.replay(&state, &caller).await;
    }
    let given = checked_data(&state, &caller, &def, &req.data).await?;
    let (status, id) = start_or_add(&state, &txn, &process, &caller.actor(), &given, req.on_duplicate.as_deref())
        .await
        .map_err(|e| ApiError::from_runtime(tr, Some(&def), roles, e))?;
    if let Some(key) = key {
        idempotency::record(&txn, caller.name(), key, status.as_u16(), id).await?;
    }
    txn.commit().await?;
    answer(&state, &caller, id, status).await
}

/// How many times a start is tried again when the open instance holding its key finished or moved
/// on between the start's refusal and the event fired on it.
const START_ATTEMPTS: usize = 3;

/// Starts an instance, or, when an open one holds the key and `on_duplicate` names an event,
/// fires that event on it with the fields of `given` it takes.
async fn start_or_add(
    state: &AppState,
    txn: &sea_orm::DatabaseTransaction,
    process: &str,
    actor: &crate::engine::Actor,
    given: &Data,
    on_duplicate: Option<&str>,
) -> Result<(StatusCode, i64), RuntimeError> {
    let rt = &state.rt;
    let mut attempt = 0;
    loop {
        attempt += 1;
        let open = match rt.start_in(txn, process, actor, given).await {
            Ok(id) => return Ok((StatusCode::CREATED, id)),
            Err(RuntimeError::Refused(Refusal::Duplicate { open, .. })) if on_duplicate.is_some() => open,
            Err(e) => return Err(e),
        };
        let event = on_duplicate.unwrap_or_default();
        let inst = rt.instance_in(txn, open).await?;
        let takes: Vec<&String> = inst
            .definition
            .transition(&inst.row.state, event)
            .map(|t| t.ask.iter().chain(&t.optional).collect())
            .unwrap_or_default();
        let subset: Data =
            given.iter().filter(|(k, _)| takes.contains(k)).map(|(k, v)| (k.clone(), v.clone())).collect();
        match rt.fire_in(txn, open, None, actor, event, &subset).await {
            Ok(_) => return Ok((StatusCode::OK, open)),
            // The open instance finished or moved on meanwhile: its key may be free now.
            Err(RuntimeError::Refused(Refusal::Finished { .. }) | RuntimeError::Conflict { .. })
                if attempt < START_ATTEMPTS => {}
            Err(e) => return Err(e),
        }
    }
}

/// A keyed request answered before.
struct Answered {
    status: StatusCode,
    instance: i64,
}

impl Answered {
    /// The answer again, with the instance as it is now.
    async fn replay(self, state: &AppState, caller: &Caller) -> Result<Response, ApiError> {
        let mut response = answer(state, caller, self.instance, self.status).await?;
        response.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
        Ok(response)
    }
}

/// Claims an idempotency key for `request` in the caller's transaction; the earlier answer when
/// the key has one (checked before the request's data, so a retry is answered as the first was
/// even if the directories changed since).
async fn claim(
    state: &AppState,
    caller: &Caller,
    txn: &sea_orm::DatabaseTransaction,
    key: Option<&str>,
    request: &Value,
) -> Result<Option<Answered>, ApiError> {
    let Some(key) = key else { return Ok(None) };
    let hash = crate::audit::sha256_hex(crate::audit::canonical_json(request).as_bytes());
    match idempotency::claim(txn, caller.name(), key, &hash, crate::clock::to_micros(state.now())).await? {
        Claim::New => Ok(None),
        Claim::OtherRequest => Err(ApiError::key_reused(&caller.tr)),
        Claim::Answered { status, instance } => {
            Ok(Some(Answered { status: StatusCode::from_u16(status).unwrap_or(StatusCode::OK), instance }))
        }
    }
}

/// An instance: its state, version, data, children, timers, and the events the caller may fire
/// now (each refused one with the reason).
#[utoipa::path(
    get,
    path = "/instances/{id}",
    tag = "instances",
    params(("id" = i64, Path, description = "The instance id")),
    responses(
        (status = 200, description = "The instance", body = InstanceView),
        (status = 403, description = "The caller may not read it", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such instance", body = Problem, content_type = "application/problem+json"),
        Always,
    )
)]
pub async fn get_one(State(state): State<AppState>, caller: Caller, Path(id): Path<i64>) -> Result<Response, ApiError> {
    let inst = visible(&state, &caller, id).await?;
    Ok(Json(instance_view(&state, &caller, &inst).await?).into_response())
}

/// Fires an event on an instance.
#[utoipa::path(
    post,
    path = "/instances/{id}/events/{event}",
    tag = "instances",
    params(
        ("id" = i64, Path, description = "The instance id"),
        ("event" = String, Path, description = "The event, as `events` of the instance lists it"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: the same key and body fire once"),
    ),
    request_body = FireRequest,
    responses(
        (status = 200, description = "Fired: the instance as it is now", body = InstanceView),
        (status = 400, description = "Not JSON, an unknown member, a version below 1", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Out of the caller's roles or units", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such instance, or no such event in its process", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The instance changed since `expected_version` (see `current_version`)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over 256 KiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not application/json", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Refused: each field's problem in `errors`, or the rule that refused", body = Problem, content_type = "application/problem+json"),
        Always,
    )
)]
pub async fn fire(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, event)): Path<(i64, String)>,
    headers: HeaderMap,
    Body(req): Body<FireRequest>,
) -> Result<Response, ApiError> {
    let tr = &caller.tr;
    if req.expected_version.is_some_and(|v| v < 1) {
        return Err(ApiError::bad_request(tr, "expected_version: a version is 1 or more"));
    }
    let key = idempotency_key(&caller, &headers)?;
    let inst = visible(&state, &caller, id).await?;
    let roles = &state.rt.definitions().roles;
    let fail = |e: RuntimeError| ApiError::from_runtime(tr, Some(&inst.definition), roles, e);
    let actor = caller.actor();
    let Some(key) = key else {
        let given = checked_data(&state, &caller, &inst.definition, &req.data).await?;
        state.rt.fire(id, req.expected_version, &actor, &event, &given).await.map_err(fail)?;
        return answer(&state, &caller, id, StatusCode::OK).await;
    };
    // With a key, the step and the key's answer commit together: a retry never fires it twice.
    let txn = crate::store::db::begin_write(state.db()).await?;
    let request = serde_json::json!({
        "instance": id, "event": event, "expected_version": req.expected_version, "data": req.data,
    });
    if let Some(answered) = claim(&state, &caller, &txn, Some(key), &request).await? {
        txn.commit().await?;
        return answered.replay(&state, &caller).await;
    }
    let given = checked_data(&state, &caller, &inst.definition, &req.data).await?;
    state.rt.fire_in(&txn, id, req.expected_version, &actor, &event, &given).await.map_err(fail)?;
    idempotency::record(&txn, caller.name(), key, StatusCode::OK.as_u16(), id).await?;
    txn.commit().await?;
    answer(&state, &caller, id, StatusCode::OK).await
}

/// The query of a search: `process`, `state`, `field.NAME=VALUE` (needs `process`), `after`,
/// `limit`.
struct Search {
    process: Option<String>,
    state: Option<String>,
    fields: Vec<(String, Value)>,
    after: i64,
    limit: usize,
}

/// The most instances a search reads for one page: a page of rare matches ends early, with
/// `next` to go on from.
const SCAN_PER_PAGE: usize = 2_000;
const DEFAULT_LIMIT: usize = 50;
const MAX_LIMIT: usize = 200;

fn parse_search(state: &AppState, caller: &Caller, q: Vec<(String, String)>) -> Result<Search, ApiError> {
    let tr = &caller.tr;
    let bad = |m: String| ApiError::bad_request(tr, m);
    let mut s = Search { process: None, state: None, fields: Vec::new(), after: 0, limit: DEFAULT_LIMIT };
    let mut named = Vec::new();
    for (k, v) in q {
        match k.as_str() {
            "process" => s.process = Some(v),
            "state" => s.state = Some(v),
            "after" => s.after = v.parse().ok().filter(|a| *a >= 0).ok_or_else(|| bad(format!("after: {v:?}")))?,
            "limit" => {
                s.limit = v
                    .parse()
                    .ok()
                    .filter(|l| (1..=MAX_LIMIT).contains(l))
                    .ok_or_else(|| bad(format!("limit: 1 to {MAX_LIMIT}, not {v:?}")))?
            }
            _ => match k.strip_prefix("field.") {
                Some(name) => named.push((name.to_owned(), v)),
                None => return Err(bad(format!("unknown parameter {k:?}"))),
            },
        }
    }
    if s.state.is_some() && s.process.is_none() {
        return Err(bad("`state` needs `process`".to_owned()));
    }
    if named.len() > 10 {
        return Err(bad("at most 10 field filters".to_owned()));
    }
    if !named.is_empty() {
        let process = s.process.as_deref().ok_or_else(|| bad("field filters need `process`".to_owned()))?;
        let def = state.rt.definitions().get(process).ok_or_else(|| ApiError::not_found(tr))?;
        for (name, given) in named {
            let field = def.field(&name).ok_or_else(|| bad(format!("{process} has no field {name:?}")))?;
            let kind = match &field.kind {
                // A list matches when it holds the value: parse it as one item.
                FieldKind::List { .. } => FieldKind::Text { max_len: 200 },
                other => other.clone(),
            };
            let value = crate::engine::parse_kind(&kind, &Value::String(given.clone()))
                .ok()
                .flatten()
                .ok_or_else(|| bad(format!("{given:?} is not a value of the field {name:?}")))?;
            s.fields.push((name, value));
        }
    }
    Ok(s)
}

fn matches(data: &Data, fields: &[(String, Value)]) -> bool {
    fields.iter().all(|(name, value)| match data.get(name) {
        Some(Value::Array(items)) => items.contains(value),
        Some(v) => v == value,
        None => false,
    })
}

/// Instances the caller may read, oldest first, by process, state and field values, a page at a
/// time.
#[utoipa::path(
    get,
    path = "/instances",
    tag = "instances",
    params(
        ("process" = Option<String>, Query, description = "Only instances of this process"),
        ("state" = Option<String>, Query, description = "Only instances in this state (needs `process`)"),
        ("field.NAME" = Option<String>, Query, description = "Only instances whose field NAME holds this value (a list: holds it as an item); needs `process`; up to 10"),
        ("after" = Option<i64>, Query, description = "The `next` of the previous page"),
        ("limit" = Option<usize>, Query, description = "At most this many (1 to 200, default 50)"),
    ),
    responses(
        (status = 200, description = "A page of instances", body = Page<InstanceSummary>),
        (status = 400, description = "An unknown parameter, or a value that does not fit", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such process", body = Problem, content_type = "application/problem+json"),
        Always,
    )
)]
pub async fn search(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<Vec<(String, String)>>,
) -> Result<Json<Page<InstanceSummary>>, ApiError> {
    let tr = &caller.tr;
    let s = parse_search(&state, &caller, q)?;
    let actor = caller.actor();
    let (mut items, mut scanned, mut cursor) = (Vec::new(), 0usize, s.after);
    let mut exhausted = false;
    while items.len() < s.limit && scanned < SCAN_PER_PAGE {
        let batch =
            crate::store::instances::scan(state.db(), s.process.as_deref(), s.state.as_deref(), cursor, 200).await?;
        if batch.len() < 200 {
            exhausted = true;
        }
        for row in batch {
            scanned += 1;
            cursor = row.id;
            if matches(&row.data, &s.fields) {
                let definition = state
                    .rt
                    .registry()
                    .by_row(state.db(), row.definition_id)
                    .await
                    .map_err(|e| ApiError::internal(tr, &e))?;
                let inst = Instance { row, definition };
                if state.rt.may_read(&actor, &inst).await.map_err(|e| ApiError::internal(tr, &e))? {
                    items.push(InstanceSummary::from(&inst.row));
                    if items.len() == s.limit {
                        break;
                    }
                }
            }
        }
        if exhausted {
            break;
        }
    }
    let next = (!exhausted || items.len() == s.limit).then_some(cursor);
    Ok(Json(Page { items, next }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryQuery {
    after: Option<i64>,
    limit: Option<u64>,
}

/// An instance's audit events, oldest first, with their hashes, a page at a time.
#[utoipa::path(
    get,
    path = "/instances/{id}/history",
    tag = "audit",
    params(
        ("id" = i64, Path, description = "The instance id"),
        ("after" = Option<i64>, Query, description = "The `next` of the previous page (a sequence number)"),
        ("limit" = Option<u64>, Query, description = "At most this many (1 to 1000, default 200)"),
    ),
    responses(
        (status = 200, description = "A page of the instance's audit events", body = Page<AuditEventView>),
        (status = 400, description = "A parameter that does not fit", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The caller may not read it", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such instance", body = Problem, content_type = "application/problem+json"),
        Always,
    )
)]
pub async fn history(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Query(q): Query<HistoryQuery>,
) -> Result<Json<Page<AuditEventView>>, ApiError> {
    let limit = crate::api::audit::page_limit(&caller, q.limit)?;
    visible(&state, &caller, id).await?;
    let stream = crate::store::audit::instance_stream(id);
    let events = crate::store::audit::stream_after(state.db(), &stream, q.after.unwrap_or(-1), limit).await?;
    let next = (events.len() as u64 == limit).then(|| events.last().map(|e| e.record.seq)).flatten();
    Ok(Json(Page { items: events.into_iter().map(AuditEventView::from).collect(), next }))
}
