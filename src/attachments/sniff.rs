//! What a file is, told from its bytes, never from its name: the magic numbers of the types we
//! take, and for text, UTF-8 without NUL or other control characters that no browser would take
//! for a web page.

/// The kinds of file an attachment may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Pdf,
    Png,
    Jpeg,
    Gif,
    Webp,
    Docx,
    Xlsx,
    Pptx,
    Odt,
    Ods,
    /// A legacy Word or Excel file (an OLE2 compound file): which of the two its name says.
    Ole2,
    Text,
}

impl Kind {
    /// The extensions a file of this kind may have.
    pub fn extensions(self) -> &'static [&'static str] {
        match self {
            Kind::Pdf => &["pdf"],
            Kind::Png => &["png"],
            Kind::Jpeg => &["jpg", "jpeg"],
            Kind::Gif => &["gif"],
            Kind::Webp => &["webp"],
            Kind::Docx => &["docx"],
            Kind::Xlsx => &["xlsx"],
            Kind::Pptx => &["pptx"],
            Kind::Odt => &["odt"],
            Kind::Ods => &["ods"],
            Kind::Ole2 => &["doc", "xls"],
            Kind::Text => &["txt", "csv", "md"],
        }
    }

    /// The media type a download is sent with, for a file of this kind with this extension
    /// (lower case, one the kind takes).
    pub fn media_type(self, extension: &str) -> &'static str {
        match self {
            Kind::Pdf => "application/pdf",
            Kind::Png => "image/png",
            Kind::Jpeg => "image/jpeg",
            Kind::Gif => "image/gif",
            Kind::Webp => "image/webp",
            Kind::Docx => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            Kind::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Kind::Pptx => "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            Kind::Odt => "application/vnd.oasis.opendocument.text",
            Kind::Ods => "application/vnd.oasis.opendocument.spreadsheet",
            Kind::Ole2 if extension == "xls" => "application/vnd.ms-excel",
            Kind::Ole2 => "application/msword",
            Kind::Text => "text/plain; charset=utf-8",
        }
    }
}

/// Why the bytes are not a file we take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotTaken {
    /// Text a browser could render as a page or an image (HTML, SVG, XML).
    Markup,
    /// A zip archive that is not an office document.
    Archive,
    /// Binary, or text that is not UTF-8, or holds a NUL.
    Unknown,
}

/// How many bytes from the start the magic numbers and the markup check look at.
pub const HEAD: usize = 64 * 1024;
/// How many bytes from the end are kept: a zip's central directory names its parts there.
pub const TAIL: usize = 64 * 1024;
/// How far into text a browser looks for markup (Chromium and Firefox: 512 and 1445 bytes;
/// older browsers further): the whole window is checked.
const MARKUP_WINDOW: usize = 8 * 1024;

const ZIP: &[u8] = b"PK\x03\x04";
const OLE2: &[u8] = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1";

/// The kind of a file from its first bytes (`head`, up to [`HEAD`]), its last bytes (`tail`, up
/// to [`TAIL`]), and whether the whole of it is UTF-8 without a NUL (`text`).
pub fn sniff(head: &[u8], tail: &[u8], text: bool) -> Result<Kind, NotTaken> {
    let magic: &[(&[u8], Kind)] = &[
        (b"%PDF-", Kind::Pdf),
        (b"\x89PNG\r\n\x1a\n", Kind::Png),
        (b"\xFF\xD8\xFF", Kind::Jpeg),
        (b"GIF87a", Kind::Gif),
        (b"GIF89a", Kind::Gif),
        (OLE2, Kind::Ole2),
    ];
    if let Some((_, kind)) = magic.iter().find(|(m, _)| head.starts_with(m)) {
        return Ok(*kind);
    }
    if head.len() >= 12 && head.starts_with(b"RIFF") && &head[8..12] == b"WEBP" {
        return Ok(Kind::Webp);
    }
    if head.starts_with(ZIP) {
        return zipped(head, tail).ok_or(NotTaken::Archive);
    }
    if !text {
        return Err(NotTaken::Unknown);
    }
    if looks_like_markup(&head[..head.len().min(MARKUP_WINDOW)]) { Err(NotTaken::Markup) } else { Ok(Kind::Text) }
}

/// An OpenDocument file names its type in its first part, `mimetype`, stored uncompressed; an
/// Office Open XML file has a `[Content_Types].xml` and its main part (`word/document.xml`, ...),
/// whose names stand in the local headers at the start or the central directory at the end.
fn zipped(head: &[u8], tail: &[u8]) -> Option<Kind> {
    if let Some(mime) = odf_mimetype(head) {
        return match mime {
            b"application/vnd.oasis.opendocument.text" => Some(Kind::Odt),
            b"application/vnd.oasis.opendocument.spreadsheet" => Some(Kind::Ods),
            _ => None,
        };
    }
    let names = |name: &[u8]| contains(head, name) || contains(tail, name);
    if !names(b"[Content_Types].xml") {
        return None;
    }
    [(&b"word/document.xml"[..], Kind::Docx), (b"xl/workbook.xml", Kind::Xlsx), (b"ppt/presentation.xml", Kind::Pptx)]
        .into_iter()
        .find(|(part, _)| names(part))
        .map(|(_, kind)| kind)
}

/// The content of a zip's first part when it is `mimetype`, stored (not compressed).
fn odf_mimetype(head: &[u8]) -> Option<&[u8]> {
    let u16_at = |i: usize| Some(u16::from_le_bytes(head.get(i..i + 2)?.try_into().ok()?) as usize);
    let u32_at = |i: usize| Some(u32::from_le_bytes(head.get(i..i + 4)?.try_into().ok()?) as usize);
    let (method, size, name_len, extra_len) = (u16_at(8)?, u32_at(18)?, u16_at(26)?, u16_at(28)?);
    if method != 0 || head.get(30..30 + name_len)? != b"mimetype" {
        return None;
    }
    let start = 30 + name_len + extra_len;
    head.get(start..start + size)
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// Whether text could be taken for markup by a browser that sniffs: it opens with `<` (after a
/// byte-order mark and white space), or names an HTML, SVG or XML construct anywhere in the
/// window. Stricter than any browser: a plain note has no reason to hold these.
fn looks_like_markup(window: &[u8]) -> bool {
    let body = window.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(window);
    if body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'<') {
        return true;
    }
    let lower = body.to_ascii_lowercase();
    const MARKS: &[&[u8]] = &[
        b"<!doctype",
        b"<html",
        b"<head",
        b"<body",
        b"<script",
        b"<iframe",
        b"<svg",
        b"<?xml",
        b"<meta",
        b"<style",
        b"<object",
        b"<embed",
        b"<img",
        b"<a ",
        b"<!--",
        b"<title",
        b"<table",
        b"<div",
        b"<br",
        b"<p>",
        b"<p ",
    ];
    MARKS.iter().any(|m| contains(&lower, m))
}

/// Whether a stream of bytes, given piece by piece, is UTF-8 without a NUL or another control
/// character (tabs, line breaks and form feeds aside: what browsers take for binary); a
/// character cut between two pieces is joined.
#[derive(Debug, Default)]
pub struct TextCheck {
    /// The start of a character the last piece ended in.
    carry: Vec<u8>,
    failed: bool,
}

impl TextCheck {
    pub fn push(&mut self, mut bytes: &[u8]) {
        if self.failed {
            return;
        }
        if bytes.iter().any(|b| *b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0c)) {
            self.failed = true;
            return;
        }
        if let Some(&lead) = self.carry.first() {
            // The character waiting is as long as its first byte says; finish it first.
            let len = match lead {
                0xC2..=0xDF => 2,
                0xE0..=0xEF => 3,
                _ => 4,
            };
            let need = len - self.carry.len();
            if bytes.len() < need {
                self.carry.extend_from_slice(bytes);
                return;
            }
            self.carry.extend_from_slice(&bytes[..need]);
            if std::str::from_utf8(&self.carry).is_err() {
                self.failed = true;
                return;
            }
            self.carry.clear();
            bytes = &bytes[need..];
        }
        match std::str::from_utf8(bytes) {
            Ok(_) => {}
            Err(e) if e.error_len().is_some() => self.failed = true,
            Err(e) => self.carry = bytes[e.valid_up_to()..].to_vec(),
        }
    }

    /// Whether the whole was UTF-8 without a NUL (and did not end inside a character).
    pub fn is_text(&self) -> bool {
        !self.failed && self.carry.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text_of(pieces: &[&[u8]]) -> bool {
        let mut check = TextCheck::default();
        for p in pieces {
            check.push(p);
        }
        check.is_text()
    }

    fn kind(bytes: &[u8]) -> Result<Kind, NotTaken> {
        sniff(&bytes[..bytes.len().min(HEAD)], &bytes[bytes.len().saturating_sub(TAIL)..], text_of(&[bytes]))
    }

    /// A zip's local header for a part stored uncompressed, and its content.
    fn stored(name: &str, content: &[u8]) -> Vec<u8> {
        let mut out = b"PK\x03\x04\x14\x00\x00\x00\x00\x00\x00\x00\x00\x00".to_vec();
        out.extend_from_slice(&[0; 4]); // crc
        out.extend_from_slice(&(content.len() as u32).to_le_bytes());
        out.extend_from_slice(&(content.len() as u32).to_le_bytes());
        out.extend_from_slice(&(name.len() as u16).to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(content);
        out
    }

    #[test]
    fn magic_numbers_name_the_binary_types() {
        assert_eq!(kind(b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n1 0 obj"), Ok(Kind::Pdf));
        assert_eq!(kind(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), Ok(Kind::Png));
        assert_eq!(kind(b"\xFF\xD8\xFF\xE0\0\x10JFIF"), Ok(Kind::Jpeg));
        assert_eq!(kind(b"GIF89a\x01\0\x01\0"), Ok(Kind::Gif));
        assert_eq!(kind(b"RIFF\x24\0\0\0WEBPVP8 "), Ok(Kind::Webp));
        assert_eq!(kind(b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1\0\0"), Ok(Kind::Ole2));
        assert_eq!(kind(b"\x7fELF\x02\x01\x01\0\0\0"), Err(NotTaken::Unknown));
        assert_eq!(kind(b"MZ\x90\0\x03\0\0\0"), Err(NotTaken::Unknown));
    }

    #[test]
    fn zips_are_office_documents_by_their_parts_or_refused() {
        let mut docx = stored("[Content_Types].xml", b"<Types/>");
        docx.extend(stored("word/document.xml", b"<w:document/>"));
        assert_eq!(kind(&docx), Ok(Kind::Docx));
        let mut xlsx = stored("[Content_Types].xml", b"<Types/>");
        xlsx.extend(stored("xl/workbook.xml", b"<workbook/>"));
        assert_eq!(kind(&xlsx), Ok(Kind::Xlsx));
        let mut pptx = stored("[Content_Types].xml", b"<Types/>");
        pptx.extend(stored("ppt/presentation.xml", b"<p/>"));
        assert_eq!(kind(&pptx), Ok(Kind::Pptx));
        // The main part named only in the central directory, past the head.
        let mut late = stored("[Content_Types].xml", b"<Types/>");
        late.extend(vec![b'x'; HEAD + 10]);
        late.extend(b"PK\x01\x02word/document.xml");
        assert_eq!(kind(&late), Ok(Kind::Docx));
        assert_eq!(kind(&stored("mimetype", b"application/vnd.oasis.opendocument.text")), Ok(Kind::Odt));
        assert_eq!(kind(&stored("mimetype", b"application/vnd.oasis.opendocument.spreadsheet")), Ok(Kind::Ods));
        assert_eq!(
            kind(&stored("mimetype", b"application/vnd.oasis.opendocument.text-template")),
            Err(NotTaken::Archive)
        );
        assert_eq!(kind(&stored("evil.exe", b"MZ")), Err(NotTaken::Archive));
        assert_eq!(kind(&stored("[Content_Types].xml", b"<Types/>")), Err(NotTaken::Archive));
    }

    #[test]
    fn text_is_utf8_without_nul_and_never_markup() {
        assert_eq!(kind("会议纪要\n第一条 工资\n".as_bytes()), Ok(Kind::Text));
        assert_eq!(kind(b"name,amount\nwang,3500\n"), Ok(Kind::Text));
        assert_eq!(kind(b"\xEF\xBB\xBFplain"), Ok(Kind::Text));
        assert_eq!(kind(b"a\0b"), Err(NotTaken::Unknown));
        assert_eq!(kind(b"a\x1b[31mred"), Err(NotTaken::Unknown), "a terminal's escapes are not text");
        assert_eq!(kind(b"tab\tand\r\nlines\x0c"), Ok(Kind::Text));
        assert_eq!(kind(b"caf\xE9"), Err(NotTaken::Unknown), "Latin-1 is not UTF-8");
        assert_eq!(kind(b"<html><body>hi</body></html>"), Err(NotTaken::Markup));
        assert_eq!(kind(b"\xEF\xBB\xBF  \n<!DOCTYPE html>"), Err(NotTaken::Markup));
        assert_eq!(kind(b"<svg xmlns='http://www.w3.org/2000/svg'/>"), Err(NotTaken::Markup));
        assert_eq!(kind(b"<?xml version='1.0'?><x/>"), Err(NotTaken::Markup));
        assert_eq!(kind(b"Minutes\n\nSee <SCRIPT>alert(1)</SCRIPT>"), Err(NotTaken::Markup));
        assert_eq!(kind(b"a < b and c > d"), Ok(Kind::Text));
    }

    #[test]
    fn a_character_cut_between_pieces_is_joined() {
        let bytes = "工会集体合同".as_bytes();
        for cut in 0..bytes.len() {
            assert!(text_of(&[&bytes[..cut], &bytes[cut..]]), "cut at {cut}");
        }
        // One byte at a time.
        let single: Vec<&[u8]> = bytes.chunks(1).collect();
        assert!(text_of(&single));
        assert!(!text_of(&[&bytes[..2]]), "ends inside a character");
        assert!(!text_of(&[b"ab\xE5", b"\x00"]), "a NUL after a cut");
        assert!(!text_of(&[b"ab\xE5", b"x"]), "a cut character that never ends");
    }

    #[test]
    fn every_kind_names_its_extensions_and_a_media_type() {
        assert_eq!(Kind::Ole2.media_type("xls"), "application/vnd.ms-excel");
        assert_eq!(Kind::Ole2.media_type("doc"), "application/msword");
        assert!(Kind::Text.media_type("txt").starts_with("text/plain"));
        assert!(Kind::Jpeg.extensions().contains(&"jpeg"));
    }
}
