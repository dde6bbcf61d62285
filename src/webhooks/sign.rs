//! The signature a receiver checks: `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
//! The time is signed with the body, so a receiver can refuse an old delivery replayed.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

pub const HEADER: &str = "Unionflow-Signature";

/// The `Unionflow-Signature` value for `body` sent at `t` (unix seconds).
pub fn signature(secret: &str, t: i64, body: &[u8]) -> String {
    format!("t={t},v1={}", crate::audit::hex(&mac(secret, t, body)))
}

fn mac(secret: &str, t: i64, body: &[u8]) -> Vec<u8> {
    // HMAC takes a key of any length; `new_from_slice` cannot refuse one.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else { return Vec::new() };
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.finalize().into_bytes().to_vec()
}

/// Whether `header` signs `body` with `secret`, made no more than `tolerance` seconds from
/// `now`: what a receiver does (the tests do it, and the README shows it in Python).
pub fn verify(secret: &str, header: &str, body: &[u8], now: i64, tolerance: i64) -> bool {
    let mut t = None;
    let mut v1 = None;
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", value)) => t = value.parse::<i64>().ok(),
            Some(("v1", value)) => v1 = Some(value),
            _ => {}
        }
    }
    let (Some(t), Some(v1)) = (t, v1) else { return false };
    let expected = crate::audit::hex(&mac(secret, t, body));
    (now - t).abs() <= tolerance && crate::people::constant_time_eq(expected.as_bytes(), v1.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The value the README's Python computes for the same inputs.
    #[test]
    fn signs_the_time_and_the_body_with_the_secret() {
        let header = signature("whsec_test", 1_700_000_000, b"{\"id\":\"x\"}");
        assert_eq!(header, "t=1700000000,v1=80e8d098018f757aa814ab1abb924f35d304affa1d93d29611a54696207eb7c3");
    }

    #[test]
    fn verifies_its_own_and_nothing_else() {
        let header = signature("s", 100, b"body");
        assert!(verify("s", &header, b"body", 100, 300));
        assert!(!verify("other", &header, b"body", 100, 300));
        assert!(!verify("s", &header, b"body!", 100, 300));
        assert!(!verify("s", &header, b"body", 1000, 300), "too old");
        assert!(!verify("s", "v1=abc", b"body", 100, 300));
    }
}
