//! Connecting, migrating, and the few helpers every store file uses to run SQL.

use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbErr, FromQueryResult,
    QueryResult, SqliteTransactionMode, Statement, TransactionOptions, TransactionTrait, Value,
};

/// Connects to `url`: `sqlite://FILE?mode=rwc` or `postgres://...`. SQLite runs in WAL mode with
/// `synchronous=FULL`, so every committed step is on disk.
pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    let mut opts = ConnectOptions::new(url.to_owned());
    opts.sqlx_logging(false).max_connections(16).acquire_timeout(Duration::from_secs(30)).map_sqlx_sqlite_opts(|o| {
        o.journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(30))
            .create_if_missing(true)
    });
    Database::connect(opts).await
}

/// Connects to a PostgreSQL schema: every table the app touches lives there (used by tests to
/// give each run a fresh schema).
pub async fn connect_schema(url: &str, schema: &str) -> Result<DatabaseConnection, DbErr> {
    let mut opts = ConnectOptions::new(url.to_owned());
    opts.sqlx_logging(false).max_connections(8).set_schema_search_path(schema.to_owned());
    Database::connect(opts).await
}

pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}

/// Begins a transaction that will write. On SQLite it takes the write lock at `BEGIN`
/// (`BEGIN IMMEDIATE`): a deferred transaction that reads first and then writes cannot wait for a
/// writer that got there in between and fails with `database is locked`, while one that asks for
/// the lock up front waits its turn within the busy timeout. Inside a transaction it is a savepoint.
pub async fn begin_write<C: TransactionTrait<Transaction = DatabaseTransaction>>(
    c: &C,
) -> Result<DatabaseTransaction, DbErr> {
    c.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..Default::default()
    })
    .await
}

/// A connection a change can be made through: the pool, or a transaction it then belongs to.
pub trait Conn: ConnectionTrait + TransactionTrait<Transaction = DatabaseTransaction> {}
impl<C: ConnectionTrait + TransactionTrait<Transaction = DatabaseTransaction>> Conn for C {}

pub fn stmt(backend: sea_orm::DbBackend, sql: &str, values: Vec<Value>) -> Statement {
    Statement::from_sql_and_values(backend, sql, values)
}

pub async fn exec<C: ConnectionTrait>(c: &C, sql: &str, values: Vec<Value>) -> Result<u64, DbErr> {
    Ok(c.execute_raw(stmt(c.get_database_backend(), sql, values)).await?.rows_affected())
}

/// A raw row, read by column name with [`get`]: for the tests' ad-hoc counts and the benchmark's
/// floor. The store reads its rows into typed structs ([`row`], [`rows`]).
pub async fn one<C: ConnectionTrait>(c: &C, sql: &str, values: Vec<Value>) -> Result<Option<QueryResult>, DbErr> {
    c.query_one_raw(stmt(c.get_database_backend(), sql, values)).await
}

/// Raw rows (see [`one`]).
pub async fn all<C: ConnectionTrait>(c: &C, sql: &str, values: Vec<Value>) -> Result<Vec<QueryResult>, DbErr> {
    c.query_all_raw(stmt(c.get_database_backend(), sql, values)).await
}

/// Runs a query and reads every row into `T` (a `#[derive(FromQueryResult)]` struct), so its
/// columns are named once, by the struct's fields, and typed.
pub async fn rows<T: FromQueryResult, C: ConnectionTrait>(
    c: &C,
    sql: &str,
    values: Vec<Value>,
) -> Result<Vec<T>, DbErr> {
    T::find_by_statement(stmt(c.get_database_backend(), sql, values)).all(c).await
}

/// Runs a query and reads its first row, if any, into `T` (see [`rows`]).
pub async fn row<T: FromQueryResult, C: ConnectionTrait>(
    c: &C,
    sql: &str,
    values: Vec<Value>,
) -> Result<Option<T>, DbErr> {
    T::find_by_statement(stmt(c.get_database_backend(), sql, values)).one(c).await
}

/// `FOR UPDATE` where the backend has row locks; SQLite's single writer makes it needless.
pub fn for_update<C: ConnectionTrait>(c: &C) -> &'static str {
    match c.get_database_backend() {
        sea_orm::DbBackend::Postgres => " FOR UPDATE",
        _ => "",
    }
}

/// Reads a column of a raw row (see [`one`]) by name.
pub fn get<T: sea_orm::TryGetable>(row: &QueryResult, col: &str) -> Result<T, DbErr> {
    row.try_get("", col)
}
