//! `unionflow bench`: durable throughput of the engine, against the floor the database sets.
//!
//! It runs N unit-assembly approvals — create, then four transitions each, one after another,
//! every step its own committed transaction — and then writes the same rows (an instance row and
//! an audit event per step, in tables of the engine's shape) through the same connection with no
//! engine at all.
//! On a disk where fsync dominates, the ratio shows what the engine itself costs. On SQLite a
//! second floor writes the same rows through SQLite's C API (`bench_rusqlite`): what the driver
//! costs. It prints a table with the machine and the database's durability settings.

use std::time::Instant;

use clap::Args;
use sea_orm::{ConnectionTrait, TransactionTrait};
use serde_json::json;

use crate::config::{DbArgs, DefinitionArgs};
use crate::engine::{Actor, Data};
use crate::store::db::{exec, one};

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
    /// How many interleaved rounds of the engine and its floors (engine); medians are printed.
    #[arg(long, default_value_t = 3)]
    pub rounds: usize,
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

#[derive(Clone, Copy)]
struct Measure {
    steps: usize,
    wall: f64,
    cpu: Option<f64>,
}

impl Measure {
    fn per_sec(&self) -> f64 {
        self.steps as f64 / self.wall
    }
    /// CPU seconds per step.
    fn cpu_per_step(&self) -> Option<f64> {
        self.cpu.map(|c| c / self.steps as f64)
    }
}

async fn timed<F: std::future::Future<Output = anyhow::Result<usize>>>(f: F) -> anyhow::Result<Measure> {
    let (c0, t0) = (cpu_seconds(), Instant::now());
    let steps = f.await?;
    let wall = t0.elapsed().as_secs_f64();
    let cpu = cpu_seconds().zip(c0).map(|(a, b)| a - b);
    Ok(Measure { steps, wall, cpu })
}

/// The median round by throughput, and the median CPU per step (each its own median).
fn median(mut runs: Vec<Measure>) -> Measure {
    runs.sort_by(|a, b| a.per_sec().total_cmp(&b.per_sec()));
    let mid = runs[runs.len() / 2];
    let mut cpus: Vec<f64> = runs.iter().filter_map(Measure::cpu_per_step).collect();
    cpus.sort_by(f64::total_cmp);
    let cpu = cpus.get(cpus.len() / 2).map(|c| c * mid.steps as f64);
    Measure { cpu, ..mid }
}

pub async fn run(db: &DbArgs, defs: &DefinitionArgs, args: BenchArgs) -> anyhow::Result<()> {
    if args.suite == Suite::Expressions {
        return crate::bench_expressions::run(&db.database, args.instances).await;
    }
    let rt = crate::server::runtime(db, defs).await?;
    if args.suite == Suite::Training {
        return crate::bench_training::run(&rt, &db.database, args.trainees).await;
    }
    let (n, rounds) = (args.instances, args.rounds.max(1));
    let actor = Actor::new("bench", ["admin"]);
    let steps = steps();
    let per = steps.len() + 1;
    println!(
        "unionflow bench: {n} {PROCESS} instances (create + {} transitions each), {rounds} interleaved rounds, on {}",
        steps.len(),
        db.database
    );

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
            Ok(count * per)
        }
    };
    let sqlite = crate::bench_rusqlite::sqlite_path(&db.database).map(str::to_owned);
    let transitions = steps.len();
    let run_rusqlite = |count: usize| {
        let path = sqlite.clone();
        async move {
            let Some(path) = path else { return Ok(0) };
            let schema = migration::sql(sea_orm::DbBackend::Sqlite, &floor_schema());
            tokio::task::spawn_blocking(move || {
                crate::bench_rusqlite::floor(&path, &schema, &FLOOR_TABLES, count, transitions)
            })
            .await?
        }
    };
    // Every side warms up first (connections, prepared statements, page cache), so none is
    // measured against a database another warmed; then the rounds interleave, so a change in the
    // machine's load falls on all of them.
    let warm = (n / 10).max(10);
    floor(rt.db(), warm, steps.len()).await?;
    run_rusqlite(warm).await?;
    run_engine(warm, n * rounds).await?;
    let (mut engine, mut orm, mut raw) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        orm.push(timed(floor(rt.db(), n, steps.len())).await?);
        if sqlite.is_some() {
            raw.push(timed(run_rusqlite(n)).await?);
        }
        engine.push(timed(run_engine(n, round * n)).await?);
    }
    let engine = median(engine);
    let orm = median(orm);
    let raw = (!raw.is_empty()).then(|| median(raw));

    println!();
    println!("{}", machine());
    println!("{}", settings(rt.db()).await?);
    println!();
    println!(
        "| side | instances/s | steps/s | CPU s per {n} instances | CPU µs per step | engine's throughput ÷ this |"
    );
    println!("|---|---|---|---|---|---|");
    let row = |name: &str, m: &Measure| {
        let cpu = m.cpu_per_step();
        println!(
            "| {name} | {:.0} | {:.0} | {} | {} | {:.2}× |",
            m.per_sec() / per as f64,
            m.per_sec(),
            cpu.map_or("?".into(), |c| format!("{:.2}", c * (n * per) as f64)),
            cpu.map_or("?".into(), |c| format!("{:.0}", c * 1e6)),
            engine.per_sec() / m.per_sec()
        );
    };
    row("engine (sea-orm, sqlx)", &engine);
    row("floor: sea-orm over sqlx, no engine", &orm);
    if let Some(raw) = &raw {
        row("floor: rusqlite (SQLite's C API), no ORM, no engine", raw);
    }
    if let (Some(e), Some(f)) = (engine.cpu_per_step(), orm.cpu_per_step()) {
        println!();
        println!("CPU per step: the engine's own {:.0} µs over the sea-orm floor", (e - f) * 1e6);
        if let Some(r) = raw.as_ref().and_then(Measure::cpu_per_step) {
            println!("CPU per step: sea-orm and sqlx's own {:.0} µs over SQLite's C API", (f - r) * 1e6);
        }
    }
    Ok(())
}

/// The CPU's model and how many logical cores there are, from /proc/cpuinfo.
fn machine() -> String {
    let info = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = info
        .lines()
        .find_map(|l| l.strip_prefix("model name").and_then(|r| r.split_once(':')).map(|(_, m)| m.trim().to_owned()))
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = info.lines().filter(|l| l.starts_with("processor")).count();
    format!("machine:  {model}, {cores} logical cores")
}

/// The database and the settings that decide when a commit is durable, as the connection has them.
async fn settings(db: &sea_orm::DatabaseConnection) -> anyhow::Result<String> {
    let text = |row: Option<sea_orm::QueryResult>, col: &str| -> anyhow::Result<String> {
        let row = row.ok_or_else(|| anyhow::anyhow!("no answer for {col}"))?;
        Ok(row.try_get_by_index::<String>(0).or_else(|_| row.try_get_by_index::<i64>(0).map(|v| v.to_string()))?)
    };
    Ok(match db.get_database_backend() {
        sea_orm::DbBackend::Postgres => {
            let version = text(one(db, "SHOW server_version", vec![]).await?, "server_version")?;
            let sync = text(one(db, "SHOW synchronous_commit", vec![]).await?, "synchronous_commit")?;
            let fsync = text(one(db, "SHOW fsync", vec![]).await?, "fsync")?;
            format!("database: PostgreSQL {version}, synchronous_commit={sync}, fsync={fsync}")
        }
        _ => {
            let version = text(one(db, "SELECT sqlite_version()", vec![]).await?, "sqlite_version")?;
            let journal = text(one(db, "PRAGMA journal_mode", vec![]).await?, "journal_mode")?;
            // 0 OFF, 1 NORMAL, 2 FULL, 3 EXTRA.
            let sync = text(one(db, "PRAGMA synchronous", vec![]).await?, "synchronous")?;
            let sync = match sync.as_str() {
                "0" => "OFF",
                "1" => "NORMAL",
                "2" => "FULL",
                "3" => "EXTRA",
                other => other,
            };
            format!("database: SQLite {version}, journal_mode={journal}, synchronous={sync}")
        }
    })
}

/// An instance's data and an audit event's, as the floors write them.
pub(crate) const FLOOR_DATA: &str = r#"{"abstain":0,"assembly_date":"2026-12-01","draft_version":1,"kind":"representatives","roster_size":25,"unit":"bench"}"#;
pub(crate) const FLOOR_EVENT: &str = r#"{"input":{"present":20,"yes":15},"spawned":0,"vote":null}"#;

/// Tables of exactly the engine's shape (same columns, same indexes), under other names.
fn floor_schema() -> String {
    migration::ENGINE_SCHEMA
        .replace("audit_heads", "bench_floor_heads")
        .replace("audit_events", "bench_floor_audit")
        .replace("timers", "bench_floor_timers")
        .replace("instances", "bench_floor_instances")
        .replace("definitions", "bench_floor_definitions")
}

pub(crate) const FLOOR_TABLES: [&str; 5] = [
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
    let (data, event) = (FLOOR_DATA, FLOOR_EVENT);
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
