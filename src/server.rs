//! `unionflow serve`: migrate, load definitions (refusing to start on an invalid one), start the
//! scheduler, the webhook worker and (with SMTP configured) the daily digest, and serve the web app.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Args;

use crate::clock::SystemClock;
use crate::config::{DbArgs, DefinitionArgs};
use crate::runtime::Runtime;

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// The address to listen on.
    #[arg(long, env = "UNIONFLOW_LISTEN", default_value = "127.0.0.1:3000")]
    pub listen: SocketAddr,
    /// How often the scheduler looks for due timers, in seconds.
    #[arg(long, default_value_t = 1)]
    pub timer_poll_secs: u64,
    /// Fill an empty database with a demo (units, people, rounds, a cohort) and print the
    /// sign-in names.
    #[arg(long)]
    pub demo: bool,
    /// Mark cookies Secure (when served over HTTPS).
    #[arg(long, env = "UNIONFLOW_SECURE_COOKIES")]
    pub secure_cookies: bool,
    /// Behind a reverse proxy: the header that carries the client's address (for example
    /// X-Real-IP), which the sign-in limits count by. Only set it when the proxy always sets it.
    #[arg(long, env = "UNIONFLOW_CLIENT_IP_HEADER")]
    pub client_ip_header: Option<axum::http::HeaderName>,
    /// How often the audit chain is verified in the background, in minutes.
    #[arg(long, default_value_t = 10)]
    pub verify_every_minutes: u64,
    /// How often the webhook worker looks for deliveries due, in milliseconds.
    #[arg(long, default_value_t = 1000)]
    pub webhook_poll_ms: u64,
    /// The most one webhook attempt may take, in seconds; a delivery claimed by a server that
    /// died is sent again after twice this.
    #[arg(long, default_value_t = 10)]
    pub webhook_timeout_secs: u64,
    /// The daily digest by e-mail: the SMTP server, the sender, the hour, the site's address.
    #[command(flatten)]
    pub mail: crate::digest::MailArgs,
    /// How often the digest task looks for people whose daily digest is due, in seconds (a
    /// failed send is tried again on the next look).
    #[arg(long, default_value_t = 60)]
    pub digest_poll_secs: u64,
}

pub async fn runtime(db: &DbArgs, defs: &DefinitionArgs) -> anyhow::Result<Arc<Runtime>> {
    let set = defs.load().map_err(|p| anyhow::anyhow!("invalid process definitions:\n{p}"))?;
    let conn = crate::store::connect(&db.database).await.with_context(|| format!("connecting to {}", db.database))?;
    crate::store::migrate(&conn).await.context("migrating the database")?;
    let rt =
        Runtime::new(conn, set, Arc::new(SystemClock), defs.utc_offset).await.context("storing definition versions")?;
    Ok(Arc::new(rt))
}

pub async fn serve(db: &DbArgs, defs: &DefinitionArgs, args: ServeArgs) -> anyhow::Result<()> {
    // Bad mail settings stop the start, as bad definitions do; no SMTP host is no digest.
    let mail = args.mail.config().context("the mail settings")?;
    let mailer = mail.as_ref().map(crate::digest::Mailer::new).transpose().context("the mail settings")?;
    let rt = runtime(db, defs).await?;
    // The same warning as `validate`'s: deadlines into an unpublished year are only provisional.
    let today = rt.clock().now().to_offset(rt.offset()).date();
    if let Some(warning) = crate::cli::calendar_warning(&rt.definitions().calendar, today) {
        tracing::warn!("{warning}");
    }
    // The demo is seeded before the scheduler starts: its back-dated timers must not fire while
    // the rounds they belong to are still being written.
    if args.demo {
        if crate::demo::seed(&rt).await.context("seeding the demo")? {
            println!("Demo data created.");
        } else {
            println!("The database already has data; the demo was not added.");
        }
        print!("{}", crate::demo::sign_in_sheet());
    }
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let scheduler =
        tokio::spawn(crate::scheduler::run(rt.clone(), Duration::from_secs(args.timer_poll_secs.max(1)), {
            let mut rx = stop_rx.clone();
            async move {
                let _ = rx.changed().await;
            }
        }));
    let webhooks = crate::webhooks::worker::WorkerConfig {
        poll: Duration::from_millis(args.webhook_poll_ms.max(10)),
        timeout: Duration::from_secs(args.webhook_timeout_secs.max(1)),
        ..Default::default()
    };
    let webhook_worker = tokio::spawn(crate::webhooks::worker::run(rt.db().clone(), webhooks, {
        let mut rx = stop_rx.clone();
        async move {
            let _ = rx.changed().await;
        }
    }));
    let config = crate::web::WebConfig {
        secure_cookies: args.secure_cookies,
        client_ip_header: args.client_ip_header.clone(),
        digest: mail.as_ref().map(|m| crate::web::DigestOffer { hour: m.hour }),
        ..Default::default()
    };
    let state = crate::web::AppState::new(rt.clone(), config);
    let verifier =
        tokio::spawn(verify_periodically(state.clone(), Duration::from_secs(args.verify_every_minutes.max(1) * 60)));
    let housekeeping = tokio::spawn(keep_house(rt.clone()));
    let digests = match (mail, mailer) {
        (Some(mail), Some(mailer)) => {
            let every = Duration::from_secs(args.digest_poll_secs.max(1));
            Some(tokio::spawn(crate::digest::run::run(rt.clone(), mail, mailer, every)))
        }
        _ => None,
    };
    let listener =
        tokio::net::TcpListener::bind(args.listen).await.with_context(|| format!("listening on {}", args.listen))?;
    println!("unionflow is listening on http://{}", args.listen);
    let app = crate::web::router(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    verifier.abort();
    housekeeping.abort();
    if let Some(digests) = digests {
        digests.abort();
    }
    let _ = stop_tx.send(true);
    let _ = scheduler.await;
    let _ = webhook_worker.await;
    Ok(())
}

/// Verifies the audit chain now and then, for the audit page's status.
async fn verify_periodically(state: crate::web::AppState, every: Duration) {
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        match state.refresh_chain_status().await {
            Ok(v) if v.broken.is_some() => tracing::error!(broken = ?v.broken, "the audit chain is broken"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "verifying the audit chain failed"),
        }
    }
}

/// How long the API's call log keeps a call, and the outbox a settled delivery.
pub const LOGS_KEPT_DAYS: i64 = 90;

/// Forgets what is kept only for a while: idempotency keys after a day, API calls and settled
/// webhook deliveries after [`LOGS_KEPT_DAYS`]. Each in a statement of its own, so no request waits on it.
async fn keep_house(rt: Arc<Runtime>) {
    let mut tick = tokio::time::interval(Duration::from_secs(600));
    loop {
        tick.tick().await;
        let now = crate::clock::to_micros(rt.clock().now());
        if let Err(e) = crate::store::idempotency::purge_expired(rt.db(), now).await {
            tracing::warn!(error = %e, "forgetting expired idempotency keys failed");
        }
        let before = now - LOGS_KEPT_DAYS * 24 * 3600 * 1_000_000;
        if let Err(e) = crate::store::api_calls::purge(rt.db(), before).await {
            tracing::warn!(error = %e, "forgetting old API calls failed");
        }
        if let Err(e) = crate::store::outbox::purge(rt.db(), before).await {
            tracing::warn!(error = %e, "forgetting old webhook deliveries failed");
        }
    }
}
