//! Recurring timers (issue 13, item 3): which time a timer falls due, so the next is counted from
//! the same base (n periods after it) and its `count` is kept.

use sea_orm_migration::prelude::*;

use crate::run_script;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_script(manager, "ALTER TABLE timers ADD COLUMN occurrence BIGINT NOT NULL DEFAULT 1").await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_script(manager, "ALTER TABLE timers DROP COLUMN occurrence").await
    }
}
