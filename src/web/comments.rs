//! Comments from the instance page: anyone who may read the instance may comment on it or on one
//! of its steps, correct their own earlier comment, and mention people who may read it.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

use crate::comments::{Comment, CommentError};
use crate::store::comments::{self, AddError};
use crate::web::errors::WebError;
use crate::web::extract::Posted;
use crate::web::i18n::Tr;
use crate::web::process::{load_visible, render_with_comment};
use crate::web::state::AppState;

/// The comment form of an instance's page.
pub struct CommentBox {
    /// The steps a comment may be about: (place in the history, "label (time)").
    pub steps: Vec<(i64, String)>,
    /// The reader's own comments, which a new one may correct.
    pub own: Vec<(i64, String)>,
    pub text: String,
    pub error: Option<String>,
}

/// A refused comment in the reader's words.
pub fn error_text(tr: &Tr, e: &CommentError) -> String {
    match e {
        CommentError::Empty => tr.t("comment.empty").to_owned(),
        CommentError::Text(p) => crate::web::view::field_problem_text(tr, p),
        CommentError::TooManyMentions => {
            tr.f("comment.too_many_mentions", &[("max", crate::comments::MAX_MENTIONS.to_string())])
        }
        CommentError::NoSuchStep(_) => tr.t("comment.no_such_step").to_owned(),
        CommentError::NotYourComment(_) => tr.t("comment.not_yours").to_owned(),
        CommentError::CannotSee(name) => tr.f("comment.cannot_see", &[("name", name.clone())]),
    }
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

pub async fn add_comment(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Posted { by: signed, fields }: Posted,
) -> Result<Response, WebError> {
    let inst = load_visible(&state, &signed, id).await?;
    let typed = fields.value("text").to_owned();
    let parsed = Comment::parse(&typed, place(fields.value("on_step"))?, place(fields.value("corrects"))?);
    let refused = match parsed {
        Ok(mut comment) => match keep_mentions(&state, &inst, &mut comment, &signed.session.user.username).await? {
            Some(name) => CommentError::CannotSee(name),
            None => match comments::add(state.db(), id, &signed.session.user.username, &comment, state.now()).await {
                Ok(_) => return Ok(Redirect::to(&format!("/instances/{id}#history-h")).into_response()),
                Err(AddError::Refused(e)) => e,
                Err(AddError::NotFound(_)) => return Err(WebError::NotFound),
                Err(AddError::Db(e)) => return Err(e.into()),
            },
        },
        Err(e) => e,
    };
    let returned = (typed, error_text(&signed.tr, &refused));
    render_with_comment(&state, &signed, inst, returned, StatusCode::UNPROCESSABLE_ENTITY).await
}

/// The first person the comment mentions who could not open the instance (they would be sent to
/// a page they may not see). Only people who can open it stay mentioned: a name that is no one's
/// (yet), or the author's own, is text.
pub async fn keep_mentions(
    state: &AppState,
    inst: &crate::runtime::Instance,
    comment: &mut Comment,
    author: &str,
) -> Result<Option<String>, crate::runtime::RuntimeError> {
    let directory = state.directory().await?;
    let mut kept = Vec::new();
    for name in &comment.mentions {
        let Some(display) = directory.people.get(name) else { continue };
        if name == author {
            continue;
        }
        let Ok(username) = crate::people::Username::parse(name) else { continue };
        let Some(user_id) = crate::people::users::id_of(state.db(), &username).await? else { continue };
        let Some(user) = crate::people::users::find(state.db(), user_id).await? else { continue };
        if !state.rt.may_read(&user.actor(), inst).await? {
            return Ok(Some(display.clone()));
        }
        kept.push(name.clone());
    }
    comment.mentions = kept;
    Ok(None)
}

/// The instances the signed-in person was mentioned in and has not opened (the rule is
/// [`crate::work::mentions_of`]'s, which the e-mail digest shares).
pub async fn mentions_of(
    state: &AppState,
    actor: &crate::engine::Actor,
    username: &str,
) -> Result<Vec<(comments::Mention, crate::runtime::Instance)>, WebError> {
    Ok(crate::work::mentions_of(&state.rt, actor, username).await?)
}
