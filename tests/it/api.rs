//! The JSON API as another system uses it: a service account's bearer token, JSON in and out,
//! problem documents for every refusal, and the OpenAPI document the routes answer by.

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use serde_json::{Value, json};
use tower::ServiceExt;
use unionflow::people::{RoleGrant, Username, tokens};
use unionflow::store::audit::{Audited, Record};

use crate::support::{Backend, START};
use crate::web::Web;

/// What the API answered.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub json: Value,
}

impl Answer {
    fn content_type(&self) -> &str {
        self.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default()
    }

    /// A problem document's `code`, checking that it is one.
    fn problem(&self) -> &str {
        assert_eq!(self.content_type(), "application/problem+json", "a problem document: {self:?}");
        assert_eq!(self.json["status"], json!(self.status.as_u16()), "its status is the response's");
        assert!(self.json["title"].as_str().is_some_and(|t| !t.is_empty()), "it has a title: {self:?}");
        self.json["code"].as_str().unwrap_or_default()
    }
}

/// A client of the API for one test.
pub struct Client {
    state: unionflow::web::AppState,
}

impl Client {
    pub fn of(web: &Web) -> Client {
        Client { state: web.state.clone() }
    }

    pub async fn send(&self, req: Request<Body>) -> Answer {
        let resp = unionflow::web::router(self.state.clone()).oneshot(req).await.expect("a response");
        let (status, headers) = (resp.status(), resp.headers().clone());
        let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX).await.expect("a body");
        let json = if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).unwrap_or(Value::Null) };
        Answer { status, headers, json }
    }

    pub async fn call(&self, method: Method, path: &str, token: &str, body: Option<Value>) -> Answer {
        let mut req =
            Request::builder().method(method).uri(path).header(header::AUTHORIZATION, format!("Bearer {token}"));
        if body.is_some() {
            req = req.header(header::CONTENT_TYPE, "application/json");
        }
        let body = body.map_or_else(Body::empty, |b| Body::from(b.to_string()));
        self.send(req.body(body).expect("a request")).await
    }

    pub async fn get(&self, path: &str, token: &str) -> Answer {
        self.call(Method::GET, path, token, None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Answer {
        self.call(Method::POST, path, token, Some(body)).await
    }

    /// Posts `body` with an `Idempotency-Key`.
    pub async fn post_keyed(&self, path: &str, token: &str, key: &str, body: Value) -> Answer {
        let req = Request::post(path)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_TYPE, "application/json")
            .header("Idempotency-Key", key)
            .body(Body::from(body.to_string()))
            .expect("a request");
        self.send(req).await
    }

    /// Starts an assembly of u01 on draft `draft`, and expects it to start.
    pub async fn start_assembly(&self, token: &str, draft: i64) -> i64 {
        let body = json!({ "data": { "unit": "u01", "draft_version": draft } });
        let started = self.post("/api/v1/processes/assembly_approval/instances", token, body).await;
        assert_eq!(started.status, StatusCode::CREATED, "{started:?}");
        started.json["id"].as_i64().expect("an id")
    }

    /// Fires `event` on what the instance is now, and expects it to pass.
    pub async fn step(&self, id: i64, token: &str, event: &str, data: Value) -> Value {
        let now = self.get(&format!("/api/v1/instances/{id}"), token).await;
        assert_eq!(now.status, StatusCode::OK, "{now:?}");
        let body = json!({ "expected_version": now.json["version"], "data": data });
        let fired = self.post(&format!("/api/v1/instances/{id}/events/{event}"), token, body).await;
        assert_eq!(fired.status, StatusCode::OK, "{event}: {fired:?}");
        fired.json
    }
}

/// A service account with `roles` (role or role@unit) and its token.
pub async fn token(web: &Web, name: &str, roles: &[&str], per_minute: u32) -> String {
    let set = web.rt().definitions();
    let grants: Vec<RoleGrant> = roles.iter().map(|r| RoleGrant::parse(r, &set.roles).expect("a role")).collect();
    let change = Audited::begin(web.state.db(), "admin", "test", START).await.expect("begin");
    let name = Username::parse(name).expect("a name");
    let issued = tokens::create(change.conn(), &name, &grants, per_minute, None, START).await.expect("a token");
    change.commit(Record { kind: "admin", event: Some("create_token"), data: json!({}) }).await.expect("commit");
    issued.secret
}

async fn changes(web: &Web) -> (i64, i64) {
    (web.count("SELECT COUNT(*) AS n FROM instances").await, web.count("SELECT COUNT(*) AS n FROM audit_events").await)
}

crate::on_both_backends! {
    a_whole_assembly_vote_runs_through_the_api => a_whole_assembly_vote_runs_through_the_api;
    a_retried_start_with_its_key_starts_one_instance => a_retried_start_with_its_key_starts_one_instance;
    out_of_scope_and_stale_calls_change_nothing => out_of_scope_and_stale_calls_change_nothing;
    bad_requests_get_problem_documents_and_change_nothing => bad_requests_get_problem_documents_and_change_nothing;
    tokens_are_limited_revoked_and_expire => tokens_are_limited_revoked_and_expire;
    a_search_pages_through_what_the_caller_may_read => a_search_pages_through_what_the_caller_may_read;
    a_whole_hardship_case_runs_through_the_api => a_whole_hardship_case_runs_through_the_api;
    every_documented_route_answers_as_documented => every_documented_route_answers_as_documented;
    keyed_fires_calls_logged_and_what_is_not_told => keyed_fires_calls_logged_and_what_is_not_told;
}

async fn keyed_fires_calls_logged_and_what_is_not_told(backend: Backend) {
    let web = Web::embedded(backend).await;
    web.units(&["u01"]).await;
    let bureau = token(&web, "hr_system", &["admin"], 600).await;
    let secretary = token(&web, "u01_system", &["unit_secretary@u01"], 600).await;
    let department = token(&web, "civil_affairs", &["department"], 600).await;
    let api = Client::of(&web);
    let id = api.start_assembly(&bureau, 1).await;

    // A step retried with its key is taken once; its answer is given again.
    let fire = |key: &'static str, date: &'static str| {
        let (api, secretary) = (&api, &secretary);
        async move {
            let path = format!("/api/v1/instances/{id}/events/reschedule");
            api.post_keyed(&path, secretary, key, json!({ "data": { "assembly_date": date } })).await
        }
    };
    api.step(id, &secretary, "schedule", json!({ "assembly_date": "2026-03-20", "kind": "representatives" })).await;
    let (a, b) = tokio::join!(fire("move-1", "2026-03-27"), fire("move-1", "2026-03-27"));
    let c = fire("move-1", "2026-03-27").await;
    assert_eq!([a.status, b.status, c.status], [StatusCode::OK; 3], "{a:?} {b:?} {c:?}");
    let history = api.get(&format!("/api/v1/instances/{id}/history"), &secretary).await;
    let moves = history.json["items"].as_array().expect("events").iter().filter(|e| e["event"] == "reschedule").count();
    assert_eq!(moves, 1, "one step for three sends");
    assert_eq!(fire("move-1", "2026-03-28").await.problem(), "idempotency_key_reused");

    // What a caller may not read is not found, not forbidden: a household's open case is not told.
    let signal = json!({ "data": {
        "applicant": "王建华", "id_number": "330881198001010011", "city": "江山市", "source": "civil_affairs",
        "reported_on": "2026-03-02", "household_size": 3, "monthly_income": "2400", "rigid_expenses": "300",
    } });
    assert_eq!(
        api.post("/api/v1/processes/hardship_case/instances", &department, signal).await.status,
        StatusCode::CREATED
    );
    let probe = "/api/v1/processes/hardship_case/by-key?id_number=330881198001010011";
    assert_eq!(api.get(probe, &secretary).await.problem(), "not_found");
    assert_eq!(api.get(probe, &department).await.status, StatusCode::OK);
    assert_eq!(api.get("/api/v1/processes/hardship_case/by-key?name=x", &department).await.problem(), "bad_request");
    let unknown_event = json!({ "data": {}, "on_duplicate": "no_such_event" });
    let refused = api.post("/api/v1/processes/hardship_case/instances", &department, unknown_event).await;
    assert_eq!((refused.status, refused.problem()), (StatusCode::BAD_REQUEST, "bad_request"));
    assert_eq!(
        api.get("/api/v1/instances?state=draft_received", &bureau).await.problem(),
        "bad_request",
        "needs process"
    );
    assert_eq!(api.get("/api/v1/audit?afterr=5", &bureau).await.problem(), "bad_request", "a misspelt cursor");
    assert_eq!(api.get("/api/v1", &bureau).await.problem(), "not_found");
    assert_eq!(api.get("/api/v1/", &bureau).await.problem(), "not_found");

    // Every call is logged under its account, reads too.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let calls = unionflow::store::api_calls::latest(web.state.db(), "u01_system", 100).await.expect("the call log");
        if calls.iter().any(|c| c.method == "GET" && c.path == probe && c.status == 404) {
            assert!(calls.iter().all(|c| c.account == "u01_system"));
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the calls were logged: {calls:?}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    // `system` is the engine's name in the trail: no account takes it.
    let change = Audited::begin(web.state.db(), "admin", "test", START).await.expect("begin");
    let taken = tokens::create(change.conn(), &Username::parse("system").expect("a name"), &[], 600, None, START).await;
    assert!(matches!(taken, Err(tokens::TokenError::Taken(_))), "{taken:?}");
}

async fn a_whole_assembly_vote_runs_through_the_api(backend: Backend) {
    let web = Web::embedded(backend).await;
    web.units(&["u01"]).await;
    let bureau = token(&web, "hr_system", &["admin"], 600).await;
    let secretary = token(&web, "u01_system", &["unit_secretary@u01"], 600).await;
    let api = Client::of(&web);

    let processes = api.get("/api/v1/processes", &secretary).await;
    assert_eq!(processes.status, StatusCode::OK);
    let assembly = processes.json.as_array().and_then(|all| all.iter().find(|p| p["id"] == "assembly_approval"));
    let assembly = assembly.expect("the assembly process is listed");
    assert_eq!(assembly["version"], json!(1));
    assert_eq!(assembly["start"]["ask"], json!(["unit", "draft_version"]));

    let started = api
        .post(
            "/api/v1/processes/assembly_approval/instances",
            &bureau,
            json!({ "data": { "unit": "u01", "draft_version": 1 } }),
        )
        .await;
    assert_eq!(started.status, StatusCode::CREATED, "{started:?}");
    let id = started.json["id"].as_i64().expect("an id");
    assert_eq!(started.headers[header::LOCATION], format!("/api/v1/instances/{id}").as_str());
    assert_eq!(started.json["state"], "draft_received");
    assert_eq!(started.json["data"]["roster_size"], json!(30), "the unit's roster, as the page would default it");

    let seen = api.get(&format!("/api/v1/instances/{id}"), &secretary).await;
    let schedule = seen.json["events"].as_array().and_then(|e| e.iter().find(|e| e["event"] == "schedule")).cloned();
    let schedule = schedule.expect("the secretary may schedule");
    assert_eq!((schedule["allowed"].clone(), schedule["ask"].clone()), (json!(true), json!(["assembly_date", "kind"])));
    let work = api.get("/api/v1/work", &secretary).await;
    assert!(work.json.as_array().is_some_and(|w| w.iter().any(|i| i["instance"]["id"] == id)), "in my work: {work:?}");

    api.step(id, &secretary, "schedule", json!({ "assembly_date": "2026-03-20", "kind": "representatives" })).await;
    let open = api.get(&format!("/api/v1/instances/{id}"), &secretary).await;
    let offered: Vec<&str> =
        open.json["events"].as_array().expect("events").iter().filter_map(|e| e["event"].as_str()).collect();
    assert!(offered.contains(&"open_session") && !offered.contains(&"record_vote"), "the state's events: {offered:?}");
    api.step(id, &secretary, "open_session", json!({})).await;
    let voted =
        api.step(id, &secretary, "record_vote", json!({ "present": 25, "yes": 20, "no": 3, "abstain": 2 })).await;
    assert_eq!(voted["state"], "vote_recorded");
    let done = api.step(id, &secretary, "confirm", json!({ "confirmation_ref": "u01-2026-1" })).await;
    assert_eq!((done["state"].clone(), done["outcome"].clone()), (json!("passed"), json!("passed")));
    assert!(done["events"].as_array().is_some_and(Vec::is_empty), "nothing more to do once finished");

    let said = api
        .post(
            &format!("/api/v1/instances/{id}/comments"),
            &secretary,
            json!({ "text": "表决记录已归档", "on_step": 3 }),
        )
        .await;
    assert_eq!((said.status, said.json["seq"].clone()), (StatusCode::CREATED, json!(5)), "{said:?}");
    // The history is the instance's hash chain, each event under the account that did it.
    let history = api.get(&format!("/api/v1/instances/{id}/history"), &secretary).await;
    let events = history.json["items"].as_array().expect("events").clone();
    let steps: Vec<(&str, &str)> =
        events.iter().map(|e| (e["actor"].as_str().unwrap_or(""), e["event"].as_str().unwrap_or("-"))).collect();
    assert_eq!(
        steps,
        [
            ("hr_system", "-"),
            ("u01_system", "schedule"),
            ("u01_system", "open_session"),
            ("u01_system", "record_vote"),
            ("u01_system", "confirm"),
            ("u01_system", "-")
        ]
    );
    assert_eq!(events[5]["kind"], "comment", "the comment is in the chain");
    assert!(events[5]["data"].as_str().is_some_and(|d| d.contains("表决记录已归档")));
    for pair in events.windows(2) {
        assert_eq!(pair[1]["prev_hash"], pair[0]["hash"], "each event chains from the one before");
    }
    for e in &events {
        assert_eq!(e["hash"], json!(hash_as_the_readme_says(e)), "another system can verify each hash: {e}");
    }
    // The whole trail, for an admin's account only, mirrors the same events (on PostgreSQL once
    // they have settled).
    web.clock.advance(time::Duration::minutes(1));
    assert_eq!(api.get("/api/v1/audit", &secretary).await.problem(), "forbidden");
    let trail = api.get("/api/v1/audit?limit=1000", &bureau).await;
    let mirrored: Vec<&Value> =
        trail.json["items"].as_array().expect("events").iter().filter(|e| e["instance"] == id).collect();
    assert_eq!(mirrored.len(), events.len());
    assert_eq!(web.verify().await.broken, None);
}

/// An event's hash computed from what the API gives, as the README tells another system to.
fn hash_as_the_readme_says(e: &Value) -> String {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    for name in [
        "prev_hash",
        "stream",
        "seq",
        "at_micros",
        "actor",
        "kind",
        "process",
        "instance",
        "event",
        "from_state",
        "to_state",
        "data",
    ] {
        match &e[name] {
            Value::Null => h.update(b"-;"),
            Value::String(s) => h.update(format!("{}:{s};", s.len())),
            other => h.update(format!("{}:{other};", other.to_string().len())),
        }
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

async fn a_retried_start_with_its_key_starts_one_instance(backend: Backend) {
    let web = Web::embedded(backend).await;
    web.units(&["u01"]).await;
    let bureau = token(&web, "hr_system", &["admin"], 600).await;
    let api = Client::of(&web);
    let start = |key: &'static str, draft: i64| {
        let (api, bureau) = (&api, &bureau);
        async move {
            let body = json!({ "data": { "unit": "u01", "draft_version": draft } });
            api.post_keyed("/api/v1/processes/assembly_approval/instances", bureau, key, body).await
        }
    };
    // Two at once and a third later, as a client retrying after lost answers would send them.
    let (a, b) = tokio::join!(start("start-u01-1", 1), start("start-u01-1", 1));
    let c = start("start-u01-1", 1).await;
    let ids: Vec<Value> = [&a, &b, &c].iter().map(|r| r.json["id"].clone()).collect();
    assert_eq!([a.status, b.status, c.status], [StatusCode::CREATED; 3], "{a:?} {b:?} {c:?}");
    assert!(ids.iter().all(|i| *i == ids[0]), "one instance: {ids:?}");
    assert_eq!(c.headers["idempotent-replayed"], "true");
    assert_eq!(web.count("SELECT COUNT(*) AS n FROM instances").await, 1);
    // The same key with another body is refused; another key starts another.
    assert_eq!(start("start-u01-1", 2).await.problem(), "idempotency_key_reused");
    assert_eq!(start("start-u01-2", 2).await.status, StatusCode::CREATED);
    assert_eq!(web.count("SELECT COUNT(*) AS n FROM instances").await, 2);
}

async fn out_of_scope_and_stale_calls_change_nothing(backend: Backend) {
    let web = Web::embedded(backend).await;
    web.units(&["u01", "u02"]).await;
    let bureau = token(&web, "hr_system", &["admin"], 600).await;
    let other_unit = token(&web, "u02_system", &["unit_secretary@u02"], 600).await;
    let secretary = token(&web, "u01_system", &["unit_secretary@u01"], 600).await;
    let api = Client::of(&web);
    let id = api.start_assembly(&bureau, 1).await;
    let before = changes(&web).await;

    let schedule = json!({ "data": { "assembly_date": "2026-03-20", "kind": "representatives" } });
    let path = format!("/api/v1/instances/{id}/events/schedule");
    assert_eq!(api.post(&path, &other_unit, schedule.clone()).await.problem(), "forbidden", "another unit's secretary");
    assert_eq!(api.get(&format!("/api/v1/instances/{id}"), &other_unit).await.problem(), "forbidden");
    let start = api
        .post(
            "/api/v1/processes/assembly_approval/instances",
            &secretary,
            json!({ "data": { "unit": "u01", "draft_version": 2 } }),
        )
        .await;
    assert_eq!((start.status, start.problem()), (StatusCode::FORBIDDEN, "forbidden"), "a secretary does not start one");
    assert_eq!(start.json["reason"], "role_not_allowed");
    assert_eq!(changes(&web).await, before, "refusals change nothing");

    // A version conflict: the client read version 1, someone moved it on meanwhile.
    api.step(id, &secretary, "schedule", json!({ "assembly_date": "2026-03-20", "kind": "representatives" })).await;
    let before = changes(&web).await;
    let stale = api
        .post(
            &format!("/api/v1/instances/{id}/events/reschedule"),
            &secretary,
            json!({ "expected_version": 1, "data": { "assembly_date": "2026-03-21" } }),
        )
        .await;
    assert_eq!((stale.status, stale.problem()), (StatusCode::CONFLICT, "conflict"));
    assert_eq!(stale.json["current_version"], json!(2));
    assert_eq!(changes(&web).await, before);
    let refused = api.post(&format!("/api/v1/instances/{id}/events/confirm"), &secretary, json!({})).await;
    assert_eq!(
        (refused.status, refused.json["reason"].clone()),
        (StatusCode::UNPROCESSABLE_ENTITY, json!("not_from_state"))
    );
    assert_eq!(
        api.post(&format!("/api/v1/instances/{id}/events/no_such"), &secretary, json!({})).await.problem(),
        "not_found"
    );
    assert_eq!(changes(&web).await, before);
}

async fn bad_requests_get_problem_documents_and_change_nothing(backend: Backend) {
    let web = Web::embedded(backend).await;
    web.units(&["u01"]).await;
    let bureau = token(&web, "hr_system", &["admin"], 600).await;
    let api = Client::of(&web);
    let start = "/api/v1/processes/assembly_approval/instances";
    let before = changes(&web).await;
    let raw = |body: &str, content_type: &str, lang: &str| {
        Request::post(start)
            .header(header::AUTHORIZATION, format!("Bearer {bureau}"))
            .header(header::CONTENT_TYPE, content_type)
            .header(header::ACCEPT_LANGUAGE, lang)
            .body(Body::from(body.to_owned()))
            .expect("a request")
    };
    let bad_json = api.send(raw("{\"data\": {", "application/json", "en")).await;
    assert_eq!((bad_json.status, bad_json.problem()), (StatusCode::BAD_REQUEST, "bad_request"));
    let unknown = api.send(raw(r#"{"data": {}, "priority": 1}"#, "application/json", "en")).await;
    assert_eq!(unknown.problem(), "bad_request");
    assert!(unknown.json["detail"].as_str().is_some_and(|d| d.contains("priority")), "names it: {unknown:?}");
    let form = api.send(raw("data=1", "application/x-www-form-urlencoded", "en")).await;
    assert_eq!((form.status, form.problem()), (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"));
    let huge = format!(r#"{{"data": {{"unit": "{}"}}}}"#, "x".repeat(2 * 1024 * 1024));
    let oversized = api.send(raw(&huge, "application/json", "en")).await;
    assert_eq!((oversized.status, oversized.problem()), (StatusCode::PAYLOAD_TOO_LARGE, "too_large"));
    // Wrong types and unknown fields of the process: each field's problem, in the caller's language.
    let body = json!({ "data": { "unit": "u01", "draft_version": "one", "colour": "red" } }).to_string();
    let typed = api.send(raw(&body, "application/json", "en")).await;
    assert_eq!((typed.status, typed.problem()), (StatusCode::UNPROCESSABLE_ENTITY, "refused"));
    let fields: Vec<&str> =
        typed.json["errors"].as_array().expect("errors").iter().filter_map(|e| e["field"].as_str()).collect();
    assert!(fields.contains(&"draft_version") && fields.contains(&"colour"), "each field named: {typed:?}");
    let in_chinese = api.send(raw(&body, "application/json", "zh-CN,zh;q=0.9,en;q=0.5")).await;
    assert_ne!(in_chinese.json["title"], typed.json["title"], "worded in the language asked for");
    let unknown_unit = json!({ "data": { "unit": "u99", "draft_version": 1 } }).to_string();
    let unit = api.send(raw(&unknown_unit, "application/json", "en")).await;
    assert_eq!(unit.json["errors"][0]["field"], "unit", "a unit the directory does not know: {unit:?}");
    // No token, a wrong one, a path that does not parse, a method not allowed.
    let anonymous = api.send(Request::get("/api/v1/processes").body(Body::empty()).expect("a request")).await;
    assert_eq!((anonymous.status, anonymous.problem()), (StatusCode::UNAUTHORIZED, "unauthorized"));
    assert_eq!(anonymous.headers[header::WWW_AUTHENTICATE], "Bearer");
    assert_eq!(api.get("/api/v1/processes", "uft_0000").await.problem(), "unauthorized");
    // Guessing tokens from one address is bounded: past the bound it waits, without a query.
    for _ in 1..unionflow::api::WRONG_TOKENS_PER_MINUTE {
        assert_eq!(api.get("/api/v1/processes", "uft_0001").await.status, StatusCode::UNAUTHORIZED);
    }
    let guessing = api.get("/api/v1/processes", "uft_0002").await;
    assert_eq!((guessing.status, guessing.problem()), (StatusCode::TOO_MANY_REQUESTS, "too_many_requests"));
    assert!(guessing.headers.contains_key(header::RETRY_AFTER));
    assert_eq!(api.get("/api/v1/processes", &bureau).await.status, StatusCode::OK, "a right token still works");
    assert_eq!(api.get("/api/v1/instances/abc", &bureau).await.problem(), "bad_request");
    assert_eq!(api.get("/api/v1/no-such-thing", &bureau).await.problem(), "not_found");
    assert_eq!(api.call(Method::DELETE, "/api/v1/processes", &bureau, None).await.problem(), "method_not_allowed");
    assert_eq!(changes(&web).await, before, "nothing was started");
}

async fn tokens_are_limited_revoked_and_expire(backend: Backend) {
    let web = Web::embedded(backend).await;
    let slow = token(&web, "slow_system", &["admin"], 2).await;
    let api = Client::of(&web);
    for _ in 0..2 {
        assert_eq!(api.get("/api/v1/processes", &slow).await.status, StatusCode::OK);
    }
    let used = unionflow::store::db::one(
        web.state.db(),
        "SELECT t.last_used_at FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE u.username = $1",
        vec!["slow_system".into()],
    )
    .await
    .expect("a read")
    .expect("the token");
    let used: Option<i64> = unionflow::store::db::get(&used, "last_used_at").expect("a column");
    assert_eq!(used, Some(unionflow::clock::to_micros(START)), "the admin page shows when the token was last used");
    let limited = api.get("/api/v1/processes", &slow).await;
    assert_eq!((limited.status, limited.problem()), (StatusCode::TOO_MANY_REQUESTS, "too_many_requests"));
    let wait: u64 = limited.headers[header::RETRY_AFTER].to_str().ok().and_then(|s| s.parse().ok()).expect("seconds");
    assert!((1..=30).contains(&wait), "a call every 30 s at 2 a minute: {wait}");

    let revoked = token(&web, "old_system", &["admin"], 600).await;
    assert_eq!(api.get("/api/v1/processes", &revoked).await.status, StatusCode::OK);
    let change = Audited::begin(web.state.db(), "admin", "test", START).await.expect("begin");
    assert!(
        tokens::revoke(change.conn(), &Username::parse("old_system").expect("a name"), START).await.expect("revoke")
    );
    change.commit(Record { kind: "admin", event: Some("revoke_token"), data: json!({}) }).await.expect("commit");
    assert_eq!(api.get("/api/v1/processes", &revoked).await.problem(), "unauthorized", "revoked at once");

    let change = Audited::begin(web.state.db(), "admin", "test", START).await.expect("begin");
    let name = Username::parse("short_system").expect("a name");
    let until = START + time::Duration::days(1);
    let expiring = tokens::create(change.conn(), &name, &[], 600, Some(until), START).await.expect("a token").secret;
    change.commit(Record { kind: "admin", event: Some("create_token"), data: json!({}) }).await.expect("commit");
    assert_eq!(api.get("/api/v1/work", &expiring).await.status, StatusCode::OK);
    web.clock.advance(time::Duration::days(1));
    assert_eq!(api.get("/api/v1/work", &expiring).await.problem(), "unauthorized", "expired");
    // A service account never signs in as a person, nor shows among the people fields name.
    assert!(
        !unionflow::people::users::directory(web.state.db())
            .await
            .expect("directory")
            .iter()
            .any(|(u, _)| u == "short_system")
    );
}

async fn a_search_pages_through_what_the_caller_may_read(backend: Backend) {
    let web = Web::embedded(backend).await;
    web.units(&["u01", "u02"]).await;
    let bureau = token(&web, "hr_system", &["admin"], 600).await;
    let secretary = token(&web, "u01_system", &["unit_secretary@u01"], 600).await;
    let api = Client::of(&web);
    let start = "/api/v1/processes/assembly_approval/instances";
    for draft in 1..=3 {
        for unit in ["u01", "u02"] {
            let r = api.post(start, &bureau, json!({ "data": { "unit": unit, "draft_version": draft } })).await;
            assert_eq!(r.status, StatusCode::CREATED);
        }
    }
    let page = api.get("/api/v1/instances?process=assembly_approval&field.unit=u01&limit=2", &bureau).await;
    let units: Vec<Value> =
        page.json["items"].as_array().expect("items").iter().map(|i| i["data"]["unit"].clone()).collect();
    assert_eq!(units, [json!("u01"), json!("u01")]);
    let next = page.json["next"].as_i64().expect("a next page");
    let rest =
        api.get(&format!("/api/v1/instances?process=assembly_approval&field.unit=u01&after={next}"), &bureau).await;
    assert_eq!(rest.json["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(rest.json["next"], Value::Null, "the last page");
    // A unit's secretary finds only their unit's.
    let mine = api.get("/api/v1/instances?process=assembly_approval&state=draft_received", &secretary).await;
    assert!(
        mine.json["items"].as_array().is_some_and(|i| i.len() == 3 && i.iter().all(|i| i["data"]["unit"] == "u01"))
    );
    assert_eq!(api.get("/api/v1/instances?colour=red", &bureau).await.problem(), "bad_request");
    assert_eq!(api.get("/api/v1/instances?field.unit=u01", &bureau).await.problem(), "bad_request", "needs process");
    assert_eq!(
        api.get("/api/v1/instances?process=assembly_approval&field.draft_version=x", &bureau).await.problem(),
        "bad_request"
    );
}

/// A department's signal for a household, as its system would post it.
fn signal(id_number: &str, source: &str, income: &str, figures: &str) -> Value {
    json!({
        "data": {
            "applicant": "王建华", "id_number": id_number, "city": "江山市", "source": source,
            "reported_on": "2026-03-02", "household_size": 3, "monthly_income": income, "rigid_expenses": "300",
            "signal_figures": figures,
        },
        "on_duplicate": "add_signal",
    })
}

async fn a_whole_hardship_case_runs_through_the_api(backend: Backend) {
    let web = Web::embedded(backend).await;
    let department = token(&web, "civil_affairs", &["department"], 600).await;
    let caseworker = token(&web, "casework_system", &["caseworker"], 600).await;
    let api = Client::of(&web);
    let start = "/api/v1/processes/hardship_case/instances";
    let id_number = "330881198001010011";
    let first = api.post(start, &department, signal(id_number, "civil_affairs", "2400", "低保边缘户")).await;
    assert_eq!(first.status, StatusCode::CREATED, "{first:?}");
    let id = first.json["id"].as_i64().expect("an id");
    assert_eq!(first.json["data"]["tier"], "deep", "computed by the definition: (2400 − 300) / 3 < 1180");
    // Another department's signal for the same household adds to the open case: never two.
    let second =
        api.post(start, &department, signal(id_number, "medical_insurance", "2400", "住院自付 3.2 万元")).await;
    assert_eq!((second.status, second.json["id"].clone()), (StatusCode::OK, json!(id)), "{second:?}");
    assert_eq!(second.json["data"]["signal_figures"], "住院自付 3.2 万元");
    assert_eq!(web.count("SELECT COUNT(*) AS n FROM instances").await, 1);
    let found = api.get(&format!("/api/v1/processes/hardship_case/by-key?id_number={id_number}"), &department).await;
    assert_eq!(found.json["id"], json!(id));
    // A department's system pushes data; it does not visit, vote or register.
    let visit = json!({ "data": { "visited_on": "2026-03-04", "visit_findings": "住房简陋" } });
    let refused = api.post(&format!("/api/v1/instances/{id}/events/visit_home"), &department, visit).await;
    assert_eq!((refused.status, refused.json["reason"].clone()), (StatusCode::FORBIDDEN, json!("role_not_allowed")));

    api.step(id, &caseworker, "visit_home", json!({ "visited_on": "2026-03-04", "visit_findings": "住房简陋" })).await;
    api.step(
        id,
        &caseworker,
        "record_committee_vote",
        json!({ "committee_size": 7, "present": 6, "yes": 5, "no": 1, "abstain": 0 }),
    )
    .await;
    let registered = api.step(id, &caseworker, "register", json!({})).await;
    assert_eq!(registered["data"]["register_no"], "JS-2026-0001");
    assert!(registered["timers"].as_array().is_some_and(|t| t.iter().any(|t| t["name"] == "monthly_call")));
    let helped = api
        .step(
            id,
            &caseworker,
            "give_assistance",
            json!({ "measure_date": "2026-03-05", "measure_kind": "cash", "measure_amount": "1500.50" }),
        )
        .await;
    assert_eq!(helped["data"]["assistance_total"], "1500.50");
    api.step(id, &caseworker, "leave_register", json!({ "exit_reason": "再就业，收入已超过标准" })).await;
    let closed = api.step(id, &caseworker, "record_follow_up", json!({ "follow_up_note": "生活稳定" })).await;
    assert_eq!(closed["state"], "closed");
    // The household's key is free again: a new signal opens a new case.
    let again = api.post(start, &department, signal(id_number, "human_resources", "1800", "失业登记")).await;
    assert_eq!(again.status, StatusCode::CREATED);
    assert_ne!(again.json["id"], json!(id));
}

/// Checks `value` against an OpenAPI 3.1 schema: the types, required members and items the
/// document states (enough of JSON Schema for what utoipa writes).
fn conforms(doc: &Value, schema: &Value, value: &Value, at: &str) -> Result<(), String> {
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.rsplit('/').next().unwrap_or_default();
        return conforms(doc, &doc["components"]["schemas"][name], value, at);
    }
    for combinator in ["oneOf", "anyOf"] {
        if let Some(options) = schema[combinator].as_array() {
            return if options.iter().any(|o| conforms(doc, o, value, at).is_ok()) {
                Ok(())
            } else {
                Err(format!("{at}: {value} fits none of {combinator}"))
            };
        }
    }
    if let Some(all) = schema["allOf"].as_array() {
        return all.iter().try_for_each(|s| conforms(doc, s, value, at));
    }
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => return Ok(()),
    };
    let fits = types.iter().any(|t| match *t {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "null" => value.is_null(),
        _ => false,
    });
    if !fits {
        return Err(format!("{at}: {value} is not of type {types:?}"));
    }
    if let (Some(members), Value::Object(object)) = (schema["properties"].as_object(), value) {
        for required in schema["required"].as_array().into_iter().flatten().filter_map(Value::as_str) {
            if !object.contains_key(required) {
                return Err(format!("{at}: member {required:?} missing"));
            }
        }
        for (name, v) in object {
            match members.get(name) {
                Some(s) => conforms(doc, s, v, &format!("{at}.{name}"))?,
                None if schema["additionalProperties"] == json!(false) => {
                    return Err(format!("{at}: {name:?} undocumented"));
                }
                None => {}
            }
        }
    }
    if let (Some(items), Value::Array(values)) = (schema.get("items"), value) {
        for (i, v) in values.iter().enumerate() {
            conforms(doc, items, v, &format!("{at}[{i}]"))?;
        }
    }
    Ok(())
}

async fn every_documented_route_answers_as_documented(backend: Backend) {
    let web = Web::embedded(backend).await;
    web.units(&["u01"]).await;
    let bureau = token(&web, "hr_system", &["admin", "caseworker"], 6000).await;
    let api = Client::of(&web);
    let doc = api.send(Request::get("/api/v1/openapi.json").body(Body::empty()).expect("a request")).await;
    assert_eq!(doc.status, StatusCode::OK);
    let doc = doc.json;
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.1")), "OpenAPI 3.1: {}", doc["openapi"]);
    let paths = doc["paths"].as_object().expect("paths");
    let documented: std::collections::BTreeSet<String> = paths
        .iter()
        .flat_map(|(path, ops)| {
            ops.as_object().into_iter().flatten().map(move |(m, _)| format!("{} {path}", m.to_uppercase()))
        })
        .collect();
    let expected = [
        "GET /api/v1/audit",
        "GET /api/v1/instances",
        "GET /api/v1/instances/{id}",
        "GET /api/v1/instances/{id}/history",
        "GET /api/v1/processes",
        "GET /api/v1/processes/{process}/by-key",
        "GET /api/v1/work",
        "POST /api/v1/instances/{id}/comments",
        "POST /api/v1/instances/{id}/events/{event}",
        "POST /api/v1/processes/{process}/instances",
    ];
    assert_eq!(documented, expected.iter().map(|s| (*s).to_owned()).collect(), "every route is documented");

    let id = api.start_assembly(&bureau, 1).await.to_string();
    // Each operation called as a client would, well and badly; every answer is one it documents,
    // with a body of the documented shape.
    let calls: Vec<(&str, String, Option<Value>)> = vec![
        ("get", "/api/v1/processes".into(), None),
        ("get", "/api/v1/processes/hardship_case/by-key?id_number=330881198001010011".into(), None),
        ("get", "/api/v1/processes/hardship_case/by-key".into(), None),
        (
            "post",
            "/api/v1/processes/assembly_approval/instances".into(),
            Some(json!({ "data": { "unit": "u01", "draft_version": 2 } })),
        ),
        ("post", "/api/v1/processes/assembly_approval/instances".into(), Some(json!({ "data": { "unit": "u01" } }))),
        ("post", "/api/v1/processes/nothing/instances".into(), Some(json!({}))),
        ("get", "/api/v1/instances?process=assembly_approval".into(), None),
        ("get", "/api/v1/instances?limit=0".into(), None),
        ("get", format!("/api/v1/instances/{id}"), None),
        ("get", "/api/v1/instances/999999".into(), None),
        (
            "post",
            format!("/api/v1/instances/{id}/events/schedule"),
            Some(json!({ "expected_version": 1, "data": { "assembly_date": "2026-03-20", "kind": "all_workers" } })),
        ),
        ("post", format!("/api/v1/instances/{id}/events/schedule"), Some(json!({ "expected_version": 1, "data": {} }))),
        ("post", format!("/api/v1/instances/{id}/events/open_session"), Some(json!({ "expected_version": 1 }))),
        ("post", format!("/api/v1/instances/{id}/comments"), Some(json!({ "text": "材料已收到", "on_step": 0 }))),
        ("post", format!("/api/v1/instances/{id}/comments"), Some(json!({ "text": " " }))),
        ("post", format!("/api/v1/instances/{id}/comments"), Some(json!({ "text": "x", "corrects": -1 }))),
        ("get", format!("/api/v1/instances/{id}/history"), None),
        ("get", "/api/v1/audit?after=0&limit=5".into(), None),
        ("get", "/api/v1/audit?limit=5000".into(), None),
        ("get", "/api/v1/work".into(), None),
    ];
    let mut answered = std::collections::BTreeSet::new();
    for (method, path, body) in calls {
        let method_upper = method.to_uppercase();
        let route = path.split('?').next().unwrap_or_default();
        let (template, op) = paths
            .iter()
            .find_map(|(template, ops)| {
                let pattern: Vec<&str> = template.split('/').collect();
                let given: Vec<&str> = route.split('/').collect();
                let fits = pattern.len() == given.len()
                    && pattern.iter().zip(&given).all(|(p, g)| p.starts_with('{') || p == g);
                fits.then(|| ops.get(method)).flatten().map(|op| (template.clone(), op.clone()))
            })
            .unwrap_or_else(|| panic!("{method_upper} {route} is not documented"));
        let answer =
            api.call(Method::from_bytes(method_upper.as_bytes()).expect("a method"), &path, &bureau, body).await;
        let documented = &op["responses"][answer.status.as_str()];
        assert!(
            documented.is_object(),
            "{method_upper} {path} answered {} which it does not document: {answer:?}",
            answer.status
        );
        let content = documented["content"].as_object().expect("a documented body");
        let (media, schema) = content.iter().next().expect("one media type");
        assert!(
            answer.content_type().starts_with(media.as_str()),
            "{method_upper} {path}: {} is not {media}",
            answer.content_type()
        );
        if let Err(e) = conforms(&doc, &schema["schema"], &answer.json, "body") {
            panic!("{method_upper} {path} answered {} not as documented: {e}\n{}", answer.status, answer.json);
        }
        answered.insert(format!("{method_upper} {template}"));
    }
    assert_eq!(answered, documented, "every documented route was called");
}
