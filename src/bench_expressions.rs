//! `unionflow bench --suite expressions`: what a transition with expressions (a condition, and
//! computed fields recomputed after the step) costs beside the same transition with built-in
//! guards only — in the engine alone (a decision, no I/O), and as durable steps on the database.

use std::time::Instant;

use serde_json::json;

use crate::definition::{SourceFile, load};
use crate::engine::{Actor, Context, Data, decide};
use crate::runtime::Runtime;

/// The same small process twice: its `record` step guarded by built-in guards, or by a condition
/// and followed by three computed fields.
fn definition(id: &str, with_expressions: bool) -> String {
    let (guards, computed) = if with_expressions {
        (
            r#"guards = [{ when = "amount >= 0 && (household > 0 || amount == 0)" }]"#,
            r#"
[[field]]
id = "per_person"
type = "int"
label = { zh = "人均", en = "Per person" }
compute = "amount / household"

[[field]]
id = "doubled"
type = "int"
label = { zh = "两倍", en = "Doubled" }
compute = "2 * per_person"

[[field]]
id = "tier"
type = "text"
label = { zh = "档", en = "Tier" }
compute = 'per_person < 1180 ? "deep" : doubled < 4720 ? "relative" : "none"'
"#,
        )
    } else {
        (
            r#"guards = [{ compare = { field = "amount", op = ">=", than = 0 } }, { compare = { field = "household", op = ">", than = 0 } }]"#,
            "",
        )
    };
    format!(
        r#"
id = "{id}"
label = {{ zh = "测", en = "Bench" }}
initial = "open"
[start]
roles = ["admin"]
ask = ["household"]
[[stage]]
id = "main"
label = {{ zh = "主", en = "Main" }}
[[state]]
id = "open"
stage = "main"
label = {{ zh = "开", en = "Open" }}
[[state]]
id = "done"
stage = "main"
final = true
outcome = "passed"
label = {{ zh = "完", en = "Done" }}
[[field]]
id = "household"
type = "int"
min = 1
label = {{ zh = "人口", en = "Household" }}
[[field]]
id = "amount"
type = "int"
min = 0
label = {{ zh = "金额", en = "Amount" }}
[[field]]
id = "records"
type = "int"
label = {{ zh = "次数", en = "Records" }}
{computed}
[[transition]]
event = "record"
from = "open"
to = "open"
roles = ["admin"]
label = {{ zh = "记", en = "Record" }}
ask = ["amount"]
{guards}
effects = [{{ increment = "records" }}]
[[transition]]
event = "finish"
from = "open"
to = "done"
roles = ["admin"]
label = {{ zh = "完", en = "Finish" }}
"#
    )
}

const PLAIN: &str = "bench_plain";
const WITH_EXPRESSIONS: &str = "bench_expressions";

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

pub async fn run(database: &str, instances: usize) -> anyhow::Result<()> {
    let roles = r#"[role.admin]
label = { zh = "管理员", en = "Admin" }"#;
    let files = [
        SourceFile { path: "roles.toml".into(), text: roles.into() },
        SourceFile { path: format!("{PLAIN}.toml"), text: definition(PLAIN, false) },
        SourceFile { path: format!("{WITH_EXPRESSIONS}.toml"), text: definition(WITH_EXPRESSIONS, true) },
    ];
    let set = load(&files).map_err(|p| anyhow::anyhow!("{p}"))?;
    let actor = Actor::new("bench", ["admin"]);
    let data: Data = json!({ "household": 3, "amount": 3000, "records": 1 }).as_object().cloned().unwrap_or_default();
    let given: Data = json!({ "amount": 3300 }).as_object().cloned().unwrap_or_default();

    // The engine alone: decisions per definition, rounds interleaved, medians.
    let ctx = Context {
        now: time::OffsetDateTime::now_utc(),
        calendar: &set.calendar,
        offset: time::UtcOffset::UTC,
        people: None,
    };
    let per_decision = |id: &str, n: u32| -> anyhow::Result<f64> {
        let def = set.get(id).ok_or_else(|| anyhow::anyhow!("no {id}"))?;
        let t0 = Instant::now();
        for _ in 0..n {
            std::hint::black_box(
                decide(def, "open", &data, &actor, "record", &given, ctx).map_err(|r| anyhow::anyhow!("{r}"))?,
            );
        }
        Ok(t0.elapsed().as_secs_f64() * 1e6 / f64::from(n))
    };
    let (mut plain, mut exprs) = (Vec::new(), Vec::new());
    for _ in 0..7 {
        plain.push(per_decision(PLAIN, 20_000)?);
        exprs.push(per_decision(WITH_EXPRESSIONS, 20_000)?);
    }
    let (p, e) = (median(plain), median(exprs));
    println!("unionflow bench --suite expressions");
    println!(
        "engine alone: {p:.2} µs per decision with built-in guards, {e:.2} µs with a condition and 3 computed fields ({:+.1} %)",
        (e / p - 1.0) * 100.0
    );

    // Durable steps: each a committed transaction, as `serve` runs them.
    let db = crate::store::db::connect(database).await?;
    crate::store::migrate(&db).await?;
    let rt =
        Runtime::new(db, set.clone(), std::sync::Arc::new(crate::clock::SystemClock), time::UtcOffset::UTC).await?;
    let steps = 8;
    let durable = |id: &'static str, n: usize| {
        let (rt, actor, given) = (&rt, &actor, &given);
        async move {
            let t0 = Instant::now();
            for _ in 0..n {
                let start = json!({ "household": 3 });
                let inst = rt.start(id, actor, start.as_object().unwrap_or(&Data::new())).await?;
                for _ in 0..steps {
                    rt.fire(inst, None, actor, "record", given).await?;
                }
            }
            anyhow::Ok((n * (steps + 1)) as f64 / t0.elapsed().as_secs_f64())
        }
    };
    durable(PLAIN, 5).await?;
    durable(WITH_EXPRESSIONS, 5).await?;
    let (mut plain, mut exprs) = (Vec::new(), Vec::new());
    for _ in 0..3 {
        plain.push(durable(PLAIN, instances / 3 + 1).await?);
        exprs.push(durable(WITH_EXPRESSIONS, instances / 3 + 1).await?);
    }
    let (p, e) = (median(plain), median(exprs));
    println!(
        "durable steps on {database}: {p:.1} steps/s with built-in guards, {e:.1} with expressions ({:+.1} %)",
        (e / p - 1.0) * 100.0
    );
    Ok(())
}
