//! The assembly's roster from the unit register (issue 11, item 6): an assembly starts from the
//! unit's roster size and names; a different figure needs a reason, kept in the audit trail.

use serde_json::json;
use unionflow::engine::{Actor, FieldProblem, Refusal};
use unionflow::runtime::RuntimeError;
use unionflow::store::units::{self, Unit};

use crate::on_both_backends;
use crate::support::{Backend, Harness, START, admin, data};

fn secretary() -> Actor {
    Actor::new("chen.jing", ["unit_secretary"]).with_units(["u01"])
}

/// u01 on record with 48 representatives, by name when `by_name`.
async fn register(h: &Harness, by_name: bool) -> Vec<String> {
    let names: Vec<String> = (1..=48).map(|i| format!("代表{i:02}")).collect();
    let unit = Unit {
        id: "u01".into(),
        name_zh: "启明民办小学".into(),
        name_en: "Qiming Private Primary School".into(),
        sector: "教育".into(),
        kind: "school".into(),
        roster_size: 48,
        roster: if by_name { names.join("\n") } else { String::new() },
    };
    units::upsert(&h.db.db, &unit, START).await.unwrap();
    names
}

async fn assembly(h: &Harness) -> i64 {
    h.rt.start("assembly_approval", &admin(), &data(json!({ "unit": "u01", "draft_version": 1 }))).await.unwrap()
}

async fn the_roster_size_comes_from_the_unit_and_another_needs_a_reason(backend: Backend) {
    let h = Harness::embedded(backend).await;
    register(&h, false).await;
    let id = assembly(&h).await;
    assert_eq!(h.data(id).await["roster_size"], json!(48), "the assembly starts from the register");
    assert!(h.data(id).await.get("roster").is_none(), "a unit known only by its size gives no names");

    let sec = secretary();
    let schedule = json!({ "assembly_date": "2026-12-01", "kind": "representatives", "roster_size": 50 });
    let no_reason = h.rt.fire(id, None, &sec, "schedule", &data(schedule.clone())).await;
    let Err(RuntimeError::Refused(Refusal::Input(errors))) = no_reason else { panic!("{no_reason:?}") };
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].field, "roster_reason");
    assert!(matches!(&errors[0].problem, FieldProblem::ReasonNeeded { field } if field == "roster_size"));
    assert_eq!(h.data(id).await["roster_size"], json!(48), "nothing changed");

    let mut with_reason = schedule.clone();
    with_reason["roster_reason"] = json!("两名代表补选，名册尚未更新");
    h.rt.fire(id, None, &sec, "schedule", &data(with_reason)).await.unwrap();
    let d = h.data(id).await;
    assert_eq!(d["roster_size"], json!(50));
    assert_eq!(d["roster_reason"], json!("两名代表补选，名册尚未更新"), "the reason is kept in the data");
    let kept = "SELECT COUNT(*) AS n FROM audit_events WHERE event = 'schedule' AND data LIKE '%两名代表补选%'";
    assert_eq!(h.count(kept).await, 1, "and in the audit event");
}

async fn the_registers_figure_needs_no_reason_and_none_typed_keeps_it(backend: Backend) {
    let h = Harness::embedded(backend).await;
    register(&h, false).await;
    let sec = secretary();
    let same = assembly(&h).await;
    let schedule = json!({ "assembly_date": "2026-12-01", "kind": "representatives", "roster_size": 48 });
    h.rt.fire(same, None, &sec, "schedule", &data(schedule)).await.expect("the register's figure, no reason");
    let untyped = assembly(&h).await;
    let schedule = json!({ "assembly_date": "2026-12-01", "kind": "representatives" });
    h.rt.fire(untyped, None, &sec, "schedule", &data(schedule)).await.expect("nothing typed: the register's");
    h.rt.fire(untyped, None, &sec, "open_session", &data(json!({}))).await.expect("the roster size is known");
    assert_eq!(h.data(untyped).await["roster_size"], json!(48));
}

async fn a_unit_on_record_by_name_gives_the_roll_calls_roster(backend: Backend) {
    let h = Harness::embedded(backend).await;
    let names = register(&h, true).await;
    let id = assembly(&h).await;
    assert_eq!(h.data(id).await["roster"], json!(names), "the names come from the register");
    let sec = secretary();
    let schedule = json!({ "assembly_date": "2026-12-01", "kind": "representatives" });
    h.rt.fire(id, None, &sec, "schedule", &data(schedule)).await.unwrap();
    h.rt.fire(id, None, &sec, "open_session", &data(json!({}))).await.unwrap();
    let ballots = json!({ "attendees": names[..40].join("\n"), "voted_yes": names[..30].join("\n") });
    h.rt.fire(id, None, &sec, "record_roll_call", &data(ballots)).await.expect("a roll call on the unit's roster");
    let vote = &h.data(id).await["vote"];
    assert_eq!(vote["roster"], json!(48), "{vote}");
    assert_eq!(vote["present"], json!(40), "{vote}");

    // Another roster by name needs its reason too.
    let other = assembly(&h).await;
    let schedule = json!({ "assembly_date": "2026-12-01", "kind": "all_workers", "roster": "张一\n张二\n张三" });
    let refused = h.rt.fire(other, None, &sec, "schedule_with_roster", &data(schedule)).await;
    assert!(
        matches!(&refused, Err(RuntimeError::Refused(Refusal::Input(e))) if e[0].field == "roster_reason"),
        "{refused:?}"
    );
}

/// A unit not on record leaves the size to be given, as before.
async fn a_unit_not_on_record_leaves_the_size_to_be_given(backend: Backend) {
    let h = Harness::embedded(backend).await;
    register(&h, false).await;
    let child =
        h.rt.start("assembly_approval", &admin(), &data(json!({ "unit": "u02", "draft_version": 1 }))).await.unwrap();
    assert!(h.data(child).await.get("roster_size").is_none(), "nothing on record for u02");
    let sec = Actor::new("liu.yang", ["unit_secretary"]).with_units(["u02"]);
    let schedule = json!({ "assembly_date": "2026-12-01", "kind": "representatives", "roster_size": 30 });
    h.rt.fire(child, None, &sec, "schedule", &data(schedule)).await.expect("a first figure needs no reason");
}

on_both_backends! {
    size_from_the_unit => the_roster_size_comes_from_the_unit_and_another_needs_a_reason;
    registers_figure => the_registers_figure_needs_no_reason_and_none_typed_keeps_it;
    names_from_the_unit => a_unit_on_record_by_name_gives_the_roll_calls_roster;
    unit_not_on_record => a_unit_not_on_record_leaves_the_size_to_be_given;
}
