//! Outgoing events (issue 14, item 4): the subscriptions admins make, and the outbox of
//! deliveries written in the same transaction as the change each one reports.

use sea_orm_migration::prelude::*;

use crate::run_script;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// A delivery's body is fixed when it is enqueued, so every retry signs the same bytes; its
/// attempts are kept on the row as a bounded JSON list (`history`) for the admin page.
const SCHEMA: &str = r#"
CREATE TABLE webhook_subscriptions (
    id {pk},
    url TEXT NOT NULL,
    description TEXT NOT NULL,
    secret TEXT NOT NULL,
    process TEXT,
    event TEXT,
    state TEXT,
    finished BOOLEAN NOT NULL,
    active BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL
);
CREATE TABLE webhook_deliveries (
    id {pk},
    subscription_id BIGINT NOT NULL REFERENCES webhook_subscriptions (id) ON DELETE CASCADE,
    delivery_id TEXT NOT NULL UNIQUE,
    event_type TEXT NOT NULL,
    instance_id BIGINT NOT NULL,
    body TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    locked_until BIGINT,
    last_status_code BIGINT,
    last_error TEXT,
    delivered_at BIGINT,
    created_at BIGINT NOT NULL,
    history TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at, id);
CREATE INDEX webhook_deliveries_subscription ON webhook_deliveries (subscription_id, id)
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_script(manager, SCHEMA).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_script(manager, "DROP TABLE webhook_deliveries;\nDROP TABLE webhook_subscriptions").await
    }
}
