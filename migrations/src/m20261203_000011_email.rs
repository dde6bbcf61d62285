//! The daily digest by e-mail (issue 15, item 5): a person's address, their opt-in and the language
//! of their mail, and the day their last digest was claimed, which keeps it to one a day across
//! restarts and server processes; a day's failed sends are counted so retries stay bounded.

use sea_orm_migration::prelude::*;

use crate::run_script;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Days are `YYYY-MM-DD` text in the server's offset, so they compare as text.
const SCHEMA: &str = r#"
ALTER TABLE users ADD COLUMN email TEXT;
ALTER TABLE users ADD COLUMN digest BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE users ADD COLUMN locale TEXT;
ALTER TABLE users ADD COLUMN last_digest TEXT;
ALTER TABLE users ADD COLUMN digest_failed_on TEXT;
ALTER TABLE users ADD COLUMN digest_failures BIGINT NOT NULL DEFAULT 0
"#;

const DOWN: &str = r#"
ALTER TABLE users DROP COLUMN digest_failures;
ALTER TABLE users DROP COLUMN digest_failed_on;
ALTER TABLE users DROP COLUMN last_digest;
ALTER TABLE users DROP COLUMN locale;
ALTER TABLE users DROP COLUMN digest;
ALTER TABLE users DROP COLUMN email
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_script(manager, SCHEMA).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_script(manager, DOWN).await
    }
}
