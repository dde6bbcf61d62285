//! Read paths that stay fast as a sector grows (issue 16, item 3): the declared reports of a
//! parent's children kept summed as the children change (a cohort's dashboard no longer sums its
//! 600 tracks on every view), and indexes on the instance fields that lists filter by — a
//! person's or a unit's scope field (a mentor's trainees, a unit's assemblies: "my trainees" and
//! "my work"), a track's trainee within its cohort, a parent's children by state.
//!
//! The summaries of existing children need the definitions' reports, which are Rust's to read:
//! this migration leaves a request in `summary_fills`, and the runtime sums them at its next
//! start, in one transaction with taking the request.

use sea_orm_migration::prelude::*;

use crate::run_script;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// `{json:FIELD}` is a field of an instance's JSON data as text, spelled per backend: the store's
/// queries spell it the same way (`store::instances::json_text`), so the indexes serve them.
const SCHEMA: &str = r#"
CREATE TABLE child_report_lines (
    parent_id BIGINT NOT NULL REFERENCES instances (id),
    process TEXT NOT NULL,
    report TEXT NOT NULL,
    keys TEXT NOT NULL,
    visits BIGINT NOT NULL,
    n BIGINT NOT NULL,
    d BIGINT NOT NULL,
    total TEXT NOT NULL,
    PRIMARY KEY (parent_id, process, report, keys)
);
CREATE TABLE summary_fills (
    what TEXT PRIMARY KEY
);
INSERT INTO summary_fills (what) VALUES ('child_report_lines');
CREATE INDEX instances_open_mentor ON instances (process, {json:mentor}, state) WHERE outcome IS NULL;
CREATE INDEX instances_open_unit ON instances (process, {json:unit}, state) WHERE outcome IS NULL;
CREATE INDEX instances_child_trainee ON instances (parent_id, {json:trainee});
CREATE INDEX instances_parent_state ON instances (parent_id, state)
"#;

fn spelled(backend: sea_orm::DbBackend) -> String {
    let mut text = SCHEMA.to_owned();
    for field in ["mentor", "unit", "trainee"] {
        let json = match backend {
            sea_orm::DbBackend::Postgres => format!("(data::json ->> '{field}')"),
            _ => format!("json_extract(data, '$.{field}')"),
        };
        text = text.replace(&format!("{{json:{field}}}"), &json);
    }
    text
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_script(manager, &spelled(manager.get_database_backend())).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_script(
            manager,
            "DROP INDEX instances_parent_state;\nDROP INDEX instances_child_trainee;\nDROP INDEX instances_open_unit;\n\
             DROP INDEX instances_open_mentor;\nDROP TABLE summary_fills;\nDROP TABLE child_report_lines",
        )
        .await
    }
}
