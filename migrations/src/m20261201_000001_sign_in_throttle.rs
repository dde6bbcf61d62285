//! Sign-in throttling as counters that one statement reserves atomically (replacing the list of
//! failures, which was read before a password check and written after it, so parallel guesses all
//! got through). One row per user name and client address, and one per client address.

use sea_orm_migration::prelude::*;

use crate::run_script;

#[derive(DeriveMigrationName)]
pub struct Migration;

const SCHEMA: &str = r#"
DROP TABLE sign_in_failures;
CREATE TABLE sign_in_throttle (
    key TEXT PRIMARY KEY,
    failures BIGINT NOT NULL,
    window_start BIGINT NOT NULL,
    locked_until BIGINT NOT NULL,
    lockouts BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX sign_in_throttle_updated ON sign_in_throttle (updated_at)
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_script(manager, SCHEMA).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_script(
            manager,
            "DROP TABLE sign_in_throttle;\nCREATE TABLE sign_in_failures (id {pk}, username TEXT NOT NULL, at BIGINT NOT NULL);\nCREATE INDEX sign_in_failures_username ON sign_in_failures (username, at)",
        )
        .await
    }
}
