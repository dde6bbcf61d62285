//! Substitutes: a person (or an admin for them) names someone to stand in for them over a period
//! of days, the everyday hand-over while they are away. Not a written delegation (Art. 20): see
//! `delegations`. Rows are never deleted: ending one early stamps the row, and both are audited.

use sea_orm_migration::prelude::*;

use crate::run_script;

#[derive(DeriveMigrationName)]
pub struct Migration;

const SCHEMA: &str = r#"
CREATE TABLE substitutions (
    id {pk},
    absent_user TEXT NOT NULL,
    substitute_user TEXT NOT NULL,
    valid_from TEXT NOT NULL,
    valid_until TEXT NOT NULL,
    reason TEXT,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    ended_at BIGINT,
    ended_by TEXT
);
CREATE INDEX substitutions_absent ON substitutions (absent_user, valid_until);
CREATE INDEX substitutions_substitute ON substitutions (substitute_user, valid_until)
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_script(manager, SCHEMA).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_script(manager, "DROP TABLE substitutions").await
    }
}
