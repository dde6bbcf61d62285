//! The `unionflow` command: parse the command line, call into the library.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use unionflow::config::{DbArgs, DefinitionArgs};

#[derive(Parser)]
#[command(
    name = "unionflow",
    version,
    about = "A workflow engine for trade unions: bargaining rounds, assembly votes, training cohorts"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    db: DbArgs,
    #[command(flatten)]
    defs: DefinitionArgs,
}

#[derive(Subcommand)]
enum Command {
    /// Check every definition in a folder; print each problem as FILE:LINE:COL: message.
    Validate {
        /// The folder (default: ./workflows).
        #[arg(default_value = "workflows")]
        dir: std::path::PathBuf,
        /// The day the calendars must cover twelve months from, as YYYY-MM-DD (default: today).
        #[arg(long, value_parser = day)]
        today: Option<time::Date>,
    },
    /// Apply the database migrations.
    Migrate,
    /// Serve the web app, and fire due timers.
    Serve(unionflow::server::ServeArgs),
    /// The audit trail.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Measure durable throughput of the engine against the database's own floor.
    Bench(unionflow::bench::BenchArgs),
    /// People who sign in.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Service accounts: other systems calling the JSON API with a bearer token.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Outgoing events: the URLs that hear of changes.
    Webhook {
        #[command(subcommand)]
        command: WebhookCommand,
    },
    /// Move the running instances of a process from one stored definition version to another;
    /// those that cannot move are listed with the reason and left alone.
    MigrateInstances {
        /// The process (its id).
        process: String,
        /// The version they run on now.
        #[arg(long)]
        from: i64,
        /// The version to move them to (normally the current one).
        #[arg(long)]
        to: i64,
        /// A state of the old version and the state of the new one it becomes, as old=new;
        /// repeat for several.
        #[arg(long = "map")]
        map: Vec<String>,
        /// Report what would change, and change nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// The daily digest by e-mail.
    Digest {
        #[command(subcommand)]
        command: DigestCommand,
    },
}

#[derive(Subcommand)]
enum DigestCommand {
    /// Send the digest now (whatever the hour; it does not count as the day's), to test the
    /// mail settings: to one person, or to everyone who asked for it.
    Send {
        /// Only this person (who needs an e-mail address, not the opt-in).
        #[arg(long)]
        user: Option<String>,
        /// Print the mail instead of sending it.
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        mail: unionflow::digest::MailArgs,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create a service account and its token (printed once): `unionflow token add bureau
    /// --role bureau_reviewer`.
    Add {
        name: String,
        /// A role, or role@unit for a unit's role; repeat for several.
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
        /// The day the token stops working, as YYYY-MM-DD (default: never).
        #[arg(long, value_parser = day)]
        expires: Option<time::Date>,
        /// The calls a minute the token may make; more are answered 429 with Retry-After.
        #[arg(long, default_value_t = unionflow::people::tokens::DEFAULT_PER_MINUTE)]
        per_minute: u32,
    },
    /// List the service accounts' tokens (never their secrets).
    List,
    /// Revoke an account's tokens and deactivate it.
    Revoke { name: String },
    /// The account's latest API calls (kept 90 days), newest first.
    Calls {
        name: String,
        #[arg(long, default_value_t = 50)]
        limit: u64,
    },
}

#[derive(Subcommand)]
enum WebhookCommand {
    /// Subscribe a URL to changes of instances; prints the secret deliveries are signed with,
    /// the only time it is shown. Without filters every change is sent.
    Add {
        url: String,
        /// Only changes of this process (its id).
        #[arg(long)]
        process: Option<String>,
        /// Only this event (its id).
        #[arg(long)]
        event: Option<String>,
        /// Only changes entering this state (its id).
        #[arg(long)]
        state: Option<String>,
        /// Only changes that finish an instance.
        #[arg(long)]
        finished: bool,
        /// What the subscription is for.
        #[arg(long, default_value = "")]
        description: String,
    },
    /// List the subscriptions.
    List,
    /// Remove a subscription and its deliveries.
    Remove { id: i64 },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a user (the first admin, for one): `unionflow user add NAME --role admin`. The
    /// password is read from UNIONFLOW_PASSWORD, or asked for on the terminal.
    Add {
        username: String,
        /// The name shown in the app (default: the user name).
        #[arg(long)]
        display_name: Option<String>,
        /// A role, or role@unit for a unit's role; repeat for several.
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
    },
    /// Let a deactivated user sign in again.
    Activate { username: String },
    /// End a user's sessions and refuse their sign-ins.
    Deactivate { username: String },
    /// Set a new password (from UNIONFLOW_PASSWORD, or asked for); the user's sessions end.
    Password { username: String },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Verify the hash chain: exit 0 with a count when intact, 1 naming the first bad event.
    Verify,
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "unionflow=info,warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match run(cli).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// A day given on the command line.
fn day(s: &str) -> Result<time::Date, String> {
    unionflow::definition::calendar::parse_date(s).ok_or_else(|| format!("{s:?} is not a day: write YYYY-MM-DD"))
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Validate { dir, today } => {
            let today = today.unwrap_or_else(|| time::OffsetDateTime::now_utc().to_offset(cli.defs.utc_offset).date());
            Ok(unionflow::cli::validate(&dir, today))
        }
        Command::Migrate => {
            let db = unionflow::store::connect(&cli.db.database).await?;
            unionflow::store::migrate(&db).await?;
            println!("migrated {}", cli.db.database);
            Ok(ExitCode::SUCCESS)
        }
        Command::Serve(args) => {
            unionflow::server::serve(&cli.db, &cli.defs, args).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Audit { command: AuditCommand::Verify } => unionflow::cli::audit_verify(&cli.db.database).await,
        Command::User { command } => {
            use unionflow::cli::{AccountChange, user_add, user_change};
            match command {
                UserCommand::Add { username, display_name, roles } => {
                    user_add(&cli.db, &cli.defs, &username, display_name.as_deref(), &roles).await?
                }
                UserCommand::Activate { username } => user_change(&cli.db, &username, AccountChange::Activate).await?,
                UserCommand::Deactivate { username } => {
                    user_change(&cli.db, &username, AccountChange::Deactivate).await?
                }
                UserCommand::Password { username } => {
                    let password = unionflow::cli::password_for(&username)?;
                    user_change(&cli.db, &username, AccountChange::ResetPassword(password)).await?
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Token { command } => match command {
            TokenCommand::Add { name, roles, expires, per_minute } => {
                unionflow::cli::token_add(&cli.db, &cli.defs, &name, &roles, expires, per_minute).await?;
                Ok(ExitCode::SUCCESS)
            }
            TokenCommand::List => {
                unionflow::cli::token_list(&cli.db).await?;
                Ok(ExitCode::SUCCESS)
            }
            TokenCommand::Revoke { name } => unionflow::cli::token_revoke(&cli.db, &name).await,
            TokenCommand::Calls { name, limit } => {
                unionflow::cli::token_calls(&cli.db, &name, limit).await?;
                Ok(ExitCode::SUCCESS)
            }
        },
        Command::Webhook { command } => {
            match command {
                WebhookCommand::Add { url, process, event, state, finished, description } => {
                    let add = unionflow::cli::WebhookAdd {
                        url: &url,
                        description: &description,
                        process: process.as_deref().unwrap_or_default(),
                        event: event.as_deref().unwrap_or_default(),
                        state: state.as_deref().unwrap_or_default(),
                        finished,
                    };
                    unionflow::cli::webhook_add(&cli.db, &cli.defs, add).await?
                }
                WebhookCommand::List => unionflow::cli::webhook_list(&cli.db).await?,
                WebhookCommand::Remove { id } => unionflow::cli::webhook_remove(&cli.db, id).await?,
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::MigrateInstances { process, from, to, map, dry_run } => {
            let args = unionflow::cli::MigrateInstances { process: &process, from, to, map: &map, dry_run };
            unionflow::cli::migrate_instances(&cli.db, &cli.defs, args).await
        }
        Command::Digest { command: DigestCommand::Send { user, dry_run, mail } } => {
            unionflow::cli::digest_send(&cli.db, &cli.defs, &mail, user.as_deref(), dry_run).await
        }
        Command::Bench(args) => {
            unionflow::bench::run(&cli.db, &cli.defs, args).await?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
