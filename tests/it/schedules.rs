//! Schedules that belong to their state (issue 13, item 3 in part): a step back into the same
//! state does not put off the state's timers, unless the definition says to start them again.

use serde_json::json;

use crate::on_both_backends;
use crate::support::{Backend, Harness, admin, data, defs};

const VISITS: &str = r#"
id = "visits"
label = { zh = "走访", en = "Visits" }
initial = "registered"

[start]
roles = ["admin"]

[[stage]]
id = "main"
label = { zh = "主", en = "Main" }

[[state]]
id = "registered"
stage = "main"
label = { zh = "在册", en = "Registered" }

[[state.timer]]
id = "quarterly_visit"
fires = "visit_due"
after = "30d"
working_day = false

[[state]]
id = "closed"
stage = "main"
final = true
outcome = "passed"
label = { zh = "结束", en = "Closed" }

[[field]]
id = "calls"
type = "int"
label = { zh = "电话次数", en = "Calls" }

[[transition]]
event = "record_call"
from = "registered"
to = "registered"
roles = ["admin"]
label = { zh = "记录电话回访", en = "Record a call" }
effects = [{ increment = "calls" }]

[[transition]]
event = "record_visit"
from = "registered"
to = "registered"
roles = ["admin"]
restart_timers = true
label = { zh = "记录走访", en = "Record a visit" }

[[transition]]
event = "visit_due"
from = "registered"
roles = ["system"]
label = { zh = "走访到期", en = "Visit due" }
effects = [{ escalate = "admin" }]

[[transition]]
event = "close"
from = "registered"
to = "closed"
roles = ["admin"]
label = { zh = "结束", en = "Close" }
"#;

async fn a_call_back_into_the_state_does_not_put_off_its_visit(backend: Backend) {
    let h = Harness::new(backend, defs(&[("visits.toml", VISITS)])).await;
    let id = h.rt.start("visits", &admin(), &data(json!({}))).await.unwrap();
    for _ in 0..2 {
        h.clock.advance(time::Duration::days(12));
        h.rt.fire(id, None, &admin(), "record_call", &data(json!({}))).await.unwrap();
    }
    assert_eq!(h.data(id).await["calls"], json!(2));
    h.clock.advance(time::Duration::days(8));
    assert_eq!(
        h.rt.fire_due_timers().await.unwrap(),
        1,
        "the visit falls due 30 days after registration, calls or not"
    );
    assert_eq!(h.data(id).await["escalations"][0]["event"], json!("visit_due"));

    // A step that says so starts the state's timers again: the visit recorded, the next is 30
    // days after it.
    h.rt.fire(id, None, &admin(), "record_visit", &data(json!({}))).await.unwrap();
    assert!(h.data(id).await.get("escalations").is_none(), "entered again: the alert is over");
    h.clock.advance(time::Duration::days(29));
    assert_eq!(h.rt.fire_due_timers().await.unwrap(), 0);
    h.clock.advance(time::Duration::days(2));
    assert_eq!(h.rt.fire_due_timers().await.unwrap(), 1);
}

const MONTHLY: &str = r#"
id = "calls"
label = { zh = "电话回访", en = "Calls" }
initial = "registered"

[start]
roles = ["admin"]
optional = ["exit_planned_on"]

[[stage]]
id = "main"
label = { zh = "主", en = "Main" }

[[state]]
id = "registered"
stage = "main"
label = { zh = "在册", en = "Registered" }

[[state.timer]]
id = "monthly_call"
fires = "call_due"
every = "1m"
until = "exit_planned_on"

[[state.timer]]
id = "three_reminders"
fires = "remind"
every = "7d"
count = 3
working_day = false

[[state]]
id = "closed"
stage = "main"
final = true
outcome = "passed"
label = { zh = "结束", en = "Closed" }

[[field]]
id = "exit_planned_on"
type = "date"
label = { zh = "计划退出日期", en = "Planned exit" }

[[field]]
id = "calls"
type = "int"
label = { zh = "回访次数", en = "Calls made" }

[[field]]
id = "calls_due"
type = "int"
label = { zh = "到期次数", en = "Calls due" }

[[field]]
id = "reminders"
type = "int"
label = { zh = "提醒次数", en = "Reminders" }

[[transition]]
event = "record_call"
from = "registered"
to = "registered"
roles = ["admin"]
label = { zh = "记录回访", en = "Record a call" }
effects = [{ increment = "calls" }]

[[transition]]
event = "call_due"
from = "registered"
roles = ["system"]
label = { zh = "回访到期", en = "Call due" }
effects = [{ increment = "calls_due" }]

[[transition]]
event = "remind"
from = "registered"
roles = ["system"]
label = { zh = "提醒", en = "Remind" }
effects = [{ increment = "reminders" }]

[[transition]]
event = "close"
from = "registered"
to = "closed"
roles = ["admin"]
label = { zh = "结束", en = "Close" }
"#;

/// A monthly call falls due twelve times in a year of moved clock, on working days, and keeps
/// falling due across the calls recorded between; a count stops a schedule, and so does its
/// `until` date.
async fn a_monthly_call_falls_due_twelve_times_a_year_across_calls(backend: Backend) {
    let h = Harness::new(backend, defs(&[("calls.toml", MONTHLY)])).await;
    let id = h.rt.start("calls", &admin(), &data(json!({}))).await.unwrap();
    let mut fired = 0;
    for day in 1..=366 {
        h.clock.advance(time::Duration::days(1));
        fired += h.rt.fire_due_timers().await.unwrap();
        if day % 10 == 0 {
            h.rt.fire(id, None, &admin(), "record_call", &data(json!({}))).await.unwrap();
        }
    }
    let d = h.data(id).await;
    assert_eq!(d["calls_due"], json!(12), "once a month for a year, however many calls came between");
    assert_eq!(d["reminders"], json!(3), "a count of three stops at three");
    assert_eq!(fired, 15);
    let pending = h.rt.timers(id).await.unwrap();
    let next = pending.iter().find(|t| t.name == "monthly_call").expect("the schedule runs on");
    assert_eq!(next.occurrence, 13);

    // With a planned exit, no call falls due after it.
    let until = h.rt.start("calls", &admin(), &data(json!({ "exit_planned_on": "2027-06-20" }))).await.unwrap();
    for _ in 0..200 {
        h.clock.advance(time::Duration::days(1));
        h.rt.fire_due_timers().await.unwrap();
    }
    assert_eq!(h.data(until).await["calls_due"], json!(3), "the calls of April, May and June only");
    assert!(h.rt.timers(until).await.unwrap().iter().all(|t| t.name != "monthly_call"), "and none after");
}

on_both_backends! {
    self_loop_keeps_timers => a_call_back_into_the_state_does_not_put_off_its_visit;
    monthly_twelve_times => a_monthly_call_falls_due_twelve_times_a_year_across_calls;
}
