//! The state machine of a definition drawn as SVG on the server: states in layers by their
//! distance from the initial state, the current state marked, and the transitions the viewer may
//! take now drawn apart from the rest. No script, no inline style: classes and attributes only.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt::Write;

use crate::definition::Definition;

// The drawing is sized for a phone's column (about 340 px at a 390 px screen): two states side by
// side at most, so its 14-unit text renders at about 13 px there (never under 12) and larger in a
// desktop's column. Labels wrap inside their box; none is cut.
const NODE_W: i32 = 140;
const GAP_X: i32 = 16;
const GAP_Y: i32 = 36;
const MARGIN: i32 = 12;
const BACK_ARC_ROOM: i32 = 44;
/// States side by side in one row; a layer with more is wrapped onto further rows.
const PER_ROW: usize = 2;
/// The text's size in the drawing's units (the `font-size` of the `svg`).
pub const FONT: i32 = 14;
const LINE_H: i32 = 17;
const PAD_Y: i32 = 8;
/// How much of a label fits on one line of a box, counting a CJK character as two.
const LINE_BUDGET: usize = 15;
/// A transition possible from more states than this (withdrawing, say) is not drawn as edges:
/// it would cross the whole drawing; its target state still shows.
const MANY_SOURCES: usize = 3;

/// What the drawing marks.
#[derive(Debug, Default, Clone)]
pub struct Marks<'a> {
    pub current: Option<&'a str>,
    /// Events the viewer may fire now, from the current state.
    pub available: &'a [String],
    /// States the instance has been in (from its history).
    pub visited: BTreeSet<String>,
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Shortens a label to fit a node: CJK characters are about twice as wide as Latin ones.
pub fn fit(label: &str, budget: usize) -> String {
    let mut width = 0;
    let mut out = String::new();
    for c in label.chars() {
        let w = char_width(c);
        if width + w > budget {
            out.push('…');
            return out;
        }
        width += w;
        out.push(c);
    }
    out
}

fn char_width(c: char) -> usize {
    if c.is_ascii() { 1 } else { 2 }
}

/// Wraps a label into lines of at most `budget` (CJK counting two): Latin text between words, CJK
/// text between any two characters; a word longer than a line is broken inside. Nothing is cut.
pub fn wrap(label: &str, budget: usize) -> Vec<String> {
    // Words of Latin text (with the space before them), and single CJK characters.
    let mut tokens: Vec<String> = Vec::new();
    for c in label.chars() {
        match tokens.last_mut() {
            Some(t) if c.is_ascii() && c != ' ' && t.chars().last().is_some_and(|l| l.is_ascii()) => t.push(c),
            _ => tokens.push(c.to_string()),
        }
    }
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    let mut width = 0;
    for token in tokens {
        let w: usize = token.chars().map(char_width).sum();
        if width + w > budget && !line.trim().is_empty() {
            lines.push(line.trim_end().to_owned());
            line.clear();
            width = 0;
        }
        for c in token.chars() {
            if line.is_empty() && c == ' ' {
                continue;
            }
            if width + char_width(c) > budget {
                lines.push(std::mem::take(&mut line));
                width = 0;
            }
            width += char_width(c);
            line.push(c);
        }
    }
    if !line.trim().is_empty() {
        lines.push(line.trim_end().to_owned());
    }
    lines
}

struct Layout {
    /// Each state's box: left, top, and height (the row's, so a row's boxes line up).
    pos: BTreeMap<String, (i32, i32, i32)>,
    /// Each state's label as wrapped.
    lines: BTreeMap<String, Vec<String>>,
    width: i32,
    height: i32,
}

fn layout(def: &Definition, lang: &str) -> Layout {
    let mut rank: BTreeMap<&str, i32> = BTreeMap::new();
    let mut queue = VecDeque::from([def.initial.as_str()]);
    rank.insert(def.initial.as_str(), 0);
    while let Some(s) = queue.pop_front() {
        let r = rank[s];
        for t in def.transitions_from(s).filter(|t| t.from.len() <= MANY_SOURCES) {
            if let Some(to) = &t.to
                && !rank.contains_key(to.as_str())
            {
                rank.insert(to.as_str(), r + 1);
                queue.push_back(to.as_str());
            }
        }
    }
    let deepest = rank.values().copied().max().unwrap_or(0);
    let mut layers: BTreeMap<i32, Vec<&str>> = BTreeMap::new();
    for s in &def.states {
        layers.entry(rank.get(s.id.as_str()).copied().unwrap_or(deepest + 1)).or_default().push(&s.id);
    }
    let lines: BTreeMap<String, Vec<String>> =
        def.states.iter().map(|s| (s.id.clone(), wrap(s.label.get(lang), LINE_BUDGET))).collect();
    // Room on the right for the arcs of the ways back.
    let per_row = PER_ROW as i32;
    let width = MARGIN * 2 + per_row * NODE_W + (per_row - 1) * GAP_X + BACK_ARC_ROOM;
    let mut pos = BTreeMap::new();
    let mut y = MARGIN;
    for row in layers.values().flat_map(|states| states.chunks(PER_ROW)) {
        let most = row.iter().map(|s| lines.get(*s).map_or(1, Vec::len)).max().unwrap_or(1).max(1) as i32;
        let h = most * LINE_H + 2 * PAD_Y;
        let n = row.len() as i32;
        let row_w = n * NODE_W + (n - 1) * GAP_X;
        let x0 = (width - BACK_ARC_ROOM - row_w) / 2;
        for (i, s) in row.iter().enumerate() {
            pos.insert((*s).to_owned(), (x0 + i as i32 * (NODE_W + GAP_X), y, h));
        }
        y += h + GAP_Y;
    }
    let height = (y - GAP_Y + MARGIN).max(MARGIN * 2);
    Layout { pos, lines, width, height }
}

/// Renders the diagram; `lang` picks the labels ("zh-CN" or "en").
pub fn render(def: &Definition, marks: &Marks<'_>, lang: &str, title: &str) -> String {
    let Layout { pos, lines, width, height } = layout(def, lang);
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="diagram" viewBox="0 0 {width} {height}" font-size="{FONT}" role="img" aria-labelledby="diagram-title"><title id="diagram-title">{}</title>"#,
        escape(title)
    );
    svg.push_str(r#"<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" class="arrowhead"/></marker><marker id="arrow-now" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" class="arrowhead-now"/></marker></defs>"#);

    // One edge per pair of states, naming every event that takes it.
    let mut edges: BTreeMap<(String, String), Vec<(String, bool)>> = BTreeMap::new();
    for t in def.transitions.iter().filter(|t| t.from.len() <= MANY_SOURCES) {
        let Some(to) = &t.to else { continue };
        for from in &t.from {
            let now = marks.current == Some(from.as_str()) && marks.available.contains(&t.event);
            edges.entry((from.clone(), to.clone())).or_default().push((t.label.get(lang).to_owned(), now));
        }
    }
    for ((from, to), events) in &edges {
        let (Some(&(fx, fy, fh)), Some(&(tx, ty, th))) = (pos.get(from), pos.get(to)) else { continue };
        let now = events.iter().any(|(_, n)| *n);
        let class = if now { "edge now" } else { "edge" };
        let marker = if now { "arrow-now" } else { "arrow" };
        let names: Vec<&str> = events.iter().map(|(l, _)| l.as_str()).collect();
        let d = if ty > fy {
            let (x1, y1, x2, y2) = (fx + NODE_W / 2, fy + fh, tx + NODE_W / 2, ty);
            let bend = (y2 - y1).min(GAP_Y * 2) / 2;
            format!("M{x1},{y1} C{x1},{} {x2},{} {x2},{y2}", y1 + bend, y2 - bend)
        } else if from == to {
            let (x, y) = (fx + NODE_W, fy + fh / 2);
            format!("M{x},{} C{},{} {},{} {x},{}", y - 8, x + 30, y - 24, x + 30, y + 24, y + 8)
        } else {
            // A way back or sideways: leave by the right side and arc around.
            let (x1, y1, x2, y2) = (fx + NODE_W, fy + fh / 2, tx + NODE_W, ty + th / 2);
            let bulge = (x1.max(x2) + 24 + (fy - ty).abs() / 8).min(width - 6);
            format!("M{x1},{y1} C{bulge},{y1} {bulge},{y2} {x2},{y2}")
        };
        let _ = write!(
            svg,
            r#"<path class="{class}" d="{d}" marker-end="url(#{marker})"><title>{}</title></path>"#,
            escape(&names.join(" / "))
        );
    }

    for s in &def.states {
        let Some(&(x, y, h)) = pos.get(&s.id) else { continue };
        let mut class = String::from("node");
        if s.is_final {
            class.push_str(" final");
        }
        if marks.visited.contains(&s.id) {
            class.push_str(" visited");
        }
        let current = marks.current == Some(s.id.as_str());
        if current {
            class.push_str(" current");
        }
        let label = s.label.get(lang);
        let stage = def.stage(&s.stage).map(|st| st.label.get(lang)).unwrap_or_default();
        let _ = write!(
            svg,
            r#"<g class="{class}"><title>{}{}</title><rect x="{x}" y="{y}" width="{NODE_W}" height="{h}" rx="8"/>"#,
            escape(label),
            if stage.is_empty() { String::new() } else { format!(" — {}", escape(stage)) },
        );
        // The label's lines, centred in the box; the baseline sits about a fifth of a line up.
        let wrapped = lines.get(&s.id).map(Vec::as_slice).unwrap_or_default();
        let top = y + (h - wrapped.len() as i32 * LINE_H) / 2;
        let _ = write!(svg, r#"<text x="{}" text-anchor="middle">"#, x + NODE_W / 2);
        for (i, line) in wrapped.iter().enumerate() {
            let _ = write!(
                svg,
                r#"<tspan x="{}" y="{}">{}</tspan>"#,
                x + NODE_W / 2,
                top + i as i32 * LINE_H + LINE_H - 4,
                escape(line)
            );
        }
        svg.push_str("</text></g>");
        if current {
            let _ = write!(svg, r#"<circle class="you-are-here" cx="{}" cy="{}" r="4"/>"#, x + 8, y + 8);
        }
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_shortened_by_display_width() {
        assert_eq!(fit("Draft received", 18), "Draft received");
        assert_eq!(fit("职工代表大会审议通过并出具确认函", 18), "职工代表大会审议通…");
    }

    #[test]
    fn labels_wrap_between_words_or_characters_and_nothing_is_cut() {
        assert_eq!(
            wrap("Awaiting the employer side's written reply", 15),
            ["Awaiting the", "employer side's", "written reply"]
        );
        assert_eq!(wrap("劳动保障行政部门审查中", 15), ["劳动保障行政部", "门审查中"]);
        assert_eq!(
            wrap("Signed by the worker side; the employer side to sign", 15).concat().replace(' ', ""),
            "Signedbytheworkerside;theemployersidetosign"
        );
        assert_eq!(wrap("Internationalisation", 15), ["Internationalis", "ation"]);
        for line in wrap("已结业，在技能人才库 Graduated, in the talent pool", 15) {
            assert!(line.chars().map(char_width).sum::<usize>() <= 15, "{line} fits a line");
        }
    }
}
