//! The state machine of a definition drawn as SVG on the server: states in layers by their
//! distance from the initial state, the current state marked, and the transitions the viewer may
//! take now drawn apart from the rest. No script, no inline style: classes and attributes only.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt::Write;

use crate::definition::Definition;

const NODE_W: i32 = 156;
const NODE_H: i32 = 44;
const GAP_X: i32 = 28;
const GAP_Y: i32 = 56;
const MARGIN: i32 = 24;
const BACK_ARC_ROOM: i32 = 120;
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
        let w = if c.is_ascii() { 1 } else { 2 };
        if width + w > budget {
            out.push('…');
            return out;
        }
        width += w;
        out.push(c);
    }
    out
}

struct Layout {
    pos: BTreeMap<String, (i32, i32)>,
    width: i32,
    height: i32,
}

fn layout(def: &Definition) -> Layout {
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
    let mut rows: BTreeMap<i32, Vec<&str>> = BTreeMap::new();
    for s in &def.states {
        rows.entry(rank.get(s.id.as_str()).copied().unwrap_or(deepest + 1)).or_default().push(&s.id);
    }
    let widest = rows.values().map(Vec::len).max().unwrap_or(1) as i32;
    // Room on the right for the arcs of the ways back.
    let width = MARGIN * 2 + widest * NODE_W + (widest - 1) * GAP_X + BACK_ARC_ROOM;
    let mut pos = BTreeMap::new();
    for (r, states) in &rows {
        let n = states.len() as i32;
        let row_w = n * NODE_W + (n - 1) * GAP_X;
        let x0 = (width - row_w) / 2;
        for (i, s) in states.iter().enumerate() {
            pos.insert((*s).to_owned(), (x0 + i as i32 * (NODE_W + GAP_X), MARGIN + r * (NODE_H + GAP_Y)));
        }
    }
    let height = MARGIN * 2 + rows.len() as i32 * NODE_H + (rows.len() as i32 - 1).max(0) * GAP_Y;
    Layout { pos, width, height }
}

/// Renders the diagram; `lang` picks the labels ("zh-CN" or "en").
pub fn render(def: &Definition, marks: &Marks<'_>, lang: &str, title: &str) -> String {
    let Layout { pos, width, height } = layout(def);
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="diagram" viewBox="0 0 {width} {height}" role="img" aria-labelledby="diagram-title"><title id="diagram-title">{}</title>"#,
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
        let (Some(&(fx, fy)), Some(&(tx, ty))) = (pos.get(from), pos.get(to)) else { continue };
        let now = events.iter().any(|(_, n)| *n);
        let class = if now { "edge now" } else { "edge" };
        let marker = if now { "arrow-now" } else { "arrow" };
        let names: Vec<&str> = events.iter().map(|(l, _)| l.as_str()).collect();
        let d = if ty > fy {
            let (x1, y1, x2, y2) = (fx + NODE_W / 2, fy + NODE_H, tx + NODE_W / 2, ty);
            format!("M{x1},{y1} C{x1},{} {x2},{} {x2},{y2}", y1 + GAP_Y / 2, y2 - GAP_Y / 2)
        } else if from == to {
            let (x, y) = (fx + NODE_W, fy + NODE_H / 2);
            format!("M{x},{} C{},{} {},{} {x},{}", y - 8, x + 30, y - 24, x + 30, y + 24, y + 8)
        } else {
            // A way back or sideways: leave by the right side and arc around.
            let (x1, y1, x2, y2) = (fx + NODE_W, fy + NODE_H / 2, tx + NODE_W, ty + NODE_H / 2);
            let bulge = (x1.max(x2) + 40 + (fy - ty).abs() / 6).min(width - 10);
            format!("M{x1},{y1} C{bulge},{y1} {bulge},{y2} {x2},{y2}")
        };
        let _ = write!(
            svg,
            r#"<path class="{class}" d="{d}" marker-end="url(#{marker})"><title>{}</title></path>"#,
            escape(&names.join(" / "))
        );
    }

    for s in &def.states {
        let Some(&(x, y)) = pos.get(&s.id) else { continue };
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
            r#"<g class="{class}"><title>{}{}</title><rect x="{x}" y="{y}" width="{NODE_W}" height="{NODE_H}" rx="8"/><text x="{}" y="{}" text-anchor="middle">{}</text></g>"#,
            escape(label),
            if stage.is_empty() { String::new() } else { format!(" — {}", escape(stage)) },
            x + NODE_W / 2,
            y + NODE_H / 2 + 5,
            escape(&fit(label, 18)),
        );
        if current {
            let _ = write!(svg, r#"<circle class="you-are-here" cx="{}" cy="{}" r="5"/>"#, x + 10, y + 10);
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
}
