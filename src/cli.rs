//! Subcommands that report and exit: `validate` and `audit verify`.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;

pub fn validate(dir: &Path) -> ExitCode {
    match crate::definition::load_dir(dir) {
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
