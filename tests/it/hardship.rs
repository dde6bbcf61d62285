//! Jiangshan's hardship assistance (issue 13, item 9), as `workflows/hardship_case.toml` declares
//! it: the tier at each boundary on exact arithmetic, one open case per household, numbers, the
//! measures kept as rows and summed, the monthly call across calls recorded between, the exit and
//! its follow-up — with no process-specific Rust.

use std::path::Path;

use serde_json::{Value, json};

use unionflow::definition::{DefinitionSet, load_dir};
use unionflow::engine::{Actor, Data, Refusal};
use unionflow::runtime::RuntimeError;
use unionflow::web::i18n::{Lang, Tr};

use crate::on_both_backends;
use crate::support::{Backend, Harness, data};

fn workflows() -> DefinitionSet {
    load_dir(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/workflows"))).expect("the built-in definitions load")
}

fn caseworker() -> Actor {
    Actor::new("ye.lan", ["caseworker"])
}

/// A household of three in Jiangshan (2026's 低保: 1,180 yuan), with these monthly figures.
fn household(id_number: &str, income: &str, expenses: &str, extra: Value) -> Data {
    let mut d = data(json!({
        "applicant": "王建华", "id_number": id_number, "city": "江山市", "source": "civil_affairs", "reported_on": "2026-03-02",
        "household_size": 3, "monthly_income": income, "rigid_expenses": expenses,
    }));
    if let Value::Object(more) = extra {
        d.extend(more);
    }
    d
}

async fn tier_of(h: &Harness, n: u32, income: &str, expenses: &str, extra: Value) -> Value {
    let id = h
        .rt
        .start("hardship_case", &caseworker(), &household(&format!("33088119800101{n:04}"), income, expenses, extra))
        .await
        .expect("the case opens");
    h.data(id).await.get("tier").cloned().unwrap_or(Value::Null)
}

async fn the_tier_is_exact_at_every_boundary(backend: Backend) {
    let h = Harness::new(backend, workflows()).await;
    // (income − expenses) / 3 against 1,180: exactly 低保 is not below it.
    assert_eq!(tier_of(&h, 1, "3740", "200", json!({})).await, json!("relative"), "exactly 低保 per person");
    assert_eq!(tier_of(&h, 2, "3739.99", "200", json!({})).await, json!("deep"), "a fen below");
    // Exactly 2 × 低保 per person (7,080 for three) is not relative hardship.
    assert_eq!(tier_of(&h, 3, "7280", "200", json!({})).await, json!("none"), "exactly twice 低保");
    assert_eq!(tier_of(&h, 4, "7279.99", "200", json!({})).await, json!("relative"), "a fen below twice");
    // Crisis costs against 80 % of the annual income (7,500 × 12 × 0.8 = 72,000).
    assert_eq!(tier_of(&h, 5, "7500", "0", json!({ "crisis_costs": "72000" })).await, json!("none"), "exactly 80 %");
    assert_eq!(tier_of(&h, 6, "7500", "0", json!({ "crisis_costs": "72000.01" })).await, json!("accident"));
    // A migrant worker qualifies after a year of employment here (the clock is at 2026-03-02).
    let migrant = |since: &str| json!({ "migrant": true, "employed_since": since });
    assert_eq!(tier_of(&h, 7, "2000", "0", migrant("2025-03-03")).await, json!("none"), "a day short of a year");
    assert_eq!(tier_of(&h, 8, "2000", "0", migrant("2025-03-02")).await, json!("deep"), "a year to the day");
    let figures = h
        .data(
            h.rt.start("hardship_case", &caseworker(), &household("330881198001019999", "1000", "0", json!({})))
                .await
                .unwrap(),
        )
        .await;
    assert_eq!((figures["per_person"].clone(), figures["dibao"].clone()), (json!("333.33"), json!("1180.00")));
    assert_eq!(figures["annual_income"], json!("12000.00"));
}

async fn a_household_has_one_open_case_and_a_whole_case_runs(backend: Backend) {
    let h = Harness::new(backend, workflows()).await;
    let w = caseworker();
    let id_number = "330881198001010011";
    let id = h.rt.start("hardship_case", &w, &household(id_number, "2400", "300", json!({}))).await.unwrap();
    match h.rt.start("hardship_case", &w, &household(id_number, "2400", "300", json!({}))).await {
        Err(RuntimeError::Refused(Refusal::Duplicate { open, .. })) => assert_eq!(open, id, "names the open case"),
        other => panic!("a second open case for the household: {other:?}"),
    }
    let fire = |event: &'static str, given: Value| {
        let (h, w) = (&h, &w);
        async move { h.rt.fire(id, None, w, event, &data(given)).await }
    };
    fire("visit_home", json!({ "visited_on": "2026-03-04", "visit_findings": "住房简陋" })).await.unwrap();
    fire("record_committee_vote", json!({ "committee_size": 7, "present": 6, "yes": 5, "no": 1, "abstain": 0 }))
        .await
        .unwrap();
    fire("register", json!({})).await.unwrap();
    let d = h.data(id).await;
    assert_eq!((d["register_no"].clone(), d["registered_on"].clone()), (json!("JS-2026-0001"), json!("2026-03-02")));

    // The same measure twice is two rows, and the total sums them exactly.
    for _ in 0..2 {
        fire(
            "give_assistance",
            json!({ "measure_date": "2026-03-05", "measure_kind": "cash", "measure_amount": "800.10" }),
        )
        .await
        .unwrap();
    }
    fire(
        "give_assistance",
        json!({ "measure_date": "2026-04-01", "measure_kind": "medical", "measure_amount": "0.2" }),
    )
    .await
    .unwrap();
    let d = h.data(id).await;
    assert_eq!(d["measures"].as_array().map(Vec::len), Some(3), "every measure kept");
    // A row takes only what its own step was given: no note left over from an earlier one, and
    // the fields it was typed into are empty again.
    fire("give_assistance", json!({ "measure_date": "2026-04-02", "measure_kind": "in_kind", "measure_amount": "0", "measure_note": "春节慰问" }))
        .await
        .unwrap();
    fire("give_assistance", json!({ "measure_date": "2026-04-03", "measure_kind": "cash", "measure_amount": "0" }))
        .await
        .unwrap();
    // The report of assistance per month reads the rows, by the month of each measure's date.
    let def = h.rt.definitions().get("hardship_case").unwrap().clone();
    let figures = unionflow::store::reports::figures(&h.db.db, &def, h.rt.offset(), h.rt.clock().now()).await.unwrap();
    let per_month = def.reports.iter().position(|r| r.id == "assistance_per_month").unwrap();
    let lines: Vec<(String, String)> =
        figures.reports[per_month].iter().map(|l| (l.keys.join(" "), l.figure.text())).collect();
    assert_eq!(lines, [("2026-03".to_owned(), "1600.20".to_owned()), ("2026-04".to_owned(), "0.20".to_owned())]);
    let d = h.data(id).await;
    assert_eq!(d["measures"][3]["note"], json!("春节慰问"));
    assert!(d["measures"][4].get("note").is_none(), "the next row has no note: {}", d["measures"][4]);
    assert!(!d.contains_key("measure_note") && !d.contains_key("measure_amount"), "the row's form is empty again");
    assert_eq!(d["assistance_total"], json!("1600.40"));

    // A monthly call falls due 12 times in a year, calls recorded between or not.
    let mut due = 0;
    for month in 1..=12 {
        h.clock.advance(time::Duration::days(31));
        due += h.rt.fire_due_timers().await.unwrap();
        if month % 2 == 0 {
            fire("record_contact", json!({ "contact_date": "2026-05-01", "contact_kind": "call" })).await.unwrap();
        }
    }
    let calls =
        h.rt.history(id).await.unwrap().into_iter().filter(|e| e.record.event.as_deref() == Some("call_due")).count();
    assert_eq!(calls, 12, "monthly, across the calls recorded between ({due} timers fired in all)");

    fire("leave_register", json!({ "exit_reason": "收入已稳定" })).await.unwrap();
    h.clock.advance(time::Duration::days(93));
    h.rt.fire_due_timers().await.unwrap();
    assert!(h.data(id).await.contains_key("escalations"), "the follow-up call three months after leaving is due");
    fire("record_follow_up", json!({ "follow_up_note": "已稳定就业" })).await.unwrap();
    assert_eq!(h.rt.instance(id).await.unwrap().row.state, "closed");
    h.rt.start("hardship_case", &w, &household(id_number, "2400", "300", json!({})))
        .await
        .expect("closed, the household may open a case again");
}

on_both_backends! {
    tier_boundaries => the_tier_is_exact_at_every_boundary;
    whole_case => a_household_has_one_open_case_and_a_whole_case_runs;
}

async fn the_demo_seeds_a_year_of_cases(backend: Backend) {
    let h = Harness::new(backend, workflows()).await;
    assert!(unionflow::demo::seed(&h.rt).await.expect("the demo seeds"));
    let count = |state: &str| {
        let sql = format!("SELECT COUNT(*) AS n FROM instances WHERE process = 'hardship_case' AND state = '{state}'");
        let h = &h;
        async move { h.count(&sql).await }
    };
    let all = h.count("SELECT COUNT(*) AS n FROM instances WHERE process = 'hardship_case'").await;
    assert_eq!(all, 24, "the scenario's cases");
    assert!(count("registered").await >= 12, "most households are on the register");
    for state in ["not_eligible", "rejected", "closed", "exited"] {
        assert!(count(state).await >= 1, "some case ended as {state}");
    }
    // The monthly calls fell due on the demo's clock, through the year.
    let due =
        h.count("SELECT COUNT(*) AS n FROM audit_events WHERE process = 'hardship_case' AND event = 'call_due'").await;
    assert!(due >= 60, "monthly calls fell due across the year: {due}");
}

on_both_backends! {
    demo_year => the_demo_seeds_a_year_of_cases;
}

/// The refusal of a case whose figures cannot be computed, as the caseworker reads it.
async fn zh_refusal_for(h: &Harness, extra: Value) -> String {
    let given = household("330881198001017777", "1000", "0", extra);
    let err = h.rt.start("hardship_case", &caseworker(), &given).await.unwrap_err();
    let RuntimeError::Refused(r) = &err else { panic!("{err:?}") };
    let def = h.rt.definitions().get("hardship_case").unwrap().clone();
    unionflow::web::view::refusal_text(&Tr::new(Lang::Zh), Some(&def), &h.rt.definitions().roles, r)
}

async fn a_case_that_cannot_be_computed_says_why_in_words(backend: Backend) {
    let h = Harness::new(backend, workflows()).await;
    // No 低保 row for 2027 yet: the field and the table by their labels, no code.
    let words = zh_refusal_for(&h, json!({ "reported_on": "2027-01-04" })).await;
    assert_eq!(words, "无法计算“适用低保标准”：最低生活保障标准中没有“江山市、2027”这一行。");
    // A date no record holds is refused where it is typed, naming the range.
    let given =
        household("330881198001017777", "1000", "0", json!({ "migrant": true, "employed_since": "9999-12-31" }));
    match h.rt.start("hardship_case", &caseworker(), &given).await {
        Err(RuntimeError::Refused(Refusal::Input(errors))) => {
            assert_eq!(errors.len(), 1);
            assert_eq!(errors[0].field, "employed_since");
            let words = unionflow::web::view::field_problem_text(&Tr::new(Lang::Zh), &errors[0].problem);
            assert_eq!(words, "请填写 1900-01-01 至 2199-12-31 之间的日期。");
        }
        other => panic!("{other:?}"),
    }
}

on_both_backends! {
    uncomputable_in_words => a_case_that_cannot_be_computed_says_why_in_words;
}
