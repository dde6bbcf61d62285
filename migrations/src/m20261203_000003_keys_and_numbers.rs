//! Keys and numbers across instances (issue 13, item 4): the keys open instances hold (one
//! household, one open case), and the counters instance numbers are drawn from, gap-free per
//! scope (a process's pattern in one year), each taken in the transaction of the step it numbers.

use sea_orm_migration::prelude::*;

use crate::run_script;

#[derive(DeriveMigrationName)]
pub struct Migration;

const SCHEMA: &str = r#"
CREATE TABLE instance_keys (
    process TEXT NOT NULL,
    key TEXT NOT NULL,
    instance_id BIGINT NOT NULL,
    PRIMARY KEY (process, key)
);
CREATE INDEX instance_keys_instance ON instance_keys (instance_id);
CREATE TABLE counters (
    scope TEXT PRIMARY KEY,
    last BIGINT NOT NULL
)
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_script(manager, SCHEMA).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_script(manager, "DROP TABLE counters;\nDROP TABLE instance_keys").await
    }
}
