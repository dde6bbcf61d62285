//! People and access: units, users with roles (scoped to a unit where the role is), sessions kept
//! in the database (so several servers share them), and failed sign-ins for throttling.

use sea_orm_migration::prelude::*;

use crate::run_script;

#[derive(DeriveMigrationName)]
pub struct Migration;

const SCHEMA: &str = r#"
CREATE TABLE units (
    id TEXT PRIMARY KEY,
    name_zh TEXT NOT NULL,
    name_en TEXT NOT NULL,
    sector TEXT NOT NULL,
    kind TEXT NOT NULL,
    roster_size BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);
CREATE INDEX units_sector ON units (sector, id);
CREATE TABLE users (
    id {pk},
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at BIGINT NOT NULL
);
CREATE TABLE user_roles (
    user_id BIGINT NOT NULL REFERENCES users (id),
    role TEXT NOT NULL,
    unit_id TEXT NOT NULL DEFAULT '' ,
    PRIMARY KEY (user_id, role, unit_id)
);
CREATE INDEX user_roles_role ON user_roles (role, unit_id);
CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id),
    csrf_token TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE TABLE sign_in_failures (
    id {pk},
    username TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX sign_in_failures_username ON sign_in_failures (username, at)
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_script(manager, SCHEMA).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_script(
            manager,
            "DROP TABLE sign_in_failures;\nDROP TABLE sessions;\nDROP TABLE user_roles;\nDROP TABLE users;\nDROP TABLE units",
        )
        .await
    }
}
