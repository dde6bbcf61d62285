//! Free text from outside (forms, files, sign-in names) turned into text the rest of the program
//! may keep: no control characters (a NUL is refused by PostgreSQL and breaks every export), none
//! of the invisible or direction-changing characters that make one name look like another, and a
//! length bound on everything.

/// Why a piece of text is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TextProblem {
    #[error("contains a control character (U+{0:04X})")]
    Control(u32),
    #[error("contains an invisible or direction-changing character (U+{0:04X})")]
    Deceptive(u32),
    #[error("is longer than {0} characters")]
    TooLong(usize),
}

/// Characters that change how text reads without being seen: zero-width characters and marks,
/// bidirectional embeddings, overrides and isolates, the byte-order mark inside text.
pub fn is_deceptive(c: char) -> bool {
    matches!(
        c,
        '\u{061C}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}' | '\u{FEFF}'
    )
}

/// Direction overrides and isolates only: longer texts may need a zero-width joiner, never these.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// One line of text (a name, a title, a search): trimmed, at most `max` characters, no control
/// and no deceptive characters.
pub fn line(s: &str, max: usize) -> Result<&str, TextProblem> {
    let s = s.trim();
    if let Some(c) = s.chars().find(|c| c.is_control()) {
        return Err(TextProblem::Control(c.into()));
    }
    if let Some(c) = s.chars().find(|c| is_deceptive(*c)) {
        return Err(TextProblem::Deceptive(c.into()));
    }
    bounded(s, max)
}

/// Text of several lines (minutes, a contract): trimmed, at most `max` characters; tabs and line
/// breaks are kept, other control characters and direction overrides are refused.
pub fn lines(s: &str, max: usize) -> Result<&str, TextProblem> {
    let s = s.trim();
    if let Some(c) = s.chars().find(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
        return Err(TextProblem::Control(c.into()));
    }
    if let Some(c) = s.chars().find(|c| is_bidi_control(*c)) {
        return Err(TextProblem::Deceptive(c.into()));
    }
    bounded(s, max)
}

fn bounded(s: &str, max: usize) -> Result<&str, TextProblem> {
    // Counting stops past the bound: a million characters cost no more than `max` to refuse.
    if s.chars().nth(max).is_some() { Err(TextProblem::TooLong(max)) } else { Ok(s) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_refuse_controls_look_alikes_and_excess() {
        assert_eq!(line("  王伟 ", 10), Ok("王伟"));
        assert_eq!(line("a\u{0}b", 10), Err(TextProblem::Control(0)));
        assert_eq!(line("a\nb", 10), Err(TextProblem::Control(10)));
        assert_eq!(line("wang\u{202e}iew", 20), Err(TextProblem::Deceptive(0x202e)));
        assert_eq!(line("wang\u{200b}wei", 20), Err(TextProblem::Deceptive(0x200b)));
        assert_eq!(line(&"x".repeat(1_000_000), 100), Err(TextProblem::TooLong(100)));
        assert_eq!(line(&"字".repeat(100), 100), Ok("字".repeat(100).as_str()));
    }

    #[test]
    fn longer_texts_keep_their_lines_but_not_other_controls() {
        assert_eq!(lines("第一条\r\n\t第二条", 100), Ok("第一条\r\n\t第二条"));
        assert_eq!(lines("a\u{0}", 100), Err(TextProblem::Control(0)));
        assert_eq!(lines("a\u{7}", 100), Err(TextProblem::Control(7)));
        assert_eq!(lines("a\u{2066}b", 100), Err(TextProblem::Deceptive(0x2066)));
        assert_eq!(lines("👩\u{200d}🔧", 100), Ok("👩\u{200d}🔧"));
    }
}
