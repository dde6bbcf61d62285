//! Subcommands that report and exit: `validate`, `audit verify`, `user`, `webhook` and `digest`.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;

use crate::store::audit::{Audited, Record};

/// `unionflow validate DIR`: every problem of every file, or a one-line summary; and a warning
/// (which does not fail the run) when the calendars do not cover the twelve months from `today`.
pub fn validate(dir: &Path, today: time::Date) -> ExitCode {
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
            if let Some(warning) = calendar_warning(&set.calendar, today) {
                eprintln!("{warning}");
            }
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

/// The warning for the years of the twelve months from `today` that no published calendar
/// describes: deadlines into them are computed on weekends (and whatever a provisional file
/// guesses) and marked provisional.
pub fn calendar_warning(calendar: &crate::definition::Calendar, today: time::Date) -> Option<String> {
    let year_on = crate::engine::shift(today, crate::definition::values::Period::Months(12), false)
        .and_then(time::Date::previous_day)
        .unwrap_or(today);
    let years = calendar.provisional_years(today, year_on);
    if years.is_empty() {
        return None;
    }
    let named: Vec<String> = years
        .iter()
        .map(|y| {
            let why =
                if calendar.has_file(*y) { "its calendar file is marked provisional" } else { "no calendar file" };
            format!("{y} ({why})")
        })
        .collect();
    Some(format!(
        "warning: the twelve months from {} reach {}, which no published holiday calendar describes: deadlines there are marked provisional; add calendars/YYYY.toml from the State Council's notice",
        crate::definition::calendar::format_date(today),
        named.join(", ")
    ))
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

/// The password for `name`, from `UNIONFLOW_PASSWORD` or typed on the terminal, checked and hashed.
fn new_password_hash(name: &crate::people::Username) -> anyhow::Result<String> {
    Ok(crate::people::password::hash(&password_for(name.as_str())?)?)
}

/// A new password for `name`, from `UNIONFLOW_PASSWORD` or typed on the terminal, checked.
pub fn password_for(name: &str) -> anyhow::Result<crate::people::Password> {
    use crate::people::Password;
    let password = match std::env::var("UNIONFLOW_PASSWORD") {
        Ok(p) => p,
        Err(_) => {
            eprint!("password for {name} (at least {} characters): ", Password::MIN_LEN);
            let mut line = String::new();
            std::io::stdin().read_line(&mut line).context("reading the password")?;
            line.trim_end_matches(['\r', '\n']).to_owned()
        }
    };
    Ok(Password::parse(&password)?)
}

async fn open(db: &crate::config::DbArgs) -> anyhow::Result<sea_orm::DatabaseConnection> {
    let conn = crate::store::connect(&db.database).await.with_context(|| format!("connecting to {}", db.database))?;
    crate::store::migrate(&conn).await.context("migrating the database")?;
    Ok(conn)
}

/// What `unionflow user` can do to an account that exists.
pub enum AccountChange {
    /// Lets a deactivated person sign in again.
    Activate,
    /// Ends the person's sessions and refuses their sign-ins.
    Deactivate,
    /// Sets a new password; their sessions end.
    ResetPassword(crate::people::Password),
}

/// `unionflow user activate|deactivate|password NAME`: the admin's way back in when no admin can
/// sign in (a forgotten password, the last admin deactivated). Audited like an admin's change.
pub async fn user_change(db: &crate::config::DbArgs, username: &str, what: AccountChange) -> anyhow::Result<()> {
    use crate::people::{Username, users};
    let name = Username::parse(username)?;
    let hash = match &what {
        AccountChange::ResetPassword(password) => Some(crate::people::password::hash(password)?),
        _ => None,
    };
    let conn = open(db).await?;
    let now = time::OffsetDateTime::now_utc();
    let change = Audited::begin(&conn, "admin", "cli", now).await?;
    let id = users::id_of(change.conn(), &name).await?.ok_or_else(|| anyhow::anyhow!("no user named {name}"))?;
    let (event, data) = match hash {
        Some(hash) => {
            users::set_password(change.conn(), id, &hash).await?;
            ("reset_password", serde_json::json!({ "username": name.as_str() }))
        }
        None => {
            let active = matches!(what, AccountChange::Activate);
            users::set_active(change.conn(), id, active).await?;
            ("set_active", serde_json::json!({ "username": name.as_str(), "active": active }))
        }
    };
    change.commit(Record { kind: "admin", event: Some(event), data }).await?;
    println!("{event}: {name}");
    Ok(())
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
    use crate::people::{DisplayName, RoleGrant, Username, users};
    let set = defs.load().map_err(|p| anyhow::anyhow!("invalid process definitions:\n{p}"))?;
    let name = Username::parse(username)?;
    let display = DisplayName::parse(display_name.unwrap_or(username))?;
    let grants = roles.iter().map(|r| RoleGrant::parse(r, &set.roles)).collect::<Result<Vec<_>, _>>()?;
    let hash = new_password_hash(&name)?;
    let conn = open(db).await?;
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

/// `unionflow token add NAME --role ROLE[@UNIT]...`: a service account for another system, with
/// one bearer token printed once. Audited like an admin's change.
pub async fn token_add(
    db: &crate::config::DbArgs,
    defs: &crate::config::DefinitionArgs,
    name: &str,
    roles: &[String],
    expires: Option<time::Date>,
    per_minute: u32,
) -> anyhow::Result<()> {
    use crate::people::{RoleGrant, Username, tokens};
    let set = defs.load().map_err(|p| anyhow::anyhow!("invalid process definitions:\n{p}"))?;
    let name = Username::parse(name)?;
    let grants = roles.iter().map(|r| RoleGrant::parse(r, &set.roles)).collect::<Result<Vec<_>, _>>()?;
    let conn = open(db).await?;
    let now = time::OffsetDateTime::now_utc();
    // The token expires at the start of the day given, in the definitions' offset.
    let expires_at = expires.map(|d| d.midnight().assume_offset(defs.utc_offset));
    let change = Audited::begin(&conn, "admin", "cli", now).await?;
    let issued = tokens::create(change.conn(), &name, &grants, per_minute, expires_at, now).await?;
    let roles: Vec<String> = grants.iter().map(ToString::to_string).collect();
    let data = serde_json::json!({
        "account": name.as_str(), "roles": roles, "per_minute": per_minute,
        "expires": expires.map(crate::definition::calendar::format_date),
    });
    change.commit(Record { kind: "admin", event: Some("create_token"), data }).await?;
    eprintln!("created service account {name} (#{}) with roles {}", issued.account_id, roles.join(", "));
    eprintln!("its token, shown only now (send it as `Authorization: Bearer <token>`):");
    println!("{}", issued.secret);
    Ok(())
}

/// `unionflow token list`: every service account's token, never its secret.
pub async fn token_list(db: &crate::config::DbArgs) -> anyhow::Result<()> {
    let conn = open(db).await?;
    let now = time::OffsetDateTime::now_utc();
    println!("{:<24} {:<12} {:>10}  {:<10} {:<10} status", "account", "token", "per minute", "created", "expires");
    for t in crate::people::tokens::list(&conn).await? {
        let day = |at: i64| crate::definition::calendar::format_date(crate::clock::from_micros(at).date());
        let status = crate::people::tokens::status(&t, now);
        println!(
            "{:<24} {:<12} {:>10}  {:<10} {:<10} {}",
            t.username,
            format!("{}…", t.hint),
            t.per_minute,
            day(t.created_at),
            t.expires_at.map_or_else(|| "never".to_owned(), day),
            status.as_str()
        );
    }
    Ok(())
}

/// What `unionflow webhook add` is given.
pub struct WebhookAdd<'a> {
    pub url: &'a str,
    pub description: &'a str,
    pub process: &'a str,
    pub event: &'a str,
    pub state: &'a str,
    pub finished: bool,
}

/// `unionflow webhook add URL`: subscribes the URL and prints its secret, the only time it is
/// shown. Audited like an admin's change on the page.
pub async fn webhook_add(
    db: &crate::config::DbArgs,
    defs: &crate::config::DefinitionArgs,
    add: WebhookAdd<'_>,
) -> anyhow::Result<()> {
    use crate::webhooks::{Filters, NewSubscription};
    let set = defs.load().map_err(|p| anyhow::anyhow!("invalid process definitions:\n{p}"))?;
    let filters = Filters::parse(&set, add.process, add.event, add.state, add.finished)?;
    let new = NewSubscription::parse(add.url, add.description, filters)?;
    let secret = crate::webhooks::new_secret();
    let conn = open(db).await?;
    let now = time::OffsetDateTime::now_utc();
    let change = Audited::begin(&conn, "admin", "cli", now).await?;
    let id = crate::store::webhooks::create(change.conn(), &new, &secret, "cli", now).await?;
    change.commit(Record { kind: "admin", event: Some("webhook_add"), data: new.recorded(id) }).await?;
    println!("added webhook subscription #{id} for {}", new.url.as_str());
    println!("secret (shown this once): {secret}");
    Ok(())
}

/// `unionflow webhook list`: every subscription, one a line (never its secret).
pub async fn webhook_list(db: &crate::config::DbArgs) -> anyhow::Result<()> {
    let conn = open(db).await?;
    for s in crate::store::webhooks::list(&conn).await? {
        let filter = |name: &str, v: &Option<String>| v.as_ref().map(|v| format!(" {name}={v}")).unwrap_or_default();
        println!(
            "#{} {} {}{}{}{}{}{}",
            s.id,
            if s.active { "active" } else { "paused" },
            s.url,
            filter("process", &s.process),
            filter("event", &s.event),
            filter("state", &s.state),
            if s.finished { " finished" } else { "" },
            if s.description.is_empty() { String::new() } else { format!(" — {}", s.description) },
        );
    }
    Ok(())
}

/// `unionflow token calls NAME`: the account's latest calls, newest first.
pub async fn token_calls(db: &crate::config::DbArgs, name: &str, limit: u64) -> anyhow::Result<()> {
    let conn = open(db).await?;
    for c in crate::store::api_calls::latest(&conn, name, limit).await? {
        let at = crate::clock::rfc3339(crate::clock::from_micros(c.at));
        println!("{at} {} {} {} {}", c.account, c.status, c.method, c.path);
    }
    Ok(())
}

/// `unionflow token revoke NAME`: the account's tokens stop working at once and the account is
/// deactivated. Audited like an admin's change.
pub async fn token_revoke(db: &crate::config::DbArgs, name: &str) -> anyhow::Result<ExitCode> {
    let name = crate::people::Username::parse(name)?;
    let conn = open(db).await?;
    let now = time::OffsetDateTime::now_utc();
    let change = Audited::begin(&conn, "admin", "cli", now).await?;
    if !crate::people::tokens::revoke(change.conn(), &name, now).await? {
        eprintln!("no service account named {name}");
        return Ok(ExitCode::FAILURE);
    }
    let data = serde_json::json!({ "account": name.as_str() });
    change.commit(Record { kind: "admin", event: Some("revoke_token"), data }).await?;
    println!("revoked the tokens of {name}");
    Ok(ExitCode::SUCCESS)
}

/// `unionflow webhook remove ID`: the subscription and its deliveries, audited.
pub async fn webhook_remove(db: &crate::config::DbArgs, id: i64) -> anyhow::Result<()> {
    let conn = open(db).await?;
    let change = Audited::begin(&conn, "admin", "cli", time::OffsetDateTime::now_utc()).await?;
    let gone = crate::store::webhooks::find(change.conn(), id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no webhook subscription #{id}"))?;
    crate::store::webhooks::remove(change.conn(), id).await?;
    let data = serde_json::json!({ "subscription": id, "url": gone.url });
    change.commit(Record { kind: "admin", event: Some("webhook_remove"), data }).await?;
    println!("removed webhook subscription #{id}");
    Ok(())
}

// ---- migrate-instances ----------------------------------------------------------------------

/// What `unionflow migrate-instances` is given.
pub struct MigrateInstances<'a> {
    pub process: &'a str,
    pub from: i64,
    pub to: i64,
    pub map: &'a [String],
    pub dry_run: bool,
}

/// `unionflow migrate-instances PROCESS --from V --to V [--map old=new]... [--dry-run]`: moves
/// the running instances of a process to another stored version and reports, in counts and one
/// line per instance that stays, what moved and why the others did not. The versions are read
/// from the database as stored (the server stores the files' version when it starts); the
/// calendars come from the definitions given, as the server's do.
pub async fn migrate_instances(
    db: &crate::config::DbArgs,
    defs: &crate::config::DefinitionArgs,
    args: MigrateInstances<'_>,
) -> anyhow::Result<ExitCode> {
    use crate::store::migrate::{self, Migration, Report};
    let set = defs.load().map_err(|p| anyhow::anyhow!("invalid process definitions:\n{p}"))?;
    let conn = open(db).await?;
    let from = migrate::version(&conn, args.process, args.from).await?;
    let to = migrate::version(&conn, args.process, args.to).await?;
    let m = Migration::new(args.process, &from, &to, args.map, "cli", args.dry_run)?;
    let ctx = crate::engine::Context {
        now: time::OffsetDateTime::now_utc(),
        calendar: &set.calendar,
        offset: defs.utc_offset,
        people: None,
    };
    let mut report = Report::new(usize::MAX);
    let summary = migrate::run(&conn, &m, ctx, |line| report.add(line)).await?;
    print!("{}", migrate_report_text(&m, &summary, &report));
    Ok(ExitCode::SUCCESS)
}

/// The report of a run as the command prints it.
pub fn migrate_report_text(
    m: &crate::store::migrate::Migration<'_>,
    s: &crate::store::migrate::Summary,
    r: &crate::store::migrate::Report,
) -> String {
    use std::fmt::Write;
    let named = |map: &std::collections::BTreeMap<String, u64>| {
        map.iter().map(|(name, n)| format!("{name} ({n})")).collect::<Vec<_>>().join(", ")
    };
    let mut out = String::new();
    let moved = if m.dry_run { "would move" } else { "moved" };
    let _ = writeln!(
        out,
        "{}: version {} → {}{}",
        m.process,
        m.from.number,
        m.to.number,
        if m.dry_run { " (dry run: nothing was changed)" } else { "" }
    );
    let _ = writeln!(
        out,
        "{} checked: {} {moved}, {} stay, {} finished (they stay on version {}){}{}",
        s.checked,
        s.moved,
        s.stayed,
        s.finished,
        m.from.number,
        if s.skipped > 0 { format!(", {} skipped", s.skipped) } else { String::new() },
        if s.replanned > 0 {
            format!(", {} changed since the check and planned again", s.replanned)
        } else {
            String::new()
        },
    );
    for ((from, to), n) in &r.moves {
        let _ = writeln!(out, "  {from} → {to}: {n}");
    }
    for (what, map) in [
        ("fields dropped", &r.dropped),
        ("values rewritten", &r.changed),
        ("timers kept", &r.kept),
        ("timers added", &r.added),
        ("timers cancelled", &r.cancelled),
    ] {
        if !map.is_empty() {
            let _ = writeln!(out, "  {what}: {}", named(map));
        }
    }
    if !r.stays.is_empty() || !r.skipped.is_empty() {
        let _ = writeln!(out, "stay on version {}:", m.from.number);
    }
    for (id, reasons) in &r.stays {
        let why = reasons.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ");
        let _ = writeln!(out, "  #{id}: {why}");
    }
    for (id, skip) in &r.skipped {
        let _ = writeln!(out, "  #{id}: {skip}");
    }
    if r.unlisted > 0 {
        let _ = writeln!(out, "  and {} more", r.unlisted);
    }
    out
}

// ---- digest ---------------------------------------------------------------------------------

/// `unionflow digest send [--user NAME] [--dry-run]`: the daily digest now, whatever the hour, for
/// one person (who need not have asked for it, but needs an address) or for everyone who asked;
/// to test the mail settings. It does not count as the day's digest. With `--dry-run` the mail is
/// printed, not sent.
pub async fn digest_send(
    db: &crate::config::DbArgs,
    defs: &crate::config::DefinitionArgs,
    mail: &crate::digest::MailArgs,
    user: Option<&str>,
    dry_run: bool,
) -> anyhow::Result<ExitCode> {
    use crate::digest::run::digest_for;
    let config = mail
        .config()
        .context("the mail settings")?
        .ok_or_else(|| anyhow::anyhow!("no SMTP server is set: set UNIONFLOW_SMTP_HOST (--smtp-host) and the rest"))?;
    let mailer = if dry_run { None } else { Some(crate::digest::Mailer::new(&config)?) };
    let rt = crate::server::runtime(db, defs).await?;
    let people: Vec<(i64, String)> = match user {
        Some(name) => {
            let name = crate::people::Username::parse(name)?;
            let id = crate::people::users::id_of(rt.db(), &name)
                .await?
                .ok_or_else(|| anyhow::anyhow!("no user named {name}"))?;
            let row = crate::store::digests::mail_of(rt.db(), id).await?.unwrap_or_default();
            if row.email.is_none() {
                anyhow::bail!("{name} has no e-mail address: set one on their settings or the admin page");
            }
            vec![(id, name.to_string())]
        }
        None => {
            let all = crate::store::digests::mail_of_all(rt.db()).await?;
            let asked: Vec<i64> = all.iter().filter(|m| m.digest && m.email.is_some()).map(|m| m.id).collect();
            let mut named = Vec::new();
            for id in asked {
                if let Some(u) = crate::people::users::find(rt.db(), id).await? {
                    named.push((id, u.username));
                }
            }
            named
        }
    };
    let directory = crate::web::state::Directory::read(rt.db()).await?;
    let now = rt.clock().now();
    let mut failed = 0;
    for (id, name) in people {
        let Some(digest) = digest_for(&rt, &directory, &config, id, now).await? else {
            println!("{name}: nothing waits (or the account is inactive): no mail");
            continue;
        };
        match &mailer {
            None => {
                println!("To: {} <{}>", name, digest.to);
                println!("Subject: {}\n", digest.written.subject);
                println!("{}", digest.written.text);
            }
            Some(mailer) => match mailer.send(digest.message).await {
                Ok(()) => println!("{name}: sent to {}", digest.to),
                Err(e) => {
                    failed += 1;
                    eprintln!("{name}: {e:#}");
                }
            },
        }
    }
    Ok(if failed == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}
