//! A person's e-mail address and their choice of the daily digest, parsed at the edge.

use std::fmt;
use std::str::FromStr;

use crate::web::i18n::Lang;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmailProblem {
    #[error("an e-mail address is at most {0} characters")]
    TooLong(usize),
    #[error("not an e-mail address like name@example.org")]
    NotAnAddress,
    #[error("the daily digest needs an e-mail address")]
    DigestWithoutAddress,
}

/// A plausible mailbox: what SMTP accepts (lettre's parser), at most [`EmailAddress::MAX_LEN`]
/// characters (RFC 5321's limit on a path), at a domain with a dot (mail to a bare host name or
/// an address literal would not reach a person).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailAddress(lettre::Address);

impl EmailAddress {
    pub const MAX_LEN: usize = 254;

    pub fn parse(s: &str) -> Result<Self, EmailProblem> {
        let s = s.trim();
        if s.chars().count() > Self::MAX_LEN {
            return Err(EmailProblem::TooLong(Self::MAX_LEN));
        }
        let address = lettre::Address::from_str(s).map_err(|_| EmailProblem::NotAnAddress)?;
        let domain = address.domain();
        let plausible = domain.contains('.')
            && !domain.starts_with('[')
            && !domain.ends_with('.')
            && s.chars().all(|c| !c.is_control() && !c.is_whitespace());
        if plausible { Ok(Self(address)) } else { Err(EmailProblem::NotAnAddress) }
    }

    pub fn as_str(&self) -> &str {
        self.0.as_ref()
    }

    pub fn address(&self) -> &lettre::Address {
        &self.0
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a person hears of their work by e-mail: their address (none: no mail), whether they get
/// the daily digest, and the language it is written in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailChoice {
    pub email: Option<EmailAddress>,
    pub digest: bool,
    pub lang: Lang,
}

impl MailChoice {
    /// The choice as a form gives it: an address (empty for none), the digest box ticked or not,
    /// and a language code (anything unknown is the default language).
    pub fn parse(email: &str, digest: bool, lang: &str) -> Result<Self, EmailProblem> {
        let email = if email.trim().is_empty() { None } else { Some(EmailAddress::parse(email)?) };
        if digest && email.is_none() {
            return Err(EmailProblem::DigestWithoutAddress);
        }
        Ok(Self { email, digest, lang: Lang::parse(lang).unwrap_or_default() })
    }

    /// What the audit trail records of it.
    pub fn recorded(&self) -> serde_json::Value {
        serde_json::json!({
            "email": self.email.as_ref().map(EmailAddress::as_str),
            "digest": self.digest,
            "lang": self.lang.code(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_plausible_mailbox_is_an_address() {
        assert_eq!(
            EmailAddress::parse(" wang.wei@example.org ").map(|a| a.to_string()),
            Ok("wang.wei@example.org".into())
        );
        for bad in [
            "",
            "wang",
            "wang@",
            "@example.org",
            "wang@localhost",
            "wang@[127.0.0.1]",
            "a b@example.org",
            "wang@example.org\r\nBcc: x@example.org",
            "wang@example.",
        ] {
            assert_eq!(EmailAddress::parse(bad), Err(EmailProblem::NotAnAddress), "{bad:?}");
        }
        let long = format!("{}@example.org", "a".repeat(250));
        assert_eq!(EmailAddress::parse(&long), Err(EmailProblem::TooLong(254)));
    }

    #[test]
    fn the_digest_needs_an_address() {
        assert_eq!(MailChoice::parse("", true, "en"), Err(EmailProblem::DigestWithoutAddress));
        let none = MailChoice::parse(" ", false, "fr").expect("no address, no digest");
        assert_eq!((none.email, none.digest, none.lang), (None, false, Lang::Zh));
        assert_eq!(MailChoice::parse("li.na@example.cn", true, "en").map(|c| c.lang), Ok(Lang::En));
    }
}
