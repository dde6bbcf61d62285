//! What every handler shares: the runtime (definitions, store, clock) and the web settings.

use std::collections::BTreeMap;
use std::sync::Arc;

use time::Duration;

use crate::definition::Source;
use crate::runtime::Runtime;
use crate::store::audit::Verification;
use crate::store::units::Unit;

#[derive(Clone)]
pub struct AppState {
    pub rt: Arc<Runtime>,
    pub config: Arc<WebConfig>,
    /// The latest verification of the audit chain. It is made in the background (a walk over
    /// millions of events takes a while), so the audit page stays as fast at any size.
    pub chain: Arc<tokio::sync::RwLock<Option<Verification>>>,
    directory: Arc<tokio::sync::RwLock<Option<CachedDirectory>>>,
    /// The API tokens' rates.
    pub api_limits: Arc<crate::api::Limiter>,
    /// Where every API call is logged under its account.
    pub api_calls: crate::api::CallLog,
    /// The figures page's sums, while nothing they count has changed.
    pub figures: Arc<crate::web::figures_cache::FiguresCache>,
}

/// The directories as read, and when.
type CachedDirectory = (std::time::Instant, Arc<Directory>);

/// The directories a definition's fields can name (`source = "units"` or `"people"`): the web
/// offers their entries in forms, refuses ids they do not hold, and shows names for ids.
#[derive(Debug, Default)]
pub struct Directory {
    pub units: BTreeMap<String, Unit>,
    /// Active people by username, with their display names.
    pub people: BTreeMap<String, String>,
}

impl Directory {
    /// The directories as the database holds them now.
    pub async fn read(db: &sea_orm::DatabaseConnection) -> Result<Directory, sea_orm::DbErr> {
        let units = crate::store::units::list(db).await?.into_iter().map(|u| (u.id.clone(), u)).collect();
        let people = crate::people::users::directory(db).await?.into_iter().collect();
        Ok(Directory { units, people })
    }

    pub fn knows(&self, source: Source, id: &str) -> bool {
        match source {
            Source::Units => self.units.contains_key(id),
            Source::People => self.people.contains_key(id),
            // A cohort's roster is its own record, checked where trainees are enrolled.
            Source::Trainees => true,
        }
    }

    /// The name an id stands for, in the reader's language.
    pub fn name(&self, source: Source, id: &str, lang: &str) -> Option<String> {
        match source {
            Source::Units => self.units.get(id).map(|u| u.name(lang).to_owned()),
            Source::People => self.people.get(id).cloned(),
            Source::Trainees => None,
        }
    }

    /// Every entry as (id, the label a form shows).
    pub fn entries(&self, source: Source, lang: &str) -> Vec<(String, String)> {
        match source {
            Source::Units => {
                self.units.values().map(|u| (u.id.clone(), format!("{} ({})", u.name(lang), u.id))).collect()
            }
            Source::People => self.people.iter().map(|(id, name)| (id.clone(), format!("{name} ({id})"))).collect(),
            Source::Trainees => Vec::new(),
        }
    }
}

/// How long a server trusts its copy of the unit directory (another server may have changed it).
const DIRECTORY_FRESH_FOR: std::time::Duration = std::time::Duration::from_secs(30);

impl AppState {
    pub fn new(rt: Arc<Runtime>, config: WebConfig) -> Self {
        let api_calls = crate::api::CallLog::writing_to(Runtime::clone(&rt));
        Self {
            rt,
            config: Arc::new(config),
            chain: Arc::default(),
            directory: Arc::default(),
            api_limits: Arc::default(),
            api_calls,
            figures: Arc::default(),
        }
    }

    pub async fn chain_status(&self) -> Option<Verification> {
        self.chain.read().await.clone()
    }

    /// The directories, read at most every few seconds.
    pub async fn directory(&self) -> Result<Arc<Directory>, sea_orm::DbErr> {
        if let Some((at, directory)) = self.directory.read().await.as_ref()
            && at.elapsed() < DIRECTORY_FRESH_FOR
        {
            return Ok(directory.clone());
        }
        let directory = Arc::new(Directory::read(self.db()).await?);
        *self.directory.write().await = Some((std::time::Instant::now(), directory.clone()));
        Ok(directory)
    }

    /// Forgets the copy of the directories after a change to units or people.
    pub async fn directory_changed(&self) {
        *self.directory.write().await = None;
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
    /// How many failed sign-ins lock a user name from one client address, or a client address.
    pub limits: crate::people::throttle::Limits,
    /// The bounded pool that checks and hashes passwords.
    pub password_checks: crate::people::password::PasswordChecks,
    /// Behind a reverse proxy: the header that carries the client's address (the last address
    /// in it is taken). Unset, the address of the connection is the client's.
    pub client_ip_header: Option<axum::http::HeaderName>,
    /// Mark cookies `Secure` (behind HTTPS).
    pub secure_cookies: bool,
    /// The daily digest by e-mail, when an SMTP server is configured.
    pub digest: Option<DigestOffer>,
}

/// What the settings page says of the digest an SMTP server makes possible.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DigestOffer {
    /// The hour of the day (server's offset) it goes out from.
    pub hour: u8,
}

impl Default for WebConfig {
    fn default() -> Self {
        Self {
            session_idle: Duration::hours(8),
            session_touch_every: Duration::minutes(5),
            limits: Default::default(),
            password_checks: crate::people::password::PasswordChecks::for_this_machine(),
            client_ip_header: None,
            secure_cookies: false,
            digest: None,
        }
    }
}
