//! People and access: units, users, their roles and the units those roles act for, passwords and
//! sessions. These are sector records beside the generic engine; the engine sees a person only as
//! an [`Actor`](crate::engine::Actor).

pub mod delegation;
pub mod domain;
pub mod email;
pub mod password;
pub mod sessions;
pub mod signin;
pub mod standing_in;
pub mod substitute;
pub mod throttle;
pub mod tokens;
pub mod users;

pub use domain::{DisplayName, Password, PeopleError, RoleGrant, Username};
pub use users::User;

/// A random token of 32 bytes, hex-encoded: session ids and CSRF tokens.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    // The OS generator does not fail on the systems we run on; a zeroed buffer would only ever
    // be the result of a broken kernel, and is caught by the length check of its users.
    let _ = getrandom::fill(&mut bytes);
    crate::audit::hex(&bytes)
}

/// Whether two secrets are equal, in a time that does not depend on where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
