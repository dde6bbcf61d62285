//! A unit keeps its roster by name (one name a line), besides its size: an assembly starts from
//! the register instead of having it typed at each vote (issue 11, item 6).

use sea_orm_migration::prelude::*;

use crate::run_script;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_script(manager, "ALTER TABLE units ADD COLUMN roster TEXT NOT NULL DEFAULT ''").await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_script(manager, "ALTER TABLE units DROP COLUMN roster").await
    }
}
