//! Charts drawn on the server as SVG: labelled horizontal bars, readable without colour (every
//! bar carries its value as text) and without script.

use std::fmt::Write;

use crate::web::diagram::fit;

/// One bar: its label, its length as a share of the longest (0.0–1.0), and its value in words.
pub struct Bar {
    pub label: String,
    pub share: f64,
    pub value: String,
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// How much of a label fits beside its bar, counting a CJK character as two.
const LABEL_CHARS: usize = 15;
const ROW: i32 = 30;
const LABEL_W: i32 = 120;
const BAR_W: i32 = 230;
const VALUE_W: i32 = 110;

/// The opening of a chart: its size, and its title as the accessible name.
fn open_svg(title: &str, id: &str, height: i32) -> String {
    let width = LABEL_W + BAR_W + VALUE_W;
    format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" role="img" aria-labelledby="{id}"><title id="{id}">{}</title>"#,
        escape(title)
    )
}

pub fn bars(title: &str, id: &str, rows: &[Bar]) -> String {
    let mut svg = open_svg(title, id, ROW * rows.len().max(1) as i32 + 10);
    for (i, bar) in rows.iter().enumerate() {
        let y = 5 + i as i32 * ROW;
        let len = (bar.share.clamp(0.0, 1.0) * f64::from(BAR_W - 10)).round() as i32;
        let _ = write!(
            svg,
            r#"<text class="label" x="{}" y="{}" text-anchor="end"><title>{}</title>{}</text><rect class="track" x="{LABEL_W}" y="{}" width="{}" height="18" rx="3"/><rect class="bar" x="{LABEL_W}" y="{}" width="{len}" height="18" rx="3"/><text class="value" x="{}" y="{}">{}</text>"#,
            LABEL_W - 8,
            y + 14,
            escape(&bar.label),
            escape(&fit(&bar.label, LABEL_CHARS)),
            y + 1,
            BAR_W - 10,
            y + 1,
            LABEL_W + BAR_W,
            y + 14,
            escape(&bar.value),
        );
    }
    svg.push_str("</svg>");
    svg
}

/// One row of a stacked bar: how many fall in each part (the parts fill the row in proportion).
pub struct Stack {
    pub label: String,
    pub parts: Vec<usize>,
    pub value: String,
}

/// Rows of stacked bars, the parts shaded from light to dark, with a legend naming the parts.
/// Each part carries its count as a tooltip title, and each row its summary as text.
pub fn stacked(title: &str, id: &str, part_names: &[String], rows: &[Stack]) -> String {
    let legend_y = 5 + ROW * rows.len() as i32;
    let mut svg = open_svg(title, id, legend_y + ROW);
    let usable = f64::from(BAR_W - 10);
    for (i, row) in rows.iter().enumerate() {
        let y = 5 + i as i32 * ROW;
        let total = row.parts.iter().sum::<usize>().max(1) as f64;
        let _ = write!(
            svg,
            r#"<text class="label" x="{}" y="{}" text-anchor="end"><title>{}</title>{}</text>"#,
            LABEL_W - 8,
            y + 14,
            escape(&row.label),
            escape(&fit(&row.label, LABEL_CHARS)),
        );
        let mut x = f64::from(LABEL_W);
        for (p, count) in row.parts.iter().enumerate() {
            let w = *count as f64 / total * usable;
            let name = part_names.get(p).map_or("", String::as_str);
            let _ = write!(
                svg,
                r#"<rect class="part{p}" x="{x:.1}" y="{}" width="{w:.1}" height="18"><title>{}: {count}</title></rect>"#,
                y + 1,
                escape(name),
            );
            x += w;
        }
        let _ =
            write!(svg, r#"<text class="value" x="{}" y="{}">{}</text>"#, LABEL_W + BAR_W, y + 14, escape(&row.value));
    }
    let step = (BAR_W + VALUE_W) / part_names.len().max(1) as i32;
    for (p, name) in part_names.iter().enumerate() {
        let x = LABEL_W + p as i32 * step;
        let _ = write!(
            svg,
            r#"<rect class="part{p}" x="{x}" y="{}" width="12" height="12"/><text class="value" x="{}" y="{}">{}</text>"#,
            legend_y + 4,
            x + 16,
            legend_y + 15,
            escape(name)
        );
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_carry_their_values_as_text_and_escape_labels() {
        let svg = bars("Rate", "c1", &[Bar { label: "A<B".into(), share: 0.5, value: "50%".into() }]);
        assert!(svg.contains("A&lt;B"));
        assert!(svg.contains(">50%</text>"));
        assert!(svg.contains(r#"width="110""#), "half of the 220 usable pixels");
    }

    #[test]
    fn stacked_parts_share_the_row_in_proportion_and_are_named() {
        let names = vec!["1".to_owned(), "2".to_owned()];
        let svg = stacked(
            "Levels",
            "c2",
            &names,
            &[Stack { label: "Practice".into(), parts: vec![1, 3], value: "x".into() }],
        );
        assert!(svg.contains(r#"width="55.0" height="18"><title>1: 1</title>"#), "a quarter of 220 pixels: {svg}");
        assert!(svg.contains(r#"width="165.0" height="18"><title>2: 3</title>"#));
    }
}
