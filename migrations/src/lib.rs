//! The schema of unionflow, as sea-orm migrations applied by `unionflow migrate` and at start.
//! Both backends run the same migrations; each writes its SQL through [`sql`] where they differ.

pub use sea_orm_migration::prelude::*;

mod m20261128_000001_engine;
mod m20261128_000002_people;
mod m20261128_000003_training;
mod m20261201_000001_sign_in_throttle;
mod m20261202_000001_unit_roster;
mod m20261203_000001_timer_base;
mod m20261203_000002_delegations;
mod m20261203_000003_keys_and_numbers;
mod m20261203_000004_timer_occurrence;
mod m20261203_000005_service_accounts;
mod m20261203_000006_webhooks;
mod m20261203_000007_mentions;
mod m20261203_000008_feeds;
mod m20261203_000009_attachments;
mod m20261203_000010_substitutes;
mod m20261203_000011_email;
mod m20261203_000012_read_paths;

/// The engine's schema script, for tools that build tables of the same shape (the benchmark).
pub use m20261128_000001_engine::SCHEMA as ENGINE_SCHEMA;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261128_000001_engine::Migration),
            Box::new(m20261128_000002_people::Migration),
            Box::new(m20261128_000003_training::Migration),
            Box::new(m20261201_000001_sign_in_throttle::Migration),
            Box::new(m20261202_000001_unit_roster::Migration),
            Box::new(m20261203_000001_timer_base::Migration),
            Box::new(m20261203_000002_delegations::Migration),
            Box::new(m20261203_000003_keys_and_numbers::Migration),
            Box::new(m20261203_000004_timer_occurrence::Migration),
            Box::new(m20261203_000005_service_accounts::Migration),
            Box::new(m20261203_000006_webhooks::Migration),
            Box::new(m20261203_000007_mentions::Migration),
            Box::new(m20261203_000008_feeds::Migration),
            Box::new(m20261203_000009_attachments::Migration),
            Box::new(m20261203_000010_substitutes::Migration),
            Box::new(m20261203_000011_email::Migration),
            Box::new(m20261203_000012_read_paths::Migration),
        ]
    }
}

/// Adapts the few spellings that differ between the backends, so a migration is written once:
/// `{pk}` is an auto-increment 64-bit primary key.
pub fn sql(backend: sea_orm::DbBackend, text: &str) -> String {
    let pk = match backend {
        sea_orm::DbBackend::Postgres => "BIGSERIAL PRIMARY KEY",
        _ => "INTEGER PRIMARY KEY AUTOINCREMENT",
    };
    text.replace("{pk}", pk)
}

/// Runs each `;`-separated statement of a script.
pub async fn run_script(manager: &SchemaManager<'_>, script: &str) -> Result<(), DbErr> {
    let backend = manager.get_database_backend();
    for statement in sql(backend, script).split(";\n").map(str::trim).filter(|s| !s.is_empty()) {
        manager.get_connection().execute_unprepared(statement).await?;
    }
    Ok(())
}
