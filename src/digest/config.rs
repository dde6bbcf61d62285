//! The mail settings an admin gives the server: the SMTP server, the sender, the hour the digest
//! goes out, and the site's public address its links point to. No SMTP host, no digest.

use clap::{Args, ValueEnum};
use lettre::message::Mailbox;

/// How the connection to the SMTP server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TlsMode {
    /// Plain SMTP: only for a relay on this machine or a trusted network (port 25).
    None,
    /// Plain, then upgraded with STARTTLS, which must succeed (port 587).
    Starttls,
    /// TLS from the first byte (SMTPS, port 465).
    Tls,
}

impl TlsMode {
    pub fn default_port(self) -> u16 {
        match self {
            TlsMode::None => 25,
            TlsMode::Starttls => 587,
            TlsMode::Tls => 465,
        }
    }
}

/// The password's environment variable: never a flag, so it shows in no process list.
pub const PASSWORD_ENV: &str = "UNIONFLOW_SMTP_PASSWORD";

#[derive(Debug, Clone, Default, Args)]
pub struct MailArgs {
    /// The SMTP server the daily digest is sent through; unset, no digest is sent.
    #[arg(long, env = "UNIONFLOW_SMTP_HOST")]
    pub smtp_host: Option<String>,
    /// Its port (default: 25 without TLS, 587 for STARTTLS, 465 for TLS).
    #[arg(long, env = "UNIONFLOW_SMTP_PORT")]
    pub smtp_port: Option<u16>,
    /// How the connection is protected: none (a local relay), starttls or tls.
    #[arg(long, env = "UNIONFLOW_SMTP_TLS", value_enum, default_value = "starttls")]
    pub smtp_tls: Option<TlsMode>,
    /// The user name to sign in to the SMTP server with (its password from UNIONFLOW_SMTP_PASSWORD).
    #[arg(long, env = "UNIONFLOW_SMTP_USER")]
    pub smtp_user: Option<String>,
    /// The sender of the mail, as `name@example.org` or `unionflow <name@example.org>`.
    #[arg(long, env = "UNIONFLOW_MAIL_FROM")]
    pub mail_from: Option<String>,
    /// The hour of the day (0–23, in the offset of --utc-offset) from which the digest goes out.
    #[arg(long, env = "UNIONFLOW_DIGEST_HOUR", default_value_t = 7, value_parser = clap::value_parser!(u8).range(0..=23))]
    pub digest_hour: u8,
    /// The site's address as people reach it (https://unionflow.example.org), for links in mail.
    #[arg(long, env = "UNIONFLOW_PUBLIC_URL")]
    pub public_url: Option<String>,
}

/// A secret that never shows in a log or a debug print.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: String) -> Self {
        Self(s)
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(…)")
    }
}

/// Where and how to send.
#[derive(Debug, Clone)]
pub struct Smtp {
    pub host: String,
    pub port: u16,
    pub tls: TlsMode,
    pub credentials: Option<(String, Secret)>,
}

/// The site's address, `http(s)://host[:port][/path]` without a trailing slash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicUrl(String);

impl PublicUrl {
    pub const MAX_LEN: usize = 200;

    pub fn parse(s: &str) -> Result<Self, MailConfigError> {
        let s = s.trim().trim_end_matches('/');
        let rest = s.strip_prefix("https://").or_else(|| s.strip_prefix("http://"));
        let ok = s.len() <= Self::MAX_LEN
            && rest.is_some_and(|r| {
                let host = r.split('/').next().unwrap_or_default();
                !host.is_empty()
                    && host.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
                    && r.chars().all(|c| c.is_ascii_graphic() && !matches!(c, '?' | '#' | '"' | '<' | '>' | '\\'))
            });
        if ok { Ok(Self(s.to_owned())) } else { Err(MailConfigError::PublicUrl(s.chars().take(80).collect())) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The host name, for the SMTP greeting and the messages' ids.
    pub fn host(&self) -> &str {
        let rest = self.0.split_once("://").map_or(self.0.as_str(), |(_, r)| r);
        let host = rest.split('/').next().unwrap_or(rest);
        if host.starts_with('[') { host } else { host.split(':').next().unwrap_or(host) }
    }
}

/// Everything the digest needs, checked.
#[derive(Debug, Clone)]
pub struct MailConfig {
    pub smtp: Smtp,
    pub from: Mailbox,
    pub hour: u8,
    pub public_url: PublicUrl,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MailConfigError {
    #[error("an SMTP host is set, so the sender is needed: set UNIONFLOW_MAIL_FROM (--mail-from)")]
    NoSender,
    #[error("the sender {0:?} is not an address like unionflow <noreply@example.org>")]
    BadSender(String),
    #[error(
        "an SMTP host is set, so the site's address is needed for the mail's links: set UNIONFLOW_PUBLIC_URL (--public-url)"
    )]
    NoPublicUrl,
    #[error("the public URL {0:?} is not an address like https://unionflow.example.org (at most 200 characters)")]
    PublicUrl(String),
    #[error("an SMTP user is set but no password: set {PASSWORD_ENV}")]
    NoPassword,
    #[error("an SMTP host is 1 to 253 letters, digits, dots and dashes")]
    BadHost,
}

impl MailArgs {
    /// The checked settings; `None` when no SMTP host is set (then no digest is sent).
    pub fn config(&self) -> Result<Option<MailConfig>, MailConfigError> {
        self.config_with_password(std::env::var(PASSWORD_ENV).ok().filter(|p| !p.is_empty()))
    }

    pub fn config_with_password(&self, password: Option<String>) -> Result<Option<MailConfig>, MailConfigError> {
        let Some(host) = self.smtp_host.as_deref().map(str::trim).filter(|h| !h.is_empty()) else { return Ok(None) };
        let host_ok = host.len() <= 253 && host.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-'));
        if !host_ok {
            return Err(MailConfigError::BadHost);
        }
        let from =
            self.mail_from.as_deref().map(str::trim).filter(|f| !f.is_empty()).ok_or(MailConfigError::NoSender)?;
        let from: Mailbox = from.parse().map_err(|_| MailConfigError::BadSender(from.chars().take(80).collect()))?;
        let public_url = PublicUrl::parse(self.public_url.as_deref().ok_or(MailConfigError::NoPublicUrl)?)?;
        let tls = self.smtp_tls.unwrap_or(TlsMode::Starttls);
        let credentials = match (self.smtp_user.as_deref().filter(|u| !u.is_empty()), password) {
            (Some(user), Some(password)) => Some((user.to_owned(), Secret::new(password))),
            (Some(_), None) => return Err(MailConfigError::NoPassword),
            (None, _) => None,
        };
        Ok(Some(MailConfig {
            smtp: Smtp { host: host.to_owned(), port: self.smtp_port.unwrap_or(tls.default_port()), tls, credentials },
            from,
            hour: self.digest_hour.min(23),
            public_url,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args() -> MailArgs {
        MailArgs {
            smtp_host: Some("smtp.example.org".into()),
            smtp_tls: Some(TlsMode::Starttls),
            mail_from: Some("unionflow <noreply@example.org>".into()),
            public_url: Some("https://uf.example.org/".into()),
            digest_hour: 7,
            ..Default::default()
        }
    }

    #[test]
    fn no_host_no_digest_and_a_host_needs_a_sender_and_an_address() {
        assert!(MailArgs::default().config_with_password(None).expect("no host is fine").is_none());
        let c = args().config_with_password(None).expect("valid").expect("configured");
        assert_eq!(
            (c.smtp.port, c.public_url.as_str(), c.public_url.host()),
            (587, "https://uf.example.org", "uf.example.org")
        );
        assert_eq!(
            MailArgs { mail_from: None, ..args() }.config_with_password(None).err(),
            Some(MailConfigError::NoSender)
        );
        assert_eq!(
            MailArgs { public_url: None, ..args() }.config_with_password(None).err(),
            Some(MailConfigError::NoPublicUrl)
        );
        assert!(matches!(
            MailArgs { public_url: Some("ftp://x".into()), ..args() }.config_with_password(None),
            Err(MailConfigError::PublicUrl(_))
        ));
        let user = MailArgs { smtp_user: Some("uf".into()), ..args() };
        assert_eq!(user.config_with_password(None).err(), Some(MailConfigError::NoPassword));
        let c = user.config_with_password(Some("hunter2 hunter2".into())).expect("valid").expect("configured");
        assert!(!format!("{c:?}").contains("hunter2"), "the password never shows: {c:?}");
    }

    #[test]
    fn the_public_host_is_found_without_port_or_path() {
        let u = PublicUrl::parse("http://127.0.0.1:3000/uf").expect("valid");
        assert_eq!((u.as_str(), u.host()), ("http://127.0.0.1:3000/uf", "127.0.0.1"));
        assert!(PublicUrl::parse("https://a.example/\"><script>").is_err());
    }
}
