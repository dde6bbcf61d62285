//! A unit's assembly approval on the built-in definition: the contract rule at its exact
//! boundaries, a quorum failure and a second meeting, a roll call checked name by name, and a
//! secretary confined to their own unit.

use serde_json::json;
use unionflow::engine::{Actor, Refusal, TallyError};
use unionflow::runtime::RuntimeError;

use crate::on_both_backends;
use crate::support::{Backend, Harness, admin, data};

fn secretary() -> Actor {
    Actor::new("chen.jing", ["unit_secretary"]).with_units(["u01"])
}

async fn in_session(h: &Harness, roster: serde_json::Value) -> i64 {
    let id =
        h.rt.start("assembly_approval", &admin(), &data(json!({ "unit": "u01", "draft_version": 1 }))).await.unwrap();
    let sec = secretary();
    match roster {
        serde_json::Value::Number(n) => {
            h.rt.fire(
                id,
                None,
                &sec,
                "schedule",
                &data(json!({ "assembly_date": "2026-12-01", "kind": "representatives", "roster_size": n })),
            )
            .await
            .unwrap()
        }
        names => {
            h.rt.fire(
                id,
                None,
                &sec,
                "schedule_with_roster",
                &data(json!({ "assembly_date": "2026-12-01", "kind": "all_workers", "roster": names })),
            )
            .await
            .unwrap()
        }
    };
    h.rt.fire(id, None, &sec, "open_session", &Default::default()).await.unwrap();
    id
}

async fn tally(h: &Harness, id: i64, present: i64, yes: i64) -> Result<String, RuntimeError> {
    let given = data(json!({ "present": present, "yes": yes, "no": present - yes, "abstain": 0 }));
    h.rt.fire(id, None, &secretary(), "record_vote", &given).await?;
    Ok(h.data(id).await["vote"]["reason"].as_str().unwrap_or_default().to_owned())
}

async fn the_contract_rule_holds_at_its_exact_boundaries(backend: Backend) {
    let h = Harness::embedded(backend).await;
    // 25 delegates: at least 2/3 present is 17; half or more of all 25 in favour is 13.
    for (present, yes, expected) in
        [(17, 13, "passed"), (16, 16, "no_quorum"), (25, 12, "too_few_yes"), (17, 17, "passed")]
    {
        let id = in_session(&h, json!(25)).await;
        assert_eq!(tally(&h, id, present, yes).await.unwrap(), expected, "present {present}, yes {yes}");
        let v = &h.data(id).await["vote"];
        assert_eq!((v["quorum_needed"].as_i64(), v["yes_needed"].as_i64()), (Some(17), Some(13)));
    }
    // 24 delegates: exactly half (12) is enough, because 半数以上 includes the number itself.
    let id = in_session(&h, json!(24)).await;
    assert_eq!(tally(&h, id, 16, 12).await.unwrap(), "passed");
}

async fn impossible_counts_are_refused_and_change_nothing(backend: Backend) {
    let h = Harness::embedded(backend).await;
    let id = in_session(&h, json!(25)).await;
    let version = h.rt.instance(id).await.unwrap().row.version;
    let above_roster = tally(&h, id, 26, 20).await;
    assert!(
        matches!(
            above_roster,
            Err(RuntimeError::Refused(Refusal::Tally(TallyError::PresentAboveRoster { present: 26, roster: 25 })))
        ),
        "{above_roster:?}"
    );
    let over = h
        .rt
        .fire(id, None, &secretary(), "record_vote", &data(json!({ "present": 20, "yes": 15, "no": 5, "abstain": 1 })))
        .await;
    assert!(
        matches!(
            over,
            Err(RuntimeError::Refused(Refusal::Tally(TallyError::VotesAbovePresent { cast: 21, present: 20 })))
        ),
        "{over:?}"
    );
    assert_eq!(h.rt.instance(id).await.unwrap().row.version, version);
    assert_eq!(h.state(id).await, "in_session");
}

async fn without_a_quorum_the_assembly_meets_again(backend: Backend) {
    let h = Harness::embedded(backend).await;
    let id = in_session(&h, json!(30)).await;
    assert_eq!(tally(&h, id, 19, 19).await.unwrap(), "no_quorum");
    let confirm = h.rt.fire(id, None, &secretary(), "confirm", &Default::default()).await;
    assert!(
        matches!(confirm, Err(RuntimeError::Refused(Refusal::Guard(_, _)))),
        "no confirmation without a valid vote"
    );
    h.rt.fire(id, None, &secretary(), "reconvene", &data(json!({ "assembly_date": "2026-12-08" }))).await.unwrap();
    h.rt.fire(id, None, &secretary(), "open_session", &Default::default()).await.unwrap();
    assert_eq!(tally(&h, id, 24, 18).await.unwrap(), "passed");
    h.rt.fire(id, None, &secretary(), "confirm", &Default::default()).await.unwrap();
    assert_eq!(h.state(id).await, "passed");
}

async fn a_roll_call_is_checked_name_by_name(backend: Backend) {
    let h = Harness::embedded(backend).await;
    let roster = json!(["张一", "张二", "张三", "李四", "王五", "赵六"]);
    let id = in_session(&h, roster).await;
    assert_eq!(h.data(id).await["roster_size"], json!(6), "the roster's size is counted from it");
    let sec = secretary();
    let stranger = h
        .rt
        .fire(id, None, &sec, "record_roll_call", &data(json!({ "attendees": "张一\n陌生人", "voted_yes": "张一" })))
        .await;
    assert!(
        matches!(&stranger, Err(RuntimeError::Refused(Refusal::Ballots(all))) if all == &[TallyError::NotOnRoster { name: "陌生人".into() }]),
        "{stranger:?}"
    );
    let absent =
        h.rt.fire(
            id,
            None,
            &sec,
            "record_roll_call",
            &data(json!({ "attendees": "张一\n张二", "voted_yes": "张一\n李四", "voted_no": "王五" })),
        )
        .await;
    // Every name that does not add up is named, not only the first.
    let both = [TallyError::VotedButAbsent { name: "李四".into() }, TallyError::VotedButAbsent { name: "王五".into() }];
    assert!(matches!(&absent, Err(RuntimeError::Refused(Refusal::Ballots(all))) if all == &both), "{absent:?}");
    let twice =
        h.rt.fire(
            id,
            None,
            &sec,
            "record_roll_call",
            &data(json!({ "attendees": "张一\n张二\n张三\n李四", "voted_yes": "张一\n张二", "voted_no": "张二" })),
        )
        .await;
    assert!(
        matches!(&twice, Err(RuntimeError::Refused(Refusal::Ballots(all))) if all == &[TallyError::VotedTwice { name: "张二".into() }]),
        "{twice:?}"
    );
    // 4 of 6 present (quorum 4), 3 in favour (3 needed: half or more of all 6).
    let ballots =
        data(json!({ "attendees": "张一\n张二\n张三\n李四", "voted_yes": "张一\n张二\n张三", "voted_no": "李四" }));
    h.rt.fire(id, None, &sec, "record_roll_call", &ballots).await.unwrap();
    let v = &h.data(id).await["vote"];
    assert_eq!((v["present"].as_i64(), v["yes"].as_i64(), v["outcome"].as_str()), (Some(4), Some(3), Some("passed")));
}

async fn a_roll_call_where_nobody_came_or_nobody_said_yes_is_recorded(backend: Backend) {
    let h = Harness::embedded(backend).await;
    let sec = secretary();
    let roster = json!(["张一", "张二", "张三"]);
    let id = in_session(&h, roster.clone()).await;
    h.rt.fire(id, None, &sec, "record_roll_call", &data(json!({}))).await.expect("nobody attended");
    let v = &h.data(id).await["vote"];
    assert_eq!((v["present"].as_i64(), v["reason"].as_str()), (Some(0), Some("no_quorum")));
    h.rt.fire(id, None, &sec, "reconvene", &data(json!({ "assembly_date": "2026-12-08" }))).await.unwrap();
    h.rt.fire(id, None, &sec, "open_session", &data(json!({}))).await.unwrap();
    let ballots = data(json!({ "attendees": "张一\n张二\n张三", "voted_no": "张一\n张二" }));
    h.rt.fire(id, None, &sec, "record_roll_call", &ballots).await.expect("nobody in favour");
    let v = &h.data(id).await["vote"];
    assert_eq!(
        (v["present"].as_i64(), v["yes"].as_i64(), v["reason"].as_str()),
        (Some(3), Some(0), Some("too_few_yes"))
    );
}

async fn another_units_secretary_cannot_record_the_vote(backend: Backend) {
    let h = Harness::embedded(backend).await;
    let id = in_session(&h, json!(25)).await;
    let other = Actor::new("liu.yang", ["unit_secretary"]).with_units(["u02"]);
    let refused =
        h.rt.fire(id, None, &other, "record_vote", &data(json!({ "present": 20, "yes": 15, "no": 5, "abstain": 0 })))
            .await;
    assert!(matches!(refused, Err(RuntimeError::Refused(Refusal::OutOfScope { .. }))), "{refused:?}");
}

on_both_backends! {
    boundaries => the_contract_rule_holds_at_its_exact_boundaries;
    impossible_counts => impossible_counts_are_refused_and_change_nothing;
    quorum_failure => without_a_quorum_the_assembly_meets_again;
    roll_call => a_roll_call_is_checked_name_by_name;
    empty_roll_call => a_roll_call_where_nobody_came_or_nobody_said_yes_is_recorded;
    other_unit => another_units_secretary_cannot_record_the_vote;
}
