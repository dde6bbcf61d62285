//! Moving running instances to a new version of their definition (`unionflow migrate-instances`
//! and the admin's migrations page): a dry run reports and changes nothing; a real one moves the
//! instances that can move, leaves the others with the reason, and audits each move in the
//! instance's own chain, which still verifies.

use std::process::Command;
use std::sync::Arc;

use axum::http::StatusCode;
use serde_json::{Value, json};
use unionflow::clock::Clock;
use unionflow::engine::migrate::Stay;
use unionflow::runtime::Runtime;
use unionflow::store::db::{all, get};
use unionflow::store::migrate::{self, Migration, Report, Summary};

use crate::on_both_backends;
use crate::support::{Backend, Harness, START, admin, data, defs};
use crate::web::{Web, quick_config};

/// Version 1: an errand is drafted (with a reminder 10 days on), reviewed (lapsing after 15
/// days), or parked to wait.
const V1: &str = r#"
id = "errand"
label = { zh = "差事", en = "Errand" }
initial = "drafting"

[start]
roles = ["admin"]
optional = ["note", "count", "legacy"]

[[stage]]
id = "main"
label = { zh = "主", en = "Main" }

[[state]]
id = "drafting"
stage = "main"
label = { zh = "起草", en = "Drafting" }
[[state.timer]]
id = "remind"
fires = "remind"
after = "10d"

[[state]]
id = "review"
stage = "main"
label = { zh = "审阅", en = "Review" }
[[state.timer]]
id = "lapse"
fires = "expire"
after = "15d"

[[state]]
id = "waiting"
stage = "main"
label = { zh = "搁置", en = "Waiting" }

[[state]]
id = "done"
stage = "main"
final = true
outcome = "passed"
label = { zh = "完成", en = "Done" }

[[state]]
id = "lapsed"
stage = "main"
final = true
outcome = "failed"
label = { zh = "失效", en = "Lapsed" }

[[field]]
id = "note"
type = "text"
label = { zh = "备注", en = "Note" }

[[field]]
id = "count"
type = "text"
label = { zh = "数量", en = "Count" }

[[field]]
id = "legacy"
type = "text"
label = { zh = "旧字段", en = "Legacy" }

[[transition]]
event = "submit"
from = "drafting"
to = "review"
roles = ["admin"]
label = { zh = "提交", en = "Submit" }

[[transition]]
event = "park"
from = "drafting"
to = "waiting"
roles = ["admin"]
label = { zh = "搁置", en = "Park" }

[[transition]]
event = "resume"
from = "waiting"
to = "drafting"
roles = ["admin"]
label = { zh = "恢复", en = "Resume" }

[[transition]]
event = "remind"
from = "drafting"
roles = ["system"]
label = { zh = "提醒", en = "Remind" }
effects = [{ escalate = "admin" }]

[[transition]]
event = "approve"
from = "review"
to = "done"
roles = ["admin"]
label = { zh = "批准", en = "Approve" }

[[transition]]
event = "expire"
from = "review"
to = "lapsed"
roles = ["system"]
label = { zh = "失效", en = "Expire" }
"#;

/// Version 2: `review` is renamed `checking`, `waiting` is gone, the reminder comes after 20
/// days, `count` is a number, `legacy` is dropped and `priority` added (set by a new event).
fn v2() -> String {
    let text = V1
        .replace("id = \"review\"\nstage", "id = \"checking\"\nstage")
        .replace("to = \"review\"", "to = \"checking\"")
        .replace("from = \"review\"", "from = \"checking\"")
        .replace("after = \"10d\"", "after = \"20d\"")
        .replace("id = \"count\"\ntype = \"text\"", "id = \"count\"\ntype = \"int\"\nmin = 0\nmax = 1000")
        .replace(
            "[[field]]\nid = \"legacy\"\ntype = \"text\"\nlabel = { zh = \"旧字段\", en = \"Legacy\" }",
            "[[field]]\nid = \"priority\"\ntype = \"int\"\nlabel = { zh = \"优先级\", en = \"Priority\" }\nmin = 1\nmax = 5",
        )
        .replace("optional = [\"note\", \"count\", \"legacy\"]", "optional = [\"note\", \"count\"]")
        .replace(
            "[[state]]\nid = \"waiting\"\nstage = \"main\"\nlabel = { zh = \"搁置\", en = \"Waiting\" }\n",
            "",
        )
        .replace(
            "[[transition]]\nevent = \"park\"\nfrom = \"drafting\"\nto = \"waiting\"\nroles = [\"admin\"]\nlabel = { zh = \"搁置\", en = \"Park\" }\n\n[[transition]]\nevent = \"resume\"\nfrom = \"waiting\"\nto = \"drafting\"\nroles = [\"admin\"]\nlabel = { zh = \"恢复\", en = \"Resume\" }\n",
            "[[transition]]\nevent = \"prioritise\"\nfrom = \"checking\"\nroles = [\"admin\"]\nlabel = { zh = \"定优先级\", en = \"Prioritise\" }\nask = [\"priority\"]\n",
        );
    assert!(!text.contains("waiting") && !text.contains("legacy") && text.contains("prioritise"), "{text}");
    text
}

/// The instances of the tests, all started on version 1.
struct Errands {
    /// Drafting, its count a number in words the new version takes, a legacy note: moves.
    drafting: i64,
    /// In review: moves to `checking` by the mapping.
    review: i64,
    /// Waiting: a state neither kept nor mapped, so it stays.
    waiting: i64,
    /// Drafting, but its count does not parse as a number: stays.
    unparsable: i64,
    /// Approved: ended, so it stays on version 1.
    done: i64,
}

async fn errands(rt: &Runtime) -> Errands {
    let start = |given: Value| async move { rt.start("errand", &admin(), &data(given)).await.expect("an errand") };
    let fire = |id: i64, event: &'static str| async move {
        rt.fire(id, None, &admin(), event, &Default::default()).await.expect(event);
    };
    let drafting = start(json!({ "note": "first", "count": "3", "legacy": "old" })).await;
    let review = start(json!({ "count": "7" })).await;
    fire(review, "submit").await;
    let waiting = start(json!({ "count": "1" })).await;
    fire(waiting, "park").await;
    let unparsable = start(json!({ "count": "many" })).await;
    let done = start(json!({})).await;
    fire(done, "submit").await;
    fire(done, "approve").await;
    Errands { drafting, review, waiting, unparsable, done }
}

/// Version 1 stored and its instances started; then the runtime of version 2 (stored as 2 as the
/// server stores it when it starts with the changed file).
async fn two_versions(backend: Backend) -> (Harness, Runtime, Errands) {
    let h = Harness::new(backend, defs(&[("errand.toml", V1)])).await;
    let e = errands(&h.rt).await;
    let rt2 = Runtime::new(h.db.reconnect().await, defs(&[("errand.toml", &v2())]), h.clock.clone(), h.rt.offset())
        .await
        .expect("version 2");
    assert_eq!(rt2.registry().current_version("errand"), Some(2));
    (h, rt2, e)
}

/// Everything a move could touch, as text: instances, timers, audit events.
async fn snapshot(db: &sea_orm::DatabaseConnection) -> Vec<String> {
    let mut out = Vec::new();
    for r in all(db, "SELECT id, definition_id, state, data, version, audit_hash FROM instances ORDER BY id", vec![])
        .await
        .unwrap()
    {
        let (id, def, version): (i64, i64, i64) =
            (get(&r, "id").unwrap(), get(&r, "definition_id").unwrap(), get(&r, "version").unwrap());
        let (state, data, hash): (String, String, String) =
            (get(&r, "state").unwrap(), get(&r, "data").unwrap(), get(&r, "audit_hash").unwrap());
        out.push(format!("instance {id} {def} {state} {data} {version} {hash}"));
    }
    for r in
        all(db, "SELECT id, instance_id, name, status, due_at, last_day FROM timers ORDER BY id", vec![]).await.unwrap()
    {
        let (id, inst, due): (i64, i64, i64) =
            (get(&r, "id").unwrap(), get(&r, "instance_id").unwrap(), get(&r, "due_at").unwrap());
        let (name, status, last): (String, String, String) =
            (get(&r, "name").unwrap(), get(&r, "status").unwrap(), get(&r, "last_day").unwrap());
        out.push(format!("timer {id} {inst} {name} {status} {due} {last}"));
    }
    for r in all(db, "SELECT stream, seq, hash FROM audit_events ORDER BY id", vec![]).await.unwrap() {
        let (stream, seq, hash): (String, i64, String) =
            (get(&r, "stream").unwrap(), get(&r, "seq").unwrap(), get(&r, "hash").unwrap());
        out.push(format!("audit {stream} {seq} {hash}"));
    }
    out
}

/// Runs a migration of the errands from 1 to 2 with `review=checking`, as the command does.
async fn migrate_errands(h: &Harness, rt2: &Runtime, dry_run: bool) -> (Summary, Report) {
    let from = migrate::version(&h.db.db, "errand", 1).await.unwrap();
    let to = migrate::version(&h.db.db, "errand", 2).await.unwrap();
    let m = Migration::new("errand", &from, &to, &["review=checking"], "root", dry_run).unwrap();
    let ctx = unionflow::engine::Context {
        now: h.clock.now(),
        calendar: &rt2.definitions().calendar,
        offset: rt2.offset(),
        people: None,
    };
    let mut report = Report::new(100);
    let summary = migrate::run(&h.db.db, &m, ctx, |line| report.add(line)).await.unwrap();
    (summary, report)
}

fn stays_of(report: &Report, id: i64) -> &[Stay] {
    report.stays.iter().find(|(i, _)| *i == id).map(|(_, r)| r.as_slice()).unwrap_or_default()
}

async fn a_dry_run_reports_and_changes_nothing(backend: Backend) {
    let (h, rt2, e) = two_versions(backend).await;
    h.clock.advance(time::Duration::days(2));
    let before = snapshot(&h.db.db).await;
    let (summary, report) = migrate_errands(&h, &rt2, true).await;
    assert_eq!(
        (summary.checked, summary.moved, summary.stayed, summary.finished),
        (5, 2, 2, 1),
        "{summary:?} {report:?}"
    );
    assert_eq!(report.moves.get(&("review".to_owned(), "checking".to_owned())), Some(&1));
    assert_eq!(report.moves.get(&("drafting".to_owned(), "drafting".to_owned())), Some(&1));
    assert_eq!(report.dropped.get("legacy"), Some(&1), "the value of a field version 2 has not is named");
    assert!(matches!(stays_of(&report, e.waiting), [Stay::StateGone { state }] if state == "waiting"), "{report:?}");
    assert!(matches!(stays_of(&report, e.unparsable), [Stay::Value { field, .. }] if field == "count"), "{report:?}");
    assert!(stays_of(&report, e.done).is_empty(), "ended instances are counted, not listed");
    assert_eq!(snapshot(&h.db.db).await, before, "a dry run changes no row and no audit event");

    // The command says the same and exits 0; it too changes nothing.
    let out = Command::new(env!("CARGO_BIN_EXE_unionflow"))
        .args(["migrate-instances", "errand", "--from", "1", "--to", "2", "--map", "review=checking", "--dry-run"])
        .env("DATABASE_URL", &h.db.url)
        .output()
        .expect("run unionflow migrate-instances");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("5 checked: 2 would move, 2 stay, 1 finished"), "{text}");
    assert!(text.contains(&format!("#{}: its state \"waiting\" is neither in the new version nor mapped", e.waiting)));
    assert!(text.contains(&format!("#{}: \"count\" holds \"many\"", e.unparsable)), "{text}");
    assert_eq!(snapshot(&h.db.db).await, before);
    // A mapping to a state version 2 does not have is refused before anything is read.
    let out = Command::new(env!("CARGO_BIN_EXE_unionflow"))
        .args(["migrate-instances", "errand", "--from", "1", "--to", "2", "--map", "review=nowhere"])
        .env("DATABASE_URL", &h.db.url)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no state \"nowhere\""));
    assert_eq!(snapshot(&h.db.db).await, before);
}

async fn a_migration_moves_those_that_can_and_leaves_the_others(backend: Backend) {
    let (h, rt2, e) = two_versions(backend).await;
    h.clock.advance(time::Duration::days(2));
    let v2_row = rt2.registry().current("errand").unwrap().0;
    let (summary, report) = migrate_errands(&h, &rt2, false).await;
    assert_eq!((summary.moved, summary.stayed, summary.finished), (2, 2, 1), "{report:?}");

    // Moved: on version 2, in its new state, its data as version 2 keeps it.
    let drafting = rt2.instance(e.drafting).await.unwrap();
    assert_eq!((drafting.row.definition_id, drafting.row.state.as_str()), (v2_row, "drafting"));
    assert_eq!(drafting.row.data.get("count"), Some(&json!(3)), "parsed as the new field's type");
    assert_eq!(drafting.row.data.get("legacy"), None);
    assert_eq!(drafting.row.version, 2);
    // The reminder keeps its base (the day it entered drafting) and takes the new period: 20
    // days from 2026-03-02 is Sunday the 22nd, moved to Monday.
    let timers = rt2.timers(e.drafting).await.unwrap();
    assert_eq!(timers.len(), 1, "{timers:?}");
    assert_eq!((timers[0].name.as_str(), timers[0].base.as_deref()), ("remind", Some("2026-03-02")));
    assert_eq!(timers[0].last_day, "2026-03-23");
    let review = rt2.instance(e.review).await.unwrap();
    assert_eq!((review.row.definition_id, review.row.state.as_str()), (v2_row, "checking"));
    let lapse = rt2.timers(e.review).await.unwrap();
    assert_eq!((lapse.len(), lapse[0].name.as_str(), lapse[0].event.as_str()), (1, "lapse", "expire"));

    // Stayed: on version 1, untouched.
    for id in [e.waiting, e.unparsable, e.done] {
        let left = h.rt.instance(id).await.unwrap();
        assert_ne!(left.row.definition_id, v2_row, "#{id} stays on version 1");
    }
    assert_eq!(h.state(e.waiting).await, "waiting");
    assert!(report.stays.iter().any(|(id, _)| *id == e.unparsable));

    // The move is in the instance's chain, with the dropped value kept there.
    let history = rt2.history(e.drafting).await.unwrap();
    let moved = history.last().expect("events");
    assert_eq!(moved.record.kind, "migrate");
    assert_eq!(moved.record.actor, "root");
    let recorded = moved.data();
    assert_eq!((recorded["from_version"].clone(), recorded["to_version"].clone()), (json!(1), json!(2)));
    assert_eq!(recorded["dropped"], json!({ "legacy": "old" }));
    assert_eq!(recorded["state_map"], json!({ "review": "checking" }));
    assert_eq!(recorded["timers"]["kept"], json!(["remind"]));

    // A moved instance takes the steps of version 2 — also through the server that ran it before
    // the move and remembers its row as it was on version 1: the version check sends it back to
    // the moved row.
    h.rt.fire(e.review, None, &admin(), "prioritise", &data(json!({ "priority": 2 }))).await.expect("new event");
    rt2.fire(e.review, None, &admin(), "approve", &Default::default()).await.expect("renamed state's event");
    assert_eq!(rt2.instance(e.review).await.unwrap().row.state, "done");
    // One left behind still runs on version 1.
    h.rt.fire(e.waiting, None, &admin(), "resume", &Default::default()).await.expect("version 1 still runs it");

    // A second run finds only those left behind, and nothing more to move.
    let (again, _) = migrate_errands(&h, &rt2, false).await;
    assert_eq!((again.moved, again.checked), (1, 3), "the resumed one now moves: {again:?}");

    let chain = unionflow::store::audit::verify(&h.db.db).await.unwrap();
    assert_eq!(chain.broken, None, "the chain holds after the moves");

    // The reminder falls due on version 2's period, not version 1's.
    h.clock.set(START + time::Duration::days(15));
    rt2.fire_due_timers().await.unwrap();
    let rt2 = &rt2;
    let pending = |id| async move { rt2.timers(id).await.unwrap().iter().map(|t| t.name.clone()).collect::<Vec<_>>() };
    assert_eq!(pending(e.drafting).await, ["remind"], "10 days have passed, not 20");
    h.clock.set(START + time::Duration::days(23));
    rt2.fire_due_timers().await.unwrap();
    assert!(pending(e.drafting).await.is_empty(), "fired on the 20th working-day-moved day");
}

async fn the_admin_page_checks_and_moves_and_is_for_admins_only(backend: Backend) {
    let web1 = Web::new(backend, defs(&[("errand.toml", V1)]), quick_config()).await;
    let e = errands(web1.rt()).await;
    let rt2 = Runtime::new(
        web1.db.reconnect().await,
        defs(&[("errand.toml", &v2())]),
        web1.clock.clone(),
        web1.rt().offset(),
    )
    .await
    .unwrap();
    let web = Web {
        db: web1.db.clone(),
        clock: web1.clock.clone(),
        state: unionflow::web::AppState::new(Arc::new(rt2), quick_config()),
    };
    web.people(&[("admin", &["admin"]), ("clerk.li", &["clerk"])]).await;

    let mut clerk = web.browser();
    clerk.sign_in("clerk.li").await;
    assert_eq!(clerk.get("/admin/migrations").await.status, StatusCode::FORBIDDEN);
    let csrf = clerk.csrf().await;
    let form = |csrf: &str, action: &str| -> Vec<(String, String)> {
        [
            ("_csrf", csrf),
            ("process", "errand"),
            ("from", "1"),
            ("to", "2"),
            ("map", "review=checking"),
            ("action", action),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
    };
    let refused = clerk.post("/admin/migrations", &as_pairs(&form(&csrf, "move"))).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(web.state_of(e.review).await, "review", "a refused move changes nothing");

    let mut admin_browser = web.browser();
    admin_browser.sign_in("admin").await;
    let admin_page = admin_browser.get("/admin").await;
    assert!(admin_page.links_to("/admin/migrations"), "linked from the admin page");
    let page = admin_browser.get("/admin/migrations").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let csrf = page.hidden("_csrf");

    let before = snapshot(&web.db.db).await;
    let checked = admin_browser.post("/admin/migrations", &as_pairs(&form(&csrf, "check"))).await;
    assert_eq!(checked.status, StatusCode::OK, "{}", checked.body);
    assert!(checked.body.contains("2 个可迁移到版本 2"), "{}", checked.body);
    assert!(checked.body.contains(&format!(r#"href="/instances/{}""#, e.waiting)), "the ones that stay are listed");
    assert!(checked.body.contains("其状态 waiting 在新版本中不存在，也未映射"), "{}", checked.body);
    assert_eq!(snapshot(&web.db.db).await, before, "a check changes nothing");

    let mut bad = form(&csrf, "check");
    bad[4].1 = "review=nowhere".into();
    let refused = admin_browser.post("/admin/migrations", &as_pairs(&bad)).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("新版本没有状态 nowhere"), "{}", refused.body);
    assert!(refused.body.contains("review=nowhere"), "the form keeps what was typed");

    let moved = admin_browser.post("/admin/migrations", &as_pairs(&form(&csrf, "move"))).await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.body);
    assert!(moved.body.contains("2 个已迁移到版本 2"), "{}", moved.body);
    assert_eq!(web.state_of(e.review).await, "checking");
    assert_eq!(web.state_of(e.waiting).await, "waiting");
    let history = web.rt().history(e.review).await.unwrap();
    assert_eq!(
        (history.last().unwrap().record.kind.as_str(), history.last().unwrap().record.actor.as_str()),
        ("migrate", "admin")
    );
    assert_eq!(web.verify().await.broken, None);
}

fn as_pairs(f: &[(String, String)]) -> Vec<(&str, &str)> {
    f.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

on_both_backends! {
    dry_run => a_dry_run_reports_and_changes_nothing;
    moves => a_migration_moves_those_that_can_and_leaves_the_others;
    admin_page => the_admin_page_checks_and_moves_and_is_for_admins_only;
}
