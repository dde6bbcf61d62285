//! The JSON API's accounts (issue 14): service accounts are users of another kind, who sign in
//! with a bearer token instead of a password; tokens are kept as their hashes, with an expiry, a
//! revocation and a rate; idempotency keys remember the answer to a start, so a retried request
//! never starts two instances; every call is logged under its account.

use sea_orm_migration::prelude::*;

use crate::run_script;

#[derive(DeriveMigrationName)]
pub struct Migration;

const SCHEMA: &str = r#"
ALTER TABLE users ADD COLUMN kind TEXT NOT NULL DEFAULT 'person';
CREATE TABLE api_tokens (
    id {pk},
    user_id BIGINT NOT NULL REFERENCES users (id),
    token_hash TEXT NOT NULL UNIQUE,
    hint TEXT NOT NULL,
    per_minute BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT,
    revoked_at BIGINT,
    last_used_at BIGINT
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);
CREATE TABLE idempotency_keys (
    account TEXT NOT NULL,
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status BIGINT NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (account, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
CREATE TABLE api_calls (
    id {pk},
    at BIGINT NOT NULL,
    account TEXT NOT NULL,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    status BIGINT NOT NULL
);
CREATE INDEX api_calls_account ON api_calls (account, id);
CREATE INDEX instances_process_id ON instances (process, id)
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_script(manager, SCHEMA).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_script(manager, "DROP INDEX instances_process_id;\nDROP TABLE api_calls;\nDROP TABLE idempotency_keys;\nDROP TABLE api_tokens;\nALTER TABLE users DROP COLUMN kind")
            .await
    }
}
