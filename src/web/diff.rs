//! Line differences between two versions of a text (longest common subsequence): what a reader
//! needs to see what changed in a draft.

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

/// Texts longer than this many lines are compared as a whole replacement, to bound the work.
const MAX_LINES: usize = 4000;

pub fn lines(old: &str, new: &str) -> Vec<Line> {
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    if a.len() > MAX_LINES || b.len() > MAX_LINES {
        return a
            .iter()
            .map(|l| Line::Removed((*l).to_owned()))
            .chain(b.iter().map(|l| Line::Added((*l).to_owned())))
            .collect();
    }
    // lcs[i][j]: the longest common subsequence of a[i..] and b[j..].
    let mut lcs = vec![vec![0u32; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] { lcs[i + 1][j + 1] + 1 } else { lcs[i + 1][j].max(lcs[i][j + 1]) };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, Vec::new());
    while i < a.len() && j < b.len() {
        if a[i] == b[j] {
            out.push(Line::Same(a[i].to_owned()));
            i += 1;
            j += 1;
        } else if lcs[i + 1][j] >= lcs[i][j + 1] {
            out.push(Line::Removed(a[i].to_owned()));
            i += 1;
        } else {
            out.push(Line::Added(b[j].to_owned()));
            j += 1;
        }
    }
    out.extend(a[i..].iter().map(|l| Line::Removed((*l).to_owned())));
    out.extend(b[j..].iter().map(|l| Line::Added((*l).to_owned())));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
