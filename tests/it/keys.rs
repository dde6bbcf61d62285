//! Keys and numbers across instances (issue 13, item 4): one open case per household, and register
//! numbers drawn gap-free per year, also under concurrent steps, on both databases.

use std::collections::BTreeSet;
use std::sync::Arc;

use serde_json::json;
use time::macros::datetime;
use unionflow::engine::Refusal;
use unionflow::runtime::RuntimeError;

use crate::on_both_backends;
use crate::support::{Backend, Harness, admin, data, defs};

const CASE: &str = r#"
id = "case"
label = { zh = "帮扶案件", en = "Assistance case" }
initial = "open"
title = ["id_number"]

[start]
roles = ["admin"]
ask = ["id_number"]

[[unique]]
fields = ["id_number"]

[[stage]]
id = "main"
label = { zh = "主", en = "Main" }

[[state]]
id = "open"
stage = "main"
label = { zh = "受理", en = "Open" }

[[state]]
id = "registered"
stage = "main"
label = { zh = "已建档", en = "Registered" }

[[state]]
id = "closed"
stage = "main"
final = true
outcome = "passed"
label = { zh = "结案", en = "Closed" }

[[field]]
id = "id_number"
type = "text"
label = { zh = "身份证号", en = "ID number" }
max_len = 18

[[field]]
id = "register_no"
type = "text"
label = { zh = "档案编号", en = "Register number" }

[[transition]]
event = "register"
from = "open"
to = "registered"
roles = ["admin"]
label = { zh = "建档", en = "Register" }
effects = [{ number = { into = "register_no", pattern = "JS-{year}-{seq:04}" } }]

[[transition]]
event = "close"
from = ["open", "registered"]
to = "closed"
roles = ["admin"]
label = { zh = "结案", en = "Close" }
"#;

async fn start(h: &Harness, id_number: &str) -> Result<i64, RuntimeError> {
    h.rt.start("case", &admin(), &data(json!({ "id_number": id_number }))).await
}

async fn a_household_never_has_two_open_cases(backend: Backend) {
    let h = Harness::new(backend, defs(&[("case.toml", CASE)])).await;
    let first = start(&h, "330881199001010011").await.expect("the first case opens");
    match start(&h, "330881199001010011").await {
        Err(RuntimeError::Refused(Refusal::Duplicate { fields, open })) => {
            assert_eq!((fields, open), (vec!["id_number".to_owned()], first), "names the open case");
        }
        other => panic!("a second open case should be refused: {other:?}"),
    }
    start(&h, "330881199001010022").await.expect("another household");
    h.rt.fire(first, None, &admin(), "close", &data(json!({}))).await.unwrap();
    start(&h, "330881199001010011").await.expect("closed, the household may open a case again");
}

async fn register_numbers_are_gap_free_per_year_under_fifty_concurrent_steps(backend: Backend) {
    let h = Arc::new(Harness::new(backend, defs(&[("case.toml", CASE)])).await);
    h.clock.set(datetime!(2026-06-01 10:00 +08:00));
    let mut ids = Vec::new();
    for i in 0..50 {
        ids.push(start(&h, &format!("3308811990010{i:05}")).await.unwrap());
    }
    let mut tasks = Vec::new();
    for id in ids.clone() {
        let h = Arc::clone(&h);
        tasks.push(tokio::spawn(async move {
            h.rt.fire(id, None, &admin(), "register", &data(json!({}))).await.map(|_| ())
        }));
    }
    for t in tasks {
        t.await.expect("the task ran").expect("every registration commits");
    }
    let mut numbers = BTreeSet::new();
    for id in &ids {
        numbers.insert(h.data(*id).await["register_no"].as_str().expect("a number").to_owned());
    }
    let expected: BTreeSet<String> = (1..=50).map(|n| format!("JS-2026-{n:04}")).collect();
    assert_eq!(numbers, expected, "1 to 50, each once, none skipped");

    // A new year starts its own sequence.
    h.clock.set(datetime!(2027-01-04 10:00 +08:00));
    let next = start(&h, "330881199002020033").await.unwrap();
    h.rt.fire(next, None, &admin(), "register", &data(json!({}))).await.unwrap();
    assert_eq!(h.data(next).await["register_no"], json!("JS-2027-0001"));
    let drawn = h.rt.history(next).await.unwrap().into_iter().last().unwrap().data();
    assert_eq!(drawn["numbered"]["register_no"], json!("JS-2027-0001"), "the number is in the audit trail");
}

on_both_backends! {
    one_open_case => a_household_never_has_two_open_cases;
    gap_free_numbers => register_numbers_are_gap_free_per_year_under_fifty_concurrent_steps;
}
