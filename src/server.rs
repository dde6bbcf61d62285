//! `unionflow serve`: migrate, load definitions (refusing to start on an invalid one), start the
//! scheduler, and serve the web app.

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
    let rt = runtime(db, defs).await?;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let scheduler =
        tokio::spawn(crate::scheduler::run(rt.clone(), Duration::from_secs(args.timer_poll_secs.max(1)), {
            let mut rx = stop_rx.clone();
            async move {
                let _ = rx.changed().await;
            }
        }));
    let listener =
        tokio::net::TcpListener::bind(args.listen).await.with_context(|| format!("listening on {}", args.listen))?;
    tracing::info!("unionflow listening on http://{}", args.listen);
    let app = axum::Router::new().route("/health", axum::routing::get(|| async { "ok" }));
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    let _ = stop_tx.send(true);
    let _ = scheduler.await;
    Ok(())
}
