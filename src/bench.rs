//! `unionflow bench`: durable throughput of the engine, against the floor the database sets.
//!
//! It runs N unit-assembly approvals — create, then four transitions each, one after another,
//! every step its own committed transaction — and then writes the same rows (an instance row, an
//! audit row and its chain head per step) through the same connection with no engine at all.
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
    /// How many assembly approvals to run.
    #[arg(long, default_value_t = 300)]
    pub instances: usize,
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
    let rt = crate::server::runtime(db, defs).await?;
    let n = args.instances;
    let actor = Actor::new("bench", ["admin"]);
    let steps = steps();
    println!("unionflow bench: {n} {PROCESS} instances (create + {} transitions each) on {}", steps.len(), db.database);

    let engine = timed(async {
        for i in 0..n {
            let start = json!({ "unit": format!("bench-{i}"), "draft_version": 1 });
            let id = rt.start(PROCESS, &actor, start.as_object().unwrap_or(&Data::new())).await?;
            for (event, input) in &steps {
                rt.fire(id, None, &actor, event, input).await?;
            }
        }
        Ok(n * (steps.len() + 1))
    })
    .await?;

    let floor = timed(floor(rt.db(), n, steps.len())).await?;

    let transitions = n * steps.len();
    println!();
    println!(
        "engine: {:>8.1} instances/s  {:>8.1} transitions/s  {:>8.1} steps/s",
        n as f64 / engine.wall,
        transitions as f64 / engine.wall,
        engine.per_sec()
    );
    println!("floor:  {:>8.1} steps/s (same rows, same connection, no engine)", floor.per_sec());
    println!("ratio:  {:.2}× the floor's throughput", engine.per_sec() / floor.per_sec());
    if let (Some(e), Some(f)) = (engine.cpu_us_per_step(), floor.cpu_us_per_step()) {
        println!("cpu:    {e:.1} µs per step with the engine, {f:.1} µs without: the engine's own {:.1} µs", e - f);
    }
    Ok(())
}

/// The same rows per step as the engine writes — one instance row, one audit event, one chain
/// head — each step in its own transaction, with no definition, decision or hashing.
async fn floor(db: &sea_orm::DatabaseConnection, n: usize, transitions: usize) -> anyhow::Result<usize> {
    let pk = match db.get_database_backend() {
        sea_orm::DbBackend::Postgres => "BIGSERIAL PRIMARY KEY",
        _ => "INTEGER PRIMARY KEY AUTOINCREMENT",
    };
    for t in ["bench_floor_instances", "bench_floor_audit", "bench_floor_heads"] {
        db.execute_unprepared(&format!("DROP TABLE IF EXISTS {t}")).await?;
    }
    db.execute_unprepared(&format!(
        "CREATE TABLE bench_floor_instances (id {pk}, state TEXT NOT NULL, data TEXT NOT NULL, version BIGINT NOT NULL)"
    ))
    .await?;
    db.execute_unprepared(&format!("CREATE TABLE bench_floor_audit (id {pk}, stream TEXT NOT NULL, seq BIGINT NOT NULL, data TEXT NOT NULL, hash TEXT NOT NULL, UNIQUE (stream, seq))")).await?;
    db.execute_unprepared(
        "CREATE TABLE bench_floor_heads (stream TEXT PRIMARY KEY, seq BIGINT NOT NULL, hash TEXT NOT NULL)",
    )
    .await?;
    let data = r#"{"unit":"bench","draft_version":1,"roster_size":25}"#;
    let hash = crate::audit::GENESIS;
    for i in 0..n {
        let stream = format!("floor:{i}");
        let txn = db.begin().await?;
        let row = crate::store::db::one(
            &txn,
            "INSERT INTO bench_floor_instances (state, data, version) VALUES ('start', $1, 1) RETURNING id",
            vec![data.into()],
        )
        .await?
        .ok_or_else(|| anyhow::anyhow!("insert returned nothing"))?;
        let id: i64 = crate::store::db::get(&row, "id")?;
        exec(
            &txn,
            "INSERT INTO bench_floor_audit (stream, seq, data, hash) VALUES ($1, 0, $2, $3)",
            vec![stream.clone().into(), data.into(), hash.into()],
        )
        .await?;
        exec(
            &txn,
            "INSERT INTO bench_floor_heads (stream, seq, hash) VALUES ($1, 0, $2)",
            vec![stream.clone().into(), hash.into()],
        )
        .await?;
        txn.commit().await?;
        for seq in 1..=transitions as i64 {
            let txn = db.begin().await?;
            exec(&txn, "UPDATE bench_floor_instances SET state = 'next', data = $1, version = version + 1 WHERE id = $2 AND version = $3", vec![data.into(), id.into(), seq.into()]).await?;
            exec(
                &txn,
                "INSERT INTO bench_floor_audit (stream, seq, data, hash) VALUES ($1, $2, $3, $4)",
                vec![stream.clone().into(), seq.into(), data.into(), hash.into()],
            )
            .await?;
            exec(
                &txn,
                "UPDATE bench_floor_heads SET seq = $1, hash = $2 WHERE stream = $3",
                vec![seq.into(), hash.into(), stream.clone().into()],
            )
            .await?;
            txn.commit().await?;
        }
    }
    for t in ["bench_floor_instances", "bench_floor_audit", "bench_floor_heads"] {
        db.execute_unprepared(&format!("DROP TABLE {t}")).await?;
    }
    Ok(n * (transitions + 1))
}
