//! Attachments from the pages: a file added from an instance's history (about the instance or
//! one of its steps), a file carried by a step whose definition asks for one, and downloads.
//! Anyone who may read the instance may do each. Uploads stream into the database piece by
//! piece inside one transaction; downloads stream out a chunk row at a time.

use std::time::Duration;

use axum::body::Body;
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use sea_orm::DatabaseTransaction;

use crate::attachments::{AttachmentError, FileName, Upload};
use crate::engine::Attached;
use crate::runtime::Instance;
use crate::store::attachments::{self, AttachmentRow, RecordError, Writer};
use crate::store::db::begin_write;
use crate::web::errors::WebError;
use crate::web::extract::{Fields, Signed};
use crate::web::i18n::Tr;
use crate::web::process::{after_fire, file_refused, form_version, load_visible, render_with_attach_error, step_input};
use crate::web::state::AppState;

/// The most text a file form's other fields may hold together (a step's long texts included).
pub const TEXT_MAX: usize = 1024 * 1024;
/// The body limit of the routes that take a file: the file and its form's text.
pub const BODY_LIMIT: usize = crate::attachments::MAX_BYTES as usize + TEXT_MAX + 64 * 1024;

/// What a file input offers to pick: the extensions taken (the server checks the content).
pub const ACCEPT: &str = ".pdf,.png,.jpg,.jpeg,.gif,.webp,.docx,.xlsx,.pptx,.odt,.ods,.doc,.xls,.txt,.csv,.md";

/// The hint beside a file input: the types taken and the limit.
pub fn hint(tr: &Tr) -> String {
    tr.f("attachment.hint", &[("max", (crate::attachments::MAX_BYTES / (1024 * 1024)).to_string())])
}

/// A file in the history: its link, name, size and type.
pub struct FileLink {
    pub href: String,
    pub name: String,
    pub size: String,
    pub media_type: String,
    pub sha256: String,
}

impl FileLink {
    pub fn of(tr: &Tr, f: &AttachmentRow) -> FileLink {
        FileLink {
            href: format!("/instances/{}/attachments/{}", f.instance_id, f.id),
            name: f.name.clone(),
            size: size_text(tr, f.size),
            media_type: f.media_type.split(';').next().unwrap_or_default().to_owned(),
            sha256: f.sha256.clone(),
        }
    }
}

/// A size as people read it: bytes, KiB or MiB.
fn size_text(tr: &Tr, size: i64) -> String {
    const KIB: i64 = 1024;
    if size < KIB {
        tr.f("attachment.size.bytes", &[("n", size.to_string())])
    } else if size < KIB * KIB {
        tr.f("attachment.size.kib", &[("n", format!("{:.1}", size as f64 / KIB as f64))])
    } else {
        tr.f("attachment.size.mib", &[("n", format!("{:.1}", size as f64 / (KIB * KIB) as f64))])
    }
}

/// A refused file in the reader's words.
pub fn error_text(tr: &Tr, e: &AttachmentError) -> String {
    let mib = |n: u64| (n / (1024 * 1024)).to_string();
    match e {
        AttachmentError::NoFile => tr.t("attachment.no_file").to_owned(),
        AttachmentError::Name(p) => {
            tr.f("attachment.bad_name", &[("problem", crate::web::view::field_problem_text(tr, p))])
        }
        AttachmentError::NoExtension => tr.t("attachment.no_extension").to_owned(),
        AttachmentError::PathInName => tr.t("attachment.path_in_name").to_owned(),
        AttachmentError::TooLarge => tr.f("attachment.too_large", &[("max", mib(crate::attachments::MAX_BYTES))]),
        AttachmentError::TooSlow => {
            tr.f("attachment.too_slow", &[("seconds", crate::attachments::MAX_SECONDS.to_string())])
        }
        AttachmentError::Empty => tr.t("attachment.empty").to_owned(),
        AttachmentError::Markup => tr.t("attachment.markup").to_owned(),
        AttachmentError::Archive => tr.t("attachment.archive").to_owned(),
        AttachmentError::Unknown => tr.t("attachment.unknown").to_owned(),
        AttachmentError::ExtensionMismatch { extension, found } => {
            tr.f("attachment.mismatch", &[("extension", extension.clone()), ("found", (*found).to_owned())])
        }
        AttachmentError::TooMany => {
            tr.f("attachment.too_many", &[("max", crate::attachments::MAX_PER_INSTANCE.to_string())])
        }
        AttachmentError::InstanceFull => {
            tr.f("attachment.instance_full", &[("max", mib(crate::attachments::MAX_TOTAL_PER_INSTANCE.unsigned_abs()))])
        }
        AttachmentError::NoSuchStep(_) => tr.t("comment.no_such_step").to_owned(),
    }
}

/// A file form as it arrived: its text fields, and its one file, stored (not yet committed) in
/// `txn`, or refused.
struct FileForm {
    fields: Fields,
    file: Option<Result<Attached, AttachmentError>>,
    txn: Option<DatabaseTransaction>,
}

/// Reads a file form of instance `id` as it arrives. The CSRF token must come before the file
/// (our forms put it first), so nothing is kept for a forged post; the file is hashed and checked
/// into a spool as it comes, and only once the whole form is in is it copied into the database,
/// in a transaction the caller commits (or drops: nothing kept).
async fn read_form(state: &AppState, signed: &Signed, id: i64, form: &mut Multipart) -> Result<FileForm, WebError> {
    let mut out = FileForm { fields: Fields(Vec::new()), file: None, txn: None };
    let mut text = 0usize;
    // The file taken whole, waiting in its spool until the whole form has arrived.
    let mut taken: Option<(Spool, crate::attachments::Received)> = None;
    while let Some(mut field) = form.next_field().await.map_err(multipart_error)? {
        let name = field.name().unwrap_or_default().to_owned();
        let Some(file_name) = field.file_name().map(str::to_owned) else {
            let mut value = Vec::new();
            while let Some(piece) = field.chunk().await.map_err(multipart_error)? {
                text += piece.len();
                if text > TEXT_MAX {
                    return Err(WebError::BadRequest(format!("a file form's text is limited to {TEXT_MAX} bytes")));
                }
                value.extend_from_slice(&piece);
            }
            let value = String::from_utf8(value).map_err(|_| WebError::BadRequest(format!("field {name:?}")))?;
            out.fields.0.push((name, value));
            continue;
        };
        if taken.is_some() {
            return Err(WebError::BadRequest("one file per form".to_owned()));
        }
        signed.check_csrf(&out.fields.0)?;
        // A file input left empty sends a part with no name and no bytes: no file.
        if file_name.is_empty() {
            while field.chunk().await.map_err(multipart_error)?.is_some() {}
            continue;
        }
        let name = match FileName::parse(&file_name) {
            Ok(name) => name,
            Err(e) => {
                out.file = Some(Err(e));
                return Ok(out);
            }
        };
        // The file arrives into a spool file while it is hashed and checked; only a file taken
        // whole is copied into the database, so the write transaction (on SQLite, the one write
        // lock) lasts as long as the copy, never as long as a slow client's upload.
        let mut spool = Spool::create().map_err(spool_error)?;
        let mut upload = Upload::new(name);
        while let Some(piece) = field.chunk().await.map_err(multipart_error)? {
            if let Err(e) = upload.push(&piece) {
                out.file = Some(Err(e));
                return Ok(out);
            }
            spool.write(&piece).map_err(spool_error)?;
        }
        match upload.finish() {
            Ok(received) => taken = Some((spool, received)),
            Err(e) => {
                out.file = Some(Err(e));
                return Ok(out);
            }
        }
    }
    // Only now, the whole form in, is the write lock taken: for as long as the copy lasts.
    if let Some((mut spool, received)) = taken {
        let txn = begin_write(state.db()).await?;
        let by = &signed.session.user.username;
        let mut writer = Writer::open(&txn, id, received.name.as_str(), by, state.now()).await?;
        let mut chunk = vec![0u8; crate::attachments::CHUNK_BYTES];
        spool.rewind().map_err(spool_error)?;
        loop {
            let n = spool.read(&mut chunk).map_err(spool_error)?;
            if n == 0 {
                break;
            }
            writer.write(&txn, &chunk[..n]).await?;
        }
        out.file = Some(Ok(writer.finish(&txn, &received).await?));
        out.txn = Some(txn);
    }
    Ok(out)
}

/// [`read_form`] within [`MAX_SECONDS`](crate::attachments::MAX_SECONDS): a form that takes
/// longer is dropped, its transaction rolled back, and refused as too slow.
async fn read_in_time(
    state: &AppState,
    signed: &Signed,
    id: i64,
    form: &mut Multipart,
) -> Result<Result<FileForm, AttachmentError>, WebError> {
    let limit = Duration::from_secs(crate::attachments::MAX_SECONDS);
    match tokio::time::timeout(limit, read_form(state, signed, id, form)).await {
        Ok(read) => Ok(Ok(read?)),
        Err(_) => Ok(Err(AttachmentError::TooSlow)),
    }
}

/// An upload's bytes on disk until they are taken: a file of its own in the system's temporary
/// folder, removed when the form is done with (taken, refused or cut off). Local writes of a
/// network-sized piece are short, so they are made in place rather than on a blocking thread.
struct Spool {
    path: std::path::PathBuf,
    file: std::fs::File,
}

impl Spool {
    fn create() -> std::io::Result<Spool> {
        let path = std::env::temp_dir().join(format!("unionflow-upload-{}", crate::people::random_token()));
        // Readable by this server's user alone: an upload is someone's paper.
        let file = std::os::unix::fs::OpenOptionsExt::mode(
            std::fs::OpenOptions::new().read(true).write(true).create_new(true),
            0o600,
        )
        .open(&path)?;
        Ok(Spool { path, file })
    }
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        std::io::Write::write_all(&mut self.file, bytes)
    }
    fn rewind(&mut self) -> std::io::Result<()> {
        std::io::Seek::rewind(&mut self.file)
    }
    /// Fills `buf` as far as the file allows; 0 at its end.
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let mut filled = 0;
        while filled < buf.len() {
            match std::io::Read::read(&mut self.file, &mut buf[filled..])? {
                0 => break,
                n => filled += n,
            }
        }
        Ok(filled)
    }
}

impl Drop for Spool {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

fn spool_error(e: std::io::Error) -> WebError {
    WebError::Internal(anyhow::anyhow!("the upload's spool file: {e}"))
}

/// A form that broke off (the client went away, the body passed the route's limit): nothing of
/// it is kept.
fn multipart_error(e: axum::extract::multipart::MultipartError) -> WebError {
    WebError::BadRequest(format!("file form: {e}"))
}

/// A file added from the history, about the instance or one of its steps.
pub async fn add_attachment(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    signed: Signed,
    mut form: Multipart,
) -> Result<Response, WebError> {
    let inst = load_visible(&state, &signed, id).await?;
    let posted = match read_in_time(&state, &signed, id, &mut form).await? {
        Ok(posted) => posted,
        Err(e) => return refuse(&state, &signed, inst, &e).await,
    };
    signed.check_csrf(&posted.fields.0)?;
    let on_step = place(posted.fields.value("on_step"))?;
    let refused = match (posted.file, posted.txn) {
        (Some(Ok(file)), Some(txn)) => {
            match attachments::record(&txn, id, &file, on_step, &signed.session.user.username, state.now()).await {
                Ok(_) => {
                    txn.commit().await?;
                    return Ok(Redirect::to(&format!("/instances/{id}#history-h")).into_response());
                }
                Err(RecordError::Refused(e)) => e,
                Err(RecordError::NotFound(_)) => return Err(WebError::NotFound),
                Err(RecordError::Db(e)) => return Err(e.into()),
            }
        }
        (Some(Err(e)), _) => e,
        _ => AttachmentError::NoFile,
    };
    refuse(&state, &signed, inst, &refused).await
}

async fn refuse(state: &AppState, signed: &Signed, inst: Instance, e: &AttachmentError) -> Result<Response, WebError> {
    render_with_attach_error(state, signed, inst, error_text(&signed.tr, e), status_of(e)).await
}

/// A place in the history chosen in the form ("" for none).
fn place(value: &str) -> Result<Option<i64>, WebError> {
    match value.trim() {
        "" => Ok(None),
        v => v
            .parse::<i64>()
            .ok()
            .filter(|p| *p >= 0)
            .map(Some)
            .ok_or_else(|| WebError::BadRequest(format!("a place in the history: {v:?}"))),
    }
}

/// A step whose form carries a file: the file and the step commit together, or neither does.
pub async fn fire_with_file(
    State(state): State<AppState>,
    Path((id, event)): Path<(i64, String)>,
    signed: Signed,
    mut form: Multipart,
) -> Result<Response, WebError> {
    let inst = load_visible(&state, &signed, id).await?;
    let posted = match read_in_time(&state, &signed, id, &mut form).await? {
        Ok(posted) => posted,
        Err(e) => return refuse_step(&state, &signed, inst, &event, &crate::engine::Data::new(), &e).await,
    };
    signed.check_csrf(&posted.fields.0)?;
    let version = form_version(&posted.fields)?;
    let (given, known) = step_input(&state, &inst, &event, &posted.fields, signed.tr.code()).await?;
    let actor = signed.actor();
    // A substitute's step form says whom the step is for; the runtime checks it (see `process::fire`).
    let for_absent = posted.fields.value("_for").trim().to_owned();
    let absent = (!for_absent.is_empty()).then_some(for_absent.as_str());
    let result = match (posted.file, posted.txn, known) {
        (Some(Err(e)), _, _) => return refuse_step(&state, &signed, inst, &event, &given, &e).await,
        (_, _, Err(e)) => Err(e),
        (Some(Ok(file)), Some(txn), Ok(())) => {
            match attachments::check_bounds(&txn, id).await {
                Ok(()) => {}
                Err(RecordError::Refused(e)) => return refuse_step(&state, &signed, inst, &event, &given, &e).await,
                Err(RecordError::NotFound(_)) => return Err(WebError::NotFound),
                Err(RecordError::Db(e)) => return Err(e.into()),
            }
            let fired = state.rt.fire_attached_in(&txn, id, version, &actor, absent, &event, &given, Some(&file)).await;
            if fired.is_ok() {
                txn.commit().await?;
            }
            fired
        }
        _ => state.rt.fire_as(id, version, &actor, absent, &event, &given).await,
    };
    after_fire(&state, &signed, inst, &event, &for_absent, &given, result).await
}

async fn refuse_step(
    state: &AppState,
    signed: &Signed,
    inst: Instance,
    event: &str,
    given: &crate::engine::Data,
    e: &AttachmentError,
) -> Result<Response, WebError> {
    let why = error_text(&signed.tr, e);
    file_refused(state, signed, inst, event, given, why, status_of(e)).await
}

fn status_of(e: &AttachmentError) -> StatusCode {
    match e {
        AttachmentError::TooLarge | AttachmentError::InstanceFull => StatusCode::PAYLOAD_TOO_LARGE,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

/// A file, streamed a chunk row at a time, always as a download under its own name and type:
/// never shown in the page, never taken for anything else by the browser.
pub async fn download(
    State(state): State<AppState>,
    Path((id, file)): Path<(i64, i64)>,
    signed: Signed,
) -> Result<Response, WebError> {
    load_visible(&state, &signed, id).await?;
    let row = attachments::find(state.db(), id, file).await?.ok_or(WebError::NotFound)?;
    let db = state.db().clone();
    let chunks = futures_util::stream::try_unfold(0i64, move |seq| {
        let db = db.clone();
        async move { Ok::<_, sea_orm::DbErr>(attachments::chunk(&db, file, seq).await?.map(|bytes| (bytes, seq + 1))) }
    });
    let mut response = Body::from_stream(chunks).into_response();
    let headers = response.headers_mut();
    let media = HeaderValue::from_str(&row.media_type).unwrap_or(HeaderValue::from_static("application/octet-stream"));
    headers.insert(header::CONTENT_TYPE, media);
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(row.size.max(0) as u64));
    if let Ok(disposition) = HeaderValue::from_str(&disposition(&row.name)) {
        headers.insert(header::CONTENT_DISPOSITION, disposition);
    }
    // Stricter than the pages': nothing in the file may run or load anything, even opened alone.
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(DOWNLOAD_CSP));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    headers.insert(
        header::HeaderName::from_static("cross-origin-resource-policy"),
        HeaderValue::from_static("same-origin"),
    );
    Ok(response)
}

/// The policy of a download: no script, no style, no frame, a sandbox of its own.
pub const DOWNLOAD_CSP: &str =
    "default-src 'none'; sandbox; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// `attachment` always, with the name in UTF-8 (RFC 6266 / 8187) and an ASCII stand-in for old
/// clients (every character that is not plain ASCII, a quote or a backslash becomes `_`).
fn disposition(name: &str) -> String {
    let ascii: String =
        name.chars().map(|c| if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' { c } else { '_' }).collect();
    let mut encoded = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            encoded.push(b as char);
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_disposition_is_always_an_attachment_with_the_name_in_utf8() {
        assert_eq!(
            disposition("审查意见书 v2.pdf"),
            "attachment; filename=\"_____ v2.pdf\"; filename*=UTF-8''%E5%AE%A1%E6%9F%A5%E6%84%8F%E8%A7%81%E4%B9%A6%20v2.pdf"
        );
        assert_eq!(disposition("a\"b;.txt"), "attachment; filename=\"a_b;.txt\"; filename*=UTF-8''a%22b%3B.txt");
    }
}
