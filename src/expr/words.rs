//! An expression as a reader reads it in a refusal: fields by their labels, operators in words.

use cel::common::ast::{Expr, IdedExpr, SourceInfo};

use crate::expr::check::Checked;

/// The words `&&`, `||` and `!` read as, in the reader's language (from its locale).
#[derive(Debug, Clone, Copy)]
pub struct Connectives<'a> {
    pub and: &'a str,
    pub or: &'a str,
    pub not: &'a str,
}

/// The source with every field it names replaced by `label(field)`, and `&&`, `||`, `!` and `==`
/// written as words.
pub fn in_words(
    source: &str,
    ast: &IdedExpr,
    info: &SourceInfo,
    checked: &Checked,
    label: impl Fn(&str) -> Option<String>,
    words: Connectives<'_>,
) -> String {
    let mut spans = Vec::new();
    field_spans(ast, info, checked, &mut Vec::new(), &mut spans);
    spans.sort_unstable();
    spans.dedup();
    let mut out = String::with_capacity(source.len() * 2);
    let mut at = 0;
    for (start, end, field) in spans {
        if start < at || end > source.len() || !source.is_char_boundary(start) || !source.is_char_boundary(end) {
            continue;
        }
        out.push_str(&operators_in_words(&source[at..start], words));
        out.push_str(&label(&field).unwrap_or(field));
        at = end;
    }
    out.push_str(&operators_in_words(&source[at..], words));
    out
}

/// The byte spans of the identifiers that name fields (not a comprehension's own variables).
fn field_spans(
    e: &IdedExpr,
    info: &SourceInfo,
    checked: &Checked,
    vars: &mut Vec<String>,
    out: &mut Vec<(usize, usize, String)>,
) {
    match &e.expr {
        Expr::Ident(name) if !vars.contains(name) && checked.reads.contains_key(name) => {
            if let Some((start, stop)) = info.offset_for(e.id) {
                let start = start as usize;
                out.push((start, start + name.len().max(stop as usize + 1 - start), name.clone()));
            }
        }
        Expr::Select(sel) => field_spans(&sel.operand, info, checked, vars, out),
        Expr::Call(call) => {
            for a in call.target.iter().map(|t| &**t).chain(&call.args) {
                field_spans(a, info, checked, vars, out);
            }
        }
        Expr::List(list) => {
            for a in &list.elements {
                field_spans(a, info, checked, vars, out);
            }
        }
        Expr::Comprehension(c) => {
            field_spans(&c.iter_range, info, checked, vars, out);
            vars.push(c.iter_var.clone());
            vars.push(c.accu_var.clone());
            for part in [&c.accu_init, &c.loop_cond, &c.loop_step, &c.result] {
                field_spans(part, info, checked, vars, out);
            }
            vars.truncate(vars.len() - 2);
        }
        _ => {}
    }
}

/// `&&`, `||`, `!` and `==` outside quoted text, in words.
fn operators_in_words(text: &str, Connectives { and, or, not }: Connectives<'_>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut quote: Option<char> = None;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if let Some(q) = quote {
            out.push(c);
            if c == '\\' {
                // An escaped character, a quote included, does not end the text.
                out.extend(chars.next());
            } else if c == q {
                quote = None;
            }
            continue;
        }
        match (c, chars.peek().copied()) {
            ('"' | '\'', _) => {
                quote = Some(c);
                out.push(c);
            }
            ('&', Some('&')) | ('|', Some('|')) => {
                chars.next();
                let word = if c == '&' { and } else { or };
                while out.ends_with(' ') {
                    out.pop();
                }
                out.push_str(word);
                while chars.peek() == Some(&' ') {
                    chars.next();
                }
            }
            ('=', Some('=')) => {
                chars.next();
                out.push('=');
            }
            ('!', next) if next != Some('=') => out.push_str(not),
            _ => out.push(c),
        }
    }
    out
}
