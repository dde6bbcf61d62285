//! What every handler shares: the runtime (definitions, store, clock) and the web settings.

use std::sync::Arc;

use time::Duration;

use crate::runtime::Runtime;
use crate::store::audit::Verification;

#[derive(Clone)]
pub struct AppState {
    pub rt: Arc<Runtime>,
    pub config: Arc<WebConfig>,
    /// The latest verification of the audit chain. It is made in the background (a walk over
    /// millions of events takes a while), so the audit page stays as fast at any size.
    pub chain: Arc<tokio::sync::RwLock<Option<Verification>>>,
    units: Arc<tokio::sync::RwLock<Option<CachedUnits>>>,
}

/// The unit directory as read, and when.
type CachedUnits = (std::time::Instant, Arc<Units>);

/// The unit directory by id.
pub type Units = std::collections::BTreeMap<String, crate::people::units::Unit>;

/// How long a server trusts its copy of the unit directory (another server may have changed it).
const UNITS_FRESH_FOR: std::time::Duration = std::time::Duration::from_secs(30);

impl AppState {
    pub fn new(rt: Arc<Runtime>, config: WebConfig) -> Self {
        Self { rt, config: Arc::new(config), chain: Arc::default(), units: Arc::default() }
    }

    pub async fn chain_status(&self) -> Option<Verification> {
        self.chain.read().await.clone()
    }

    /// The unit directory, read at most every few seconds.
    pub async fn units(&self) -> Result<Arc<Units>, sea_orm::DbErr> {
        if let Some((at, units)) = self.units.read().await.as_ref()
            && at.elapsed() < UNITS_FRESH_FOR
        {
            return Ok(units.clone());
        }
        let list = crate::people::units::list(self.db()).await?;
        let units: Arc<Units> = Arc::new(list.into_iter().map(|u| (u.id.clone(), u)).collect());
        *self.units.write().await = Some((std::time::Instant::now(), units.clone()));
        Ok(units)
    }

    /// Forgets the copy of the unit directory after a change.
    pub async fn units_changed(&self) {
        *self.units.write().await = None;
    }

    /// Verifies the whole chain now and keeps the result for the audit page.
    pub async fn refresh_chain_status(&self) -> Result<Verification, sea_orm::DbErr> {
        let v = crate::store::audit::verify(self.db()).await?;
        *self.chain.write().await = Some(v.clone());
        Ok(v)
    }

    pub fn db(&self) -> &sea_orm::DatabaseConnection {
        self.rt.db()
    }
    pub fn now(&self) -> time::OffsetDateTime {
        self.rt.clock().now()
    }
}

/// Settings of sign-in and sessions.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// A session ends after this long without a request.
    pub session_idle: Duration,
    /// How stale a session's last-seen time may get before a request refreshes it: page views
    /// stay free of writes in between.
    pub session_touch_every: Duration,
    /// Failed sign-ins for one user name within `failure_window` before it is locked for the
    /// rest of the window.
    pub max_failures: i64,
    pub failure_window: Duration,
    /// Mark cookies `Secure` (behind HTTPS).
    pub secure_cookies: bool,
}

impl Default for WebConfig {
    fn default() -> Self {
        Self {
            session_idle: Duration::hours(8),
            session_touch_every: Duration::minutes(5),
            max_failures: 5,
            failure_window: Duration::minutes(15),
            secure_cookies: false,
        }
    }
}
