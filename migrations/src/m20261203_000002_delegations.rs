//! Written delegations (集体合同规定 Art. 20): a chief representative's role handed to another
//! person in writing, for one round or for a period, revocable. Rows are never deleted: a
//! revocation is stamped on the row, and both are audited.

use sea_orm_migration::prelude::*;

use crate::run_script;

#[derive(DeriveMigrationName)]
pub struct Migration;

const SCHEMA: &str = r#"
CREATE TABLE delegations (
    id {pk},
    from_user TEXT NOT NULL,
    to_user TEXT NOT NULL,
    instance_id BIGINT,
    valid_from TEXT NOT NULL,
    valid_until TEXT,
    letter TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT,
    revoked_by TEXT
);
CREATE INDEX delegations_to ON delegations (to_user, revoked_at);
CREATE INDEX delegations_from ON delegations (from_user, revoked_at)
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_script(manager, SCHEMA).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_script(manager, "DROP TABLE delegations").await
    }
}
