//! A problem found in a definition file, located as `FILE:LINE:COL`.

use std::fmt;
use std::ops::Range;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub file: String,
    pub line: usize,
    pub col: usize,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: {}", self.file, self.line, self.col, self.message)
    }
}

/// The problems of a whole folder of definitions, one per line.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}", .0.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("\n"))]
pub struct Problems(pub Vec<Problem>);

/// Collects problems against one source text, turning byte spans into lines and columns.
pub struct Reporter<'a> {
    file: &'a str,
    text: &'a str,
    pub problems: Vec<Problem>,
}

impl<'a> Reporter<'a> {
    pub fn new(file: &'a str, text: &'a str) -> Self {
        Self { file, text, problems: Vec::new() }
    }

    pub fn at(&mut self, span: Range<usize>, message: impl Into<String>) {
        let (line, col) = line_col(self.text, span.start);
        self.problems.push(Problem { file: self.file.to_owned(), line, col, message: message.into() });
    }
}

impl Reporter<'_> {
    /// A problem at `offset` bytes into the text of the TOML string whose span is `span` (an
    /// expression): after its opening quotes, and the newline a multi-line string starts with.
    pub fn at_in_string(&mut self, span: Range<usize>, offset: Option<usize>, message: impl Into<String>) {
        let raw = self.text.get(span.clone()).unwrap_or("");
        let at = offset.map_or(span.start, |o| (span.start + raw_offset(raw, o)).min(span.end));
        self.at(at..span.end, message);
    }
}

/// Where, in a TOML string as written (quotes and escapes included), the byte `decoded` of its
/// value is.
fn raw_offset(raw: &str, decoded: usize) -> usize {
    let (open, escapes) = match raw {
        r if r.starts_with("\"\"\"") => (3, true),
        r if r.starts_with("'''") => (3, false),
        r if r.starts_with('\'') => (1, false),
        _ => (1, true),
    };
    let mut at = open;
    // A newline right after a multi-line string's opening quotes is not part of its value.
    if open == 3 {
        at += [("\r\n", 2), ("\n", 1)].iter().find(|(nl, _)| raw[at..].starts_with(nl)).map_or(0, |(_, n)| *n);
    }
    let mut value = 0;
    let mut chars = raw[at..].char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if escapes && c == '\\' {
            // A backslash ending a line (spaces may follow it) joins the next line's text: the
            // newline and the indentation after it are no part of the value.
            let rest = &raw[at + i + 1..];
            let trimmed = rest.trim_start_matches([' ', '\t']);
            if trimmed.starts_with('\n') || trimmed.starts_with("\r\n") {
                let skipped = rest.len() - rest.trim_start().len();
                while chars.peek().is_some_and(|(j, _)| *j < i + 1 + skipped) {
                    chars.next();
                }
                continue;
            }
        }
        if value >= decoded {
            return at + i;
        }
        if escapes && c == '\\' {
            let width = match chars.next().map(|(_, e)| e) {
                Some('u') => 4,
                Some('U') => 8,
                _ => 0,
            };
            let hex: String = (0..width).filter_map(|_| chars.next().map(|(_, h)| h)).collect();
            // An escaped code point counts as the bytes it stands for.
            value += u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32).map_or(1, char::len_utf8);
        } else {
            value += c.len_utf8();
        }
    }
    raw.len()
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..text.floor_char_boundary(offset)];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = before[line_start..].chars().count() + 1;
    (line, col)
}

#[cfg(test)]
mod tests {
    use super::line_col;

    #[test]
    fn a_place_in_a_string_value_is_found_past_its_quotes_and_escapes() {
        use super::raw_offset;
        assert_eq!(raw_offset(r#""a + b""#, 4), 5);
        assert_eq!(raw_offset(r#""x == \"y\" && z""#, r#"x == "y" && "#.len()), r#""x == \"y\" && "#.len());
        assert_eq!(raw_offset(r#""\u6c5f x""#, "江 ".len()), r#""\u6c5f "#.len());
        assert_eq!(raw_offset("'''\nab'''", 1), 5);
        // A backslash ending a line drops the newline and the next line's indentation.
        let joined = "\"\"\"\nincome + \\\n      incme\"\"\"";
        assert_eq!(raw_offset(joined, "income + ".len()), joined.find("incme").unwrap());
    }

    #[test]
    fn line_col_counts_from_one_in_characters() {
        let text = "a = 1\n名称 = 2\n";
        assert_eq!(line_col(text, 0), (1, 1));
        assert_eq!(line_col(text, 6), (2, 1));
        assert_eq!(line_col(text, 6 + "名称".len()), (2, 3));
    }
}
