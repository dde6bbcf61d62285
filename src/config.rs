//! Configuration from the command line and the environment.

use std::path::PathBuf;

use clap::Args;
use time::UtcOffset;

/// Settings every subcommand that touches the database shares.
#[derive(Debug, Clone, Args)]
pub struct DbArgs {
    /// Database URL: sqlite://FILE?mode=rwc (embedded, the default) or postgres://USER@HOST/DB.
    #[arg(long = "database", env = "DATABASE_URL", default_value = "sqlite://unionflow.db?mode=rwc", global = true)]
    pub database: String,
}

#[derive(Debug, Clone, Args)]
pub struct DefinitionArgs {
    /// A folder of process definitions to use instead of the built-in ones.
    #[arg(long = "workflows", env = "UNIONFLOW_WORKFLOWS", global = true)]
    pub workflows: Option<PathBuf>,
    /// The UTC offset in which deadlines end (the end of the last day, local time).
    #[arg(long = "utc-offset", env = "UNIONFLOW_UTC_OFFSET", default_value = "+08:00", value_parser = parse_offset, global = true)]
    pub utc_offset: UtcOffset,
}

pub fn parse_offset(s: &str) -> Result<UtcOffset, String> {
    let format = time::macros::format_description!("[offset_hour sign:mandatory]:[offset_minute]");
    UtcOffset::parse(s, format).map_err(|_| format!("{s:?} is not an offset like +08:00"))
}

impl DefinitionArgs {
    /// Loads the folder given, or the definitions built into the binary.
    /// Either way the set must declare the names the sector's Rust code relies on.
    pub fn load(&self) -> Result<crate::definition::DefinitionSet, crate::definition::Problems> {
        let set = match &self.workflows {
            Some(dir) => crate::definition::load_dir(dir),
            None => crate::definition::embedded::load_embedded(),
        }?;
        crate::sector::checked(set)
    }
}
