//! Where to send the reader back to (after signing in, after switching the language): a path of
//! this site, parsed as such. Anything else — another host (`//evil`, `/\evil`, or `/<tab>/evil`,
//! which browsers turn into `//evil`), control characters, a value no header can carry — means the
//! start page.

/// A path (and query) of this site, safe to put in a `Location` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalPath(String);

/// Longer than any page of this site needs.
const MAX_LEN: usize = 2048;

impl LocalPath {
    pub fn parse(s: &str) -> Option<Self> {
        let mut chars = s.chars();
        let local = s.len() <= MAX_LEN
            && chars.next() == Some('/')
            && !matches!(chars.next(), Some('/' | '\\'))
            && !s.chars().any(|c| c.is_control() || c == '\\' || crate::text::is_deceptive(c));
        local.then(|| Self(percent_encode_unsafe(s)))
    }

    /// The path given, if it is one of this site's, else the start page.
    pub fn or_home(s: Option<&str>) -> Self {
        s.and_then(Self::parse).unwrap_or_else(|| Self("/".to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Percent-encodes what a header value cannot hold (spaces, non-ASCII), leaving the rest as given.
fn percent_encode_unsafe(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if (0x21..0x7f).contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_paths_of_this_site_are_followed() {
        for good in ["/", "/instances/4?tab=history", "/audit?actor=%E7%8E%8B"] {
            assert_eq!(LocalPath::parse(good).map(|p| p.0), Some(good.to_owned()));
        }
        for bad in [
            "",
            "https://evil.example/",
            "//evil.example",
            "/\\evil.example",
            "/\t/evil.example",
            "/\n",
            "/\r\nSet-Cookie: x=1",
            "/\u{0}",
            "evil.example",
            "/a\\b",
            "/\u{202e}gro.live",
        ] {
            assert_eq!(LocalPath::parse(bad), None, "{bad:?} must not be followed");
            assert_eq!(LocalPath::or_home(Some(bad)).as_str(), "/");
        }
    }

    #[test]
    fn a_path_with_text_no_header_can_carry_is_encoded() {
        let p = LocalPath::parse("/instances/1?q=王 伟").unwrap();
        assert_eq!(p.as_str(), "/instances/1?q=%E7%8E%8B%20%E4%BC%9F");
        assert!(axum::http::HeaderValue::from_str(p.as_str()).is_ok());
    }
}
