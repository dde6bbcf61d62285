//! Outgoing events (webhooks): an admin subscribes a URL to changes of instances; every
//! committed change that matches is delivered at least once, signed with the subscription's
//! secret. Deliveries are written to an outbox by the change's own transaction
//! ([`crate::store::outbox`]) and sent by a background [`worker`] of `serve`.
//!
//! This module holds the subscription's domain types, parsed at the edge (the admin page, the
//! command line), so the store only ever sees a valid URL and filters that name what exists.

pub mod client;
pub mod sign;
pub mod worker;

use crate::definition::DefinitionSet;
use crate::text::TextProblem;

/// The most subscriptions there may be: each change is matched against all of them in its own
/// transaction, and each may multiply the deliveries a change makes.
pub const MAX_SUBSCRIPTIONS: i64 = 100;
/// The longest URL a subscription may have.
pub const URL_MAX: usize = 2_000;
/// The longest description.
pub const DESCRIPTION_MAX: usize = 200;

/// Why a subscription as given is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    #[error("the URL is longer than {0} characters")]
    UrlTooLong(usize),
    #[error("the URL must start with http:// or https:// and name a host")]
    NotHttp,
    #[error("the URL must not carry a user name or password")]
    Credentials,
    #[error("the description {0}")]
    Description(TextProblem),
    #[error("no process {0:?}")]
    UnknownProcess(String),
    #[error("no event {0:?} in the process(es) chosen")]
    UnknownEvent(String),
    #[error("no state {0:?} in the process(es) chosen")]
    UnknownState(String),
}

/// An http or https URL with a host and no credentials, at most [`URL_MAX`] characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookUrl(String);

impl WebhookUrl {
    pub fn parse(s: &str) -> Result<Self, WebhookError> {
        let s = s.trim();
        if s.chars().nth(URL_MAX).is_some() {
            return Err(WebhookError::UrlTooLong(URL_MAX));
        }
        let uri: hyper::Uri = s.parse().map_err(|_| WebhookError::NotHttp)?;
        if !matches!(uri.scheme_str(), Some("http" | "https")) {
            return Err(WebhookError::NotHttp);
        }
        let authority = uri.authority().ok_or(WebhookError::NotHttp)?;
        // Credentials in a URL would be shown on the admin page to every admin.
        if authority.as_str().contains('@') {
            return Err(WebhookError::Credentials);
        }
        if authority.host().is_empty() {
            return Err(WebhookError::NotHttp);
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Which changes a subscription hears of: all, narrowed by each filter given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filters {
    pub process: Option<String>,
    pub event: Option<String>,
    /// The state entered.
    pub state: Option<String>,
    /// Only changes that finish an instance (give it an outcome).
    pub finished: bool,
}

impl Filters {
    /// Filters as typed (an empty text is no filter), each checked against the definitions: a
    /// filter that can never match is a typing mistake, refused rather than kept silent.
    pub fn parse(
        set: &DefinitionSet,
        process: &str,
        event: &str,
        state: &str,
        finished: bool,
    ) -> Result<Self, WebhookError> {
        let given = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
        let (process, event, state) = (given(process), given(event), given(state));
        let defs: Vec<_> = match &process {
            Some(p) => vec![set.get(p).ok_or_else(|| WebhookError::UnknownProcess(p.clone()))?],
            None => set.definitions.values().collect(),
        };
        if let Some(e) = &event
            && !defs.iter().any(|d| d.transitions.iter().any(|t| &t.event == e))
        {
            return Err(WebhookError::UnknownEvent(e.clone()));
        }
        if let Some(s) = &state
            && !defs.iter().any(|d| d.state(s).is_some())
        {
            return Err(WebhookError::UnknownState(s.clone()));
        }
        Ok(Self { process, event, state, finished })
    }
}

/// A subscription as an admin asks for it, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSubscription {
    pub url: WebhookUrl,
    pub description: String,
    pub filters: Filters,
}

impl NewSubscription {
    pub fn parse(url: &str, description: &str, filters: Filters) -> Result<Self, WebhookError> {
        let url = WebhookUrl::parse(url)?;
        let description = crate::text::line(description, DESCRIPTION_MAX).map_err(WebhookError::Description)?;
        Ok(Self { url, description: description.to_owned(), filters })
    }

    /// What the audit trail keeps of the subscription made as `id`: everything but its secret.
    pub fn recorded(&self, id: i64) -> serde_json::Value {
        let f = &self.filters;
        serde_json::json!({
            "subscription": id,
            "url": self.url.as_str(),
            "description": self.description,
            "process": f.process,
            "event": f.event,
            "state": f.state,
            "finished": f.finished,
        })
    }
}

/// A new subscription's secret: 32 random bytes, hex. Stored as it is (signing needs it) and
/// shown to the admin once.
pub fn new_secret() -> String {
    format!("whsec_{}", crate::people::random_token())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_http_and_https_urls_with_a_host_are_taken() {
        assert!(WebhookUrl::parse("https://example.org/hooks?x=1").is_ok());
        assert!(WebhookUrl::parse(" http://127.0.0.1:8080/h ").is_ok());
        assert_eq!(WebhookUrl::parse("ftp://example.org/"), Err(WebhookError::NotHttp));
        assert_eq!(WebhookUrl::parse("example.org/h"), Err(WebhookError::NotHttp));
        assert_eq!(WebhookUrl::parse("/relative"), Err(WebhookError::NotHttp));
        assert_eq!(WebhookUrl::parse("https://u:p@example.org/"), Err(WebhookError::Credentials));
        assert_eq!(WebhookUrl::parse("https://exa mple.org/"), Err(WebhookError::NotHttp));
        let long = format!("https://example.org/{}", "a".repeat(URL_MAX));
        assert_eq!(WebhookUrl::parse(&long), Err(WebhookError::UrlTooLong(URL_MAX)));
    }

    #[test]
    fn filters_name_what_the_definitions_hold() {
        let set = crate::definition::embedded::load_embedded().expect("built-in definitions");
        let f = Filters::parse(&set, "assembly_approval", "record_vote", "", true).expect("valid");
        assert_eq!(f.event.as_deref(), Some("record_vote"));
        assert!(f.state.is_none() && f.finished);
        assert!(matches!(Filters::parse(&set, "nope", "", "", false), Err(WebhookError::UnknownProcess(_))));
        assert!(matches!(
            Filters::parse(&set, "assembly_approval", "no_such_event", "", false),
            Err(WebhookError::UnknownEvent(_))
        ));
        assert!(matches!(Filters::parse(&set, "", "", "no_such_state", false), Err(WebhookError::UnknownState(_))));
    }
}
