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

pub fn bars(title: &str, id: &str, rows: &[Bar]) -> String {
    let height = ROW * rows.len().max(1) as i32 + 10;
    let width = LABEL_W + BAR_W + VALUE_W;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" role="img" aria-labelledby="{id}"><title id="{id}">{}</title>"#,
        escape(title)
    );
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
}
