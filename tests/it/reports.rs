//! Reports declared in definitions (issue 13, item 7): counted, summed and divided from the
//! instances a test creates, checked against figures the test works out itself from what it
//! created; the CSV says what the chart says; a bad `[[report]]` is refused at FILE:LINE:COL.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use serde_json::json;
use unionflow::definition::SourceFile;

use crate::on_both_backends;
use crate::support::{Backend, ROLES, admin, data, defs};
use crate::web::{Web, quick_config};

const PAYMENT: &str = r#"
id = "payment"
label = { zh = "补助发放", en = "Payment" }
initial = "open"

[start]
roles = ["admin"]
ask = ["kind", "amount", "paid_on", "district"]

[[stage]]
id = "main"
label = { zh = "办理", en = "Handling" }

[[state]]
id = "open"
stage = "main"
label = { zh = "办理中", en = "Open" }

[[state]]
id = "closed"
stage = "main"
final = true
outcome = "passed"
label = { zh = "已发放", en = "Paid" }

[[state]]
id = "refused"
stage = "main"
final = true
outcome = "failed"
label = { zh = "未发放", en = "Refused" }

[[field]]
id = "kind"
type = "choice"
label = { zh = "类别", en = "Kind" }
options = [
  { id = "medical", label = { zh = "医疗", en = "Medical" } },
  { id = "school", label = { zh = "助学", en = "Schooling" } },
  { id = "living", label = { zh = "生活", en = "Living" } },
]

[[field]]
id = "amount"
type = "int"
label = { zh = "金额", en = "Amount" }
min = 0
max = 1000000

[[field]]
id = "paid_on"
type = "date"
label = { zh = "发放日期", en = "Paid on" }

[[field]]
id = "district"
type = "text"
label = { zh = "街道", en = "District" }

[[transition]]
event = "pay"
from = "open"
to = "closed"
roles = ["admin"]
label = { zh = "发放", en = "Pay" }

[[transition]]
event = "refuse"
from = "open"
to = "refused"
roles = ["admin"]
label = { zh = "不予发放", en = "Refuse" }

[[report]]
id = "by_kind"
label = { zh = "各类别件数", en = "Cases by kind" }
kind = "count"
by = "kind"

[[report]]
id = "paid_by_month"
label = { zh = "每月发放金额", en = "Paid per month" }
kind = "sum"
of = "amount"
by_period = "month"
date = "paid_on"
states = ["closed"]

[[report]]
id = "paid_rate"
label = { zh = "发放率", en = "Share paid" }
kind = "rate"
by = "district"
numerator = { outcome = "passed" }
denominator = {}
"#;

const KINDS: [(&str, &str); 3] = [("medical", "医疗"), ("school", "助学"), ("living", "生活")];
const DISTRICTS: [&str; 3] = ["城南", "城北", "=SUM(1)"];

/// One case the test creates, and what became of it.
struct Made {
    kind: usize,
    amount: i64,
    paid_on: String,
    district: &'static str,
    paid: bool,
}

/// Cases of every kind, month and district, some paid and some refused, from a fixed sequence.
async fn cases(web: &Web) -> Vec<Made> {
    let mut made = Vec::new();
    let mut seed: u64 = 7;
    for i in 0..37 {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        let m = Made {
            kind: (seed >> 33) as usize % 3,
            amount: (seed >> 40) as i64 % 5000 + 1,
            paid_on: format!("2026-{:02}-{:02}", 1 + (seed >> 20) % 4, 1 + i % 28),
            district: DISTRICTS[(seed >> 50) as usize % 3],
            paid: !(seed >> 45).is_multiple_of(3),
        };
        let given =
            json!({ "kind": KINDS[m.kind].0, "amount": m.amount, "paid_on": m.paid_on, "district": m.district });
        let id = web.rt().start("payment", &admin(), &data(given)).await.expect("a case");
        let event = if m.paid { "pay" } else { "refuse" };
        web.rt().fire(id, None, &admin(), event, &data(json!({}))).await.expect("decided");
        made.push(m);
    }
    made
}

/// A chart's bars as (label, value), read from its SVG.
fn bars(body: &str, chart: &str) -> Vec<(String, String)> {
    let svg = body
        .split(&format!(r#"aria-labelledby="{chart}""#))
        .nth(1)
        .and_then(|rest| rest.split("</svg>").next())
        .unwrap_or_else(|| panic!("no chart {chart}"));
    svg.split(r#"<text class="label""#)
        .skip(1)
        .map(|bar| {
            let label = bar.split("<title>").nth(1).and_then(|t| t.split("</title>").next()).expect("a label");
            let value = bar
                .split(r#"<text class="value""#)
                .nth(1)
                .and_then(|t| t.split('>').nth(1))
                .and_then(|t| t.split("</text").next())
                .expect("a value");
            (label.replace("&amp;", "&"), value.to_owned())
        })
        .collect()
}

fn csv_rows(body: &str) -> Vec<Vec<String>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(body.trim_start_matches('\u{feff}').as_bytes());
    reader.records().map(|r| r.expect("a record").iter().map(str::to_owned).collect()).collect()
}

async fn app(backend: Backend) -> Web {
    let web = Web::new(backend, defs(&[("payment.toml", PAYMENT)]), quick_config()).await;
    web.people(&[("boss", &["admin"]), ("clerk", &["clerk"])]).await;
    web
}

async fn a_count_by_field_counts_the_instances_of_each_choice(backend: Backend) {
    let web = app(backend).await;
    let made = cases(&web).await;
    let mut b = web.browser();
    b.sign_in("boss").await;
    let page = b.get("/figures").await;
    assert_eq!(page.status, StatusCode::OK);

    let mut expected: Vec<(String, String)> = Vec::new();
    for (i, (_, label)) in KINDS.iter().enumerate() {
        let n = made.iter().filter(|m| m.kind == i).count();
        if n > 0 {
            expected.push(((*label).to_owned(), n.to_string()));
        }
    }
    assert_eq!(bars(&page.body, "payment-by_kind"), expected, "one bar per kind, in the options' order");

    let csv = b.get("/figures.csv?process=payment&report=by_kind").await;
    let rows = csv_rows(&csv.body);
    assert_eq!(rows[0], ["kind", "count"]);
    let from_csv: Vec<(String, String)> = rows[1..].iter().map(|r| (r[0].clone(), r[1].clone())).collect();
    assert_eq!(from_csv, expected, "the CSV says what the chart says");
}

async fn a_sum_by_month_adds_the_amounts_of_each_month_exactly(backend: Backend) {
    let web = app(backend).await;
    let made = cases(&web).await;
    let mut b = web.browser();
    b.sign_in("boss").await;
    let page = b.get("/figures").await;

    let mut expected: BTreeMap<String, i64> = BTreeMap::new();
    for m in made.iter().filter(|m| m.paid) {
        *expected.entry(m.paid_on[..7].to_owned()).or_default() += m.amount;
    }
    let expected: Vec<(String, String)> = expected.into_iter().map(|(k, v)| (k, v.to_string())).collect();
    assert_eq!(bars(&page.body, "payment-paid_by_month"), expected, "refused cases are not paid");

    let rows = csv_rows(&b.get("/figures.csv?process=payment&report=paid_by_month").await.body);
    assert_eq!(rows[0], ["month", "sum"]);
    let from_csv: Vec<(String, String)> = rows[1..].iter().map(|r| (r[0].clone(), r[1].clone())).collect();
    assert_eq!(from_csv, expected);
}

async fn a_rate_divides_one_count_by_another_per_group(backend: Backend) {
    let web = app(backend).await;
    let made = cases(&web).await;
    let mut b = web.browser();
    b.sign_in("boss").await;
    let page = b.get("/figures").await;

    let mut by_district: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    for m in &made {
        let e = by_district.entry(m.district).or_default();
        e.0 += u64::from(m.paid);
        e.1 += 1;
    }
    let percent = |paid: u64, all: u64| (paid as f64 * 100.0 / all as f64).round() as u64;
    let expected: Vec<(String, String)> = by_district
        .iter()
        .map(|(d, (paid, all))| ((*d).to_owned(), format!("{}% ({paid}/{all})", percent(*paid, *all))))
        .collect();
    let mut drawn = bars(&page.body, "payment-paid_rate");
    drawn.sort();
    assert_eq!(drawn, expected);

    let rows = csv_rows(&b.get("/figures.csv?process=payment&report=paid_rate").await.body);
    assert_eq!(rows[0], ["district", "numerator", "denominator", "rate_percent"]);
    let mut from_csv: Vec<(String, String)> = rows[1..]
        .iter()
        .map(|r| (r[0].trim_start_matches('\'').to_owned(), format!("{}% ({}/{})", r[3], r[1], r[2])))
        .collect();
    from_csv.sort();
    assert_eq!(from_csv, expected, "the CSV says what the chart says");
    assert!(rows.iter().any(|r| r[0] == "'=SUM(1)"), "a district typed as a formula stays text");
}

async fn only_those_who_read_a_process_read_its_figures(backend: Backend) {
    let web = app(backend).await;
    cases(&web).await;
    let mut b = web.browser();
    b.sign_in("clerk").await;
    assert_eq!(b.get("/figures").await.status, StatusCode::FORBIDDEN);
    assert_eq!(b.get("/figures.csv?process=payment&report=by_kind").await.status, StatusCode::FORBIDDEN);
    let mut boss = web.browser();
    boss.sign_in("boss").await;
    assert_eq!(boss.get("/figures.csv?process=payment&report=nothing").await.status, StatusCode::NOT_FOUND);
}

on_both_backends! {
    count_by_field => a_count_by_field_counts_the_instances_of_each_choice;
    sum_by_month => a_sum_by_month_adds_the_amounts_of_each_month_exactly;
    rate => a_rate_divides_one_count_by_another_per_group;
    who_reads => only_those_who_read_a_process_read_its_figures;
}

/// Where `needle` first appears in `text` after `after`, as `LINE:COL` (1-based, in characters).
fn place(text: &str, after: &str, needle: &str) -> String {
    let from = text.find(after).expect("the anchor");
    let at = from + text[from..].find(needle).expect("the needle");
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let col = before[before.rfind('\n').map_or(0, |i| i + 1)..].chars().count() + 1;
    format!("{line}:{col}")
}

#[test]
fn a_bad_report_is_refused_at_its_place() {
    let bad = PAYMENT.replace(
        "[[report]]\nid = \"by_kind\"",
        r#"[[report]]
id = "wrong_by"
label = { zh = "甲", en = "A" }
kind = "count"
by = "nowhere"

[[report]]
id = "wrong_sum"
label = { zh = "乙", en = "B" }
kind = "sum"
of = "district"

[[report]]
id = "wrong_state"
label = { zh = "丙", en = "C" }
kind = "rate"
numerator = { states = ["lost"] }
denominator = {}

[[report]]
id = "wrong_kind"
label = { zh = "丁", en = "D" }
kind = "median"

[[report]]
id = "wrong_period"
label = { zh = "戊", en = "E" }
kind = "count"
by_period = "week"
date = "district"

[[report]]
id = "by_kind""#,
    );
    let files = [
        SourceFile { path: "roles.toml".into(), text: ROLES.into() },
        SourceFile { path: "payment.toml".into(), text: bad.clone() },
    ];
    let problems = unionflow::definition::load(&files).expect_err("refused").to_string();
    let expect = |after: &str, needle: &str, message: &str| {
        let line = format!("payment.toml:{}: {message}", place(&bad, after, needle));
        assert!(problems.lines().any(|l| l == line), "{line}\nin:\n{problems}");
    };
    expect("wrong_by", "\"nowhere\"", "`by` names unknown field \"nowhere\"");
    expect("wrong_sum", "\"district\"", "field \"district\" is not a number (int or money) field: it cannot be summed");
    expect("wrong_state", "\"lost\"", "unknown state \"lost\"");
    expect(
        "wrong_kind",
        "\"median\"",
        "unknown report kind \"median\": use \"count\", \"sum\", \"average\", \"rate\" or \"days_in_stage\"",
    );
    expect("wrong_period", "\"week\"", "unknown period \"week\": use \"month\", \"quarter\" or \"year\"");
    expect("wrong_period", "\"district\"", "field \"district\" is not a date field");

    let unknown = PAYMENT.replace("by = \"kind\"", "by = \"kind\"\nper = \"month\"");
    let files = [
        SourceFile { path: "roles.toml".into(), text: ROLES.into() },
        SourceFile { path: "payment.toml".into(), text: unknown.clone() },
    ];
    let problems = unionflow::definition::load(&files).expect_err("refused").to_string();
    let at = format!("payment.toml:{}: ", place(&unknown, "by = \"kind\"", "per"));
    assert!(problems.lines().any(|l| l.starts_with(&at) && l.contains("unknown key `per`")), "{at}\nin:\n{problems}");
}

const STEPS: &str = r#"
id = "steps"
label = { zh = "步骤", en = "Steps" }
initial = "open"

[start]
roles = ["admin"]

[[stage]]
id = "intake"
label = { zh = "受理", en = "Intake" }

[[stage]]
id = "review"
label = { zh = "审查", en = "Review" }

[[stage]]
id = "in_force"
label = { zh = "生效", en = "In force" }
term = true

[[state]]
id = "open"
stage = "intake"
label = { zh = "受理中", en = "Open" }

[[state]]
id = "reviewing"
stage = "review"
label = { zh = "审查中", en = "Reviewing" }

[[state]]
id = "in_force"
stage = "in_force"
label = { zh = "生效", en = "In force" }

[[state]]
id = "ended"
stage = "in_force"
final = true
outcome = "passed"
label = { zh = "结束", en = "Ended" }

[[transition]]
event = "review"
from = "open"
to = "reviewing"
roles = ["admin"]
label = { zh = "审查", en = "Review" }

[[transition]]
event = "approve"
from = "reviewing"
to = "in_force"
roles = ["admin"]
label = { zh = "批准", en = "Approve" }

[[transition]]
event = "end"
from = "in_force"
to = "ended"
roles = ["admin"]
label = { zh = "结束", en = "End" }

[[report]]
id = "days"
label = { zh = "各阶段平均用时（天）", en = "Average days per stage" }
kind = "days_in_stage"
"#;

/// Days in each stage of the work, from the instances' histories: averaged over those that passed
/// through it, the stage still under way counted to now, and a term stage left out.
async fn days_in_stage_average_each_stage_over_those_that_passed_through_it(backend: Backend) {
    let h = crate::support::Harness::new(backend, defs(&[("steps.toml", STEPS)])).await;
    let fire = |id: i64, event: &'static str| {
        let h = &h;
        async move { h.rt.fire(id, None, &admin(), event, &data(json!({}))).await.unwrap() }
    };
    let day = time::Duration::days(1);
    let first = h.rt.start("steps", &admin(), &data(json!({}))).await.unwrap();
    h.clock.advance(day * 3);
    fire(first, "review").await;
    let second = h.rt.start("steps", &admin(), &data(json!({}))).await.unwrap();
    h.clock.advance(day * 5);
    fire(first, "approve").await;
    fire(second, "review").await;
    h.clock.advance(day * 400);
    fire(first, "end").await;
    h.clock.advance(day * 2);
    // first: intake 3, review 5 (then in force: not work). second: intake 5, review 400 + 2 so far.
    let def = h.rt.definitions().get("steps").unwrap().clone();
    let figures = unionflow::store::reports::figures(&h.db.db, &def, h.rt.offset(), h.rt.clock().now()).await.unwrap();
    let lines: Vec<(String, String)> = figures.reports[0].iter().map(|l| (l.keys.join(" "), l.figure.text())).collect();
    assert_eq!(lines, [("intake".to_owned(), "4".to_owned()), ("review".to_owned(), "203.5".to_owned())]);
}

on_both_backends! {
    days_in_stage => days_in_stage_average_each_stage_over_those_that_passed_through_it;
}
