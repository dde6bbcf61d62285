//! A training cohort through its records and the engine: 600 trainees from CSV with a waiting
//! list, a capacity increase, 40 mentors assigned within capacity, a reassignment with its reason
//! in the audit trail, mentors confined to their own trainees, six phases recorded and graduation
//! decided by the completion rule of `workflows/trainee_track.toml`.

use serde_json::json;
use unionflow::clock::Clock;
use unionflow::engine::{Actor, GuardFailure, Refusal};
use unionflow::runtime::RuntimeError;
use unionflow::training::assign::Choice;
use unionflow::training::enrol::{self, ENROLLED, EnrolError, WAITING};
use unionflow::training::graduate::{Verdict, graduate_cohort};
use unionflow::training::mentors;

use crate::on_both_backends;
use crate::support::{Backend, Harness, data};

fn coordinator() -> Actor {
    Actor::new("gao.hong", ["training_coordinator"])
}

const TRADES: [&str; 4] = ["数控车工", "电工", "焊工", "钳工"];
const COMPETENCES: [&str; 5] = ["leadership", "practice", "problem_solving", "passing_on_skills", "innovation"];

async fn record_phase(h: &Harness, track: i64, phase: i64, attendance: i64) {
    let given = data(json!({ "phase": phase, "attendance": attendance, "progress_note": "按计划完成" }));
    h.rt.fire(track, None, &coordinator(), "record_growth", &given).await.unwrap();
}

async fn assess(h: &Harness, track: i64, competence: &str, level: i64) {
    let given = data(json!({ "competence": competence, "competence_level": level }));
    h.rt.fire(track, None, &coordinator(), "assess_competence", &given).await.unwrap();
}

/// Six phases at `attendance`, and every competence at `level`.
async fn full_record(h: &Harness, track: i64, attendance: i64, level: i64) {
    for phase in 1..=6 {
        record_phase(h, track, phase, attendance).await;
    }
    for c in COMPETENCES {
        assess(h, track, c, level).await;
    }
}

fn csv(n: usize, from: usize) -> String {
    let mut out = String::from("姓名,工作单位,工种,技能等级,联系方式\n");
    for i in from..from + n {
        out.push_str(&format!("学员{i},海淀精工{},{},高级工,139{i:08}\n", i % 7, TRADES[i % 4]));
    }
    out
}

async fn cohort(h: &Harness, capacity: i64) -> i64 {
    let start = data(
        json!({ "name": "2026 工匠学院", "year": 2026, "fields": ["智能制造"], "phases": 6, "capacity": capacity }),
    );
    let id = h.rt.start("training_cohort", &coordinator(), &start).await.unwrap();
    h.rt.fire(id, None, &coordinator(), "open_enrolment", &Default::default()).await.unwrap();
    id
}

async fn six_hundred_trainees_forty_mentors_and_a_waiting_list(backend: Backend) {
    let h = Harness::embedded(backend).await;
    let id = cohort(&h, 580).await;
    let report = enrol::import_csv(&h.rt, h.rt.db(), id, &coordinator(), csv(600, 1).as_bytes(), false).await.unwrap();
    assert_eq!((report.enrolled, report.waiting), (580, 20), "beyond the capacity, trainees wait");
    let list = enrol::trainees(h.rt.db(), id).await.unwrap();
    assert_eq!(
        list.iter().filter(|t| t.status == WAITING).map(|t| t.name.as_str()).next(),
        Some("学员581"),
        "in the file's order"
    );

    let below = enrol::raise_capacity(&h.rt, id, &coordinator(), 10).await;
    match below {
        Err(enrol::EnrolError::Runtime(unionflow::runtime::RuntimeError::Refused(r))) => {
            let text = r.to_string();
            assert!(text.contains("10") && text.contains("580"), "the refusal names both numbers: {text}");
        }
        other => panic!("a capacity below those enrolled is refused: {other:?}"),
    }
    assert_eq!(h.data(id).await["capacity"], serde_json::json!(580), "nothing changed");
    let admitted = enrol::raise_capacity(&h.rt, id, &coordinator(), 590).await.unwrap();
    assert_eq!(admitted, 10);
    assert_eq!(enrol::count(h.rt.db(), id, WAITING).await.unwrap(), 10);
    let next = enrol::trainees(h.rt.db(), id).await.unwrap();
    assert!(next.iter().any(|t| t.name == "学员590" && t.status == ENROLLED), "admitted from the front of the list");
    assert!(next.iter().any(|t| t.name == "学员591" && t.status == WAITING));
    assert_eq!(h.data(id).await["trainees"].as_array().unwrap().len(), 590, "the cohort instance follows the records");

    for i in 0..40 {
        mentors::upsert(h.rt.db(), &format!("mentor{i:02}"), &format!("导师{i}"), TRADES[i % 4], 15, h.clock.now())
            .await
            .unwrap();
    }
    h.rt.fire(id, None, &coordinator(), "start_training", &Default::default()).await.unwrap();
    let choices = mentors::auto_assign(&h.rt, h.rt.db(), id, &coordinator()).await.unwrap();
    assert_eq!(choices.len(), 590);
    assert!(choices.iter().all(|(_, c)| matches!(c, Choice::Assigned { .. })), "40 × 15 places are enough for 590");
    for (m, _) in mentors::pool(h.rt.db()).await.unwrap() {
        assert!(m.load <= m.capacity, "{} has {} of {}", m.username, m.load, m.capacity);
    }

    // A reassignment keeps its reason in the audit trail.
    let track = h.rt.children(id).await.unwrap()[0].id;
    let old = h.data(track).await["mentor"].as_str().unwrap().to_owned();
    let new = if old == "mentor00" { "mentor04" } else { "mentor00" };
    h.rt.fire(track, None, &coordinator(), "reassign", &data(json!({ "mentor": new, "reason": "导师工作调动" })))
        .await
        .unwrap();
    let history = h.rt.history(track).await.unwrap();
    assert_eq!(history.last().unwrap().data()["input"]["reason"], json!("导师工作调动"));

    // Mentors act only for their own trainees.
    h.rt.fire(track, None, &coordinator(), "begin_training", &Default::default()).await.unwrap();
    let mentor = Actor::new(old.clone(), ["mentor"]);
    let growth = data(json!({ "phase": 1, "attendance": 1, "progress_note": "良好" }));
    let refused = h.rt.fire(track, None, &mentor, "record_growth", &growth).await;
    assert!(matches!(refused, Err(RuntimeError::Refused(Refusal::OutOfScope { .. }))), "{refused:?}");
    h.rt.fire(track, None, &Actor::new(new, ["mentor"]), "record_growth", &growth).await.expect("their own trainee");

    // Six phases recorded for everyone; one trainee withdraws, one misses most of phase 5 and one
    // is never assessed in innovation.
    let tracks: Vec<i64> = h.rt.children(id).await.unwrap().iter().map(|t| t.id).collect();
    let reason = data(json!({ "reason": "工作调动，无法继续参训" }));
    h.rt.fire(tracks[1], None, &coordinator(), "withdraw", &reason).await.unwrap();
    for (i, &t) in tracks.iter().enumerate().filter(|(i, _)| *i != 1) {
        if i > 0 {
            h.rt.fire(t, None, &coordinator(), "begin_training", &Default::default()).await.unwrap();
        }
        match i {
            2 => {
                full_record(&h, t, 90, 3).await;
                record_phase(&h, t, 5, 60).await; // a correction: the latest record of a phase counts
            }
            3 => {
                for phase in 1..=6 {
                    record_phase(&h, t, phase, 95).await;
                }
                for c in &COMPETENCES[..4] {
                    assess(&h, t, c, 4).await;
                }
            }
            _ => full_record(&h, t, 75 + (i % 25) as i64, 2 + (i % 4) as i64).await,
        }
    }
    let early = graduate_cohort(&h.rt, h.rt.db(), id, &coordinator(), |f| f.to_string()).await;
    assert!(matches!(early, Err(RuntimeError::Refused(Refusal::NotFromState { .. }))), "not before the last phase");
    for _ in 1..6 {
        h.rt.fire(id, None, &coordinator(), "advance_phase", &Default::default()).await.unwrap();
    }
    h.rt.fire(id, None, &coordinator(), "finish_training", &Default::default()).await.unwrap();
    let verdicts = graduate_cohort(&h.rt, h.rt.db(), id, &coordinator(), |f| f.to_string()).await.unwrap();
    assert_eq!(verdicts.len(), 589, "everyone still in training is decided; the withdrawn trainee is not");
    let graduated = verdicts.iter().filter(|(_, v)| *v == Verdict::Graduated).count();
    assert_eq!(graduated, 587);
    let codes: Vec<serde_json::Value> =
        h.rt.children(id).await.unwrap().into_iter().map(|t| t.data["trainee"].clone()).collect();
    let verdict_of = |i: usize| verdicts.iter().find(|(c, _)| json!(c) == codes[i]).unwrap().1.clone();
    let Verdict::NotCompleted(GuardFailure::BelowInMap { key, found, min, .. }) = verdict_of(2) else {
        panic!("phase 5 at 60 % is below the rule")
    };
    assert_eq!((key.as_str(), found, min), ("5", Some(60), 75));
    let Verdict::NotCompleted(GuardFailure::BelowInMap { key, found: None, .. }) = verdict_of(3) else {
        panic!("innovation was never assessed")
    };
    assert_eq!(key, "innovation");
    let not_completed = h.data(tracks[3]).await;
    assert!(not_completed["reason"].as_str().unwrap().contains("innovation"), "the rule's reason is recorded");
    assert_eq!(h.rt.instance(tracks[1]).await.unwrap().row.state, "withdrawn");
    assert_eq!(unionflow::training::pool::search(h.rt.db(), &Default::default()).await.unwrap().len(), 587);
    for (m, _) in mentors::pool(h.rt.db()).await.unwrap() {
        assert_eq!(m.load, 0, "{} follows graduates in the pool, which take no place", m.username);
    }
}

async fn a_file_with_bad_rows_imports_nothing_unless_the_valid_rows_are_chosen(backend: Backend) {
    let h = Harness::embedded(backend).await;
    let id = cohort(&h, 100).await;
    let bad = format!("{}学员X,,电工,高级工,13900000000\n", csv(3, 1));
    match enrol::import_csv(&h.rt, h.rt.db(), id, &coordinator(), bad.as_bytes(), false).await {
        Err(EnrolError::Rows(checked)) => assert_eq!(checked.errors[0].line, 5),
        other => panic!("expected row errors, got {other:?}"),
    }
    assert_eq!(enrol::trainees(h.rt.db(), id).await.unwrap().len(), 0, "nothing imported");
    let report = enrol::import_csv(&h.rt, h.rt.db(), id, &coordinator(), bad.as_bytes(), true).await.unwrap();
    assert_eq!((report.enrolled, report.skipped.len()), (3, 1));
    let again = enrol::import_csv(&h.rt, h.rt.db(), id, &coordinator(), csv(3, 1).as_bytes(), false).await;
    assert!(matches!(again, Err(EnrolError::Rows(_))), "the same trainees are not enrolled twice");
    assert!(matches!(
        enrol::import_csv(&h.rt, h.rt.db(), id, &coordinator(), b"", false).await,
        Err(EnrolError::File(_))
    ));
}

on_both_backends! {
    cohort_of_600 => six_hundred_trainees_forty_mentors_and_a_waiting_list;
    bad_rows => a_file_with_bad_rows_imports_nothing_unless_the_valid_rows_are_chosen;
}

async fn an_assessment_off_the_scale_is_refused_with_its_bounds(backend: Backend) {
    let h = Harness::embedded(backend).await;
    let id = cohort(&h, 10).await;
    enrol::import_csv(&h.rt, h.rt.db(), id, &coordinator(), csv(1, 1).as_bytes(), false).await.unwrap();
    mentors::upsert(h.rt.db(), "xu.ming", "徐明", TRADES[1], 5, h.clock.now()).await.unwrap();
    h.rt.fire(id, None, &coordinator(), "start_training", &Default::default()).await.unwrap();
    mentors::auto_assign(&h.rt, h.rt.db(), id, &coordinator()).await.unwrap();
    let track = h.rt.children(id).await.unwrap()[0].id;
    h.rt.fire(track, None, &coordinator(), "begin_training", &Default::default()).await.unwrap();
    let mentor = Actor::new("xu.ming", ["mentor"]);
    let off =
        h.rt.fire(
            track,
            None,
            &mentor,
            "assess_competence",
            &data(json!({ "competence": "practice", "competence_level": 6 })),
        )
        .await;
    let Err(RuntimeError::Refused(Refusal::Input(errors))) = off else { panic!("{off:?}") };
    assert_eq!(errors[0].to_string(), "competence_level: must be at most 5");
    h.rt.fire(
        track,
        None,
        &mentor,
        "assess_competence",
        &data(json!({ "competence": "practice", "competence_level": 4 })),
    )
    .await
    .unwrap();
}

on_both_backends! {
    assessment_scale => an_assessment_off_the_scale_is_refused_with_its_bounds;
}

async fn graduates_are_found_by_trade_and_assessed_competence(backend: Backend) {
    let h = Harness::embedded(backend).await;
    let id = cohort(&h, 10).await;
    enrol::import_csv(&h.rt, h.rt.db(), id, &coordinator(), csv(4, 1).as_bytes(), false).await.unwrap();
    for (i, trade) in TRADES.iter().enumerate() {
        mentors::upsert(h.rt.db(), &format!("m{i}"), "导师", trade, 5, h.clock.now()).await.unwrap();
    }
    h.rt.fire(id, None, &coordinator(), "start_training", &Default::default()).await.unwrap();
    mentors::auto_assign(&h.rt, h.rt.db(), id, &coordinator()).await.unwrap();
    for (i, track) in h.rt.children(id).await.unwrap().iter().enumerate() {
        h.rt.fire(track.id, None, &coordinator(), "begin_training", &Default::default()).await.unwrap();
        let level = 2 + i as i64; // 学员1 gets 2, 学员2 gets 3, ...
        h.rt.fire(
            track.id,
            None,
            &coordinator(),
            "assess_competence",
            &data(json!({ "competence": "innovation", "competence_level": level })),
        )
        .await
        .unwrap();
        if i < 3 {
            for phase in 1..=6 {
                record_phase(&h, track.id, phase, 90).await;
            }
            for c in &COMPETENCES[..4] {
                assess(&h, track.id, c, 3).await;
            }
            h.rt.fire(track.id, None, &coordinator(), "graduate", &Default::default()).await.unwrap();
        }
    }
    let all = unionflow::training::pool::search(h.rt.db(), &Default::default()).await.unwrap();
    assert_eq!(all.len(), 3, "only graduates are in the pool");
    let search = unionflow::training::pool::Search { trade: Some(TRADES[2].into()), ..Default::default() };
    let by_trade = unionflow::training::pool::search(h.rt.db(), &search).await.unwrap();
    assert_eq!(by_trade.iter().map(|g| g.name.as_str()).collect::<Vec<_>>(), ["学员2"]);
    let search = unionflow::training::pool::Search { competence: Some(("innovation".into(), 3)), ..Default::default() };
    let skilled = unionflow::training::pool::search(h.rt.db(), &search).await.unwrap();
    assert_eq!(skilled.len(), 2, "levels 3 and 4 of the graduates, not level 2");
    let in_field = |f: &str| unionflow::training::pool::Search { field: Some(f.into()), ..Default::default() };
    assert_eq!(unionflow::training::pool::search(h.rt.db(), &in_field("智能制造")).await.unwrap().len(), 3);
    assert!(unionflow::training::pool::search(h.rt.db(), &in_field("教育服务")).await.unwrap().is_empty());
}

on_both_backends! {
    talent_pool => graduates_are_found_by_trade_and_assessed_competence;
}
