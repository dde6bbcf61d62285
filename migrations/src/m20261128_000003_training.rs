//! Training records: the trainees of a cohort (enrolled, or waiting in order) and the mentor pool.

use sea_orm_migration::prelude::*;

use crate::run_script;

#[derive(DeriveMigrationName)]
pub struct Migration;

const SCHEMA: &str = r#"
CREATE TABLE trainees (
    id {pk},
    cohort_id BIGINT NOT NULL REFERENCES instances (id),
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    employer TEXT NOT NULL,
    trade TEXT NOT NULL,
    skill_level TEXT NOT NULL,
    contact TEXT NOT NULL,
    status TEXT NOT NULL,
    position BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (cohort_id, code),
    UNIQUE (cohort_id, name, contact)
);
CREATE INDEX trainees_cohort_status ON trainees (cohort_id, status, position);
CREATE TABLE mentors (
    username TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    field TEXT NOT NULL,
    capacity BIGINT NOT NULL,
    created_at BIGINT NOT NULL
)
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_script(manager, SCHEMA).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_script(manager, "DROP TABLE mentors;\nDROP TABLE trainees").await
    }
}
