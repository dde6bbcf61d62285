//! Webhooks against a real HTTP receiver started by each test: every committed change delivered
//! at least once and signed, none for a change rolled back, filters that match what they say, a
//! receiver down and back, several workers sending each delivery once, and `serve` killed with
//! SIGKILL mid-delivery losing nothing. Plus the admin page and the command line.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use hmac::{Hmac, KeyInit, Mac};
use sea_orm::DatabaseConnection;
use serde_json::{Value, json};
use unionflow::store::db::begin_write;
use unionflow::store::webhooks as subscriptions;
use unionflow::webhooks::worker::{self, WorkerConfig};
use unionflow::webhooks::{Filters, NewSubscription};

use crate::on_both_backends;
use crate::support::{Backend, Harness, TestDb, admin, data};
use crate::web::Web;

// ---- the receiver ----------------------------------------------------------------------------

/// One request as the receiver got it.
#[derive(Debug, Clone)]
struct Received {
    path: String,
    delivery: String,
    event: String,
    signature: String,
    content_type: String,
    body: String,
}

impl Received {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).expect("a JSON body")
    }
}

/// How the receiver answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    Ok,
    Status(u16),
    /// Keeps the request waiting until released.
    Hold,
}

/// A receiver: what it got, and how it answers next.
#[derive(Clone)]
struct Inbox {
    got: Arc<Mutex<Vec<Received>>>,
    answer: Arc<Mutex<Answer>>,
    release: Arc<tokio::sync::watch::Sender<bool>>,
}

impl Inbox {
    fn new(answer: Answer) -> Inbox {
        Inbox {
            got: Arc::default(),
            answer: Arc::new(Mutex::new(answer)),
            release: Arc::new(tokio::sync::watch::channel(false).0),
        }
    }

    fn got(&self) -> Vec<Received> {
        self.got.lock().expect("inbox").clone()
    }

    fn answer(&self, answer: Answer) {
        *self.answer.lock().expect("answer") = answer;
    }

    /// Lets every held request be answered (200).
    fn release(&self) {
        self.release.send_replace(true);
    }

    /// The delivery ids received, each once.
    fn ids(&self) -> BTreeSet<String> {
        self.got().into_iter().map(|r| r.delivery).collect()
    }

    /// Serves on `addr` (port 0 for any); returns the address and the server's task.
    async fn serve(&self, addr: SocketAddr) -> (SocketAddr, tokio::task::JoinHandle<()>) {
        let mut tries = 0;
        let listener = loop {
            match tokio::net::TcpListener::bind(addr).await {
                Ok(l) => break l,
                // The same port again, just after it was closed: the system may take a moment.
                Err(e) if tries < 50 => {
                    tries += 1;
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("bind {addr}: {e}"),
            }
        };
        let addr = listener.local_addr().expect("an address");
        // Every answer closes its connection, so stopping the server stops it answering at once.
        let app = axum::Router::new().fallback(receive).with_state(self.clone()).layer(axum::middleware::map_response(
            |mut r: Response| async move {
                r.headers_mut().insert(header::CONNECTION, header::HeaderValue::from_static("close"));
                r
            },
        ));
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        (addr, task)
    }
}

async fn receive(State(inbox): State<Inbox>, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let h = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    inbox.got.lock().expect("inbox").push(Received {
        path: uri.path().to_owned(),
        delivery: h("unionflow-delivery"),
        event: h("unionflow-event"),
        signature: h("unionflow-signature"),
        content_type: h("content-type"),
        body: String::from_utf8_lossy(&body).into_owned(),
    });
    let answer = *inbox.answer.lock().expect("answer");
    match answer {
        Answer::Ok => StatusCode::NO_CONTENT.into_response(),
        Answer::Status(code) => {
            (StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), "not now").into_response()
        }
        Answer::Hold => {
            let mut released = inbox.release.subscribe();
            let _ = released.wait_for(|r| *r).await;
            StatusCode::OK.into_response()
        }
    }
}

// ---- helpers ---------------------------------------------------------------------------------

/// A worker that stops when dropped.
struct Running(tokio::task::JoinHandle<()>);

impl Drop for Running {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Small waits, so a test takes moments; many attempts before giving up.
fn quick() -> WorkerConfig {
    WorkerConfig {
        poll: Duration::from_millis(20),
        timeout: Duration::from_secs(3),
        backoff_base: Duration::from_millis(50),
        backoff_cap: Duration::from_millis(200),
        max_attempts: 100,
        concurrency: 4,
    }
}

fn start_worker(db: DatabaseConnection, config: WorkerConfig) -> Running {
    Running(tokio::spawn(worker::run(db, config, std::future::pending())))
}

/// Subscribes `url` with `filters`; returns its id and secret.
async fn subscribe(db: &DatabaseConnection, url: &str, filters: Filters) -> (i64, String) {
    let new = NewSubscription::parse(url, "test", filters).expect("a valid subscription");
    let secret = unionflow::webhooks::new_secret();
    let id = subscriptions::create(db, &new, &secret, "test", time::OffsetDateTime::now_utc()).await.expect("created");
    (id, secret)
}

fn filters(process: &str, event: &str, state: &str, finished: bool) -> Filters {
    let set = unionflow::definition::embedded::load_embedded().expect("definitions");
    Filters::parse(&set, process, event, state, finished).expect("filters")
}

/// Waits for `check` to hold, looking every few milliseconds, for at most 30 seconds.
async fn eventually(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !check().await {
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn count(db: &impl sea_orm::ConnectionTrait, sql: &str) -> i64 {
    let row = unionflow::store::db::one(db, sql, vec![]).await.expect("query").expect("a row");
    unionflow::store::db::get(&row, "n").expect("n")
}

/// An assembly from its draft to passed: five changes (started, three changed, finished).
async fn assembly_to_passed(h: &Harness) -> i64 {
    let id = h.rt.start("assembly_approval", &admin(), &data(json!({ "unit": "u01", "draft_version": 1 }))).await;
    let id = id.expect("started");
    let schedule = json!({ "assembly_date": "2026-04-01", "kind": "representatives", "roster_size": 25 });
    for (event, given) in [
        ("schedule", schedule),
        ("open_session", json!({})),
        ("record_vote", json!({ "present": 17, "yes": 13, "no": 4, "abstain": 0 })),
        ("confirm", json!({})),
    ] {
        h.rt.fire(id, None, &admin(), event, &data(given)).await.unwrap_or_else(|e| panic!("{event}: {e}"));
    }
    id
}

/// The signature a receiver computes: HMAC-SHA256 over "<t>.<body>", checked against the header.
fn signed_by(secret: &str, r: &Received) -> bool {
    let parts: BTreeMap<&str, &str> = r.signature.split(',').filter_map(|p| p.split_once('=')).collect();
    let (Some(t), Some(v1)) = (parts.get("t"), parts.get("v1")) else { return false };
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("any key");
    mac.update(format!("{t}.{}", r.body).as_bytes());
    let expected: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    let fresh = t.parse::<i64>().is_ok_and(|t| (time::OffsetDateTime::now_utc().unix_timestamp() - t).abs() < 300);
    expected == *v1 && fresh
}

// ---- tests -----------------------------------------------------------------------------------

async fn every_committed_change_is_delivered_signed_and_matches_its_audit_event(backend: Backend) {
    let h = Harness::embedded(backend).await;
    let inbox = Inbox::new(Answer::Ok);
    let (addr, _server) = inbox.serve("127.0.0.1:0".parse().expect("addr")).await;
    let (_, secret) = subscribe(h.rt.db(), &format!("http://{addr}/all"), Filters::default()).await;
    let _worker = start_worker(h.rt.db().clone(), quick());
    let id = assembly_to_passed(&h).await;
    eventually("five deliveries", async || inbox.ids().len() >= 5).await;

    let history = h.rt.history(id).await.expect("history");
    assert_eq!(history.len(), 5);
    let mut by_seq = BTreeMap::new();
    for r in inbox.got() {
        assert!(signed_by(&secret, &r), "the signature verifies: {r:?}");
        assert_eq!(r.content_type, "application/json");
        let body = r.json();
        assert_eq!(body["id"], r.delivery, "the header and the body name the same delivery");
        assert_eq!(body["type"], r.event);
        assert_eq!(body["instance"], id);
        by_seq.insert(body["audit"]["seq"].as_i64().expect("a seq"), body);
    }
    assert_eq!(by_seq.len(), 5, "one delivery per change");
    for event in &history {
        let body = &by_seq[&event.record.seq];
        assert_eq!(body["audit"]["hash"], event.hash.as_str(), "it names its audit event");
        assert_eq!(body["audit"]["stream"], event.record.stream.as_str());
        assert_eq!(body["event"].as_str(), event.record.event.as_deref());
        assert_eq!(body["to_state"].as_str(), event.record.to_state.as_deref());
        assert_eq!(body["version"], event.record.seq + 1);
        assert_eq!(body["actor"], "root");
        assert_eq!(body["process"], "assembly_approval");
    }
    assert_eq!(by_seq[&0]["type"], "instance.started");
    assert_eq!(by_seq[&0]["input"]["unit"], "u01");
    assert_eq!(by_seq[&3]["type"], "instance.changed");
    assert_eq!(by_seq[&3]["input"]["present"], 17);
    assert_eq!(by_seq[&4]["type"], "instance.finished");
    assert_eq!(by_seq[&4]["outcome"], "passed");
    assert!(by_seq[&0]["occurred_at"].as_str().is_some_and(|t| t.starts_with("2026-03-02T01:00:00")));
    eventually("every delivery settled", async || {
        count(h.rt.db(), "SELECT COUNT(*) AS n FROM webhook_deliveries WHERE status = 'delivered'").await == 5
    })
    .await;
}

async fn a_change_rolled_back_is_never_delivered(backend: Backend) {
    let h = Harness::embedded(backend).await;
    let inbox = Inbox::new(Answer::Ok);
    let (addr, _server) = inbox.serve("127.0.0.1:0".parse().expect("addr")).await;
    subscribe(h.rt.db(), &format!("http://{addr}/all"), Filters::default()).await;
    let _worker = start_worker(h.rt.db().clone(), quick());

    // A start and a step made inside a transaction the caller then rolls back.
    let txn = begin_write(h.rt.db()).await.expect("begin");
    let given = data(json!({ "unit": "u01", "draft_version": 1 }));
    let id = h.rt.start_in(&txn, "assembly_approval", &admin(), &given).await.expect("started in the transaction");
    let schedule = json!({ "assembly_date": "2026-04-01", "kind": "representatives", "roster_size": 25 });
    h.rt.fire_in(&txn, id, None, &admin(), "schedule", &data(schedule)).await.expect("fired in the transaction");
    assert_eq!(count(&txn, "SELECT COUNT(*) AS n FROM webhook_deliveries").await, 2, "enqueued with the change");
    txn.rollback().await.expect("rollback");
    assert_eq!(count(h.rt.db(), "SELECT COUNT(*) AS n FROM webhook_deliveries").await, 0, "rolled back with it");

    // A step refused: nothing of it is kept, nor sent.
    let kept = h.rt.start("assembly_approval", &admin(), &given).await.expect("started");
    let refused = h.rt.fire(kept, None, &admin(), "confirm", &data(json!({}))).await;
    assert!(refused.is_err(), "confirm before a vote is refused");
    eventually("the committed start delivered", async || !inbox.got().is_empty()).await;
    // The worker has looked at the outbox since the rollback: the start is all it ever sent.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let got = inbox.got();
    assert_eq!(got.len(), 1, "only the committed change: {got:?}");
    assert_eq!(got[0].json()["type"], "instance.started");
    assert_eq!(got[0].json()["instance"], kept);
}

async fn filters_match_what_they_say(backend: Backend) {
    let h = Harness::embedded(backend).await;
    let inbox = Inbox::new(Answer::Ok);
    let (addr, _server) = inbox.serve("127.0.0.1:0".parse().expect("addr")).await;
    let url = |path: &str| format!("http://{addr}/{path}");
    subscribe(h.rt.db(), &url("all"), Filters::default()).await;
    subscribe(h.rt.db(), &url("assembly"), filters("assembly_approval", "", "", false)).await;
    subscribe(h.rt.db(), &url("other"), filters("bargaining_round", "", "", false)).await;
    subscribe(h.rt.db(), &url("vote"), filters("", "record_vote", "", false)).await;
    subscribe(h.rt.db(), &url("scheduled"), filters("", "", "assembly_scheduled", false)).await;
    subscribe(h.rt.db(), &url("finished"), filters("", "", "", true)).await;
    subscribe(h.rt.db(), &url("passed"), filters("assembly_approval", "confirm", "passed", true)).await;
    let (paused, _) = subscribe(h.rt.db(), &url("paused"), Filters::default()).await;
    assert!(subscriptions::set_active(h.rt.db(), paused, false).await.expect("paused"));
    let _worker = start_worker(h.rt.db().clone(), quick());
    assembly_to_passed(&h).await;

    let expected = [("all", 5), ("assembly", 5), ("vote", 1), ("scheduled", 1), ("finished", 1), ("passed", 1)];
    let total: usize = expected.iter().map(|(_, n)| n).sum();
    eventually("every matching delivery", async || inbox.ids().len() >= total).await;
    let mut by_path: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for r in inbox.got() {
        by_path.entry(r.path.trim_start_matches('/').to_owned()).or_default().insert(r.event.clone() + &r.body);
    }
    let counts: BTreeMap<&str, usize> = by_path.iter().map(|(path, got)| (path.as_str(), got.len())).collect();
    assert_eq!(counts, expected.into_iter().collect::<BTreeMap<_, _>>(), "other and paused get nothing");
    let events = |path: &str| -> Vec<Value> {
        inbox.got().iter().filter(|r| r.path == format!("/{path}")).map(|r| r.json()["event"].clone()).collect()
    };
    assert_eq!(events("vote"), [json!("record_vote")]);
    assert_eq!(events("scheduled"), [json!("schedule")]);
    assert_eq!(events("finished"), [json!("confirm")]);
    assert_eq!(
        count(h.rt.db(), &format!("SELECT COUNT(*) AS n FROM webhook_deliveries WHERE subscription_id = {paused}"))
            .await,
        0
    );
}

async fn a_receiver_down_then_failing_then_back_gets_every_delivery(backend: Backend) {
    let h = Harness::embedded(backend).await;
    let inbox = Inbox::new(Answer::Status(500));
    // A port that was just free: nothing listens there while the receiver is down.
    let (addr, server) = inbox.serve("127.0.0.1:0".parse().expect("addr")).await;
    server.abort();
    let _ = server.await;
    subscribe(h.rt.db(), &format!("http://{addr}/all"), Filters::default()).await;
    let _worker = start_worker(h.rt.db().clone(), quick());
    assembly_to_passed(&h).await;
    eventually("every delivery tried twice while the receiver is down", async || {
        count(h.rt.db(), "SELECT COUNT(*) AS n FROM webhook_deliveries WHERE attempts < 2").await == 0
    })
    .await;
    assert!(inbox.got().is_empty());

    // Up, but answering 500: still tried again.
    let (_, server) = inbox.serve(addr).await;
    eventually("a 500 answered", async || inbox.got().len() >= 5).await;
    assert_eq!(count(h.rt.db(), "SELECT COUNT(*) AS n FROM webhook_deliveries WHERE status = 'delivered'").await, 0);
    inbox.answer(Answer::Ok);
    eventually("every delivery delivered", async || {
        count(h.rt.db(), "SELECT COUNT(*) AS n FROM webhook_deliveries WHERE status = 'delivered'").await == 5
    })
    .await;
    assert_eq!(inbox.ids().len(), 5);
    // Each delivery's attempts tell the story: no answer, then 500, then 204.
    let page = unionflow::store::outbox::page(h.rt.db(), None, 10).await.expect("page");
    for d in page {
        let tries = d.attempts_made();
        assert!(tries.iter().any(|a| a.code.is_none() && a.error.is_some()), "a refused connection: {tries:?}");
        assert_eq!(tries.last().and_then(|a| a.code), Some(204), "{tries:?}");
        assert_eq!(d.last_status_code, Some(204));
    }
    server.abort();
}

async fn several_workers_send_each_delivery_once(backend: Backend) {
    let h = Harness::embedded(backend).await;
    let inbox = Inbox::new(Answer::Ok);
    let (addr, _server) = inbox.serve("127.0.0.1:0".parse().expect("addr")).await;
    subscribe(h.rt.db(), &format!("http://{addr}/all"), Filters::default()).await;
    let given = data(json!({ "unit": "u01", "draft_version": 1 }));
    for _ in 0..30 {
        h.rt.start("assembly_approval", &admin(), &given).await.expect("started");
    }
    // Two "servers", each with its own connection pool.
    let _a = start_worker(h.db.reconnect().await, quick());
    let _b = start_worker(h.db.reconnect().await, quick());
    eventually("thirty deliveries", async || {
        count(h.rt.db(), "SELECT COUNT(*) AS n FROM webhook_deliveries WHERE status = 'delivered'").await == 30
    })
    .await;
    let got = inbox.got();
    assert_eq!(inbox.ids().len(), 30);
    assert_eq!(got.len(), 30, "no delivery sent twice");
}

on_both_backends! {
    every_change_delivered => every_committed_change_is_delivered_signed_and_matches_its_audit_event;
    rollback_not_delivered => a_change_rolled_back_is_never_delivered;
    filters => filters_match_what_they_say;
    receiver_down_and_back => a_receiver_down_then_failing_then_back_gets_every_delivery;
    several_workers => several_workers_send_each_delivery_once;
}

// ---- serve killed mid-delivery ---------------------------------------------------------------

/// A `unionflow serve` child process, killed (SIGKILL) when dropped.
struct Serve(std::process::Child);

impl Serve {
    fn start(database: &str) -> Serve {
        let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_unionflow"))
            .args(["--database", database, "serve", "--listen", &format!("127.0.0.1:{port}")])
            .args(["--webhook-poll-ms", "50", "--webhook-timeout-secs", "3"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("serve starts");
        Serve(child)
    }

    /// SIGKILL: no chance to finish anything.
    fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        self.kill();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_killed_mid_delivery_loses_nothing() {
    let h = Harness::embedded(Backend::Sqlite).await;
    let inbox = Inbox::new(Answer::Hold);
    let (addr, _server) = inbox.serve("127.0.0.1:0".parse().expect("addr")).await;
    subscribe(h.rt.db(), &format!("http://{addr}/all"), Filters::default()).await;
    let given = data(json!({ "unit": "u01", "draft_version": 1 }));
    for _ in 0..3 {
        h.rt.start("assembly_approval", &admin(), &given).await.expect("started");
    }
    let mut first = Serve::start(&h.db.url);
    eventually("the first server sending", async || inbox.ids().len() == 3).await;
    first.kill();
    // Killed with its deliveries claimed and unanswered: nothing recorded them as delivered.
    let delivered = "SELECT COUNT(*) AS n FROM webhook_deliveries WHERE status = 'delivered'";
    assert_eq!(count(h.rt.db(), delivered).await, 0);
    let before = inbox.got().len();
    inbox.answer(Answer::Ok);
    inbox.release();

    let _second = Serve::start(&h.db.url);
    eventually("every delivery delivered by the second server", async || count(h.rt.db(), delivered).await == 3).await;
    let got = inbox.got();
    assert!(got.len() >= before + 3, "each sent again: {} then {}", before, got.len());
    let stored: Vec<String> = unionflow::store::outbox::page(h.rt.db(), None, 10)
        .await
        .expect("deliveries")
        .into_iter()
        .map(|d| d.delivery_id)
        .collect();
    let again: BTreeSet<String> = got[before..].iter().map(|r| r.delivery.clone()).collect();
    assert_eq!(again, stored.into_iter().collect(), "the same delivery ids, sent again");
}

// ---- the admin page and the command line -----------------------------------------------------

async fn an_admin_subscribes_pauses_resends_and_removes_on_the_page(backend: Backend) {
    let web = Web::embedded(backend).await;
    web.people(&[("root", &["admin"]), ("li.na", &["worker_negotiator"])]).await;
    let mut other = web.browser();
    other.sign_in("li.na").await;
    assert_eq!(other.get("/admin/webhooks").await.status, StatusCode::FORBIDDEN);

    let mut b = web.browser();
    b.sign_in("root").await;
    assert!(b.get("/admin").await.links_to("/admin/webhooks"));
    let page = b.get("/admin/webhooks").await;
    assert_eq!(page.status, StatusCode::OK);
    let csrf = page.hidden("_csrf");
    let zh = crate::web::zh();

    let bad = b.post("/admin/webhooks", &[("_csrf", &csrf), ("url", "ftp://example.org/"), ("description", "x")]).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.alert(), zh.t("webhooks.error.not_http"));
    assert_eq!(bad.field("url").as_deref(), Some("ftp://example.org/"), "kept as typed");
    let bad = b.post("/admin/webhooks", &[("_csrf", &csrf), ("url", "https://example.org/"), ("event", "nope")]).await;
    assert_eq!(bad.alert(), zh.f("webhooks.error.unknown_event", &[("event", "nope".into())]));

    let form = [
        ("_csrf", csrf.as_str()),
        ("url", "https://bureau.example.org/hooks"),
        ("description", "劳动保障局备案系统"),
        ("process", "assembly_approval"),
        ("finished", "true"),
    ];
    let added = b.post("/admin/webhooks", &form).await;
    assert_eq!(added.status, StatusCode::OK);
    let secret = added.by_id("webhook-secret").expect("the secret shown").text;
    let list = subscriptions::list(web.state.db()).await.expect("list");
    assert_eq!(list.len(), 1);
    let id = list[0].id;
    assert!(list[0].finished && list[0].active && list[0].process.as_deref() == Some("assembly_approval"));
    let stored =
        count(web.state.db(), &format!("SELECT COUNT(*) AS n FROM webhook_subscriptions WHERE secret = '{secret}'"))
            .await;
    assert_eq!(stored, 1, "the secret shown is the one deliveries are signed with");
    assert!(!b.get("/admin/webhooks").await.body.contains(&secret), "shown once");
    let leaked = format!("SELECT COUNT(*) AS n FROM audit_events WHERE data LIKE '%{secret}%'");
    assert_eq!(count(web.state.db(), &leaked).await, 0, "the audit trail never holds the secret");

    let paused = b.post(&format!("/admin/webhooks/{id}/active"), &[("_csrf", &csrf), ("active", "false")]).await;
    assert_eq!(paused.status, StatusCode::SEE_OTHER);
    assert!(!subscriptions::find(web.state.db(), id).await.expect("find").expect("there").active);
    b.post(&format!("/admin/webhooks/{id}/active"), &[("_csrf", &csrf), ("active", "true")]).await;

    // A finished assembly makes a delivery; nothing sends it here, and an admin sends it again.
    web.units(&["u01"]).await;
    let assembly = web.assembly("u01").await;
    web.vote(assembly, 25, 17, 13).await;
    web.fire(assembly, &crate::web::admin(), "confirm", json!({})).await;
    let delivery = unionflow::store::outbox::page(web.state.db(), None, 10).await.expect("page");
    assert_eq!(delivery.len(), 1, "one finished instance, one delivery");
    let page = b.get("/admin/webhooks").await;
    assert!(page.says("instance.finished") && page.says(zh.t("webhooks.status.pending")));
    let resent = b.post(&format!("/admin/webhooks/deliveries/{}/resend", delivery[0].id), &[("_csrf", &csrf)]).await;
    assert_eq!(resent.status, StatusCode::SEE_OTHER);

    let removed = b.post(&format!("/admin/webhooks/{id}/remove"), &[("_csrf", &csrf)]).await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER);
    assert!(subscriptions::list(web.state.db()).await.expect("list").is_empty());
    assert_eq!(count(web.state.db(), "SELECT COUNT(*) AS n FROM webhook_deliveries").await, 0);
    let audited = "SELECT COUNT(*) AS n FROM audit_events WHERE kind = 'admin' AND event IN \
                   ('webhook_add', 'webhook_pause', 'webhook_resume', 'webhook_resend', 'webhook_remove')";
    assert_eq!(count(web.state.db(), audited).await, 5, "every change audited");
    assert!(web.verify().await.broken.is_none());

    // The limit, named in the refusal.
    for i in 0..unionflow::webhooks::MAX_SUBSCRIPTIONS {
        subscribe(web.state.db(), &format!("https://example.org/{i}"), Filters::default()).await;
    }
    let full = b.post("/admin/webhooks", &[("_csrf", &csrf), ("url", "https://example.org/one-more")]).await;
    assert_eq!(full.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(full.alert(), zh.f("webhooks.error.too_many", &[("max", "100".into())]));

    // A hundred deliveries of one start, listed fifty a page, by key.
    web.assembly("u01").await;
    let resends = |p: &crate::web::Page| -> Vec<i64> {
        p.elements("form")
            .iter()
            .filter_map(|f| {
                f.attr("action")?.strip_prefix("/admin/webhooks/deliveries/")?.split('/').next()?.parse().ok()
            })
            .collect()
    };
    let first = b.get("/admin/webhooks").await;
    let newest = resends(&first);
    assert_eq!(newest.len(), 50);
    let older = first.links().into_iter().find(|l| l.contains("before=")).expect("a link to older deliveries");
    let second = resends(&b.get(&older).await);
    assert_eq!(second.len(), 50);
    assert!(second.iter().all(|id| newest.iter().all(|n| id < n)), "older, none repeated");
}

on_both_backends! {
    admin_page => an_admin_subscribes_pauses_resends_and_removes_on_the_page;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_line_adds_lists_and_removes_a_subscription() {
    let db = TestDb::new(Backend::Sqlite).await;
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_unionflow"))
            .args(["--database", &db.url, "webhook"])
            .args(args)
            .output()
            .expect("unionflow runs");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, out, err) = run(&["add", "https://example.org/h", "--process", "assembly_approval", "--finished"]);
    assert!(ok, "{err}");
    assert!(out.contains("secret (shown this once): whsec_"), "{out}");
    let (ok, _, err) = run(&["add", "gopher://example.org/"]);
    assert!(!ok && err.contains("http://"), "{err}");
    let (_, out, _) = run(&["list"]);
    assert!(out.contains("#1 active https://example.org/h process=assembly_approval finished"), "{out}");
    assert!(!out.contains("whsec_"), "never the secret");
    let (ok, out, _) = run(&["remove", "1"]);
    assert!(ok && out.contains("removed"), "{out}");
    let audited = "SELECT COUNT(*) AS n FROM audit_events WHERE event IN ('webhook_add', 'webhook_remove')";
    assert_eq!(count(&db.db, audited).await, 2);
}
