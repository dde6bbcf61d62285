//! Attachments (issue 15): files on an instance or on a step, kept in the database in chunks so
//! neither an upload nor a download holds a whole file; the audit event that records a file
//! carries its sha256, so the instance's chain covers the papers too.

use sea_orm_migration::prelude::*;

use crate::run_script;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// `event_seq` is the place in the instance's history of the event that records the file (its
/// own "attachment" event, or the step it came with); it is set in the transaction that stores
/// the file, so a row without it was never committed whole. `on_step` is the step a file added
/// afterwards is about.
const SCHEMA: &str = r#"
CREATE TABLE attachments (
    id {pk},
    instance_id BIGINT NOT NULL REFERENCES instances (id),
    event_seq BIGINT,
    on_step BIGINT,
    name TEXT NOT NULL,
    media_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    uploaded_by TEXT NOT NULL,
    uploaded_at BIGINT NOT NULL
);
CREATE INDEX attachments_instance ON attachments (instance_id, id);
CREATE TABLE attachment_chunks (
    attachment_id BIGINT NOT NULL REFERENCES attachments (id),
    seq BIGINT NOT NULL,
    bytes {blob} NOT NULL,
    PRIMARY KEY (attachment_id, seq)
)
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let blob = match manager.get_database_backend() {
            sea_orm::DbBackend::Postgres => "BYTEA",
            _ => "BLOB",
        };
        run_script(manager, &SCHEMA.replace("{blob}", blob)).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_script(manager, "DROP TABLE attachment_chunks;\nDROP TABLE attachments").await
    }
}
