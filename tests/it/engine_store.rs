//! The engine through the store, on small definitions written here: fan-out and join, concurrent
//! fires, timers across restarts, refusals that change nothing, and definition versions.

use serde_json::json;
use unionflow::engine::{Actor, Refusal};
use unionflow::runtime::RuntimeError;

use crate::on_both_backends;
use crate::support::{Backend, Harness, admin, data, defs};

pub const ROUND: &str = r#"
id = "round"
label = { zh = "轮次", en = "Round" }
initial = "open"
title = ["name"]

[start]
roles = ["admin"]
ask = ["units"]
optional = ["name"]

[[stage]]
id = "main"
label = { zh = "主", en = "Main" }

[[state]]
id = "open"
stage = "main"
label = { zh = "开放", en = "Open" }
[[state.timer]]
id = "reply"
fires = "reply_overdue"
after = "20d"

[[state]]
id = "review"
stage = "main"
label = { zh = "审议", en = "Review" }
[state.join]
pass = "all"
wait = "all_decided"
on_pass = "approved"
on_fail = "rejected"

[[state]]
id = "done"
stage = "main"
final = true
outcome = "passed"
label = { zh = "完成", en = "Done" }

[[state]]
id = "abandoned"
stage = "main"
final = true
outcome = "failed"
label = { zh = "放弃", en = "Abandoned" }

[[field]]
id = "units"
type = "list"
label = { zh = "单位", en = "Units" }
min_items = 1

[[field]]
id = "name"
type = "text"
label = { zh = "名称", en = "Name" }

[[field]]
id = "draft"
type = "int"
label = { zh = "草案", en = "Draft" }
min = 1
max = 99

[[transition]]
event = "send"
from = "open"
to = "review"
roles = ["admin", "clerk"]
label = { zh = "发送", en = "Send" }
ask = ["draft"]
effects = [{ spawn = { definition = "vote", for_each = "units", as = "unit", copy = ["draft"] } }]

[[transition]]
event = "reply_overdue"
from = "open"
roles = ["system"]
label = { zh = "逾期", en = "Overdue" }
effects = [{ escalate = "admin" }]

[[transition]]
event = "approved"
from = "review"
to = "done"
roles = ["system"]
label = { zh = "通过", en = "Approved" }

[[transition]]
event = "rejected"
from = "review"
to = "open"
roles = ["system"]
label = { zh = "退回", en = "Rejected" }

[[transition]]
event = "abandon"
from = ["open", "review"]
to = "abandoned"
roles = ["admin"]
label = { zh = "放弃", en = "Abandon" }
"#;

pub const VOTE: &str = r#"
id = "vote"
label = { zh = "表决", en = "Vote" }
initial = "pending"

[[scope]]
role = "unit_secretary"
field = "unit"
matches = "unit"

[[stage]]
id = "main"
label = { zh = "主", en = "Main" }

[[state]]
id = "pending"
stage = "main"
label = { zh = "待定", en = "Pending" }

[[state]]
id = "yes"
stage = "main"
final = true
outcome = "passed"
label = { zh = "同意", en = "Yes" }

[[state]]
id = "no"
stage = "main"
final = true
outcome = "failed"
label = { zh = "反对", en = "No" }

[[field]]
id = "unit"
type = "text"
label = { zh = "单位", en = "Unit" }

[[field]]
id = "draft"
type = "int"
label = { zh = "草案", en = "Draft" }

[[transition]]
event = "accept"
from = "pending"
to = "yes"
roles = ["unit_secretary", "admin"]
label = { zh = "同意", en = "Accept" }

[[transition]]
event = "reject"
from = "pending"
to = "no"
roles = ["unit_secretary", "admin"]
label = { zh = "反对", en = "Reject" }
"#;

async fn harness(backend: Backend) -> Harness {
    Harness::new(backend, defs(&[("round.toml", ROUND), ("vote.toml", VOTE)])).await
}

async fn open_round(h: &Harness, units: &[&str]) -> i64 {
    h.rt.start("round", &admin(), &data(json!({ "units": units, "name": "test round" }))).await.expect("start")
}

async fn send(h: &Harness, id: i64, draft: i64) -> Vec<i64> {
    h.rt.fire(id, None, &admin(), "send", &data(json!({ "draft": draft }))).await.expect("send");
    let children = h.rt.children(id).await.expect("children");
    let latest = children.iter().map(|c| c.fanout).max().unwrap_or(0);
    children.into_iter().filter(|c| c.fanout == latest).map(|c| c.id).collect()
}

async fn fan_out_and_join_go_back_on_a_rejection_and_count_only_the_latest_draft(backend: Backend) {
    let h = harness(backend).await;
    let round = open_round(&h, &["u1", "u2", "u3"]).await;
    let first = send(&h, round, 1).await;
    assert_eq!(first.len(), 3);
    assert_eq!(h.data(first[0]).await["draft"], json!(1), "the child gets the copied field");
    assert_eq!(h.data(first[0]).await["unit"], json!("u1"));

    h.rt.fire(first[0], None, &admin(), "accept", &Default::default()).await.unwrap();
    h.rt.fire(first[1], None, &admin(), "reject", &Default::default()).await.unwrap();
    assert_eq!(h.state(round).await, "review", "one unit is still voting: the join waits for it");
    h.rt.fire(first[2], None, &admin(), "accept", &Default::default()).await.unwrap();
    assert_eq!(h.state(round).await, "open", "a rejection sends the round back");

    let second = send(&h, round, 2).await;
    assert_eq!(second.len(), 3, "every unit votes on the new draft");
    for c in &second[..2] {
        h.rt.fire(*c, None, &admin(), "accept", &Default::default()).await.unwrap();
    }
    assert_eq!(h.state(round).await, "review", "the first draft's votes do not count for the second");
    h.rt.fire(second[2], None, &admin(), "accept", &Default::default()).await.unwrap();
    assert_eq!(h.state(round).await, "done");
    assert_eq!(h.rt.instance(round).await.unwrap().row.outcome.as_deref(), Some("passed"));
}

async fn children_finishing_at_the_same_moment_advance_the_join_exactly_once(backend: Backend) {
    let h = harness(backend).await;
    let units: Vec<String> = (0..8).map(|i| format!("u{i}")).collect();
    let unit_refs: Vec<&str> = units.iter().map(String::as_str).collect();
    for _ in 0..3 {
        let round = open_round(&h, &unit_refs).await;
        let children = send(&h, round, 1).await;
        let (actor, nothing) = (admin(), Default::default());
        let fires = children.iter().map(|c| h.rt.fire(*c, None, &actor, "accept", &nothing));
        for result in futures_join_all(fires).await {
            result.expect("each child's own fire succeeds");
        }
        assert_eq!(h.state(round).await, "done");
        let joins = h
            .count(&format!("SELECT COUNT(*) AS n FROM audit_events WHERE instance_id = {round} AND kind = 'join'"))
            .await;
        assert_eq!(joins, 1, "the join fired exactly once");
    }
}

/// Runs futures concurrently on the multi-threaded runtime and collects their results in order.
pub async fn futures_join_all<F>(futures: impl IntoIterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future,
{
    let mut set = Vec::new();
    for f in futures {
        set.push(f);
    }
    let mut out = Vec::with_capacity(set.len());
    let pinned: Vec<_> = set.into_iter().map(Box::pin).collect();
    let mut pending: Vec<_> = pinned.into_iter().map(Some).collect();
    let mut results: Vec<Option<F::Output>> = (0..pending.len()).map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut all_done = true;
        for (i, slot) in pending.iter_mut().enumerate() {
            if let Some(f) = slot {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => {
                        results[i] = Some(v);
                        *slot = None;
                    }
                    std::task::Poll::Pending => all_done = false,
                }
            }
        }
        if all_done { std::task::Poll::Ready(()) } else { std::task::Poll::Pending }
    })
    .await;
    out.extend(results.into_iter().map(|r| r.expect("every future finished")));
    out
}

async fn two_concurrent_fires_of_one_instance_one_wins_the_other_conflicts(backend: Backend) {
    let h = harness(backend).await;
    let other = h.db.reconnect().await;
    let clock = h.clock.clone();
    let rt2 = unionflow::runtime::Runtime::new(other, h.rt.definitions().clone(), clock, time::macros::offset!(+8))
        .await
        .unwrap();
    for _ in 0..5 {
        let round = open_round(&h, &["u1"]).await;
        let version = h.rt.instance(round).await.unwrap().row.version;
        let (actor, nothing, draft) = (admin(), Default::default(), data(json!({ "draft": 1 })));
        let a = h.rt.fire(round, Some(version), &actor, "abandon", &nothing);
        let b = rt2.fire(round, Some(version), &actor, "send", &draft);
        let (a, b) = tokio::join!(a, b);
        let wins = [a.is_ok(), b.is_ok()].iter().filter(|w| **w).count();
        assert_eq!(wins, 1, "exactly one fire wins: {a:?} / {b:?}");
        let loser = if a.is_ok() { b } else { a };
        assert!(matches!(loser, Err(RuntimeError::Conflict { .. })), "the other gets a conflict: {loser:?}");
        let transitions = h
            .count(&format!(
                "SELECT COUNT(*) AS n FROM audit_events WHERE instance_id = {round} AND kind = 'transition'"
            ))
            .await;
        assert_eq!(transitions, 1);
    }
}

async fn a_deadline_fires_once_when_due_and_not_after_its_state_is_left(backend: Backend) {
    let h = harness(backend).await;
    let waiting = open_round(&h, &["u1"]).await;
    let left = open_round(&h, &["u1"]).await;
    send(&h, left, 1).await;

    // Opened Monday 2026-03-02: day 20 is Sunday 03-22, moved to Monday 03-23; it ends at midnight.
    h.clock.set(time::macros::datetime!(2026-03-23 23:59 +08:00));
    assert_eq!(h.rt.fire_due_timers().await.unwrap(), 0, "not due before the end of its last day");
    h.clock.set(time::macros::datetime!(2026-03-24 00:00 +08:00));
    assert_eq!(h.rt.fire_due_timers().await.unwrap(), 1);
    let escalations = &h.data(waiting).await["escalations"];
    assert_eq!(escalations[0]["role"], json!("admin"));
    assert_eq!(h.state(waiting).await, "open", "an escalation does not leave the state");
    h.clock.advance(time::Duration::days(60));
    assert_eq!(h.rt.fire_due_timers().await.unwrap(), 0, "each timer fires once; the left state's was cancelled");
}

async fn timers_due_while_the_server_was_down_fire_once_each_in_due_order(backend: Backend) {
    let h = harness(backend).await;
    let mut rounds = Vec::new();
    for day in 0..4 {
        rounds.push(open_round(&h, &["u1"]).await);
        h.clock.advance(time::Duration::days(day + 1));
    }
    // "Restart": a fresh server process over the same database, long after every deadline.
    h.clock.advance(time::Duration::days(90));
    let restarted = unionflow::runtime::Runtime::new(
        h.db.reconnect().await,
        h.rt.definitions().clone(),
        h.clock.clone(),
        time::macros::offset!(+8),
    )
    .await
    .unwrap();
    assert_eq!(restarted.fire_due_timers().await.unwrap(), 4);
    assert_eq!(restarted.fire_due_timers().await.unwrap(), 0, "each fires once");
    assert_eq!(timer_firings(&h).await, rounds, "in the order they fell due");
}

async fn timer_firings(h: &Harness) -> Vec<i64> {
    unionflow::store::db::all(
        &h.db.db,
        "SELECT instance_id FROM audit_events WHERE kind = 'timer' AND event = 'reply_overdue' ORDER BY id",
        vec![],
    )
    .await
    .unwrap()
    .iter()
    .map(|r| unionflow::store::db::get::<i64>(r, "instance_id").unwrap())
    .collect()
}

async fn two_servers_fire_each_due_timer_exactly_once(backend: Backend) {
    let h = harness(backend).await;
    let mut rounds = Vec::new();
    for _ in 0..20 {
        rounds.push(open_round(&h, &["u1"]).await);
    }
    h.clock.advance(time::Duration::days(90));
    let mut servers = Vec::new();
    for _ in 0..2 {
        let conn = h.db.reconnect().await;
        servers.push(
            unionflow::runtime::Runtime::new(
                conn,
                h.rt.definitions().clone(),
                h.clock.clone(),
                time::macros::offset!(+8),
            )
            .await
            .unwrap(),
        );
    }
    let (a, b) = tokio::join!(servers[0].fire_due_timers(), servers[1].fire_due_timers());
    assert_eq!(a.unwrap() + b.unwrap(), 20, "twenty timers fired between the two servers");
    let mut fired = timer_firings(&h).await;
    fired.sort_unstable();
    assert_eq!(fired, rounds, "each exactly once");
}

async fn bad_input_is_refused_with_a_reason_and_changes_nothing(backend: Backend) {
    let h = harness(backend).await;
    let round = open_round(&h, &["u1", "u2"]).await;
    let events_before = h.count("SELECT COUNT(*) AS n FROM audit_events").await;
    let version = h.rt.instance(round).await.unwrap().row.version;

    let unknown = h.rt.fire(round, None, &admin(), "explode", &Default::default()).await;
    assert!(matches!(unknown, Err(RuntimeError::Refused(Refusal::UnknownEvent { .. }))), "{unknown:?}");
    let not_now = h.rt.fire(round, None, &admin(), "approved", &Default::default()).await;
    assert!(matches!(not_now, Err(RuntimeError::Refused(Refusal::NotFromState { .. }))), "{not_now:?}");
    let forbidden =
        h.rt.fire(round, None, &Actor::new("sec", ["unit_secretary"]), "send", &data(json!({ "draft": 1 }))).await;
    assert!(matches!(forbidden, Err(RuntimeError::Refused(Refusal::RoleNotAllowed { .. }))), "{forbidden:?}");
    let out_of_bounds = h.rt.fire(round, None, &admin(), "send", &data(json!({ "draft": 100 }))).await;
    let Err(RuntimeError::Refused(Refusal::Input(errors))) = out_of_bounds else { panic!("{out_of_bounds:?}") };
    assert_eq!(errors[0].field, "draft");
    assert_eq!(errors[0].to_string(), "draft: must be at most 99");
    let system_only = h.rt.fire(round, None, &admin(), "reply_overdue", &Default::default()).await;
    assert!(matches!(system_only, Err(RuntimeError::Refused(Refusal::SystemOnly { .. }))));

    assert_eq!(h.count("SELECT COUNT(*) AS n FROM audit_events").await, events_before);
    assert_eq!(h.rt.instance(round).await.unwrap().row.version, version);
    assert_eq!(h.count("SELECT COUNT(*) AS n FROM instances WHERE parent_id IS NOT NULL").await, 0);
}

async fn a_secretary_acts_only_for_their_own_unit(backend: Backend) {
    let h = harness(backend).await;
    let round = open_round(&h, &["u1", "u2"]).await;
    let children = send(&h, round, 1).await;
    let secretary = Actor::new("sec1", ["unit_secretary"]).with_units(["u1"]);
    let options = h.rt.options(children[1], &secretary).await.unwrap();
    assert!(options.iter().all(|(_, refusal)| matches!(refusal, Some(Refusal::OutOfScope { .. }))), "{options:?}");
    let other = h.rt.fire(children[1], None, &secretary, "accept", &Default::default()).await;
    assert!(matches!(other, Err(RuntimeError::Refused(Refusal::OutOfScope { .. }))), "{other:?}");
    h.rt.fire(children[0], None, &secretary, "accept", &Default::default()).await.expect("their own unit");
}

async fn running_instances_keep_their_definition_version(backend: Backend) {
    let h = harness(backend).await;
    let old = open_round(&h, &["u1"]).await;
    // A new version of the definition drops the `abandon` transition.
    let changed =
        ROUND.replace("event = \"abandon\"\nfrom = [\"open\", \"review\"]", "event = \"abandon\"\nfrom = [\"review\"]");
    assert_ne!(changed, ROUND);
    let rt2 = unionflow::runtime::Runtime::new(
        h.db.reconnect().await,
        defs(&[("round.toml", &changed), ("vote.toml", VOTE)]),
        h.clock.clone(),
        time::macros::offset!(+8),
    )
    .await
    .unwrap();
    assert_eq!(rt2.registry().current_version("round"), Some(2));
    let new = rt2.start("round", &admin(), &data(json!({ "units": ["u1"] }))).await.unwrap();
    rt2.fire(old, None, &admin(), "abandon", &Default::default()).await.expect("the old instance runs on version 1");
    let refused = rt2.fire(new, None, &admin(), "abandon", &Default::default()).await;
    assert!(matches!(refused, Err(RuntimeError::Refused(Refusal::NotFromState { .. }))), "{refused:?}");
}

const GUARDED_TIMER: &str = r#"
id = "reminder"
label = { zh = "提醒", en = "Reminder" }
initial = "waiting"

[start]
roles = ["admin"]

[[stage]]
id = "main"
label = { zh = "主", en = "Main" }

[[state]]
id = "waiting"
stage = "main"
label = { zh = "等待", en = "Waiting" }
[[state.timer]]
id = "nudge"
fires = "lapse"
after = "1d"

[[state]]
id = "lapsed"
stage = "main"
final = true
outcome = "failed"
label = { zh = "过期", en = "Lapsed" }

[[field]]
id = "ready"
type = "bool"
label = { zh = "就绪", en = "Ready" }

[[transition]]
event = "lapse"
from = "waiting"
to = "lapsed"
roles = ["system"]
label = { zh = "过期", en = "Lapse" }
guards = [{ is_true = "ready" }]
"#;

async fn a_timer_whose_event_is_refused_is_closed_with_the_reason(backend: Backend) {
    let h = Harness::new(backend, defs(&[("reminder.toml", GUARDED_TIMER)])).await;
    let id = h.rt.start("reminder", &admin(), &Default::default()).await.unwrap();
    h.clock.advance(time::Duration::days(5));
    assert_eq!(h.rt.fire_due_timers().await.unwrap(), 1);
    assert_eq!(h.rt.fire_due_timers().await.unwrap(), 0, "closed, not tried again forever");
    assert_eq!(h.state(id).await, "waiting");
    let last = h.rt.history(id).await.unwrap().pop().unwrap();
    assert_eq!(last.record.kind, "timer_refused");
    assert!(last.data()["reason"].as_str().unwrap().contains("ready"), "{:?}", last.data());
    assert!(unionflow::store::audit::verify(&h.db.db).await.unwrap().broken.is_none());
}

/// One required step and one that may be taken or not.
const CHORES: &str = r#"
id = "chores"
label = { zh = "事务", en = "Chores" }
initial = "open"

[start]
roles = ["admin"]
ask = []

[[stage]]
id = "main"
label = { zh = "主", en = "Main" }

[[state]]
id = "open"
stage = "main"
label = { zh = "待办", en = "Open" }

[[state]]
id = "waiting"
stage = "main"
label = { zh = "等待", en = "Waiting" }

[[state]]
id = "done"
stage = "main"
final = true
outcome = "passed"
label = { zh = "完成", en = "Done" }

[[transition]]
event = "do"
from = "open"
to = "waiting"
roles = ["admin"]
label = { zh = "办理", en = "Do it" }

[[transition]]
event = "withdraw"
from = ["open", "waiting"]
to = "done"
roles = ["admin"]
label = { zh = "撤销", en = "Withdraw" }
task = false
"#;

async fn my_work_lists_what_is_required_not_what_is_merely_allowed(backend: Backend) {
    let h = Harness::new(backend, defs(&[("chores.toml", CHORES)])).await;
    let id = h.rt.start("chores", &admin(), &Default::default()).await.unwrap();
    let waiting = unionflow::work::waiting_for(&h.rt, &admin()).await.unwrap();
    assert_eq!(
        waiting.iter().map(|w| (w.row.id, w.allowed.clone())).collect::<Vec<_>>(),
        [(id, vec!["do".to_owned()])]
    );
    h.rt.fire(id, None, &admin(), "do", &Default::default()).await.unwrap();
    let waiting = unionflow::work::waiting_for(&h.rt, &admin()).await.unwrap();
    assert!(waiting.is_empty(), "only an optional withdrawal is left: nothing waits for the admin");
}

on_both_backends! {
    refused_timer => a_timer_whose_event_is_refused_is_closed_with_the_reason;
    fan_out_and_join => fan_out_and_join_go_back_on_a_rejection_and_count_only_the_latest_draft;
    parallel_join => children_finishing_at_the_same_moment_advance_the_join_exactly_once;
    concurrent_fires => two_concurrent_fires_of_one_instance_one_wins_the_other_conflicts;
    deadline => a_deadline_fires_once_when_due_and_not_after_its_state_is_left;
    restart_timers => timers_due_while_the_server_was_down_fire_once_each_in_due_order;
    two_servers => two_servers_fire_each_due_timer_exactly_once;
    bad_input => bad_input_is_refused_with_a_reason_and_changes_nothing;
    scope => a_secretary_acts_only_for_their_own_unit;
    versions => running_instances_keep_their_definition_version;
    my_work_tasks => my_work_lists_what_is_required_not_what_is_merely_allowed;
    rolled_back => a_step_rolled_back_with_its_transaction_is_not_remembered;
    unversioned_fires => concurrent_fires_without_a_version_each_take_effect;
}

const LEDGER: &str = r#"
id = "ledger"
label = { zh = "台账", en = "Ledger" }
initial = "open"

[start]
roles = ["admin"]
ask = []

[[stage]]
id = "main"
label = { zh = "主", en = "Main" }

[[state]]
id = "open"
stage = "main"
label = { zh = "在用", en = "Open" }

[[state]]
id = "closed"
stage = "main"
final = true
outcome = "passed"
label = { zh = "关闭", en = "Closed" }

[[transition]]
event = "note"
from = "open"
roles = ["admin"]
label = { zh = "记一笔", en = "Note" }
task = false

[[transition]]
event = "close"
from = "open"
to = "closed"
roles = ["admin"]
label = { zh = "关闭", en = "Close" }
"#;

/// A fire without the version it was read at means "on whatever the instance is now" (the API's
/// department signals): two servers firing at once each take effect, one after the other, never
/// a conflict the caller did not ask to be told of.
async fn concurrent_fires_without_a_version_each_take_effect(backend: Backend) {
    let h = Harness::new(backend, defs(&[("ledger.toml", LEDGER)])).await;
    let rt2 = unionflow::runtime::Runtime::new(
        h.db.reconnect().await,
        defs(&[("ledger.toml", LEDGER)]),
        h.clock.clone(),
        time::macros::offset!(+8),
    )
    .await
    .unwrap();
    let id = h.rt.start("ledger", &admin(), &Default::default()).await.unwrap();
    let nothing = Default::default();
    let fires = (0..8).map(|i| {
        let rt = if i % 2 == 0 { &h.rt } else { &rt2 };
        let (actor, nothing) = (admin(), &nothing);
        async move { rt.fire(id, None, &actor, "note", nothing).await }
    });
    let results = futures_util::future::join_all(fires).await;
    assert!(results.iter().all(Result::is_ok), "every fire took effect: {results:?}");
    assert_eq!(h.rt.instance(id).await.unwrap().row.version, 9, "eight steps after the start");
}

/// A step made inside a caller's transaction that is then rolled back (an API start whose commit
/// failed) must not live on in the runtime's memory of the rows it wrote: the next step is decided
/// on the row as it is, even when another server has since taken it to the same version number.
async fn a_step_rolled_back_with_its_transaction_is_not_remembered(backend: Backend) {
    let h = Harness::new(backend, defs(&[("chores.toml", CHORES)])).await;
    let id = h.rt.start("chores", &admin(), &Default::default()).await.unwrap();
    let txn = unionflow::store::db::begin_write(&h.db.db).await.unwrap();
    h.rt.fire_in(&txn, id, None, &admin(), "do", &Default::default()).await.unwrap();
    txn.rollback().await.unwrap();
    let other = unionflow::runtime::Runtime::new(
        h.db.db.clone(),
        defs(&[("chores.toml", CHORES)]),
        h.clock.clone(),
        time::macros::offset!(+8),
    )
    .await
    .unwrap();
    other.fire(id, Some(1), &admin(), "withdraw", &Default::default()).await.unwrap();
    let again = h.rt.fire(id, Some(2), &admin(), "withdraw", &Default::default()).await;
    assert!(
        matches!(again, Err(RuntimeError::Refused(Refusal::Finished { .. }))),
        "decided on the real row: {again:?}"
    );
    assert_eq!(h.state(id).await, "done");
    let chain = unionflow::store::audit::verify(&h.db.db).await.unwrap();
    assert_eq!(chain.broken, None, "the chain holds");
}
