//! A timer keeps the day it counts from and the years without a published calendar its deadline
//! rests on: when a calendar file is added or changed, every pending deadline is computed again
//! from its base, and a deadline on a guessed calendar is marked so (issue 11, item 9).
//!
//! Timers made before this have no base (NULL): the first recomputation works it out once.

use sea_orm_migration::prelude::*;

use crate::run_script;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_script(
            manager,
            "ALTER TABLE timers ADD COLUMN base_day TEXT;\nALTER TABLE timers ADD COLUMN provisional TEXT NOT NULL DEFAULT ''",
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_script(manager, "ALTER TABLE timers DROP COLUMN provisional;\nALTER TABLE timers DROP COLUMN base_day")
            .await
    }
}
