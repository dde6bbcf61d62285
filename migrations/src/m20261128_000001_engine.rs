//! The engine's tables: definition versions, instances, timers and the audit chain.

use sea_orm_migration::prelude::*;

use crate::run_script;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The engine's tables, as one script (`{pk}` is spelled per backend by [`crate::sql`]).
pub const SCHEMA: &str = r#"
CREATE TABLE definitions (
    id {pk},
    process TEXT NOT NULL,
    version BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    source TEXT NOT NULL,
    loaded_at BIGINT NOT NULL,
    UNIQUE (process, version),
    UNIQUE (process, sha256)
);
CREATE TABLE instances (
    id {pk},
    definition_id BIGINT NOT NULL REFERENCES definitions (id),
    process TEXT NOT NULL,
    state TEXT NOT NULL,
    data TEXT NOT NULL,
    version BIGINT NOT NULL,
    parent_id BIGINT REFERENCES instances (id),
    fanout BIGINT NOT NULL DEFAULT 0,
    fanouts BIGINT NOT NULL DEFAULT 0,
    outcome TEXT,
    audit_seq BIGINT NOT NULL DEFAULT -1,
    audit_hash TEXT NOT NULL DEFAULT '',
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX instances_parent ON instances (parent_id, fanout);
CREATE INDEX instances_process_state ON instances (process, state, id);
CREATE TABLE timers (
    id {pk},
    instance_id BIGINT NOT NULL REFERENCES instances (id),
    name TEXT NOT NULL,
    event TEXT NOT NULL,
    due_at BIGINT NOT NULL,
    last_day TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    done_at BIGINT
);
CREATE INDEX timers_due ON timers (status, due_at, id);
CREATE INDEX timers_instance ON timers (instance_id, status);
CREATE TABLE audit_events (
    id {pk},
    stream TEXT NOT NULL,
    seq BIGINT NOT NULL,
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    kind TEXT NOT NULL,
    process TEXT,
    instance_id BIGINT,
    event TEXT,
    from_state TEXT,
    to_state TEXT,
    data TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    UNIQUE (stream, seq)
);
CREATE INDEX audit_events_instance ON audit_events (instance_id, id);
CREATE INDEX audit_events_actor ON audit_events (actor, id);
CREATE INDEX audit_events_kind ON audit_events (kind, id);
CREATE INDEX audit_events_process ON audit_events (process, id);
CREATE INDEX audit_events_at ON audit_events (at, id);
-- The head of every stream that is not an instance's (an instance keeps its own in its row).
CREATE TABLE audit_heads (
    stream TEXT PRIMARY KEY,
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL
)
"#;

/// On PostgreSQL the audit trail refuses to be changed, not only to be changed unseen.
const POSTGRES_APPEND_ONLY: &[&str] = &[
    r#"CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP;
END
$$"#,
    "CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE ON audit_events FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()",
    "CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_script(manager, SCHEMA).await?;
        if manager.get_database_backend() == sea_orm::DbBackend::Postgres {
            for statement in POSTGRES_APPEND_ONLY {
                manager.get_connection().execute_unprepared(statement).await?;
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_script(
            manager,
            "DROP TABLE audit_heads;\nDROP TABLE audit_events;\nDROP TABLE timers;\nDROP TABLE instances;\nDROP TABLE definitions",
        )
        .await?;
        if manager.get_database_backend() == sea_orm::DbBackend::Postgres {
            manager.get_connection().execute_unprepared("DROP FUNCTION audit_events_append_only()").await?;
        }
        Ok(())
    }
}
