//! Comments (issue 15): a comment is an event of its instance's audit stream; a mention of a person
//! in one puts the instance in their "my work" until they open it.

use sea_orm_migration::prelude::*;

use crate::run_script;

#[derive(DeriveMigrationName)]
pub struct Migration;

const SCHEMA: &str = r#"
CREATE TABLE mentions (
    instance_id BIGINT NOT NULL,
    username TEXT NOT NULL,
    seq BIGINT NOT NULL,
    mentioned_by TEXT NOT NULL,
    at BIGINT NOT NULL,
    seen_at BIGINT,
    PRIMARY KEY (instance_id, username)
);
CREATE INDEX mentions_unseen ON mentions (username, seen_at)
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_script(manager, SCHEMA).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_script(manager, "DROP TABLE mentions").await
    }
}
