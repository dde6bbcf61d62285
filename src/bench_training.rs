//! `unionflow bench --suite training`: how fast a cohort's dashboard and the talent pool search
//! answer at full size. It builds a cohort of N trainees (imported from CSV) with 40 mentors,
//! records 6 phases and 5 competences for every trainee, and times the dashboard's reads and
//! sums while training runs; then graduates the cohort and times pool searches.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::engine::report;
use crate::engine::{Actor, Data};
use crate::runtime::Runtime;
use crate::sector::cohort;
use crate::store::reports;
use crate::training::{enrol, graduate, mentors, pool};
use anyhow::Context as _;

const TRADES: [&str; 4] = ["数控车工", "维修电工", "焊工", "钳工"];
const COMPETENCES: [&str; 5] = ["leadership", "practice", "problem_solving", "passing_on_skills", "innovation"];
const PHASES: i64 = 6;
const ROUNDS: usize = 30;

fn data(v: serde_json::Value) -> Data {
    v.as_object().cloned().unwrap_or_default()
}

/// The median and the slowest of `ROUNDS` runs of `f`.
async fn time<F, Fut>(mut f: F) -> anyhow::Result<(Duration, Duration)>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    f().await?; // warm
    let mut runs = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        let t = Instant::now();
        f().await?;
        runs.push(t.elapsed());
    }
    runs.sort();
    Ok((runs[ROUNDS / 2], runs[ROUNDS - 1]))
}

fn report(what: &str, (median, slowest): (Duration, Duration)) {
    println!("{what:<52} median {:>7.2} ms   slowest {:>7.2} ms", ms(median), ms(slowest));
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

pub async fn run(rt: &Runtime, database: &str, trainees: usize) -> anyhow::Result<()> {
    println!("unionflow bench --suite training: {trainees} trainees × {PHASES} phases on {database}");
    let coordinator = Actor::new("bench.coordinator", ["training_coordinator"]);
    let start = data(json!({
        "name": format!("bench cohort {}", time::OffsetDateTime::now_utc().unix_timestamp()),
        "year": 2026, "fields": ["智能制造"], "phases": PHASES, "capacity": trainees,
    }));
    let cohort = rt.start(cohort::PROCESS, &coordinator, &start).await?;
    rt.fire(cohort, None, &coordinator, "open_enrolment", &Data::new()).await?;
    let mut csv = String::from("姓名,工作单位,工种,技能等级,联系方式\n");
    for i in 0..trainees {
        csv.push_str(&format!("学员{cohort}-{i},工厂{},{},高级工,139{i:08}\n", i % 9, TRADES[i % 4]));
    }
    enrol::import_csv(rt, rt.db(), cohort, &coordinator, csv.as_bytes(), false).await?;
    let per_mentor = (trainees / 40 + 1) as i64 + 1;
    for i in 0..40 {
        let name = format!("bench.mentor{cohort}-{i:02}");
        mentors::upsert(rt.db(), &name, &name, TRADES[i % 4], per_mentor, time::OffsetDateTime::now_utc()).await?;
    }
    rt.fire(cohort, None, &coordinator, "start_training", &Data::new()).await?;
    mentors::auto_assign(rt, rt.db(), cohort, &coordinator).await?;

    let seeding = Instant::now();
    let tracks: Vec<i64> = rt.children(cohort).await?.iter().map(|t| t.id).collect();
    for (i, &track) in tracks.iter().enumerate() {
        rt.fire(track, None, &coordinator, "begin_training", &Data::new()).await?;
        for phase in 1..=PHASES {
            // One trainee in fifty misses most of phase 3 and does not graduate.
            let attendance = if i % 50 == 0 && phase == 3 { 60 } else { 75 + (i as i64 + phase) % 26 };
            let given = json!({ "phase": phase, "attendance": attendance, "progress_note": "按计划完成" });
            rt.fire(track, None, &coordinator, "record_growth", &data(given)).await?;
        }
        for (j, c) in COMPETENCES.iter().enumerate() {
            let given = json!({ "competence": c, "competence_level": 2 + (i + j) % 4 });
            rt.fire(track, None, &coordinator, "assess_competence", &data(given)).await?;
        }
    }
    let steps = tracks.len() * (1 + PHASES as usize + COMPETENCES.len());
    println!("seeded {steps} records in {:.1} s", seeding.elapsed().as_secs_f64());
    println!();

    report(
        "cohort dashboard (tracks read and summed, mentor load)",
        time(|| async {
            let tracks = rt.children(cohort).await?;
            let def = rt.definitions().get(crate::sector::track::PROCESS).context("the track definition")?;
            let figures = report::tally(def, tracks.iter().map(|t| reports::row(t, rt.offset())));
            let progress = def.reports.iter().position(|r| r.id == "progress").context("the progress report")?;
            let sixth = figures[progress].iter().find(|l| l.keys == ["6"]).map(|l| l.figure.clone());
            anyhow::ensure!(sixth == Some(report::Figure::Count(trainees as u64)), "every trainee has phase 6");
            mentors::pool(rt.db()).await?;
            Ok(())
        })
        .await?,
    );
    report(
        "trainee list of the cohort page",
        time(|| async {
            anyhow::ensure!(enrol::trainees(rt.db(), cohort).await?.len() == trainees);
            Ok(())
        })
        .await?,
    );

    for _ in 1..PHASES {
        rt.fire(cohort, None, &coordinator, "advance_phase", &Data::new()).await?;
    }
    rt.fire(cohort, None, &coordinator, "finish_training", &Data::new()).await?;
    let verdicts = graduate::graduate_cohort(rt, rt.db(), cohort, &coordinator, |f| f.to_string()).await?;
    let graduated = verdicts.iter().filter(|(_, v)| *v == graduate::Verdict::Graduated).count();
    println!("graduated {graduated} of {} by the completion rule", verdicts.len());

    report(
        "talent pool: every graduate",
        time(|| async {
            pool::search(rt.db(), &pool::Search::default()).await?;
            Ok(())
        })
        .await?,
    );
    let narrow = pool::Search {
        trade: Some(TRADES[1].to_owned()),
        field: Some("智能制造".to_owned()),
        competence: Some(("innovation".to_owned(), 4)),
    };
    report(
        "talent pool: trade + field + innovation ≥ 4",
        time(|| async {
            pool::search(rt.db(), &narrow).await?;
            Ok(())
        })
        .await?,
    );
    Ok(())
}
