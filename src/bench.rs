//! `unionflow bench`: durable throughput of the engine, against the floor the database sets.
//!
//! It runs N unit-assembly approvals — create, then four transitions each, one after another,
//! every step its own committed transaction — and then writes the same rows (an instance row and
//! an audit event per step, in tables of the engine's shape) through the same connection with no
//! engine at all.
//! On a disk where fsync dominates, the ratio shows what the engine itself costs.

use std::time::Instant;

use clap::Args;
use sea_orm::{ConnectionTrait, TransactionTrait};
use serde_json::json;

use crate::config::{DbArgs, DefinitionArgs};
use crate::engine::{Actor, Data};
use crate::store::db::exec;

#[derive(Debug, Clone, Args)]
pub struct BenchArgs {
    /// What to measure: the engine's durable throughput, or a cohort's dashboard and the talent
    /// pool search at full size.
    #[arg(long, value_enum, default_value_t = Suite::Engine)]
    pub suite: Suite,
    /// How many assembly approvals to run (engine).
    #[arg(long, default_value_t = 300)]
    pub instances: usize,
    /// How many trainees the cohort has (training); each gets 6 phases of records.
    #[arg(long, default_value_t = 600)]
    pub trainees: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Suite {
    Engine,
    Training,
    /// A transition with expressions beside one without.
    Expressions,
}

/// The process the benchmark drives, and its four transitions after the start.
const PROCESS: &str = "assembly_approval";

fn steps() -> Vec<(&'static str, Data)> {
    let data = |v: serde_json::Value| v.as_object().cloned().unwrap_or_default();
    vec![
        ("schedule", data(json!({ "assembly_date": "2026-12-01", "kind": "representatives", "roster_size": 25 }))),
        ("open_session", Data::new()),
        ("record_vote", data(json!({ "present": 20, "yes": 15, "no": 4, "abstain": 1 }))),
        ("confirm", Data::new()),
    ]
}

/// CPU time of the whole process (all threads, user + system), from /proc.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let after_name = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

struct Measure {
    steps: usize,
    wall: f64,
    cpu: Option<f64>,
}

impl Measure {
    fn per_sec(&self) -> f64 {
        self.steps as f64 / self.wall
    }
    fn cpu_us_per_step(&self) -> Option<f64> {
        self.cpu.map(|c| c * 1e6 / self.steps as f64)
    }
}

async fn timed<F: std::future::Future<Output = anyhow::Result<usize>>>(f: F) -> anyhow::Result<Measure> {
    let (c0, t0) = (cpu_seconds(), Instant::now());
    let steps = f.await?;
    let wall = t0.elapsed().as_secs_f64();
    let cpu = cpu_seconds().zip(c0).map(|(a, b)| a - b);
    Ok(Measure { steps, wall, cpu })
}

pub async fn run(db: &DbArgs, defs: &DefinitionArgs, args: BenchArgs) -> anyhow::Result<()> {
    if args.suite == Suite::Expressions {
        return crate::bench_expressions::run(&db.database, args.instances).await;
    }
    let rt = crate::server::runtime(db, defs).await?;
    if args.suite == Suite::Training {
        return crate::bench_training::run(&rt, &db.database, args.trainees).await;
    }
    let n = args.instances;
    let actor = Actor::new("bench", ["admin"]);
    let steps = steps();
    println!("unionflow bench: {n} {PROCESS} instances (create + {} transitions each) on {}", steps.len(), db.database);

    let run_engine = |count: usize, offset: usize| {
        let (rt, actor, steps) = (&rt, &actor, &steps);
        async move {
            for i in offset..offset + count {
                let start = json!({ "unit": format!("bench-{i}"), "draft_version": 1 });
                let id = rt.start(PROCESS, actor, start.as_object().unwrap_or(&Data::new())).await?;
                for (event, input) in steps {
                    rt.fire(id, None, actor, event, input).await?;
                }
            }
            Ok(count * (steps.len() + 1))
        }
    };
    // Both sides warm up first (connections, prepared statements, page cache), so neither is
    // measured against a database the other warmed.
    let warm = (n / 10).max(10);
    floor(rt.db(), warm, steps.len()).await?;
    run_engine(warm, n).await?;
    let floor = timed(floor(rt.db(), n, steps.len())).await?;
    let engine = timed(run_engine(n, 0)).await?;

    let transitions = n * steps.len();
    println!();
    println!(
        "engine: {:>8.1} instances/s  {:>8.1} transitions/s  {:>8.1} steps/s",
        n as f64 / engine.wall,
        transitions as f64 / engine.wall,
        engine.per_sec()
    );
    println!("floor:  {:>8.1} steps/s (same rows and indexes, same connection, no engine)", floor.per_sec());
    println!("ratio:  {:.2}× the floor's throughput", engine.per_sec() / floor.per_sec());
    if let (Some(e), Some(f)) = (engine.cpu_us_per_step(), floor.cpu_us_per_step()) {
        println!("cpu:    {e:.1} µs per step with the engine, {f:.1} µs without: the engine's own {:.1} µs", e - f);
    }
    Ok(())
}

/// Tables of exactly the engine's shape (same columns, same indexes), under other names.
fn floor_schema() -> String {
    migration::ENGINE_SCHEMA
        .replace("audit_heads", "bench_floor_heads")
        .replace("audit_events", "bench_floor_audit")
        .replace("timers", "bench_floor_timers")
        .replace("instances", "bench_floor_instances")
        .replace("definitions", "bench_floor_definitions")
}

const FLOOR_TABLES: [&str; 5] = [
    "bench_floor_heads",
    "bench_floor_audit",
    "bench_floor_timers",
    "bench_floor_instances",
    "bench_floor_definitions",
];

/// The same rows per step as the engine writes — an instance row and an audit event in tables of
/// the same shape — each step in its own transaction, with no definition, decision or hashing.
async fn floor(db: &sea_orm::DatabaseConnection, n: usize, transitions: usize) -> anyhow::Result<usize> {
    for t in FLOOR_TABLES {
        db.execute_unprepared(&format!("DROP TABLE IF EXISTS {t}")).await?;
    }
    let script = migration::sql(db.get_database_backend(), &floor_schema());
    for statement in script.split(";\n").map(str::trim).filter(|s| !s.is_empty()) {
        db.execute_unprepared(statement).await?;
    }
    exec(db, "INSERT INTO bench_floor_definitions (process, version, sha256, source, loaded_at) VALUES ('p', 1, 'x', 'x', 0)", vec![])
        .await?;
    let data = r#"{"abstain":0,"assembly_date":"2026-12-01","draft_version":1,"kind":"representatives","roster_size":25,"unit":"bench"}"#;
    let event = r#"{"input":{"present":20,"yes":15},"spawned":0,"vote":null}"#;
    let hash = crate::audit::GENESIS;
    let audit = "INSERT INTO bench_floor_audit (stream, seq, at, actor, kind, process, instance_id, event, from_state, to_state, data, prev_hash, hash)
                 VALUES ($1, $2, 0, 'bench', 'transition', 'p', $3, 'e', 'a', 'b', $4, $5, $5)";
    for i in 0..n {
        let stream = format!("floor:{i}");
        let txn = db.begin().await?;
        let row = crate::store::db::one(
            &txn,
            "INSERT INTO bench_floor_instances (definition_id, process, state, data, version, created_by, created_at, updated_at)
             VALUES (1, 'p', 'start', $1, 1, 'bench', 0, 0) RETURNING id",
            vec![data.into()],
        )
        .await?
        .ok_or_else(|| anyhow::anyhow!("insert returned nothing"))?;
        let id: i64 = crate::store::db::get(&row, "id")?;
        exec(
            &txn,
            "UPDATE bench_floor_instances SET audit_seq = 0, audit_hash = $1 WHERE id = $2",
            vec![hash.into(), id.into()],
        )
        .await?;
        exec(&txn, audit, vec![stream.clone().into(), 0i64.into(), id.into(), event.into(), hash.into()]).await?;
        txn.commit().await?;
        for seq in 1..=transitions as i64 {
            let txn = db.begin().await?;
            exec(
                &txn,
                "UPDATE bench_floor_instances SET state = 'next', data = $1, version = version + 1, updated_at = 1, audit_seq = $2, audit_hash = $3
                 WHERE id = $4 AND version = $2",
                vec![data.into(), seq.into(), hash.into(), id.into()],
            )
            .await?;
            exec(&txn, audit, vec![stream.clone().into(), seq.into(), id.into(), event.into(), hash.into()]).await?;
            txn.commit().await?;
        }
    }
    for t in FLOOR_TABLES {
        db.execute_unprepared(&format!("DROP TABLE {t}")).await?;
    }
    Ok(n * (transitions + 1))
}
