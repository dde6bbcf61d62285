//! Recording comments: each is an event of its instance's audit stream, appended with the stream's
//! head held (the instance row locked), so the chain covers what was said and the history shows it
//! beside the steps; the people it mentions are kept until they open the instance.

use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, FromQueryResult};
use serde_json::json;
use time::OffsetDateTime;

use crate::clock::to_micros;
use crate::comments::{Comment, CommentError};
use crate::store::audit::{self, NewEvent};
use crate::store::db::{begin_write, exec, rows};
use crate::store::instances;

pub const KIND: &str = "comment";

#[derive(Debug, thiserror::Error)]
pub enum AddError {
    #[error("no instance {0}")]
    NotFound(i64),
    #[error(transparent)]
    Refused(#[from] CommentError),
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// Records `comment` by `author` on instance `id`; returns its place in the history. The step it
/// is about must be in the instance's history, and the comment it corrects one of the author's.
pub async fn add(
    db: &DatabaseConnection,
    id: i64,
    author: &str,
    comment: &Comment,
    at: OffsetDateTime,
) -> Result<i64, AddError> {
    let txn = begin_write(db).await?;
    let inst = instances::lock(&txn, id).await?.ok_or(AddError::NotFound(id))?;
    let stream = audit::instance_stream(id);
    let event_at = |seq: i64| {
        let stream = stream.clone();
        let txn = &txn;
        async move {
            // A place below 0 is in no history (and `seq - 1` must not overflow).
            let Some(after) = seq.checked_sub(1).filter(|a| *a >= -1) else { return Ok::<_, DbErr>(None) };
            Ok(audit::stream_after(txn, &stream, after, 1).await?.into_iter().find(|e| e.record.seq == seq))
        }
    };
    if let Some(step) = comment.on_step {
        let found = event_at(step).await?;
        if found.is_none_or(|e| e.record.kind == KIND) {
            return Err(CommentError::NoSuchStep(step).into());
        }
    }
    if let Some(earlier) = comment.corrects {
        let found = event_at(earlier).await?;
        if found.is_none_or(|e| e.record.kind != KIND || e.record.actor != author) {
            return Err(CommentError::NotYourComment(earlier).into());
        }
    }
    let sealed = audit::seal(
        NewEvent {
            stream: stream.clone(),
            at,
            actor: author,
            kind: KIND,
            process: Some(&inst.process),
            instance_id: Some(id),
            event: None,
            from_state: Some(&inst.state),
            to_state: Some(&inst.state),
            data: json!({
                "text": comment.text, "on_step": comment.on_step, "corrects": comment.corrects,
                "mentions": comment.mentions,
            }),
        },
        inst.audit_head(),
    );
    let seq = sealed.record.seq;
    // The head moves; the version does not: a comment does not make a form open on the instance
    // stale. (A step decided on a row read before the comment still applies only to the row it
    // read, chain head and all, and is decided again on the row as it now is.)
    instances::advance_audit_head_only(&txn, id, seq, &sealed.hash).await?;
    audit::insert(&txn, sealed).await?;
    for name in &comment.mentions {
        exec(
            &txn,
            "INSERT INTO mentions (instance_id, username, seq, mentioned_by, at, seen_at) VALUES ($1, $2, $3, $4, $5, NULL)
             ON CONFLICT (instance_id, username) DO UPDATE SET seq = $3, mentioned_by = $4, at = $5, seen_at = NULL",
            vec![id.into(), name.clone().into(), seq.into(), author.into(), to_micros(at).into()],
        )
        .await?;
    }
    txn.commit().await?;
    Ok(seq)
}

/// A mention the person has not yet seen.
#[derive(Debug, Clone, FromQueryResult)]
pub struct Mention {
    pub instance_id: i64,
    pub mentioned_by: String,
    pub at: i64,
}

/// The most unseen mentions "my work" lists.
const UNSEEN_MAX: u64 = 200;

pub async fn unseen<C: ConnectionTrait>(c: &C, username: &str) -> Result<Vec<Mention>, DbErr> {
    let sql = format!(
        "SELECT instance_id, mentioned_by, at FROM mentions WHERE username = $1 AND seen_at IS NULL ORDER BY at DESC LIMIT {UNSEEN_MAX}"
    );
    rows(c, &sql, vec![username.into()]).await
}

/// The person opened the instance: its mention leaves their work. Read first, so a page view
/// writes only when there is a mention to clear.
pub async fn seen<C: ConnectionTrait>(c: &C, id: i64, username: &str, at: OffsetDateTime) -> Result<(), DbErr> {
    #[derive(FromQueryResult)]
    struct N {
        n: i64,
    }
    let sql = "SELECT COUNT(*) AS n FROM mentions WHERE instance_id = $1 AND username = $2 AND seen_at IS NULL";
    let waiting: Vec<N> = rows(c, sql, vec![id.into(), username.into()]).await?;
    if waiting.first().is_some_and(|w| w.n > 0) {
        exec(
            c,
            "UPDATE mentions SET seen_at = $1 WHERE instance_id = $2 AND username = $3 AND seen_at IS NULL",
            vec![to_micros(at).into(), id.into(), username.into()],
        )
        .await?;
    }
    Ok(())
}
