//! Values parsed at the edge: a form gives strings, these give checked values or a reason.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeopleError {
    #[error("a user name is 2 to 40 letters, digits, dots, dashes or underscores")]
    BadUsername,
    #[error("a name is 1 to 60 characters")]
    BadDisplayName,
    #[error("a password has at least {0} characters")]
    ShortPassword(usize),
    #[error("unknown role {0:?}")]
    UnknownRole(String),
    #[error("the role {0:?} acts for a unit: choose the unit")]
    UnitNeeded(String),
    #[error("unknown unit {0:?}")]
    UnknownUnit(String),
    #[error("a unit id is 1 to 40 letters, digits, dashes or underscores")]
    BadUnitId,
    #[error("a unit's name and sector are 1 to {0} characters")]
    BadUnitText(usize),
    #[error("line {line} of the roster: a name is 1 to {max} characters, and a roster at most {most} names")]
    BadRosterName { line: usize, max: usize, most: usize },
    #[error("line {line} of the roster: {name} is on it already")]
    RepeatedRosterName { line: usize, name: String },
    #[error("the text {0}")]
    Unreadable(crate::text::TextProblem),
}

/// A sign-in name: short, and safe to show and to put in a URL.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Username(String);

impl Username {
    pub fn parse(s: &str) -> Result<Self, PeopleError> {
        let s = s.trim();
        let ok = (2..=40).contains(&s.chars().count())
            && s.chars().all(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | '_'));
        if ok { Ok(Self(s.to_owned())) } else { Err(PeopleError::BadUsername) }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    pub const MAX_LEN: usize = 60;
    pub fn parse(s: &str) -> Result<Self, PeopleError> {
        match crate::text::line(s, Self::MAX_LEN) {
            Ok("") | Err(crate::text::TextProblem::TooLong(_)) => Err(PeopleError::BadDisplayName),
            Ok(s) => Ok(Self(s.to_owned())),
            Err(p) => Err(PeopleError::Unreadable(p)),
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A new password, long enough; never shown, never logged.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    pub const MIN_LEN: usize = 10;
    pub fn parse(s: &str) -> Result<Self, PeopleError> {
        if s.chars().count() >= Self::MIN_LEN {
            Ok(Self(s.to_owned()))
        } else {
            Err(PeopleError::ShortPassword(Self::MIN_LEN))
        }
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(…)")
    }
}

/// A role given to a person, with the unit it acts for when the role is a unit's.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct RoleGrant {
    pub role: String,
    pub unit: Option<String>,
}

/// Roles that act for one unit: a grant of one must name the unit.
pub const UNIT_ROLES: &[&str] = &["unit_secretary"];

impl RoleGrant {
    /// Parses `role` or `role@unit` against the roles of `workflows/roles.toml`.
    pub fn parse(s: &str, roles: &crate::definition::Roles) -> Result<Self, PeopleError> {
        let (role, unit) = match s.trim().split_once('@') {
            Some((r, u)) => (r.trim(), Some(u.trim().to_owned()).filter(|u| !u.is_empty())),
            None => (s.trim(), None),
        };
        if !roles.roles.contains_key(role) {
            return Err(PeopleError::UnknownRole(role.to_owned()));
        }
        if UNIT_ROLES.contains(&role) && unit.is_none() {
            return Err(PeopleError::UnitNeeded(role.to_owned()));
        }
        Ok(Self { role: role.to_owned(), unit })
    }
}

impl fmt::Display for RoleGrant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.unit {
            Some(u) => write!(f, "{}@{u}", self.role),
            None => f.write_str(&self.role),
        }
    }
}

/// The longest name, sector or kind of a unit.
pub const UNIT_TEXT_MAX: usize = 100;

/// A unit's name, sector or kind; `required` refuses an empty one.
pub fn parse_unit_text(s: &str, required: bool) -> Result<String, PeopleError> {
    match crate::text::line(s, UNIT_TEXT_MAX) {
        Ok("") if required => Err(PeopleError::BadUnitText(UNIT_TEXT_MAX)),
        Err(crate::text::TextProblem::TooLong(_)) => Err(PeopleError::BadUnitText(UNIT_TEXT_MAX)),
        Ok(s) => Ok(s.to_owned()),
        Err(p) => Err(PeopleError::Unreadable(p)),
    }
}

/// The longest name on a unit's roster, and the most names (as many as a roll call takes).
pub const ROSTER_NAME_MAX: usize = 60;
pub const ROSTER_NAMES_MAX: usize = 5000;

/// A unit's roster by name, one a line (blank lines dropped): each name a clean line of text,
/// none twice (a repeated name is refused with its line, since it would merge two people).
pub fn parse_unit_roster(s: &str) -> Result<Vec<String>, PeopleError> {
    let mut names: Vec<String> = Vec::new();
    for (i, l) in s.lines().enumerate() {
        let bad = PeopleError::BadRosterName { line: i + 1, max: ROSTER_NAME_MAX, most: ROSTER_NAMES_MAX };
        match crate::text::line(l, ROSTER_NAME_MAX) {
            Ok("") => {}
            Ok(name) if names.len() < ROSTER_NAMES_MAX => {
                // Two people of one name would be one row of the roll call and one vote: the
                // register must tell them apart.
                if names.iter().any(|n| n == name) {
                    return Err(PeopleError::RepeatedRosterName { line: i + 1, name: name.to_owned() });
                }
                names.push(name.to_owned());
            }
            Ok(_) | Err(crate::text::TextProblem::TooLong(_)) => return Err(bad),
            Err(p) => return Err(PeopleError::Unreadable(p)),
        }
    }
    Ok(names)
}

pub fn parse_unit_id(s: &str) -> Result<String, PeopleError> {
    let s = s.trim();
    let ok = (1..=40).contains(&s.len()) && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'));
    if ok { Ok(s.to_owned()) } else { Err(PeopleError::BadUnitId) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_register_with_one_name_twice_is_refused_at_its_line() {
        assert_eq!(parse_unit_roster("王伟\n李娜\n\n赵磊").map(|n| n.len()), Ok(3), "blank lines dropped");
        assert_eq!(
            parse_unit_roster("王伟\n李娜\n王伟"),
            Err(PeopleError::RepeatedRosterName { line: 3, name: "王伟".into() }),
            "two people of one name would be merged into one vote"
        );
        assert!(parse_unit_roster("王伟\n王伟（二车间）").is_ok(), "told apart, both are kept");
    }

    #[test]
    fn usernames_and_passwords_are_checked_at_the_edge() {
        assert!(Username::parse("wang.wei").is_ok());
        assert!(Username::parse("王伟").is_ok());
        assert_eq!(Username::parse("a b"), Err(PeopleError::BadUsername));
        assert_eq!(Username::parse("x"), Err(PeopleError::BadUsername));
        assert!(Password::parse("short").is_err());
        assert_eq!(
            DisplayName::parse("王\u{0}伟").map(|_| ()),
            Err(PeopleError::Unreadable(crate::text::TextProblem::Control(0)))
        );
        assert_eq!(DisplayName::parse(&"名".repeat(61)).map(|_| ()), Err(PeopleError::BadDisplayName));
        assert_eq!(parse_unit_text(&"x".repeat(1_000_000), true), Err(PeopleError::BadUnitText(UNIT_TEXT_MAX)));
        assert_eq!(parse_unit_text("", false), Ok(String::new()));
        assert_eq!(format!("{:?}", Password::parse("long enough pw").unwrap()), "Password(…)");
    }
}
