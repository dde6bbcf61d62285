//! A whole collective bargaining round driven through the engine API on the built-in definitions:
//! overall → split → overall, with one unit rejecting once, the reply, submission and review
//! deadlines advanced by the test clock, and renewal.

use serde_json::json;
use unionflow::engine::report::Figure;
use unionflow::engine::{Actor, FieldProblem, GuardFailure, Refusal};
use unionflow::people::domain::RoleGrant;
use unionflow::runtime::RuntimeError;
use unionflow::store::delegations::NewDelegation;

use crate::on_both_backends;
use crate::support::{Backend, Harness, data};

/// The twelve units in scope: the demo's unit directory.
const UNITS: [&str; 12] = ["u01", "u02", "u03", "u04", "u05", "u06", "u07", "u08", "u09", "u10", "u11", "u12"];

fn worker_negotiator() -> Actor {
    Actor::new("wang", ["worker_negotiator"])
}
fn employer_negotiator() -> Actor {
    Actor::new("zhao", ["employer_negotiator"])
}
fn chief(name: &str) -> Actor {
    Actor::new(name, ["chief_representative"])
}
fn secretary(unit: &str) -> Actor {
    Actor::new(format!("sec-{unit}"), ["unit_secretary"]).with_units([unit])
}

async fn fire(h: &Harness, id: i64, actor: &Actor, event: &str, given: serde_json::Value) {
    h.rt.fire(id, None, actor, event, &data(given)).await.unwrap_or_else(|e| panic!("{event} by {}: {e}", actor.name));
}

async fn refused(h: &Harness, id: i64, actor: &Actor, event: &str, given: serde_json::Value) -> Refusal {
    match h.rt.fire(id, None, actor, event, &data(given)).await {
        Err(RuntimeError::Refused(r)) => r,
        other => panic!("{event} should be refused, got {other:?}"),
    }
}

/// A person with an account and these roles (the union's chair, say), once.
async fn person(h: &Harness, name: &str, roles: &[&str]) {
    if unionflow::store::users::id_of(&h.db.db, name).await.unwrap().is_some() {
        return;
    }
    let id = unionflow::store::users::insert(&h.db.db, name, name, "-", 0).await.unwrap();
    let grants: Vec<RoleGrant> =
        roles.iter().map(|r| RoleGrant::parse(r, &h.rt.definitions().roles).expect("a role")).collect();
    unionflow::people::users::set_grants(&h.db.db, id, &grants).await.unwrap();
}

/// A written delegation from `from` to `to`, for one round or (without it) from today on.
async fn delegate(h: &Harness, from: &str, to: &str, round: Option<i64>) -> i64 {
    let d =
        NewDelegation { from, to, instance: round, valid_from: "2026-01-01", valid_until: None, letter: "委托书" };
    unionflow::store::delegations::insert(&h.db.db, &d, "admin", crate::support::START).await.unwrap()
}

/// The person as they act today, with the written delegations they hold.
async fn with_delegations(h: &Harness, actor: Actor) -> Actor {
    let held = unionflow::store::delegations::held(&h.db.db, &actor.name, "2026-03-02").await.unwrap();
    actor.with_delegations(held)
}

/// A unit's assembly votes: `yes` of 25 delegates, 20 present.
async fn unit_votes(h: &Harness, child: i64, yes: i64) {
    let unit = h.data(child).await["unit"].as_str().expect("unit").to_owned();
    let sec = secretary(&unit);
    fire(
        h,
        child,
        &sec,
        "schedule",
        json!({ "assembly_date": "2026-04-20", "kind": "representatives", "roster_size": 25 }),
    )
    .await;
    fire(h, child, &sec, "open_session", json!({})).await;
    fire(h, child, &sec, "record_vote", json!({ "present": 20, "yes": yes, "no": 20 - yes, "abstain": 0 })).await;
    let passed = h.data(child).await["vote"]["outcome"] == json!("passed");
    if passed {
        fire(h, child, &sec, "confirm", json!({})).await;
    } else {
        fire(h, child, &sec, "close", json!({ "objections": "工资增幅过低" })).await;
    }
}

async fn latest_children(h: &Harness, round: i64) -> Vec<i64> {
    let children = h.rt.children(round).await.unwrap();
    let latest = children.iter().map(|c| c.fanout).max().unwrap_or(0);
    children.into_iter().filter(|c| c.fanout == latest).map(|c| c.id).collect()
}

/// Proposes a new draft version with the term it states, has both chiefs sign it and sends it out.
async fn sign_and_send_draft(h: &Harness, round: i64, term_years: i64) {
    let version = h.data(round).await.get("draft_version").and_then(|v| v.as_i64()).unwrap_or(0) + 1;
    let text = format!("第一条 工资增长 {}%\n第二条 带薪年假 10 天", 4 + version);
    let draft = json!({ "draft_text": text, "draft_summary": "工资增长", "term_years": term_years });
    fire(h, round, &worker_negotiator(), "propose_draft", draft).await;
    fire(h, round, &chief("张一"), "sign_draft_worker", json!({})).await;
    fire(h, round, &chief("李一"), "sign_draft_employer", json!({})).await;
    fire(h, round, &employer_negotiator(), "send_to_units", json!({})).await;
    assert_eq!(h.state(round).await, "unit_review");
}

/// Opens a round for the twelve units and negotiates to the first draft sent out.
async fn negotiated_round(h: &Harness) -> i64 {
    negotiated_round_under(h, json!({})).await
}

/// The same, opened with more data (what a rejection does, say).
async fn negotiated_round_under(h: &Harness, more: serde_json::Value) -> i64 {
    person(h, "张一", &["union_chair"]).await;
    let mut start = data(json!({ "sector": "海淀区民办教育", "year": 2026, "units": UNITS }));
    start.extend(data(more));
    let round = h.rt.start("bargaining_round", &worker_negotiator(), &start).await.expect("open the round");
    fire(h, round, &worker_negotiator(), "request_by_workers", json!({ "request_letter": "要求开展集体协商" })).await;

    // The 20-day reply deadline passes: the admins are alerted, and the round waits on.
    h.clock.advance(time::Duration::days(25));
    assert_eq!(h.rt.fire_due_timers().await.unwrap(), 1);
    assert_eq!(h.data(round).await["escalations"][0]["role"], json!("admin"));
    fire(h, round, &employer_negotiator(), "reply_by_employer", json!({})).await;
    assert!(h.data(round).await.get("escalations").is_none(), "answered: the alert is over");

    let too_few = refused(
        h,
        round,
        &worker_negotiator(),
        "name_worker_side",
        json!({ "worker_reps": "张一、张二", "worker_chief": "张一" }),
    )
    .await;
    assert!(matches!(too_few, Refusal::Guard(GuardFailure::TooFew { min: 3, .. }, _)), "{too_few}");
    let chief_outside = refused(
        h,
        round,
        &worker_negotiator(),
        "name_worker_side",
        json!({ "worker_reps": "张一、张二、张三", "worker_chief": "王五" }),
    )
    .await;
    assert!(matches!(chief_outside, Refusal::Guard(GuardFailure::NotMember { .. }, _)), "{chief_outside}");
    fire(
        h,
        round,
        &worker_negotiator(),
        "name_worker_side",
        json!({ "worker_reps": "张一、张二、张三", "worker_chief": "张一" }),
    )
    .await;
    // The worker side's chief named as the employer side's: nobody is on both sides.
    let both_sides = refused(
        h,
        round,
        &employer_negotiator(),
        "name_employer_side",
        json!({ "employer_reps": "李一\n李二\n张一", "employer_chief": "张一" }),
    )
    .await;
    assert!(
        matches!(&both_sides, Refusal::Guard(GuardFailure::InBoth { item, .. }, _) if item == "张一"),
        "{both_sides}"
    );
    fire(
        h,
        round,
        &employer_negotiator(),
        "name_employer_side",
        json!({ "employer_reps": "李一\n李二\n李三", "employer_chief": "李一" }),
    )
    .await;
    fire(h, round, &employer_negotiator(), "start_negotiation", json!({})).await;

    // Topics raised by units; those at the table are picked from them, and only from them.
    for (title, unit) in [("工资标准", "u01"), ("带薪休假", "u07"), ("班主任津贴", "u02")] {
        let topic = json!({ "topic_title": title, "topic_detail": "职工提出", "topic_unit": unit });
        fire(h, round, &worker_negotiator(), "raise_topic", topic).await;
    }
    let unraised =
        refused(h, round, &worker_negotiator(), "record_topics", json!({ "topics": ["工资标准", "住房补贴"] })).await;
    let Refusal::Input(errors) = unraised else { panic!("{unraised}") };
    assert!(matches!(&errors[0].problem, FieldProblem::NotOffered { item, .. } if item == "住房补贴"));
    fire(h, round, &worker_negotiator(), "record_topics", json!({ "topics": ["工资标准", "班主任津贴"] })).await;
    assert_eq!(h.data(round).await["topics"], json!(["工资标准", "班主任津贴"]));
    assert_eq!(h.data(round).await["raised_topics"].as_array().map(Vec::len), Some(3));

    fire(
        h,
        round,
        &worker_negotiator(),
        "record_session",
        json!({ "session_date": "2026-04-01", "session_attendees": "张一\n李一", "session_minutes": "双方就工资标准协商" }),
    )
    .await;

    let wrong_signer = refused(h, round, &chief("李一"), "sign_draft_worker", json!({})).await;
    assert!(matches!(wrong_signer, Refusal::Guard(GuardFailure::NotTheActor { .. }, _)), "{wrong_signer}");
    let no_term = refused(h, round, &worker_negotiator(), "propose_draft", json!({ "draft_text": "第一条" })).await;
    assert!(matches!(no_term, Refusal::Input(_)), "a draft states its term: {no_term}");
    let too_long =
        refused(h, round, &worker_negotiator(), "propose_draft", json!({ "draft_text": "第一条", "term_years": 4 }))
            .await;
    assert!(matches!(too_long, Refusal::Input(_)), "a term is 1 to 3 years: {too_long}");
    sign_and_send_draft(h, round, 3).await;
    round
}

async fn a_round_with_one_rejection_ends_in_effect_and_opens_renewal(backend: Backend) {
    let h = Harness::embedded(backend).await;
    let round = negotiated_round(&h).await;

    let first = latest_children(&h, round).await;
    assert_eq!(first.len(), 12, "one assembly approval per unit");
    // The units take more than the 30 days they were given: the admins are told, the round waits.
    h.clock.advance(time::Duration::days(35));
    assert_eq!(h.rt.fire_due_timers().await.unwrap(), 1);
    assert_eq!(h.data(round).await["escalations"][0]["event"], json!("unit_review_overdue"));
    let schedule = json!({ "assembly_date": "2026-04-20", "kind": "representatives", "roster_size": 25 });
    let other_units_secretary = refused(&h, first[0], &secretary("u02"), "schedule", schedule).await;
    assert!(matches!(other_units_secretary, Refusal::OutOfScope { .. }));
    unit_votes(&h, first[0], 14).await;
    unit_votes(&h, first[1], 13).await; // 13 of 25: exactly half or more of the whole roster
    for child in &first[2..11] {
        unit_votes(&h, *child, 15).await;
    }
    assert_eq!(h.state(round).await, "unit_review", "one unit is still to decide");
    unit_votes(&h, first[11], 12).await; // 12 of 25: not enough
    assert_eq!(h.state(round).await, "negotiating", "a rejection sends the round back");
    let resend = refused(&h, round, &employer_negotiator(), "send_to_units", json!({})).await;
    assert!(matches!(resend, Refusal::Guard(_, _)), "the rejected draft cannot be sent again: {resend}");

    // The talks change the term with the next version: a version signed by one chief and then
    // replaced loses that signature, so the term in force is the one both chiefs signed.
    let draft = json!({ "draft_text": "第一条 工资增长 5%", "term_years": 1 });
    fire(&h, round, &worker_negotiator(), "propose_draft", draft).await;
    fire(&h, round, &chief("张一"), "sign_draft_worker", json!({})).await;
    let draft = json!({ "draft_text": "第一条 工资增长 5%", "term_years": 2 });
    fire(&h, round, &worker_negotiator(), "propose_draft", draft).await;
    assert!(h.data(round).await.get("worker_draft_signed_on").is_none(), "a new term, a new signature");
    let unsigned = refused(&h, round, &employer_negotiator(), "send_to_units", json!({})).await;
    assert!(matches!(unsigned, Refusal::Guard(GuardFailure::NotSet { .. }, _)), "{unsigned}");
    fire(&h, round, &chief("张一"), "sign_draft_worker", json!({})).await;
    fire(&h, round, &chief("李一"), "sign_draft_employer", json!({})).await;
    fire(&h, round, &employer_negotiator(), "send_to_units", json!({})).await;
    assert_eq!(h.data(round).await["draft_version"], json!(3));
    let second = latest_children(&h, round).await;
    assert_eq!(second.len(), 12, "every unit votes on the new draft");
    assert_eq!(h.data(second[0]).await["draft_version"], json!(3));
    for child in &second {
        unit_votes(&h, *child, 15).await;
    }
    assert_eq!(h.state(round).await, "reviewing_confirmations");

    fire(&h, round, &worker_negotiator(), "accept_confirmations", json!({})).await;
    fire(&h, round, &chief("张一"), "sign_contract_worker", json!({})).await;
    fire(&h, round, &chief("李一"), "sign_contract_employer", json!({})).await;
    assert_eq!(h.state(round).await, "awaiting_submission", "the second signature completes the signing");
    fire(&h, round, &worker_negotiator(), "seal_worker", json!({})).await;
    let one_seal = refused(&h, round, &employer_negotiator(), "submit_to_bureau", json!({})).await;
    assert!(matches!(one_seal, Refusal::Guard(GuardFailure::NotSet { .. }, _)), "both sides seal first: {one_seal}");
    fire(&h, round, &employer_negotiator(), "seal_employer", json!({})).await;

    // Ten days pass without submission: escalated, still waiting for it.
    h.clock.advance(time::Duration::days(15));
    assert_eq!(h.rt.fire_due_timers().await.unwrap(), 1);
    assert_eq!(h.data(round).await["escalations"][0]["event"], json!("submission_overdue"));
    fire(&h, round, &employer_negotiator(), "submit_to_bureau", json!({})).await;

    // Fifteen days of review without objection: in effect by the timer.
    h.clock.advance(time::Duration::days(14));
    assert_eq!(h.rt.fire_due_timers().await.unwrap(), 0, "the bureau still has time");
    h.clock.advance(time::Duration::days(5));
    assert_eq!(h.rt.fire_due_timers().await.unwrap(), 1);
    assert_eq!(h.state(round).await, "in_effect");
    let d = h.data(round).await;
    let effective = d["effective_on"].as_str().unwrap().to_owned();
    let term_end = d["term_end"].as_str().unwrap().to_owned();
    assert_eq!(&term_end[..4], &(effective[..4].parse::<i32>().unwrap() + 2).to_string(), "the signed two-year term");
    // Eleven units ticked at once: one step.
    fire(&h, round, &worker_negotiator(), "record_publication", json!({ "published_now": &UNITS[..11] })).await;
    let incomplete = refused(&h, round, &worker_negotiator(), "confirm_published_everywhere", json!({})).await;
    assert!(
        matches!(incomplete, Refusal::Guard(GuardFailure::CountsDiffer { a_count: 11, b_count: 12, .. }, _)),
        "one unit has not published yet: {incomplete}"
    );
    fire(&h, round, &worker_negotiator(), "record_publication", json!({ "published_now": [UNITS[11], "u01"] })).await;
    assert_eq!(h.data(round).await["published_units"], json!(UNITS), "every unit once, in the order published");
    fire(&h, round, &worker_negotiator(), "confirm_published_everywhere", json!({})).await;
    assert!(h.data(round).await["published_everywhere_on"].is_string());

    // Renewal opens three months before the end of the signed term.
    h.clock.advance(time::Duration::days(365 * 2 - 100));
    assert_eq!(h.rt.fire_due_timers().await.unwrap(), 0, "not yet three months before the end");
    h.clock.advance(time::Duration::days(20));
    assert_eq!(h.rt.fire_due_timers().await.unwrap(), 1);
    assert_eq!(h.state(round).await, "renewal_window");
    fire(&h, round, &employer_negotiator(), "request_renewal", json!({})).await;
    assert_eq!(h.state(round).await, "renewal_requested");

    let report = unionflow::store::audit::verify(&h.db.db).await.unwrap();
    assert_eq!(report.broken, None, "the whole round is on an intact chain");
}

async fn a_bureau_objection_sends_the_round_back_to_negotiation(backend: Backend) {
    let h = Harness::embedded(backend).await;
    let round = negotiated_round(&h).await;
    for child in latest_children(&h, round).await {
        unit_votes(&h, child, 15).await;
    }
    fire(&h, round, &worker_negotiator(), "accept_confirmations", json!({})).await;
    fire(&h, round, &chief("张一"), "sign_contract_worker", json!({})).await;
    fire(&h, round, &chief("李一"), "sign_contract_employer", json!({})).await;
    fire(&h, round, &worker_negotiator(), "seal_worker", json!({})).await;
    fire(&h, round, &employer_negotiator(), "seal_employer", json!({})).await;
    fire(&h, round, &employer_negotiator(), "submit_to_bureau", json!({})).await;
    let bureau = Actor::new("liu", ["bureau_reviewer"]);
    let no_reason = refused(&h, round, &bureau, "object", json!({})).await;
    assert!(matches!(no_reason, Refusal::Input(_)), "an objection needs its reasons: {no_reason}");
    let reasons = json!({ "objection": "第十二条工时条款违反规定" });
    let no_opinion = refused(&h, round, &bureau, "object", reasons.clone()).await;
    assert!(matches!(no_opinion, Refusal::AttachmentRequired(_)), "an objection carries its written opinion");
    let opinion = crate::attachments::pdf(4096);
    crate::attachments::fire_with_file(&h.rt, round, &bureau, "object", data(reasons), "审查意见书.pdf", &opinion)
        .await
        .expect("the objection with its opinion");
    assert_eq!(h.state(round).await, "negotiating");
    h.clock.advance(time::Duration::days(30));
    assert_eq!(h.rt.fire_due_timers().await.unwrap(), 0, "the review period's timer was cancelled");
    assert_eq!(h.state(round).await, "negotiating");
}

/// A round whose every unit passed the first draft, signed, sealed and submitted to the bureau.
async fn submitted_round(h: &Harness) -> i64 {
    let round = negotiated_round(h).await;
    for child in latest_children(h, round).await {
        unit_votes(h, child, 15).await;
    }
    fire(h, round, &worker_negotiator(), "accept_confirmations", json!({})).await;
    fire(h, round, &chief("张一"), "sign_contract_worker", json!({})).await;
    fire(h, round, &chief("李一"), "sign_contract_employer", json!({})).await;
    fire(h, round, &worker_negotiator(), "seal_worker", json!({})).await;
    fire(h, round, &employer_negotiator(), "seal_employer", json!({})).await;
    fire(h, round, &employer_negotiator(), "submit_to_bureau", json!({})).await;
    round
}

async fn a_review_that_lapses_while_the_server_is_down_takes_effect_the_day_after_its_last_day(backend: Backend) {
    let h = Harness::embedded(backend).await;
    let round = submitted_round(&h).await;
    let review = h.rt.timers(round).await.unwrap().into_iter().next().expect("the review period runs");
    // The server is down from before the review's last day until twelve days after it.
    h.clock.set(review.due_at + time::Duration::days(12));
    assert_eq!(h.rt.fire_due_timers().await.unwrap(), 1);
    assert_eq!(h.state(round).await, "in_effect");
    let d = h.data(round).await;
    let last_day = unionflow::definition::calendar::parse_date(&review.last_day).expect("a date");
    let effective = last_day.next_day().unwrap();
    let fmt = |d: time::Date| format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day());
    assert_eq!(d["effective_on"], json!(fmt(effective)), "in effect the day after the review's last day");
    let anniversary = effective.replace_year(effective.year() + 3).unwrap();
    assert_eq!(d["term_end"], json!(fmt(anniversary.previous_day().unwrap())), "three years end the day before");
    let lapsed = h.rt.history(round).await.unwrap().into_iter().last().unwrap();
    assert_eq!(
        lapsed.at(),
        unionflow::clock::Clock::now(h.clock.as_ref()),
        "the trail records when the timer really ran"
    );
}

async fn withdrawing_a_round_withdraws_the_unit_votes_still_running(backend: Backend) {
    let h = Harness::embedded(backend).await;
    let round = negotiated_round(&h).await;
    let children = latest_children(&h, round).await;
    unit_votes(&h, children[0], 15).await;
    let admin = Actor::new("admin", ["admin"]);
    fire(&h, round, &admin, "withdraw", json!({ "withdrawal_reason": "举办者变更" })).await;
    assert_eq!(h.state(round).await, "withdrawn");
    assert_eq!(h.state(children[0]).await, "passed", "a unit that had decided keeps its decision");
    for child in &children[1..] {
        assert_eq!(h.state(*child).await, "withdrawn", "a vote still running is withdrawn with its round");
        let last = h.rt.history(*child).await.unwrap().into_iter().last().unwrap();
        assert_eq!(last.record.event.as_deref(), Some("round_withdrawn"), "in the unit's own history");
    }
    let report = unionflow::store::audit::verify(&h.db.db).await.unwrap();
    assert_eq!(report.broken, None);
}

/// A term counted from a date: `add_years` with and without `last_day`.
const TERM: &str = r#"
id = "term"
label = { zh = "期限", en = "Term" }
initial = "open"

[start]
roles = ["admin"]
ask = ["from", "years"]

[[stage]]
id = "main"
label = { zh = "主", en = "Main" }

[[state]]
id = "open"
stage = "main"
label = { zh = "开", en = "Open" }

[[state]]
id = "done"
stage = "main"
final = true
outcome = "passed"
label = { zh = "完", en = "Done" }

[[field]]
id = "from"
type = "date"
label = { zh = "起", en = "From" }

[[field]]
id = "years"
type = "int"
label = { zh = "年", en = "Years" }

[[field]]
id = "to"
type = "date"
label = { zh = "止", en = "To" }

[[field]]
id = "anniversary"
type = "date"
label = { zh = "周年", en = "Anniversary" }

[[transition]]
event = "count"
from = "open"
to = "done"
roles = ["admin"]
label = { zh = "计算", en = "Count" }
effects = [
  { add_years = { into = "to", date = "from", years = "years", last_day = true } },
  { add_years = { into = "anniversary", date = "from", years = "years" } },
]
"#;

async fn a_term_of_three_years_from_10_09_ends_on_10_08(backend: Backend) {
    let h = Harness::new(backend, crate::support::defs(&[("term.toml", TERM)])).await;
    let admin = crate::support::admin();
    let id = h.rt.start("term", &admin, &data(json!({ "from": "2026-10-09", "years": 3 }))).await.unwrap();
    h.rt.fire(id, None, &admin, "count", &data(json!({}))).await.unwrap();
    let d = h.data(id).await;
    assert_eq!(d["to"], json!("2029-10-08"), "the last day of the term is the day before the anniversary");
    assert_eq!(d["anniversary"], json!("2029-10-09"));
}

/// 劳动合同法 Art. 54 and the Beijing model: under `leave_out` the contract binds the units that
/// passed it, each unit that rejected it is followed up, and the figures count the units covered.
async fn units_that_reject_are_left_out_when_the_round_says_so(backend: Backend) {
    let h = Harness::embedded(backend).await;
    let round = negotiated_round_under(&h, json!({ "rejection_rule": "leave_out" })).await;
    let children = latest_children(&h, round).await;
    for (i, child) in children.iter().enumerate() {
        unit_votes(&h, *child, if i < 2 { 10 } else { 15 }).await;
    }
    assert_eq!(h.state(round).await, "reviewing_confirmations", "the units that passed go on");
    let d = h.data(round).await;
    assert_eq!(d["covered_units"], json!(&UNITS[2..]), "the units that passed, in their order");
    assert_eq!(d["left_out_units"], json!(&UNITS[..2]));
    assert_eq!(d["draft_version"], json!(1), "no new draft: the same text goes on");
    let join = h.rt.history(round).await.unwrap().into_iter().rfind(|e| e.record.kind == "join").expect("the join");
    assert_eq!(join.data()["input"]["left_out_units"], json!(&UNITS[..2]), "the audit event keeps who was left out");

    // Each unit left out is followed up once; a unit that was not left out cannot be.
    let not_left_out = refused(
        &h,
        round,
        &worker_negotiator(),
        "record_follow_up",
        json!({ "follow_up_unit": "u05", "follow_up_path": "own_bargaining" }),
    )
    .await;
    assert!(matches!(&not_left_out, Refusal::Input(e) if matches!(e[0].problem, FieldProblem::NotOffered { .. })));
    for (unit, path) in [("u01", "own_bargaining"), ("u02", "vote_again")] {
        let follow_up = json!({ "follow_up_unit": unit, "follow_up_path": path, "follow_up_note": "单位工会跟进" });
        fire(&h, round, &worker_negotiator(), "record_follow_up", follow_up).await;
    }
    let all_done = refused(
        &h,
        round,
        &worker_negotiator(),
        "record_follow_up",
        json!({ "follow_up_unit": "u01", "follow_up_path": "no_contract" }),
    )
    .await;
    assert!(matches!(all_done, Refusal::Guard(GuardFailure::Compare { .. }, Some(_))), "{all_done}");

    fire(&h, round, &worker_negotiator(), "accept_confirmations", json!({})).await;
    fire(&h, round, &chief("张一"), "sign_contract_worker", json!({})).await;
    fire(&h, round, &chief("李一"), "sign_contract_employer", json!({})).await;
    fire(&h, round, &worker_negotiator(), "seal_worker", json!({})).await;
    fire(&h, round, &employer_negotiator(), "seal_employer", json!({})).await;
    fire(&h, round, &employer_negotiator(), "submit_to_bureau", json!({})).await;
    fire(&h, round, &Actor::new("liu", ["bureau_reviewer"]), "approve", json!({})).await;

    // Published where it binds: a unit left out is not offered, and the covered units complete it.
    let left_out =
        refused(&h, round, &worker_negotiator(), "record_publication", json!({ "published_now": ["u01"] })).await;
    assert!(matches!(left_out, Refusal::Input(_)), "{left_out}");
    fire(&h, round, &worker_negotiator(), "record_publication", json!({ "published_now": &UNITS[2..] })).await;
    fire(&h, round, &worker_negotiator(), "confirm_published_everywhere", json!({})).await;

    let def = h.rt.definitions().get("bargaining_round").unwrap().clone();
    let figures =
        unionflow::store::reports::figures(&h.db.db, &def, time::UtcOffset::UTC, h.rt.clock().now()).await.unwrap();
    let rate = def.reports.iter().position(|r| r.id == "signing_rate").expect("the declared signing rate");
    assert_eq!(
        figures.reports[rate][0].figure,
        Figure::Rate { numerator: 10, denominator: 12 },
        "the signing rate counts units covered"
    );
}

/// Under `leave_out`, a round that no unit passed has nothing to bind: it goes back to the table.
async fn a_round_no_unit_passed_renegotiates_even_when_units_may_be_left_out(backend: Backend) {
    let h = Harness::embedded(backend).await;
    let round = negotiated_round_under(&h, json!({ "rejection_rule": "leave_out" })).await;
    for child in latest_children(&h, round).await {
        unit_votes(&h, child, 10).await;
    }
    assert_eq!(h.state(round).await, "negotiating");
    assert_eq!(h.data(round).await["left_out_units"], json!(UNITS));
}

/// By default any rejection renegotiates, and once every unit passes they are all covered.
async fn by_default_every_unit_is_covered_once_all_passed(backend: Backend) {
    let h = Harness::embedded(backend).await;
    let round = negotiated_round(&h).await;
    let first = latest_children(&h, round).await;
    for (i, child) in first.iter().enumerate() {
        unit_votes(&h, *child, if i == 0 { 10 } else { 15 }).await;
    }
    assert_eq!(h.state(round).await, "negotiating", "one rejection renegotiates");
    sign_and_send_draft(&h, round, 3).await;
    for child in latest_children(&h, round).await {
        unit_votes(&h, child, 15).await;
    }
    let d = h.data(round).await;
    assert_eq!((h.state(round).await.as_str(), &d["covered_units"]), ("reviewing_confirmations", &json!(UNITS)));
    assert_eq!(d["left_out_units"], json!([]));
    let nothing = refused(
        &h,
        round,
        &worker_negotiator(),
        "record_follow_up",
        json!({ "follow_up_unit": "u01", "follow_up_path": "own_bargaining" }),
    )
    .await;
    assert!(matches!(nothing, Refusal::Input(_) | Refusal::Guard(GuardFailure::TooFew { .. }, Some(_))), "{nothing}");
}

/// A round opened and answered, with the worker side named with `chief` and the employer side
/// named, negotiating, with a first draft proposed.
async fn round_with_worker_chief(h: &Harness, chief: &str) -> Result<i64, Refusal> {
    person(h, "张一", &["union_chair"]).await;
    let start = data(json!({ "sector": "海淀区民办教育", "year": 2026, "units": ["u01"] }));
    let round = h.rt.start("bargaining_round", &worker_negotiator(), &start).await.expect("open the round");
    fire(h, round, &worker_negotiator(), "request_by_workers", json!({ "request_letter": "要求开展集体协商" })).await;
    fire(h, round, &employer_negotiator(), "reply_by_employer", json!({})).await;
    let side = json!({ "worker_reps": "张一、张二、张三", "worker_chief": chief });
    match h.rt.fire(round, None, &worker_negotiator(), "name_worker_side", &data(side)).await {
        Err(RuntimeError::Refused(r)) => return Err(r),
        other => other.expect("named"),
    };
    let side = json!({ "employer_reps": "李一\n李二\n李三", "employer_chief": "李一" });
    fire(h, round, &employer_negotiator(), "name_employer_side", side).await;
    fire(h, round, &employer_negotiator(), "start_negotiation", json!({})).await;
    let draft = json!({ "draft_text": "第一条 工资增长 5%", "term_years": 3 });
    fire(h, round, &worker_negotiator(), "propose_draft", draft).await;
    Ok(round)
}

/// Art. 20: the worker side's chief is the union chair or holds the chair's written delegation;
/// a chief's signature is taken from the chief or a delegate, recorded with the letter it rests
/// on, and a revoked or another round's delegation carries nothing.
async fn the_workers_chief_is_the_chair_or_a_written_delegate(backend: Backend) {
    let h = Harness::embedded(backend).await;
    let not_chair = round_with_worker_chief(&h, "张三").await.expect_err("张三 is not the chair");
    assert!(
        matches!(&not_chair, Refusal::Guard(GuardFailure::NotRoleOrDelegate { role, .. }, Some(_)) if role == "union_chair"),
        "{not_chair}"
    );

    // The chair delegates the role for the next round: 张三 is named and signs as chief.
    let next_round_id = round_with_worker_chief(&h, "张一").await.expect("the chair is named") + 1;
    let letter = delegate(&h, "张一", "张三", Some(next_round_id)).await;
    let round = round_with_worker_chief(&h, "张三").await.expect("the chair's delegate is named");
    assert_eq!(round, next_round_id);
    let zhang_san = with_delegations(&h, Actor::new("张三", ["worker_negotiator"])).await;
    fire(&h, round, &zhang_san, "sign_draft_worker", json!({})).await;
    assert_eq!(h.data(round).await["worker_draft_signer"], json!("张三"));

    // Revoked, the delegation no longer makes 张三 the chief: a new draft cannot be signed.
    assert!(unionflow::store::delegations::revoke(&h.db.db, letter, "张一", crate::support::START).await.unwrap());
    let draft = json!({ "draft_text": "第一条 工资增长 6%", "term_years": 3 });
    fire(&h, round, &worker_negotiator(), "propose_draft", draft).await;
    let revoked = refused(&h, round, &zhang_san, "sign_draft_worker", json!({})).await;
    assert!(matches!(revoked, Refusal::Guard(GuardFailure::NotRoleOrDelegate { .. }, Some(_))), "{revoked}");
    let options = h.rt.options(round, &zhang_san).await.unwrap();
    assert!(
        options.iter().any(|(event, refusal)| event == "sign_draft_worker" && refusal.is_some()),
        "the page and the work list no longer offer what firing would refuse"
    );
    // The round is not stuck: the worker side names the chair again, who signs.
    fire(&h, round, &worker_negotiator(), "replace_worker_chief", json!({ "worker_chief": "张一" })).await;
    fire(&h, round, &chief("张一"), "sign_draft_worker", json!({})).await;

    // Nobody signs for the other side, even holding its chief's letter.
    delegate(&h, "李一", "张二", Some(round)).await;
    let zhang_er = with_delegations(&h, Actor::new("张二", ["employer_negotiator"])).await;
    let other_side = refused(&h, round, &zhang_er, "sign_draft_employer", json!({})).await;
    assert!(matches!(other_side, Refusal::Guard(GuardFailure::ActorIn { .. }, _)), "{other_side}");

    // The chair is chief of a round and hands the signing to 张二 for a period: 张二 signs for
    // 张一, and the round keeps who signed under which letter.
    let chaired = round_with_worker_chief(&h, "张一").await.expect("the chair is named");
    let other_round = delegate(&h, "张一", "张三", Some(round)).await;
    let zhang_san = with_delegations(&h, Actor::new("张三", ["worker_negotiator"])).await;
    let elsewhere = refused(&h, chaired, &zhang_san, "sign_draft_worker", json!({})).await;
    assert!(
        matches!(elsewhere, Refusal::Guard(GuardFailure::NotTheActor { .. }, _)),
        "letter {other_round}: {elsewhere}"
    );
    let period = delegate(&h, "张一", "张四", None).await;
    let zhang_si = with_delegations(&h, Actor::new("张四", ["worker_negotiator"])).await;
    fire(&h, chaired, &zhang_si, "sign_draft_worker", json!({})).await;
    let d = h.data(chaired).await;
    assert_eq!((&d["worker_draft_signer"], &d["worker_draft_delegation"]), (&json!("张四"), &json!(period)));
    let signed = h.rt.history(chaired).await.unwrap().into_iter().last().unwrap().data();
    assert_eq!(
        (&signed["for"], &signed["delegation"]),
        (&json!("张一"), &json!(period)),
        "audited as for whom, by which letter"
    );
    assert!(d["worker_draft_signed_on"].is_string());
}

/// Art. 34 and 49–53: the talks are suspended only when both sides agree, the agreed date to
/// resume is watched, and a dispute goes to the bureau's coordination, watched for its 30 days,
/// and back to the table with its outcome.
async fn talks_are_suspended_resumed_and_a_dispute_is_coordinated(backend: Backend) {
    let h = Harness::embedded(backend).await;
    let round = round_with_worker_chief(&h, "张一").await.expect("named");
    let alone = refused(
        &h,
        round,
        &worker_negotiator(),
        "suspend_talks",
        json!({ "suspension_reason": "工资标准分歧较大", "resume_on": "2026-03-20", "both_parties_agree": false }),
    )
    .await;
    assert!(matches!(alone, Refusal::Guard(GuardFailure::NotTrue { .. }, Some(_))), "{alone}");
    let agreed =
        json!({ "suspension_reason": "工资标准分歧较大", "resume_on": "2026-03-20", "both_parties_agree": true });
    fire(&h, round, &worker_negotiator(), "suspend_talks", agreed).await;
    assert_eq!(h.state(round).await, "suspended");
    h.clock.advance(time::Duration::days(18));
    assert_eq!(h.rt.fire_due_timers().await.unwrap(), 0, "the agreed day has not ended yet");
    h.clock.advance(time::Duration::days(1));
    assert_eq!(h.rt.fire_due_timers().await.unwrap(), 1);
    assert_eq!(h.data(round).await["escalations"][0]["event"], json!("resume_overdue"));
    fire(&h, round, &employer_negotiator(), "resume_talks", json!({})).await;
    assert_eq!(h.state(round).await, "negotiating");

    fire(&h, round, &employer_negotiator(), "request_coordination", json!({ "dispute": "工资增幅" })).await;
    let bureau = Actor::new("liu", ["bureau_reviewer"]);
    fire(&h, round, &bureau, "accept_coordination", json!({})).await;
    assert_eq!(h.state(round).await, "in_coordination");
    h.clock.advance(time::Duration::days(35));
    assert_eq!(h.rt.fire_due_timers().await.unwrap(), 1, "30 days of coordination passed");
    assert_eq!(h.data(round).await["escalations"][0]["role"], json!("bureau_reviewer"));
    let outcome = json!({ "coordination_outcome": "agreed", "coordination_agreement": "工资年增长 5.5%" });
    fire(&h, round, &bureau, "record_coordination", outcome).await;
    assert_eq!(h.state(round).await, "negotiating", "the talks go on with the agreement");
    assert!(h.data(round).await["coordination_closed_on"].is_string());
}

/// Art. 39–41: a contract in force is amended or ended by the same procedure — agreed, voted by
/// every unit it covers, filed and reviewed; a unit's rejection leaves it as it is.
async fn a_contract_in_force_is_amended_or_ended_by_votes_and_filing(backend: Backend) {
    let h = Harness::embedded(backend).await;
    let round = submitted_round(&h).await;
    let bureau = Actor::new("liu", ["bureau_reviewer"]);
    fire(&h, round, &bureau, "approve", json!({})).await;
    let propose = |kind: &str| json!({ "amendment_kind": kind, "amendment_ground": "agreed", "amendment_text": "第一条修改为：工资年增长 6%" });
    let vote_all = async |yes: &[i64]| {
        fire(&h, round, &worker_negotiator(), "send_amendment_to_units", json!({})).await;
        let children = latest_children(&h, round).await;
        assert_eq!(children.len(), 12, "every unit the contract covers votes");
        for (child, yes) in children.iter().zip(yes.iter().cycle()) {
            unit_votes(&h, *child, *yes).await;
        }
    };

    fire(&h, round, &worker_negotiator(), "propose_amendment", propose("amend")).await;
    vote_all(&[15]).await;
    assert_eq!(h.state(round).await, "amendment_filing");
    fire(&h, round, &employer_negotiator(), "file_amendment", json!({})).await;
    fire(&h, round, &bureau, "approve_amendment", json!({})).await;
    let d = h.data(round).await;
    assert_eq!((h.state(round).await.as_str(), &d["amendments"]), ("in_effect", &json!(1)));
    assert!(d["amended_on"].is_string());

    fire(&h, round, &employer_negotiator(), "propose_amendment", propose("terminate")).await;
    vote_all(&[15, 10]).await;
    assert_eq!(h.state(round).await, "in_effect", "a unit rejected the ending: the contract stands");

    fire(&h, round, &employer_negotiator(), "propose_amendment", propose("terminate")).await;
    vote_all(&[15]).await;
    fire(&h, round, &employer_negotiator(), "file_amendment", json!({})).await;
    let filed = h.data(round).await["amendment_filed_on"].as_str().unwrap().to_owned();
    h.clock.advance(time::Duration::days(40));
    assert_eq!(h.rt.fire_due_timers().await.unwrap(), 1, "fifteen days without objection");
    assert_eq!(h.state(round).await, "terminated", "an ending ends the contract");
    let ended = h.data(round).await["terminated_on"].as_str().unwrap().to_owned();
    let days = |d: &str| unionflow::definition::calendar::parse_date(d).expect("a date");
    let after = (days(&ended) - days(&filed)).whole_days();
    assert!(
        (15..=18).contains(&after),
        "ended on the review's last day (+15, or the next working day), not today: {after}"
    );
    assert!(unionflow::store::audit::verify(&h.db.db).await.unwrap().broken.is_none());
}

/// The issue's own dates: the second chief signs on 09-11, so Art. 42's ten days end on 09-21
/// (not ten days from the seal on 09-18); submitted on 09-22, the fifteen days end on 10-07, a
/// National Day rest day, so on 10-08; the server is down until 10-20, and still the contract is in
/// effect from 10-09, its three years running to 2029-10-08.
async fn the_laws_dates_from_signing_to_a_term_in_effect(backend: Backend) {
    use time::macros::datetime;
    let h = Harness::embedded(backend).await;
    let round = negotiated_round(&h).await;
    for child in latest_children(&h, round).await {
        unit_votes(&h, child, 15).await;
    }
    fire(&h, round, &worker_negotiator(), "accept_confirmations", json!({})).await;
    h.clock.set(datetime!(2026-09-10 10:00 +08:00));
    fire(&h, round, &chief("张一"), "sign_contract_worker", json!({})).await;
    h.clock.set(datetime!(2026-09-11 10:00 +08:00));
    fire(&h, round, &chief("李一"), "sign_contract_employer", json!({})).await;
    let last_day = async |h: &Harness| h.rt.timers(round).await.unwrap().into_iter().next().expect("a period").last_day;
    assert_eq!(last_day(&h).await, "2026-09-21", "ten days from the chiefs' signatures");
    h.clock.set(datetime!(2026-09-18 10:00 +08:00));
    fire(&h, round, &worker_negotiator(), "seal_worker", json!({})).await;
    fire(&h, round, &employer_negotiator(), "seal_employer", json!({})).await;
    assert_eq!(last_day(&h).await, "2026-09-21", "sealing does not move it");
    h.clock.set(datetime!(2026-09-22 10:00 +08:00));
    fire(&h, round, &employer_negotiator(), "submit_to_bureau", json!({})).await;
    assert_eq!(last_day(&h).await, "2026-10-08", "15 days end on a rest day (10-07): the next working day");
    h.clock.set(datetime!(2026-10-20 10:00 +08:00));
    assert_eq!(h.rt.fire_due_timers().await.unwrap(), 1);
    let d = h.data(round).await;
    assert_eq!((&d["effective_on"], &d["term_end"]), (&json!("2026-10-09"), &json!("2029-10-08")));
}

on_both_backends! {
    laws_dates => the_laws_dates_from_signing_to_a_term_in_effect;
    suspend_and_coordinate => talks_are_suspended_resumed_and_a_dispute_is_coordinated;
    amend_and_end => a_contract_in_force_is_amended_or_ended_by_votes_and_filing;
    chair_or_delegate => the_workers_chief_is_the_chair_or_a_written_delegate;
    leave_out => units_that_reject_are_left_out_when_the_round_says_so;
    leave_out_none_passed => a_round_no_unit_passed_renegotiates_even_when_units_may_be_left_out;
    renegotiate_covers_all => by_default_every_unit_is_covered_once_all_passed;
    whole_round => a_round_with_one_rejection_ends_in_effect_and_opens_renewal;
    bureau_objection => a_bureau_objection_sends_the_round_back_to_negotiation;
    lapse_after_downtime => a_review_that_lapses_while_the_server_is_down_takes_effect_the_day_after_its_last_day;
    term_last_day => a_term_of_three_years_from_10_09_ends_on_10_08;
    withdraw_closes_children => withdrawing_a_round_withdraws_the_unit_votes_still_running;
}
