//! Test support for the engine and store: a fresh database per test (a SQLite temp file, or a
//! PostgreSQL schema dropped at the end), and a runtime over it with a clock the test moves.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use sea_orm::{ConnectionTrait, DatabaseConnection};
use time::macros::{datetime, offset};
use unionflow::clock::ManualClock;
use unionflow::definition::{DefinitionSet, SourceFile};
use unionflow::engine::{Actor, Data};
use unionflow::runtime::Runtime;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The PostgreSQL server for the PostgreSQL variants of the tests. They are ignored unless asked
/// for (`cargo test -- --include-ignored`, as `.ci/run` does), so a run without PostgreSQL
/// reports them as ignored, never as passed; asked for, they need this set, and an unreachable
/// server fails them.
pub const PG_ENV: &str = "UNIONFLOW_TEST_PG";

pub fn unique_name(prefix: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    format!("{prefix}_{}_{}_{}", std::process::id(), nanos, COUNTER.fetch_add(1, Ordering::Relaxed))
}

/// A database that exists for one test.
pub struct TestDb {
    pub db: DatabaseConnection,
    pub url: String,
    pub backend: Backend,
    cleanup: Option<Cleanup>,
}

enum Cleanup {
    File(std::path::PathBuf),
    Schema { admin_url: String, schema: String },
}

impl TestDb {
    pub async fn new(backend: Backend) -> TestDb {
        match backend {
            Backend::Sqlite => {
                let path = std::env::temp_dir().join(format!("{}.db", unique_name("unionflow_test")));
                let url = format!("sqlite://{}?mode=rwc", path.display());
                let db = unionflow::store::connect(&url).await.expect("open a SQLite temp file");
                unionflow::store::migrate(&db).await.expect("migrate SQLite");
                TestDb { db, url, backend, cleanup: Some(Cleanup::File(path)) }
            }
            Backend::Postgres => {
                let admin_url = std::env::var(PG_ENV)
                    .unwrap_or_else(|_| panic!("PostgreSQL tests asked for (--include-ignored): set {PG_ENV}"));
                let schema = unique_name("t");
                let admin = unionflow::store::connect(&admin_url)
                    .await
                    .expect("PostgreSQL must be reachable when UNIONFLOW_TEST_PG is set");
                admin.execute_unprepared(&format!("CREATE SCHEMA {schema}")).await.expect("create a test schema");
                let db = unionflow::store::db::connect_schema(&admin_url, &schema)
                    .await
                    .expect("connect to the test schema");
                unionflow::store::migrate(&db).await.expect("migrate PostgreSQL");
                let url = schema_url(&admin_url, &schema);
                TestDb { db, url, backend, cleanup: Some(Cleanup::Schema { admin_url, schema }) }
            }
        }
    }

    /// A second, separate connection pool to the same database (another "server process").
    pub async fn reconnect(&self) -> DatabaseConnection {
        match &self.cleanup {
            Some(Cleanup::Schema { admin_url, schema }) => {
                unionflow::store::db::connect_schema(admin_url, schema).await.expect("reconnect")
            }
            _ => unionflow::store::connect(&self.url).await.expect("reconnect"),
        }
    }
}

/// A URL whose connections use the schema, for code that connects by URL alone (the CLI).
fn schema_url(url: &str, schema: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}options=-csearch_path%3D{schema}")
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match self.cleanup.take() {
            Some(Cleanup::File(path)) => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            Some(Cleanup::Schema { admin_url, schema }) => {
                // Drop runs outside async code: a short-lived runtime of its own drops the schema.
                let _ = std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
                    rt.block_on(async {
                        let admin = unionflow::store::connect(&admin_url).await.ok()?;
                        admin.execute_unprepared(&format!("DROP SCHEMA {schema} CASCADE")).await.ok()
                    })
                })
                .join();
            }
            None => {}
        }
    }
}

/// A runtime over a fresh database, with its clock.
pub struct Harness {
    pub db: TestDb,
    pub clock: Arc<ManualClock>,
    pub rt: Runtime,
}

pub const START: time::OffsetDateTime = datetime!(2026-03-02 09:00 +08:00);

impl Harness {
    pub async fn new(backend: Backend, set: DefinitionSet) -> Harness {
        let db = TestDb::new(backend).await;
        let clock = Arc::new(ManualClock::new(START));
        let rt = Runtime::new(db.db.clone(), set, clock.clone(), offset!(+8)).await.expect("runtime");
        Harness { db, clock, rt }
    }

    /// The definitions built into the binary.
    pub async fn embedded(backend: Backend) -> Harness {
        Self::new(backend, unionflow::definition::embedded::load_embedded().expect("built-in definitions are valid"))
            .await
    }

    pub async fn state(&self, id: i64) -> String {
        self.rt.instance(id).await.expect("instance").row.state
    }

    pub async fn data(&self, id: i64) -> Data {
        self.rt.instance(id).await.expect("instance").row.data
    }

    pub async fn count(&self, sql: &str) -> i64 {
        let row = unionflow::store::db::one(&self.db.db, sql, vec![]).await.expect("query").expect("a row");
        let n: i64 = unionflow::store::db::get(&row, "n").expect("column n");
        n
    }
}

/// Builds a definition set from inline files (roles.toml is added).
pub fn defs(files: &[(&str, &str)]) -> DefinitionSet {
    let mut all = vec![SourceFile { path: "roles.toml".into(), text: ROLES.into() }];
    all.extend(files.iter().map(|(p, t)| SourceFile { path: (*p).into(), text: (*t).into() }));
    unionflow::definition::load(&all).unwrap_or_else(|p| panic!("test definitions invalid:\n{p}"))
}

pub const ROLES: &str = r#"
[role.admin]
label = { zh = "管理员", en = "Admin" }
[role.clerk]
label = { zh = "办事员", en = "Clerk" }
[role.unit_secretary]
label = { zh = "单位秘书", en = "Unit secretary" }
"#;

pub fn data(v: serde_json::Value) -> Data {
    v.as_object().cloned().expect("a JSON object")
}

pub fn admin() -> Actor {
    Actor::new("root", ["admin"])
}

/// Runs an async test body against SQLite and against PostgreSQL.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident => $body:ident;)*) => {
        $(mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() { super::$body($crate::support::Backend::Sqlite).await }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[ignore = "needs PostgreSQL: set UNIONFLOW_TEST_PG and run with --include-ignored"]
            async fn postgres() { super::$body($crate::support::Backend::Postgres).await }
        })*
    };
}
