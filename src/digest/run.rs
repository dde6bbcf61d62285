//! The daily round: from the configured hour, each person who asked for the digest and has not
//! had today's gets one, if anything waits for them. The day is claimed in the database before
//! the mail is made (so one process of many sends it, once, across restarts), and given back when
//! the send fails, for the next tick to try again — at most [`MAX_TRIES`] times a day.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use lettre::Message;
use lettre::message::{Mailbox, MultiPart};
use time::OffsetDateTime;

use crate::digest::compose::{self, Written};
use crate::digest::config::MailConfig;
use crate::digest::mail::{Mailer, SendError};
use crate::people::email::EmailAddress;
use crate::runtime::{Runtime, RuntimeError};
use crate::store::digests;
use crate::web::i18n::{Lang, Tr};
use crate::web::state::Directory;

/// Failed sends a person a day before the day is given up (the next day starts afresh).
pub const MAX_TRIES: i64 = 5;
/// Failed sends in one tick after which the tick stops: the server is likely down, and the
/// others wait for the next tick rather than each waiting out a timeout.
const FAILURES_PER_TICK: usize = 3;
/// People read a query.
const BATCH: u64 = 100;

#[derive(Debug, thiserror::Error)]
pub enum DigestError {
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
    #[error(transparent)]
    Db(#[from] sea_orm::DbErr),
    #[error("writing the digest: {0}")]
    Template(#[from] askama::Error),
    #[error("the digest's message: {0}")]
    Message(#[from] lettre::error::Error),
    #[error(transparent)]
    Send(#[from] SendError),
}

/// What one tick did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Tick {
    pub sent: usize,
    /// Claimed with nothing waiting: no mail today.
    pub nothing: usize,
    pub failed: usize,
}

/// A person's digest, ready to send.
pub struct Digest {
    pub user_id: i64,
    pub username: String,
    pub to: EmailAddress,
    pub written: Written,
    pub message: Message,
}

/// The day in the server's offset, as the claim stores it.
pub fn day_of(rt: &Runtime, now: OffsetDateTime) -> String {
    crate::definition::calendar::format_date(now.to_offset(rt.offset()).date())
}

/// The digest of person `user_id` now, or `None` when they have no address, are not active, or
/// nothing waits for them (whether they asked for it is the caller's question).
pub async fn digest_for(
    rt: &Runtime,
    directory: &Directory,
    config: &MailConfig,
    user_id: i64,
    now: OffsetDateTime,
) -> Result<Option<Digest>, DigestError> {
    let Some(user) = crate::people::users::find(rt.db(), user_id).await?.filter(|u| u.active) else {
        return Ok(None);
    };
    let Some(mail) = digests::mail_of(rt.db(), user_id).await? else { return Ok(None) };
    // An address stored before it was checked this way is skipped, not sent to.
    let Some(to) = mail.email.as_deref().and_then(|e| EmailAddress::parse(e).ok()) else { return Ok(None) };
    let tr = Tr::new(mail.locale.as_deref().and_then(Lang::parse).unwrap_or_default());
    let day = day_of(rt, now);
    let held = crate::store::delegations::held(rt.db(), &user.username, &day).await?;
    let actor = user.actor().with_delegations(held);
    let base = config.public_url.as_str();
    let content = compose::content(rt, directory, &actor, &tr, now, base).await?;
    if content.is_empty() {
        return Ok(None);
    }
    let written = compose::write(&tr, &user.display_name, &day, &content, base)?;
    let message = Message::builder()
        .from(config.from.clone())
        .to(Mailbox::new(Some(user.display_name.clone()), to.address().clone()))
        .subject(written.subject.clone())
        .date(SystemTime::from(now))
        // The same id for a person's digest of a day: a retry is recognisably the same mail.
        .message_id(Some(format!("<digest.{user_id}.{day}@{}>", config.public_url.host())))
        .multipart(MultiPart::alternative_plain_html(written.text.clone(), written.html.clone()))?;
    Ok(Some(Digest { user_id, username: user.username, to, written, message }))
}

/// One tick: nothing before the configured hour; from it, every due person's digest, each
/// claimed first and given back if its send fails.
pub async fn tick(rt: &Runtime, config: &MailConfig, mailer: &Mailer) -> Result<Tick, DigestError> {
    let now = rt.clock().now();
    let mut done = Tick::default();
    if now.to_offset(rt.offset()).hour() < config.hour {
        return Ok(done);
    }
    let today = day_of(rt, now);
    // Read once a tick, and only when someone is due: after the hour most ticks find no one.
    let mut directory: Option<Directory> = None;
    let mut after = 0;
    loop {
        let due = digests::due(rt.db(), &today, MAX_TRIES, after, BATCH).await?;
        let Some(last) = due.last() else { break };
        after = last.id;
        let directory = match &mut directory {
            Some(d) => &*d,
            None => directory.insert(Directory::read(rt.db()).await?),
        };
        for person in due {
            if !digests::claim(rt.db(), person.id, &today, MAX_TRIES).await? {
                continue;
            }
            let sent = match digest_for(rt, directory, config, person.id, now).await {
                Ok(None) => {
                    done.nothing += 1;
                    continue;
                }
                Ok(Some(digest)) => mailer.send(digest.message).await.map_err(DigestError::from),
                Err(e) => Err(e),
            };
            match sent {
                Ok(()) => done.sent += 1,
                Err(e) => {
                    tracing::warn!(error = %e, user = person.id, "the daily digest was not sent; a later tick tries again");
                    digests::unclaim(rt.db(), person.id, &today, person.last_digest.as_deref()).await?;
                    done.failed += 1;
                    if done.failed >= FAILURES_PER_TICK {
                        return Ok(done);
                    }
                }
            }
        }
    }
    Ok(done)
}

/// The background task of `serve`: a tick every `every`, until `stop`.
pub async fn run(rt: Arc<Runtime>, config: MailConfig, mailer: Mailer, every: Duration) {
    let mut interval = tokio::time::interval(every);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        match tick(&rt, &config, &mailer).await {
            Ok(t) if t.sent + t.failed > 0 => {
                tracing::info!(sent = t.sent, failed = t.failed, "daily digests");
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "the daily digest round failed"),
        }
    }
}
