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

on_both_backends! {
    self_loop_keeps_timers => a_call_back_into_the_state_does_not_put_off_its_visit;
}
