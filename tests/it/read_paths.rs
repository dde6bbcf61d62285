//! Read paths that stay fast as a sector grows (issue 16, item 3): a cohort's dashboard reads a
//! summary kept as its tracks change, which must always equal summing the tracks themselves; a
//! database written before summaries were kept has them summed at the next start; a mentor's
//! own lists ("my trainees", "my work") hold exactly their trainees.

use std::collections::BTreeSet;

use serde_json::json;
use unionflow::clock::Clock;
use unionflow::engine::{Actor, report};
use unionflow::store::{reports, summaries};
use unionflow::training::{enrol, graduate, mentoring, mentors};

use crate::on_both_backends;
use crate::support::{Backend, Harness, data};

fn coordinator() -> Actor {
    Actor::new("gao.hong", ["training_coordinator"])
}

/// The cohort's kept summary, and its tracks summed as the page once did on every view.
async fn kept_and_summed(h: &Harness, cohort: i64) -> (Vec<Vec<report::Line>>, Vec<Vec<report::Line>>) {
    let def = h.rt.definitions().get(unionflow::sector::track::PROCESS).unwrap();
    let kept = summaries::figures(h.rt.db(), cohort, def).await.unwrap();
    let tracks = h.rt.children(cohort).await.unwrap();
    let summed = report::tally(def, tracks.iter().map(|t| reports::row(t, h.rt.offset())));
    (kept, summed)
}

async fn assert_kept(h: &Harness, cohort: i64, after: &str) {
    let (kept, summed) = kept_and_summed(h, cohort).await;
    assert!(summed.iter().any(|lines| !lines.is_empty()), "after {after}: the tracks have figures to compare");
    assert_eq!(kept, summed, "after {after}: the kept summary is the tracks summed");
}

async fn fire(h: &Harness, track: i64, event: &str, given: serde_json::Value) {
    h.rt.fire(track, None, &coordinator(), event, &data(given)).await.unwrap();
}

/// A cohort of 12 in training with 3 mentors, its tracks begun.
async fn cohort_in_training(h: &Harness) -> (i64, Vec<i64>) {
    let start = json!({ "name": "2026 工匠学院", "year": 2026, "fields": ["智能制造"], "phases": 6, "capacity": 12 });
    let cohort = h.rt.start("training_cohort", &coordinator(), &data(start)).await.unwrap();
    h.rt.fire(cohort, None, &coordinator(), "open_enrolment", &Default::default()).await.unwrap();
    let mut csv = String::from("姓名,工作单位,工种,技能等级,联系方式\n");
    for i in 0..12 {
        csv.push_str(&format!("学员{i},海淀精工,焊工,高级工,139{i:08}\n"));
    }
    enrol::import_csv(&h.rt, h.rt.db(), cohort, &coordinator(), csv.as_bytes(), false).await.unwrap();
    for i in 0..3 {
        let name = format!("mentor{i}");
        mentors::upsert(h.rt.db(), &name, &name, "焊工", 4, h.clock.now()).await.unwrap();
    }
    h.rt.fire(cohort, None, &coordinator(), "start_training", &Default::default()).await.unwrap();
    assert_kept(h, cohort, "the tracks are spawned").await;
    mentors::auto_assign(&h.rt, h.rt.db(), cohort, &coordinator()).await.unwrap();
    assert_kept(h, cohort, "mentors are assigned").await;
    let tracks: Vec<i64> = h.rt.children(cohort).await.unwrap().iter().map(|t| t.id).collect();
    for &t in &tracks {
        fire(h, t, "begin_training", json!({})).await;
    }
    (cohort, tracks)
}

async fn the_kept_summary_equals_the_tracks_summed_after_every_kind_of_change(backend: Backend) {
    let h = Harness::embedded(backend).await;
    let (cohort, tracks) = cohort_in_training(&h).await;
    for (i, &t) in tracks.iter().enumerate() {
        for phase in 1..=6 {
            fire(
                &h,
                t,
                "record_growth",
                json!({ "phase": phase, "attendance": 70 + (i as i64 * 3 + phase) % 31, "progress_note": "按计划" }),
            )
            .await;
        }
        for (j, c) in
            ["leadership", "practice", "problem_solving", "passing_on_skills", "innovation"].iter().enumerate()
        {
            fire(&h, t, "assess_competence", json!({ "competence": c, "competence_level": 1 + (i + j) % 5 })).await;
        }
    }
    assert_kept(&h, cohort, "six phases and five competences for everyone").await;
    // A correction replaces a phase's attendance and a competence's level: the old values leave
    // their averages.
    fire(&h, tracks[0], "record_growth", json!({ "phase": 2, "attendance": 40, "progress_note": "补录" })).await;
    fire(&h, tracks[0], "assess_competence", json!({ "competence": "practice", "competence_level": 5 })).await;
    assert_kept(&h, cohort, "corrections").await;
    fire(&h, tracks[1], "withdraw", json!({ "reason": "工作调动" })).await;
    fire(&h, tracks[2], "reassign", json!({ "mentor": "mentor2", "reason": "导师工作调动" })).await;
    assert_kept(&h, cohort, "a withdrawal and a reassignment").await;
    for _ in 1..6 {
        h.rt.fire(cohort, None, &coordinator(), "advance_phase", &Default::default()).await.unwrap();
    }
    h.rt.fire(cohort, None, &coordinator(), "finish_training", &Default::default()).await.unwrap();
    graduate::graduate_cohort(&h.rt, h.rt.db(), cohort, &coordinator(), |f| f.to_string()).await.unwrap();
    assert_kept(&h, cohort, "graduation").await;
    let (_, summed) = kept_and_summed(&h, cohort).await;
    let states = &summed[0];
    assert!(
        states.iter().any(|l| l.keys == ["withdrawn"]) && states.iter().all(|l| l.keys != ["in_training"]),
        "a state no track is in any more is gone from the figures: {states:?}"
    );
}

async fn a_database_from_before_summaries_has_them_summed_at_the_next_start(backend: Backend) {
    let h = Harness::embedded(backend).await;
    let (cohort, tracks) = cohort_in_training(&h).await;
    for &t in &tracks[..5] {
        fire(&h, t, "record_growth", json!({ "phase": 1, "attendance": 88, "progress_note": "按计划" })).await;
    }
    // As the migration that adds the summaries leaves an older database: none kept, a fill asked.
    let db = h.rt.db();
    unionflow::store::db::exec(db, "DELETE FROM child_report_lines", vec![]).await.unwrap();
    unionflow::store::db::exec(db, "INSERT INTO summary_fills (what) VALUES ('child_report_lines')", vec![])
        .await
        .unwrap();
    let (kept, _) = kept_and_summed(&h, cohort).await;
    assert!(kept.iter().all(Vec::is_empty), "nothing kept before the start");
    let set = unionflow::definition::embedded::load_embedded().unwrap();
    let restarted =
        unionflow::runtime::Runtime::new(db.clone(), set, h.clock.clone(), h.rt.offset()).await.expect("a start");
    assert_kept(&h, cohort, "the start that sums them").await;
    assert_eq!(h.count("SELECT COUNT(*) AS n FROM summary_fills").await, 0, "the request is taken");
    // Kept from then on by the changes themselves.
    restarted
        .fire(
            tracks[6],
            None,
            &coordinator(),
            "record_growth",
            &data(json!({ "phase": 1, "attendance": 91, "progress_note": "好" })),
        )
        .await
        .unwrap();
    assert_kept(&h, cohort, "a change after the start").await;
}

async fn a_mentors_lists_hold_exactly_their_own_trainees(backend: Backend) {
    let h = Harness::embedded(backend).await;
    let (cohort, _) = cohort_in_training(&h).await;
    let tracks = h.rt.children(cohort).await.unwrap();
    let competences: Vec<String> =
        ["leadership", "practice", "problem_solving", "passing_on_skills", "innovation"].map(String::from).to_vec();
    for m in ["mentor0", "mentor1", "mentor2"] {
        let own: BTreeSet<i64> = tracks.iter().filter(|t| t.data["mentor"] == json!(m)).map(|t| t.id).collect();
        assert!(!own.is_empty(), "{m} follows some trainees");
        let listed: BTreeSet<i64> =
            mentoring::my_trainees(h.rt.db(), m, &competences).await.unwrap().iter().map(|t| t.track).collect();
        assert_eq!(listed, own, "my trainees of {m}");
        let mentor = Actor::new(m, ["mentor"]);
        let work: BTreeSet<i64> =
            unionflow::work::waiting_for(&h.rt, &mentor).await.unwrap().iter().map(|w| w.row.id).collect();
        assert_eq!(work, own, "my work of {m}: the growth records of their own trainees, no one else's");
        // Their substitute's list holds the same work: a person-scoped role is judged by the
        // absent person's name, not the substitute's.
        let substitute = Actor::standing_in("stand.in", &mentor, 1);
        let covered: BTreeSet<i64> =
            unionflow::work::waiting_for(&h.rt, &substitute).await.unwrap().iter().map(|w| w.row.id).collect();
        assert_eq!(covered, own, "{m}'s substitute's work");
        let names = mentoring::my_trainees(h.rt.db(), m, &competences).await.unwrap();
        assert!(names.iter().all(|t| t.name.starts_with("学员")), "named from the roster: {:?}", names[0].name);
    }
    let loads = mentors::pool(h.rt.db()).await.unwrap();
    assert_eq!(loads.iter().map(|(m, _)| m.load).sum::<usize>(), 12, "every trainee counts once in a mentor's load");
}

on_both_backends! {
    kept_summary_equals_tracks_summed => the_kept_summary_equals_the_tracks_summed_after_every_kind_of_change;
    summaries_filled_at_next_start => a_database_from_before_summaries_has_them_summed_at_the_next_start;
    mentors_lists_hold_their_own => a_mentors_lists_hold_exactly_their_own_trainees;
}
