//! Line differences between two versions of a text: what a reader needs to see what changed in a
//! draft contract, which may hold 100,000 characters.
//!
//! The comparison is `similar`'s patience diff: lines that occur once in both versions (a clause's
//! heading, its sentences) anchor it, so a moved or rewritten clause reads as that clause changed
//! rather than as scattered blank lines matched across the text. It needs memory linear in the
//! texts, and a deadline bounds its time: past it, `similar` settles for an approximation that
//! still keeps the unchanged beginning and end of the texts as they are. It is CPU work, so the
//! page runs it off the async workers (`spawn_blocking` in `documents::versions`).

use std::time::{Duration, Instant};

use similar::{Algorithm, ChangeTag, TextDiff};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    Same(String),
    Added(String),
    Removed(String),
}

impl Line {
    pub fn class(&self) -> &'static str {
        match self {
            Line::Same(_) => "same",
            Line::Added(_) => "added",
            Line::Removed(_) => "removed",
        }
    }
    pub fn mark(&self) -> &'static str {
        match self {
            Line::Same(_) => " ",
            Line::Added(_) => "+",
            Line::Removed(_) => "−",
        }
    }
    pub fn text(&self) -> &str {
        match self {
            Line::Same(t) | Line::Added(t) | Line::Removed(t) => t,
        }
    }
}

/// How long one comparison may search for the best alignment. Real edits to a contract (clauses
/// rewritten, added, removed) take milliseconds; only texts that share almost nothing in a
/// tangled order come near it.
const PER_DIFF: Duration = Duration::from_secs(1);

/// How long the comparisons of one page may search together, so a draft with many versions
/// cannot hold a thread for seconds per version.
const PER_PAGE: Duration = Duration::from_secs(2);

/// The lines of `new` against those of `old`, each line once: unchanged, removed or added (a
/// changed line is its old text removed, then its new text added). The search for the best
/// alignment stops at `deadline`; one already past still compares: the lines the texts share at
/// their beginning and end are found without a search, the rest is shown as removed and added.
fn lines_until(old: &str, new: &str, deadline: Instant) -> Vec<Line> {
    // `str::lines` rather than similar's own splitting, so a line is compared without its line
    // ending (a last line without a newline, or a CRLF from a pasted text, is not a change).
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    let diff = TextDiff::configure().algorithm(Algorithm::Patience).deadline(deadline).diff_slices(&a, &b);
    diff.iter_all_changes()
        .map(|change| {
            let text = change.value().to_owned();
            match change.tag() {
                ChangeTag::Equal => Line::Same(text),
                ChangeTag::Delete => Line::Removed(text),
                ChangeTag::Insert => Line::Added(text),
            }
        })
        .collect()
}

/// Every version of a text as the reader sees it, in the order given: the first as it is, each
/// later one against the one before. The newest are compared first, as they are read first, so
/// when the page's time runs out it is the oldest comparisons that are approximate.
pub fn history(texts: &[String]) -> Vec<Vec<Line>> {
    history_until(texts, Instant::now() + PER_PAGE)
}

fn history_until(texts: &[String], page_deadline: Instant) -> Vec<Vec<Line>> {
    let mut out: Vec<Vec<Line>> = Vec::with_capacity(texts.len());
    for (i, text) in texts.iter().enumerate().rev() {
        out.push(match i.checked_sub(1).and_then(|p| texts.get(p)) {
            Some(previous) => lines_until(previous, text, (Instant::now() + PER_DIFF).min(page_deadline)),
            None => text.lines().map(|l| Line::Same(l.to_owned())).collect(),
        });
    }
    out.reverse();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn lines(old: &str, new: &str) -> Vec<Line> {
        lines_until(old, new, Instant::now() + PER_DIFF)
    }

    #[test]
    fn a_changed_clause_shows_as_removed_then_added() {
        let old = "第一条 工资\n月工资不低于 4000 元\n第二条 休假";
        let new = "第一条 工资\n月工资不低于 4300 元\n第二条 休假\n第三条 津贴";
        let d = lines(old, new);
        assert_eq!(
            d,
            vec![
                Line::Same("第一条 工资".into()),
                Line::Removed("月工资不低于 4000 元".into()),
                Line::Added("月工资不低于 4300 元".into()),
                Line::Same("第二条 休假".into()),
                Line::Added("第三条 津贴".into()),
            ]
        );
        assert!(lines("same", "same").iter().all(|l| matches!(l, Line::Same(_))));
    }

    #[test]
    fn line_endings_are_not_changes() {
        let d = lines("第一条\r\n第二条\n", "第一条\n第二条");
        assert_eq!(d, vec![Line::Same("第一条".into()), Line::Same("第二条".into())]);
    }

    /// A contract of `n` clauses, each a numbered line and a sentence, blank lines between:
    /// repeated blank lines are what an alignment must not be fooled by.
    fn contract(n: usize, clause: impl Fn(usize) -> String) -> String {
        (1..=n).map(|i| format!("第{i}条\n{}\n\n", clause(i))).collect()
    }

    fn changed_only(d: &[Line], removed: &str, added: &str) {
        let changed: Vec<&Line> = d.iter().filter(|l| !matches!(l, Line::Same(_))).collect();
        assert_eq!(changed, [&Line::Removed(removed.into()), &Line::Added(added.into())]);
    }

    #[test]
    fn a_100_000_character_contract_with_one_changed_clause_shows_that_clause_only() {
        let sentence = |i: usize| format!("用人单位应当按月足额支付第{i}项约定的劳动报酬，不得克扣或者无故拖欠。");
        let old = contract(2300, sentence);
        assert!(old.chars().count() >= 100_000, "{} characters", old.chars().count());
        let new = contract(2300, |i| {
            if i == 1234 { "第1234项约定的报酬每年增长不低于5%。".into() } else { sentence(i) }
        });
        let d = lines(&old, &new);
        changed_only(&d, &sentence(1234), "第1234项约定的报酬每年增长不低于5%。");
        assert_eq!(d.len(), old.lines().count() + 1, "every other line is shown once, unchanged");
        assert_eq!(d[3 * 1233], Line::Same("第1234条".into()), "the clause stays in its place");
    }

    #[test]
    fn a_contract_of_long_paragraphs_shows_the_changed_paragraph_only() {
        let paragraph = |i: usize| format!("第{i}章 ") + &"双方应当遵守本合同的各项约定。".repeat(700);
        let old: String = (1..=10).map(|i| paragraph(i) + "\n").collect();
        assert!(old.chars().count() >= 100_000);
        let changed = paragraph(7).replacen("遵守", "履行", 1);
        let new: String = (1..=10).map(|i| if i == 7 { changed.clone() } else { paragraph(i) } + "\n").collect();
        changed_only(&lines(&old, &new), &paragraph(7), &changed);
    }

    /// The lines a diff shows for the old text (unchanged and removed) and for the new text
    /// (unchanged and added), in order.
    fn sides(d: &[Line]) -> (Vec<&str>, Vec<&str>) {
        let old = d.iter().filter(|l| !matches!(l, Line::Added(_))).map(Line::text).collect();
        let new = d.iter().filter(|l| !matches!(l, Line::Removed(_))).map(Line::text).collect();
        (old, new)
    }

    #[test]
    fn past_its_deadline_a_diff_still_shows_both_texts_whole() {
        // Every seventh clause rewritten: a real search, which a deadline already past cuts short.
        let old = contract(2000, |i| format!("第{i}项约定"));
        let new = contract(2000, |i| if i % 7 == 0 { format!("第{i}项改定") } else { format!("第{i}项约定") });
        let d = lines_until(&old, &new, Instant::now());
        assert_eq!(sides(&d), (old.lines().collect(), new.lines().collect()));
        assert_eq!(d.first(), Some(&Line::Same("第1条".into())), "the shared beginning is kept");
        assert_eq!(d.last(), Some(&Line::Same(String::new())), "and the shared end");

        let page = history_until(&[old.clone(), new.clone(), old.clone()], Instant::now());
        assert_eq!(page.len(), 3);
        assert!(page[0].iter().all(|l| matches!(l, Line::Same(_))), "the first version is shown as it is");
        assert_eq!(sides(&page[1]), (old.lines().collect(), new.lines().collect()));
        assert_eq!(sides(&page[2]), (new.lines().collect(), old.lines().collect()));
    }

    #[test]
    fn every_version_is_compared_with_the_one_before() {
        let texts = ["甲\n乙".to_owned(), "甲\n丙".to_owned(), "丁\n丙".to_owned()];
        let page = history(&texts);
        assert_eq!(page[0], [Line::Same("甲".into()), Line::Same("乙".into())]);
        assert_eq!(page[1], [Line::Same("甲".into()), Line::Removed("乙".into()), Line::Added("丙".into())]);
        assert_eq!(page[2], [Line::Removed("甲".into()), Line::Added("丁".into()), Line::Same("丙".into())]);
        assert!(history(&[]).is_empty());
    }

    proptest! {
        /// Whatever the texts, the diff shows each of them whole and in order.
        #[test]
        fn a_diff_shows_both_texts_whole(
            old in proptest::collection::vec("[abc]{0,2}", 0..40),
            new in proptest::collection::vec("[abc]{0,2}", 0..40),
        ) {
            let (old, new) = (old.join("\n"), new.join("\n"));
            let d = lines(&old, &new);
            prop_assert_eq!(sides(&d), (old.lines().collect(), new.lines().collect()));
        }
    }
}
