//! Sending one message through the configured SMTP server.

use std::time::Duration;

use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::digest::config::{MailConfig, TlsMode};

/// The most one send may take (connecting, each command): a server that hangs costs a tick no
/// more than this.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("the TLS settings for {host}: {source}")]
    Tls { host: String, source: lettre::transport::smtp::Error },
    #[error("sending through {host}: {source}")]
    Smtp { host: String, source: lettre::transport::smtp::Error },
}

/// The SMTP client, one connection a message (a digest goes out once a day a person).
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    host: String,
}

impl Mailer {
    pub fn new(config: &MailConfig) -> Result<Self, SendError> {
        let smtp = &config.smtp;
        let tls_error = |source| SendError::Tls { host: smtp.host.clone(), source };
        let tls = match smtp.tls {
            TlsMode::None => Tls::None,
            TlsMode::Starttls => Tls::Required(TlsParameters::new(smtp.host.clone()).map_err(tls_error)?),
            TlsMode::Tls => Tls::Wrapper(TlsParameters::new(smtp.host.clone()).map_err(tls_error)?),
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(smtp.host.clone())
            .port(smtp.port)
            .tls(tls)
            .timeout(Some(SEND_TIMEOUT))
            // The site's own name in the greeting, rather than the machine's (which may be unknown).
            .hello_name(ClientId::Domain(config.public_url.host().to_owned()));
        if let Some((user, password)) = &smtp.credentials {
            builder = builder.credentials(Credentials::new(user.clone(), password.expose().to_owned()));
        }
        Ok(Self { transport: builder.build(), host: smtp.host.clone() })
    }

    pub async fn send(&self, message: Message) -> Result<(), SendError> {
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|source| SendError::Smtp { host: self.host.clone(), source })
    }
}
