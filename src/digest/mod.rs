//! The daily digest by e-mail (issue 15, item 5): what waits for a person, sent once a day through
//! the SMTP server the admin configures, to those who asked for it.

pub mod compose;
pub mod config;
pub mod mail;
pub mod run;

pub use config::{MailArgs, MailConfig};
pub use mail::Mailer;
pub use run::{Tick, tick};
