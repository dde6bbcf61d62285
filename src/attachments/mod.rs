//! Attachments: files on an instance or on a step (the signed letter's scan, the minutes, the
//! bureau's written opinion). A file is taken piece by piece as it arrives: counted against the
//! limit, hashed, and its type told from its bytes ([`sniff`]), its name's extension agreeing.

pub mod sniff;

use sha2::{Digest, Sha256};

use crate::engine::FieldProblem;
use sniff::{Kind, NotTaken, TextCheck};

/// The largest file: a scanned letter of many pages.
pub const MAX_BYTES: u64 = 20 * 1024 * 1024;
/// The most files one instance holds.
pub const MAX_PER_INSTANCE: i64 = 100;
/// The most bytes one instance's files hold together.
pub const MAX_TOTAL_PER_INSTANCE: i64 = 500 * 1024 * 1024;
/// The longest file name, in characters.
pub const NAME_MAX: usize = 200;
/// The longest a file form may take to arrive: a connection held open by a client that never
/// finishes is a resource, and its spool file another.
pub const MAX_SECONDS: u64 = 180;
/// How the bytes are kept: rows of this size, so no more than one sits in memory at a time.
pub const CHUNK_BYTES: usize = 256 * 1024;

/// Why a file is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AttachmentError {
    #[error("no file was chosen")]
    NoFile,
    #[error("the file name: {0}")]
    Name(FieldProblem),
    #[error("the file name has no extension")]
    NoExtension,
    #[error("the file name may not name a folder (no / or \\)")]
    PathInName,
    #[error("the file is larger than the limit of {} MiB", MAX_BYTES / (1024 * 1024))]
    TooLarge,
    #[error("the form took longer than {MAX_SECONDS} seconds to arrive")]
    TooSlow,
    #[error("the file is empty")]
    Empty,
    #[error("the file looks like a web page or markup (HTML, SVG, XML), which is not taken")]
    Markup,
    #[error("the file is a zip archive that is not an office document")]
    Archive,
    #[error("the file is of a type that is not taken")]
    Unknown,
    #[error("the file's content is {found}, but its name ends in .{extension}")]
    ExtensionMismatch { extension: String, found: &'static str },
    #[error("an instance holds at most {MAX_PER_INSTANCE} files")]
    TooMany,
    #[error("an instance's files hold at most {} MiB together", MAX_TOTAL_PER_INSTANCE / (1024 * 1024))]
    InstanceFull,
    #[error("there is no step {0} in this instance's history")]
    NoSuchStep(i64),
}

/// A file's name as it may be kept and shown: one line, bounded, no folder, with an extension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileName {
    name: String,
    extension: String,
}

impl FileName {
    pub fn parse(raw: &str) -> Result<FileName, AttachmentError> {
        if raw.contains(['/', '\\']) {
            return Err(AttachmentError::PathInName);
        }
        let name = crate::text::line(raw, NAME_MAX).map_err(|p| AttachmentError::Name(p.into()))?;
        if name.is_empty() {
            return Err(AttachmentError::NoFile);
        }
        let extension = match name.rsplit_once('.') {
            Some((stem, ext)) if !stem.is_empty() && !ext.is_empty() => ext.to_lowercase(),
            _ => return Err(AttachmentError::NoExtension),
        };
        Ok(FileName { name: name.to_owned(), extension })
    }

    pub fn as_str(&self) -> &str {
        &self.name
    }

    /// The extension, lower case, without its dot.
    pub fn extension(&self) -> &str {
        &self.extension
    }
}

/// A file received whole and accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    pub name: FileName,
    pub media_type: &'static str,
    pub size: i64,
    pub sha256: String,
}

/// A file being received: each piece is counted, hashed and checked as it comes, and only the
/// first and last bytes the sniffer reads are kept.
pub struct Upload {
    name: FileName,
    hasher: Sha256,
    size: u64,
    head: Vec<u8>,
    tail: Vec<u8>,
    text: TextCheck,
}

impl Upload {
    pub fn new(name: FileName) -> Upload {
        Upload { name, hasher: Sha256::new(), size: 0, head: Vec::new(), tail: Vec::new(), text: TextCheck::default() }
    }

    /// Takes the next piece; refuses as soon as the file is too large or its first bytes show a
    /// type that is not taken.
    pub fn push(&mut self, bytes: &[u8]) -> Result<(), AttachmentError> {
        self.size += bytes.len() as u64;
        if self.size > MAX_BYTES {
            return Err(AttachmentError::TooLarge);
        }
        self.hasher.update(bytes);
        self.text.push(bytes);
        let was_short = self.head.len() < sniff::HEAD;
        if was_short {
            let take = (sniff::HEAD - self.head.len()).min(bytes.len());
            self.head.extend_from_slice(&bytes[..take]);
        }
        if bytes.len() >= sniff::TAIL {
            self.tail.clear();
            self.tail.extend_from_slice(&bytes[bytes.len() - sniff::TAIL..]);
        } else {
            self.tail.extend_from_slice(bytes);
            let over = self.tail.len().saturating_sub(sniff::TAIL);
            self.tail.drain(..over);
        }
        // Once the head is whole, what it shows is known: a page or an unknown binary is
        // refused before the rest is read (a zip waits for its central directory).
        if was_short && self.head.len() == sniff::HEAD {
            match sniff::sniff(&self.head, &[], self.text.is_text()) {
                Err(NotTaken::Markup) => return Err(AttachmentError::Markup),
                Err(NotTaken::Unknown) => return Err(AttachmentError::Unknown),
                _ => {}
            }
        }
        Ok(())
    }

    /// The file as a whole: its type from its content, agreeing with its name.
    pub fn finish(self) -> Result<Received, AttachmentError> {
        if self.size == 0 {
            return Err(AttachmentError::Empty);
        }
        let kind = sniff::sniff(&self.head, &self.tail, self.text.is_text()).map_err(|e| match e {
            NotTaken::Markup => AttachmentError::Markup,
            NotTaken::Archive => AttachmentError::Archive,
            NotTaken::Unknown => AttachmentError::Unknown,
        })?;
        let extension = self.name.extension();
        if !kind.extensions().contains(&extension) {
            return Err(AttachmentError::ExtensionMismatch { extension: extension.to_owned(), found: kind_name(kind) });
        }
        Ok(Received {
            media_type: kind.media_type(extension),
            size: i64::try_from(self.size).unwrap_or(i64::MAX),
            sha256: crate::audit::hex(&self.hasher.finalize()),
            name: self.name,
        })
    }
}

/// A kind as a refusal names it.
fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Pdf => "PDF",
        Kind::Png => "PNG",
        Kind::Jpeg => "JPEG",
        Kind::Gif => "GIF",
        Kind::Webp => "WebP",
        Kind::Docx => "DOCX",
        Kind::Xlsx => "XLSX",
        Kind::Pptx => "PPTX",
        Kind::Odt => "ODT",
        Kind::Ods => "ODS",
        Kind::Ole2 => "DOC/XLS",
        Kind::Text => "text",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn receive(name: &str, pieces: &[&[u8]]) -> Result<Received, AttachmentError> {
        let mut upload = Upload::new(FileName::parse(name)?);
        for p in pieces {
            upload.push(p)?;
        }
        upload.finish()
    }

    #[test]
    fn names_are_one_line_without_folders_and_with_an_extension() {
        assert_eq!(FileName::parse(" 审查意见书.PDF ").map(|n| n.extension().to_owned()), Ok("pdf".to_owned()));
        assert_eq!(FileName::parse("../etc/passwd.txt"), Err(AttachmentError::PathInName));
        assert_eq!(FileName::parse("C:\\x.pdf"), Err(AttachmentError::PathInName));
        assert_eq!(FileName::parse("README"), Err(AttachmentError::NoExtension));
        assert_eq!(FileName::parse(".pdf"), Err(AttachmentError::NoExtension));
        assert!(matches!(FileName::parse("invoice\u{202e}fdp.exe"), Err(AttachmentError::Name(_))));
        assert!(matches!(FileName::parse("a\nb.txt"), Err(AttachmentError::Name(_))));
        assert!(matches!(FileName::parse(&format!("{}.txt", "名".repeat(NAME_MAX))), Err(AttachmentError::Name(_))));
    }

    #[test]
    fn a_file_is_hashed_and_typed_from_its_content() {
        let got = receive("minutes.txt", &["会议".as_bytes(), "纪要\n".as_bytes()]).unwrap();
        assert_eq!(got.media_type, "text/plain; charset=utf-8");
        assert_eq!(got.size, "会议纪要\n".len() as i64);
        assert_eq!(got.sha256, crate::audit::sha256_hex("会议纪要\n".as_bytes()));
        assert_eq!(receive("scan.pdf", &[b"%PDF-1.4 ..."]).map(|r| r.media_type), Ok("application/pdf"));
    }

    #[test]
    fn the_name_must_agree_with_the_content() {
        assert_eq!(receive("letter.pdf", &[b"<html><script>x</script></html>"]), Err(AttachmentError::Markup));
        assert_eq!(
            receive("letter.pdf", &[b"just text"]),
            Err(AttachmentError::ExtensionMismatch { extension: "pdf".into(), found: "text" })
        );
        assert_eq!(
            receive("photo.png", &[b"%PDF-1.4"]),
            Err(AttachmentError::ExtensionMismatch { extension: "png".into(), found: "PDF" })
        );
        assert_eq!(receive("empty.txt", &[]), Err(AttachmentError::Empty));
        assert_eq!(receive("tool.txt", &[b"\x7fELF\x02\x01"]), Err(AttachmentError::Unknown));
    }

    #[test]
    fn too_large_is_refused_as_soon_as_it_passes_the_limit() {
        let mut upload = Upload::new(FileName::parse("big.pdf").unwrap());
        let piece = vec![b'%'; 1024 * 1024];
        for _ in 0..20 {
            upload.push(&piece).unwrap();
        }
        assert_eq!(upload.push(b"x"), Err(AttachmentError::TooLarge));
    }

    #[test]
    fn markup_is_refused_once_the_head_is_read() {
        let mut upload = Upload::new(FileName::parse("page.txt").unwrap());
        let mut page = b"<!doctype html>".to_vec();
        page.resize(sniff::HEAD, b' ');
        assert_eq!(upload.push(&page), Err(AttachmentError::Markup));
    }
}
