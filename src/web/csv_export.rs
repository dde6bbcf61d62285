//! CSV for spreadsheets. Every export writes its lines through here, so that no cell a user typed
//! runs as a formula when the file is opened (OWASP's CSV-injection rule), and so that Excel on
//! Chinese Windows reads the file as UTF-8 rather than guessing GBK and garbling its Chinese.

use std::borrow::Cow;

use axum::body::Body;
use axum::http::header;
use axum::response::{IntoResponse, Response};

/// The UTF-8 byte-order mark: the one sign Excel takes for "this CSV is UTF-8".
pub const BOM: &[u8] = "\u{feff}".as_bytes();

/// The first characters with which a spreadsheet takes a cell for a formula (`= + - @`), or which
/// it drops to find one behind them (tab, carriage return).
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// A cell as a spreadsheet will read it as text: one that would start a formula gets a leading
/// `'`, which spreadsheets take as "text follows". Our own figures never start with one of these
/// characters, so every cell can go through here unchanged but the dangerous ones.
pub fn neutralise(cell: &str) -> Cow<'_, str> {
    if cell.starts_with(FORMULA_STARTS) { Cow::Owned(format!("'{cell}")) } else { Cow::Borrowed(cell) }
}

/// One line of CSV: every cell neutralised, then quoted and escaped as CSV needs.
pub fn line<I>(cells: I) -> Result<Vec<u8>, csv::Error>
where
    I: IntoIterator,
    I::Item: AsRef<str>,
{
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(cells.into_iter().map(|c| neutralise(c.as_ref()).into_owned()))?;
    w.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}

/// The start of an export: the byte-order mark, then the line of column names.
pub fn head<I>(columns: I) -> Result<Vec<u8>, csv::Error>
where
    I: IntoIterator,
    I::Item: AsRef<str>,
{
    let mut out = BOM.to_vec();
    out.extend(line(columns)?);
    Ok(out)
}

/// An export as a file to download.
pub fn download(filename: &'static str, body: Body) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{filename}\"")),
        ],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_that_would_start_a_formula_are_read_as_text() {
        for cell in ["=HYPERLINK(\"http://x\")", "+1+1", "-1+1", "@SUM(1+1)", "\t=1+1", "\r=1+1"] {
            assert_eq!(neutralise(cell), format!("'{cell}"), "{cell:?}");
        }
        for cell in ["海淀区民办教育", "2026", "12.50", "a=b", "", "'quoted"] {
            assert_eq!(neutralise(cell), cell, "{cell:?} is left alone");
        }
    }

    #[test]
    fn a_line_is_neutralised_then_quoted() {
        let got = line(["=HYPERLINK(\"http://x\")", "+1+1", "a,b", "7"]).unwrap();
        assert_eq!(String::from_utf8(got).unwrap(), "\"'=HYPERLINK(\"\"http://x\"\")\",'+1+1,\"a,b\",7\n");
    }

    #[test]
    fn an_export_starts_with_the_byte_order_mark() {
        let got = head(["sector", "year"]).unwrap();
        assert_eq!(got, b"\xEF\xBB\xBFsector,year\n");
    }
}
