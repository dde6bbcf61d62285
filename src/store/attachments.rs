//! Keeping attachments: a file's bytes in rows of [`CHUNK_BYTES`] written as they arrive, its
//! facts in `attachments`, and the audit event that records its sha256 in the instance's chain —
//! all in the caller's transaction, so a file refused or cut off midway leaves nothing behind.

use sea_orm::{ConnectionTrait, DbErr, FromQueryResult};
use serde_json::json;
use time::OffsetDateTime;

use crate::attachments::{AttachmentError, CHUNK_BYTES, MAX_PER_INSTANCE, MAX_TOTAL_PER_INSTANCE, Received};
use crate::clock::to_micros;
use crate::engine::Attached;
use crate::store::audit::{self, NewEvent};
use crate::store::db::{exec, row, rows};
use crate::store::instances;

pub const KIND: &str = "attachment";

#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("no instance {0}")]
    NotFound(i64),
    #[error(transparent)]
    Refused(#[from] AttachmentError),
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// A file's bytes being written, a row per [`CHUNK_BYTES`].
pub struct Writer {
    pub id: i64,
    seq: i64,
    buffer: Vec<u8>,
}

impl Writer {
    /// Starts a file on instance `instance_id`: its row, to be completed by [`Writer::finish`].
    pub async fn open<C: ConnectionTrait>(
        c: &C,
        instance_id: i64,
        name: &str,
        by: &str,
        at: OffsetDateTime,
    ) -> Result<Writer, DbErr> {
        #[derive(FromQueryResult)]
        struct Inserted {
            id: i64,
        }
        let Inserted { id } = row(
            c,
            "INSERT INTO attachments (instance_id, event_seq, on_step, name, media_type, size, sha256, uploaded_by, uploaded_at)
             VALUES ($1, NULL, NULL, $2, '', 0, '', $3, $4) RETURNING id",
            vec![instance_id.into(), name.into(), by.into(), to_micros(at).into()],
        )
        .await?
        .ok_or(DbErr::RecordNotInserted)?;
        Ok(Writer { id, seq: 0, buffer: Vec::with_capacity(CHUNK_BYTES) })
    }

    /// Takes the next piece, writing a row whenever a chunk is full.
    pub async fn write<C: ConnectionTrait>(&mut self, c: &C, mut bytes: &[u8]) -> Result<(), DbErr> {
        while !bytes.is_empty() {
            let take = (CHUNK_BYTES - self.buffer.len()).min(bytes.len());
            self.buffer.extend_from_slice(&bytes[..take]);
            bytes = &bytes[take..];
            if self.buffer.len() == CHUNK_BYTES {
                self.flush(c).await?;
            }
        }
        Ok(())
    }

    async fn flush<C: ConnectionTrait>(&mut self, c: &C) -> Result<(), DbErr> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let bytes = std::mem::replace(&mut self.buffer, Vec::with_capacity(CHUNK_BYTES));
        exec(
            c,
            "INSERT INTO attachment_chunks (attachment_id, seq, bytes) VALUES ($1, $2, $3)",
            vec![self.id.into(), self.seq.into(), bytes.into()],
        )
        .await?;
        self.seq += 1;
        Ok(())
    }

    /// Writes the last chunk and the file's facts; gives the file as a step or an event names it.
    pub async fn finish<C: ConnectionTrait>(mut self, c: &C, received: &Received) -> Result<Attached, DbErr> {
        self.flush(c).await?;
        exec(
            c,
            "UPDATE attachments SET name = $1, media_type = $2, size = $3, sha256 = $4 WHERE id = $5",
            vec![
                received.name.as_str().into(),
                received.media_type.into(),
                received.size.into(),
                received.sha256.clone().into(),
                self.id.into(),
            ],
        )
        .await?;
        Ok(Attached {
            id: self.id,
            name: received.name.as_str().to_owned(),
            media_type: received.media_type.to_owned(),
            size: received.size,
            sha256: received.sha256.clone(),
        })
    }
}

/// The file as an audit event records it: what the chain covers.
pub fn audit_data(a: &Attached) -> serde_json::Value {
    json!({ "id": a.id, "name": a.name, "media_type": a.media_type, "size": a.size, "sha256": a.sha256 })
}

/// Refuses a file past the instance's bounds: the files it holds, this one (written in the
/// caller's transaction) included.
pub async fn check_bounds<C: ConnectionTrait>(c: &C, instance_id: i64) -> Result<(), RecordError> {
    #[derive(FromQueryResult)]
    struct Held {
        n: i64,
        total: Option<i64>,
    }
    let held: Option<Held> = row(
        c,
        "SELECT COUNT(*) AS n, CAST(SUM(size) AS BIGINT) AS total FROM attachments WHERE instance_id = $1",
        vec![instance_id.into()],
    )
    .await?;
    let held = held.unwrap_or(Held { n: 0, total: None });
    if held.n > MAX_PER_INSTANCE {
        return Err(AttachmentError::TooMany.into());
    }
    if held.total.unwrap_or(0) > MAX_TOTAL_PER_INSTANCE {
        return Err(AttachmentError::InstanceFull.into());
    }
    Ok(())
}

/// Records a file added to instance `id` (about one of its steps, or the whole) as an event of
/// its audit stream, with the stream's head held; returns the event's place in the history.
pub async fn record<C: ConnectionTrait>(
    c: &C,
    id: i64,
    file: &Attached,
    on_step: Option<i64>,
    by: &str,
    at: OffsetDateTime,
) -> Result<i64, RecordError> {
    let inst = instances::lock(c, id).await?.ok_or(RecordError::NotFound(id))?;
    check_bounds(c, id).await?;
    let stream = audit::instance_stream(id);
    if let Some(step) = on_step {
        // A place below 0 is in no history (and `step - 1` must not overflow).
        let after = step.checked_sub(1).filter(|a| *a >= -1).ok_or(AttachmentError::NoSuchStep(step))?;
        let found = audit::stream_after(c, &stream, after, 1).await?.into_iter().find(|e| e.record.seq == step);
        if found.is_none_or(|e| e.record.kind == crate::store::comments::KIND) {
            return Err(AttachmentError::NoSuchStep(step).into());
        }
    }
    let sealed = audit::seal(
        NewEvent {
            stream,
            at,
            actor: by,
            kind: KIND,
            process: Some(&inst.process),
            instance_id: Some(id),
            event: None,
            from_state: Some(&inst.state),
            to_state: Some(&inst.state),
            data: json!({ "attachment": audit_data(file), "on_step": on_step }),
        },
        inst.audit_head(),
    );
    let seq = sealed.record.seq;
    // Like a comment, a file moves the chain's head but not the version: a form open on the
    // instance is not made stale by it.
    instances::advance_audit_head_only(c, id, seq, &sealed.hash).await?;
    audit::insert(c, sealed).await?;
    exec(
        c,
        "UPDATE attachments SET event_seq = $1, on_step = $2 WHERE id = $3",
        vec![seq.into(), on_step.into(), file.id.into()],
    )
    .await?;
    Ok(seq)
}

/// Links a file to the step that carried it (its audit event, at `seq`).
pub async fn link_step<C: ConnectionTrait>(c: &C, id: i64, seq: i64) -> Result<(), DbErr> {
    exec(c, "UPDATE attachments SET event_seq = $1 WHERE id = $2", vec![seq.into(), id.into()]).await?;
    Ok(())
}

/// A stored file's facts.
#[derive(Debug, Clone, FromQueryResult)]
pub struct AttachmentRow {
    pub id: i64,
    pub instance_id: i64,
    pub event_seq: i64,
    pub on_step: Option<i64>,
    pub name: String,
    pub media_type: String,
    pub size: i64,
    pub sha256: String,
    pub uploaded_by: String,
    pub uploaded_at: i64,
}

const COLUMNS: &str = "id, instance_id, event_seq, on_step, name, media_type, size, sha256, uploaded_by, uploaded_at";

/// The files of an instance, oldest first (at most [`MAX_PER_INSTANCE`] are ever kept).
pub async fn of_instance<C: ConnectionTrait>(c: &C, instance_id: i64) -> Result<Vec<AttachmentRow>, DbErr> {
    let sql = format!(
        "SELECT {COLUMNS} FROM attachments WHERE instance_id = $1 AND event_seq IS NOT NULL ORDER BY id LIMIT {MAX_PER_INSTANCE}"
    );
    rows(c, &sql, vec![instance_id.into()]).await
}

/// One file of an instance.
pub async fn find<C: ConnectionTrait>(c: &C, instance_id: i64, id: i64) -> Result<Option<AttachmentRow>, DbErr> {
    let sql = format!("SELECT {COLUMNS} FROM attachments WHERE id = $1 AND instance_id = $2 AND event_seq IS NOT NULL");
    row(c, &sql, vec![id.into(), instance_id.into()]).await
}

/// The `seq`th chunk of a file's bytes, or none past its end.
pub async fn chunk<C: ConnectionTrait>(c: &C, id: i64, seq: i64) -> Result<Option<Vec<u8>>, DbErr> {
    #[derive(FromQueryResult)]
    struct Chunk {
        bytes: Vec<u8>,
    }
    let found: Option<Chunk> = row(
        c,
        "SELECT bytes FROM attachment_chunks WHERE attachment_id = $1 AND seq = $2",
        vec![id.into(), seq.into()],
    )
    .await?;
    Ok(found.map(|c| c.bytes))
}
