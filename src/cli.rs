//! Subcommands that report and exit: `validate` and `audit verify`.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;

use crate::store::audit::{Audited, Record};

pub fn validate(dir: &Path) -> ExitCode {
    match crate::definition::load_dir(dir).and_then(crate::sector::checked) {
        Ok(set) => {
            let states: usize = set.definitions.values().map(|d| d.states.len()).sum();
            let transitions: usize = set.definitions.values().map(|d| d.transitions.len()).sum();
            println!(
                "{}: {} definitions valid ({} states, {} transitions, {} roles)",
                dir.display(),
                set.definitions.len(),
                states,
                transitions,
                set.roles.roles.len()
            );
            ExitCode::SUCCESS
        }
        Err(problems) => {
            for p in &problems.0 {
                println!("{p}");
            }
            eprintln!("{} problem(s) found", problems.0.len());
            ExitCode::FAILURE
        }
    }
}

pub async fn audit_verify(database: &str) -> anyhow::Result<ExitCode> {
    let db = crate::store::connect(database).await.with_context(|| format!("connecting to {database}"))?;
    let report = crate::store::audit::verify(&db).await.context("reading the audit trail")?;
    match report.broken {
        None => {
            println!("audit chain intact: {} events verified", report.checked);
            Ok(ExitCode::SUCCESS)
        }
        Some(broken) => {
            println!("audit chain BROKEN at {broken} ({} events before it verified)", report.checked);
            Ok(ExitCode::FAILURE)
        }
    }
}

/// `unionflow user add`: creates a user with roles; the password comes from
/// `UNIONFLOW_PASSWORD` or is read from standard input.
pub async fn user_add(
    db: &crate::config::DbArgs,
    defs: &crate::config::DefinitionArgs,
    username: &str,
    display_name: Option<&str>,
    roles: &[String],
) -> anyhow::Result<()> {
    use crate::people::{DisplayName, Password, RoleGrant, Username, users};
    let set = defs.load().map_err(|p| anyhow::anyhow!("invalid process definitions:\n{p}"))?;
    let name = Username::parse(username)?;
    let display = DisplayName::parse(display_name.unwrap_or(username))?;
    let grants = roles.iter().map(|r| RoleGrant::parse(r, &set.roles)).collect::<Result<Vec<_>, _>>()?;
    let password = match std::env::var("UNIONFLOW_PASSWORD") {
        Ok(p) => p,
        Err(_) => {
            eprint!("password for {name} (at least {} characters): ", Password::MIN_LEN);
            let mut line = String::new();
            std::io::stdin().read_line(&mut line).context("reading the password")?;
            line.trim_end_matches(['\r', '\n']).to_owned()
        }
    };
    let hash = crate::people::password::hash(&Password::parse(&password)?)?;
    let conn = crate::store::connect(&db.database).await.with_context(|| format!("connecting to {}", db.database))?;
    crate::store::migrate(&conn).await.context("migrating the database")?;
    let now = time::OffsetDateTime::now_utc();
    // Audited like an admin's change on the page, as done from the command line.
    let change = Audited::begin(&conn, "admin", "cli", now).await?;
    let id = users::create(change.conn(), &name, &display, &hash, &grants, now).await?;
    let roles: Vec<String> = grants.iter().map(ToString::to_string).collect();
    let data = serde_json::json!({ "username": name.as_str(), "roles": roles });
    change.commit(Record { kind: "admin", event: Some("create_user"), data }).await?;
    println!(
        "created user {name} (#{id}) with roles {}",
        grants.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
    );
    Ok(())
}
