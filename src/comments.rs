//! Comments on an instance and on its steps, parsed at the edge: the text (bounded, no control or
//! direction-changing characters), the step it is about, the earlier comment it corrects, and the
//! people it mentions (`@user.name`).

use crate::engine::FieldProblem;

/// The longest comment: a page of text.
pub const MAX_CHARS: usize = 4000;
/// The most people one comment mentions.
pub const MAX_MENTIONS: usize = 20;

/// A comment as written, before it is recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    pub text: String,
    /// The step it is about: the place of that step's event in the instance's history.
    pub on_step: Option<i64>,
    /// The earlier comment (its place in the history) this one corrects.
    pub corrects: Option<i64>,
    /// The user names written after an `@`, in order, each once.
    pub mentions: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommentError {
    #[error("the comment is empty")]
    Empty,
    #[error("the comment: {0}")]
    Text(FieldProblem),
    #[error("a comment mentions at most {MAX_MENTIONS} people")]
    TooManyMentions,
    #[error("there is no step {0} in this instance's history")]
    NoSuchStep(i64),
    #[error("only your own earlier comment can be corrected, and {0} is not one")]
    NotYourComment(i64),
    #[error("{0} cannot open this instance, so cannot be mentioned in it")]
    CannotSee(String),
}

impl Comment {
    pub fn parse(text: &str, on_step: Option<i64>, corrects: Option<i64>) -> Result<Comment, CommentError> {
        let text = crate::text::lines(text, MAX_CHARS).map_err(|p| CommentError::Text(p.into()))?;
        if text.is_empty() {
            return Err(CommentError::Empty);
        }
        let mentions = mentions_in(text);
        if mentions.len() > MAX_MENTIONS {
            return Err(CommentError::TooManyMentions);
        }
        Ok(Comment { text: text.to_owned(), on_step, corrects, mentions })
    }
}

/// The names after an `@` that have the shape of a user name (2 to 40 letters, digits, `.`, `-`,
/// `_`), each once, in order; an `@` inside a word (an e-mail address) mentions no one.
pub fn mentions_in(text: &str) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    let mut previous = ' ';
    for (i, c) in text.char_indices() {
        if c == '@' && !previous.is_alphanumeric() {
            let rest = &text[i + 1..];
            let end = rest.find(|c: char| !(c.is_alphanumeric() || matches!(c, '.' | '-' | '_'))).unwrap_or(rest.len());
            // A sentence's full stop after a name is not part of it.
            let name = rest[..end].trim_end_matches(['.', '-', '_']);
            if crate::people::Username::parse(name).is_ok() && !found.iter().any(|f| f == name) {
                found.push(name.to_owned());
            }
        }
        previous = c;
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mentions_are_user_names_after_an_at_sign_each_once() {
        assert_eq!(mentions_in("@chen.jing please check; cc @liu.yang."), ["chen.jing", "liu.yang"]);
        assert_eq!(mentions_in("mail wang@example.org, @wang.wei and @wang.wei again"), ["wang.wei"]);
        assert_eq!(mentions_in("@ nobody, @x"), Vec::<String>::new(), "a name has at least two characters");
        assert_eq!(mentions_in("请@陈静核对"), Vec::<String>::new(), "an @ inside a word is not a mention");
        assert_eq!(mentions_in("（@陈静）核对"), ["陈静"]);
    }

    #[test]
    fn a_comment_is_bounded_and_refuses_what_hides_text() {
        assert_eq!(Comment::parse("  ", None, None), Err(CommentError::Empty));
        assert!(matches!(Comment::parse(&"字".repeat(MAX_CHARS + 1), None, None), Err(CommentError::Text(_))));
        assert!(matches!(Comment::parse("ok\u{202e}kо", None, None), Err(CommentError::Text(_))));
        let many: String = (0..=MAX_MENTIONS).map(|i| format!("@user{i:02} ")).collect();
        assert_eq!(Comment::parse(&many, None, None), Err(CommentError::TooManyMentions));
        assert_eq!(Comment::parse("行\n二行", Some(2), None).map(|c| c.text), Ok("行\n二行".to_owned()));
    }
}
