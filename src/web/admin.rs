//! Admins manage users (roles, the units those roles act for, active or not) and units. Every
//! change is written to the audit trail.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

use crate::people::domain::{PeopleError, parse_unit_id, parse_unit_text};
use crate::people::{DisplayName, Password, RoleGrant, Username, users};
use crate::store::audit::Record;
use crate::store::units::{self, Unit};
use crate::web::errors::WebError;
use crate::web::extract::{Admin, Fields, Posted, Signed};
use crate::web::state::AppState;
use crate::web::view::{Chrome, page, people_error_text};

pub struct UserLine {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub roles: String,
    pub active: bool,
    /// Their e-mail address, digest and its language, as the admin may set them.
    pub mail: crate::web::settings::MailForm,
}

/// A service account's token as the admin page lists it (never its secret).
pub struct TokenLine {
    pub username: String,
    pub roles: String,
    pub hint: String,
    pub per_minute: i64,
    pub created: String,
    pub expires: String,
    pub last_used: String,
    /// The locale key of its status: live, expired or revoked.
    pub status_key: &'static str,
    pub live: bool,
}

async fn token_lines(state: &AppState, signed: &Signed) -> Result<Vec<TokenLine>, WebError> {
    let tokens = crate::people::tokens::list(state.db()).await?;
    let ids: Vec<i64> = tokens.iter().map(|t| t.user_id).collect();
    let mut roles: std::collections::BTreeMap<i64, Vec<String>> = Default::default();
    for g in crate::store::users::grants_of(state.db(), &ids).await? {
        let grant = if g.unit_id.is_empty() { g.role } else { format!("{}@{}", g.role, g.unit_id) };
        roles.entry(g.user_id).or_default().push(grant);
    }
    let (now, offset) = (state.now(), state.rt.offset());
    let when = |at: i64| crate::web::view::fmt_time(crate::clock::from_micros(at), offset);
    let never = signed.tr.t("admin.tokens.never").to_owned();
    Ok(tokens
        .into_iter()
        .map(|t| {
            let status = crate::people::tokens::status(&t, now);
            TokenLine {
                roles: roles.get(&t.user_id).map(|r| r.join(", ")).unwrap_or_default(),
                hint: format!("{}…", t.hint),
                per_minute: t.per_minute,
                created: when(t.created_at),
                expires: t.expires_at.map_or_else(|| never.clone(), when),
                last_used: t.last_used_at.map_or_else(|| never.clone(), when),
                status_key: match status {
                    crate::people::tokens::Status::Live => "admin.tokens.live",
                    crate::people::tokens::Status::Expired => "admin.tokens.expired",
                    crate::people::tokens::Status::Revoked => "admin.tokens.revoked",
                },
                live: status == crate::people::tokens::Status::Live,
                username: t.username,
            }
        })
        .collect())
}

/// Revokes a service account's tokens (and deactivates it), from the admin page.
pub async fn revoke_token(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Posted { by: Admin(signed), .. }: Posted<Admin>,
) -> Result<Response, WebError> {
    let name = Username::parse(&name).map_err(|_| WebError::NotFound)?;
    let change = signed.admin_change(&state).await?;
    if !crate::people::tokens::revoke(change.conn(), &name, state.now()).await? {
        return Err(WebError::NotFound);
    }
    change.commit(admin_record("revoke_token", serde_json::json!({ "account": name.as_str() }))).await?;
    Ok(Redirect::to("/admin").into_response())
}

#[derive(Template)]
#[template(path = "admin.html")]
struct AdminPage {
    chrome: Chrome,
    users: Vec<UserLine>,
    tokens: Vec<TokenLine>,
    units: Vec<Unit>,
    role_ids: String,
    problem: Option<String>,
    /// The new-user form as typed: user name, name, roles.
    form: (String, String, String),
}

/// The largest roster a unit may state: more workers than any one unit has.
const MAX_ROSTER: i64 = 1_000_000;

async fn render(
    state: &AppState,
    signed: &Signed,
    problem: Option<String>,
    form: (String, String, String),
    status: StatusCode,
) -> Result<Response, WebError> {
    let mut mail: std::collections::BTreeMap<i64, crate::web::settings::MailForm> =
        crate::store::digests::mail_of_all(state.db())
            .await?
            .iter()
            .map(|m| (m.id, crate::web::settings::MailForm::stored(m)))
            .collect();
    let users = users::list(state.db())
        .await?
        .into_iter()
        .map(|u| UserLine {
            mail: mail.remove(&u.id).unwrap_or_default(),
            id: u.id,
            roles: u.grants.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"),
            username: u.username,
            display_name: u.display_name,
            active: u.active,
        })
        .collect();
    let role_ids = state.rt.definitions().roles.roles.keys().cloned().collect::<Vec<_>>().join(", ");
    let chrome = Chrome::signed(signed, signed.tr.t("admin.title"));
    let tokens = token_lines(state, signed).await?;
    page(status, &AdminPage { chrome, users, tokens, units: units::list(state.db()).await?, role_ids, problem, form })
}

pub async fn admin_page(State(state): State<AppState>, Admin(signed): Admin) -> Result<Response, WebError> {
    render(&state, &signed, None, Default::default(), StatusCode::OK).await
}

fn parse_grants(state: &AppState, text: &str) -> Result<Vec<RoleGrant>, PeopleError> {
    text.lines().filter(|l| !l.trim().is_empty()).map(|l| RoleGrant::parse(l, &state.rt.definitions().roles)).collect()
}

/// What an admin did, for the audit trail.
fn admin_record(what: &str, data: serde_json::Value) -> Record<'_> {
    Record { kind: "admin", event: Some(what), data }
}

pub async fn create_user(
    State(state): State<AppState>,
    Posted { by: Admin(signed), fields: form }: Posted<Admin>,
) -> Result<Response, WebError> {
    let typed =
        (form.value("username").to_owned(), form.value("display_name").to_owned(), form.value("roles").to_owned());
    let problem = match parse_new_user(&state, &form) {
        Ok(new) => match add_user(&state, &signed, new).await? {
            Ok(()) => return Ok(Redirect::to("/admin").into_response()),
            Err(users::UserError::Taken(name)) => signed.tr.f("people.taken", &[("name", name)]),
            Err(e) => return Err(WebError::Internal(e.into())),
        },
        Err(e) => people_error_text(&signed.tr, &e),
    };
    render(&state, &signed, Some(problem), typed, StatusCode::UNPROCESSABLE_ENTITY).await
}

/// A person as the add-user form gives them.
struct NewUser {
    username: Username,
    display: DisplayName,
    password: Password,
    grants: Vec<RoleGrant>,
}

fn parse_new_user(state: &AppState, form: &Fields) -> Result<NewUser, PeopleError> {
    Ok(NewUser {
        username: Username::parse(form.value("username"))?,
        display: DisplayName::parse(form.value("display_name"))?,
        password: Password::parse(form.value("password"))?,
        grants: parse_grants(state, form.value("roles"))?,
    })
}

/// Creates the account with its audit event; a name already taken changes nothing.
async fn add_user(state: &AppState, signed: &Signed, new: NewUser) -> Result<Result<(), users::UserError>, WebError> {
    let hash = state.config.password_checks.hash(new.password).await?.map_err(|e| WebError::Internal(e.into()))?;
    let change = signed.admin_change(state).await?;
    if let Err(e) = users::create(change.conn(), &new.username, &new.display, &hash, &new.grants, state.now()).await {
        return Ok(Err(e));
    }
    let grants_text: Vec<String> = new.grants.iter().map(ToString::to_string).collect();
    let data = serde_json::json!({ "username": new.username.as_str(), "roles": grants_text });
    change.commit(admin_record("create_user", data)).await?;
    state.directory_changed().await;
    Ok(Ok(()))
}

pub async fn set_roles(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Posted { by: Admin(signed), fields: form }: Posted<Admin>,
) -> Result<Response, WebError> {
    let user = users::find(state.db(), id).await?.ok_or(WebError::NotFound)?;
    let grants = match parse_grants(&state, form.value("roles")) {
        Ok(g) => g,
        Err(e) => {
            return render(
                &state,
                &signed,
                Some(format!("{}: {}", user.username, people_error_text(&signed.tr, &e))),
                Default::default(),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    let change = signed.admin_change(&state).await?;
    let admin = grants.iter().any(|g| g.role == users::ADMIN);
    if let Some(refusal) = users::lockout(change.conn(), signed.session.user.id, &user, user.active, admin).await? {
        drop(change);
        return refuse_lockout(&state, &signed, &refusal).await;
    }
    users::set_grants(change.conn(), id, &grants).await?;
    let grants_text: Vec<String> = grants.iter().map(ToString::to_string).collect();
    change
        .commit(admin_record("set_roles", serde_json::json!({ "username": user.username, "roles": grants_text })))
        .await?;
    Ok(Redirect::to("/admin").into_response())
}

pub async fn set_active(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Posted { by: Admin(signed), fields: form }: Posted<Admin>,
) -> Result<Response, WebError> {
    let user = users::find(state.db(), id).await?.ok_or(WebError::NotFound)?;
    let active = form.value("active") == "true";
    let change = signed.admin_change(&state).await?;
    let admin = user.has_role(users::ADMIN);
    if let Some(refusal) = users::lockout(change.conn(), signed.session.user.id, &user, active, admin).await? {
        drop(change);
        return refuse_lockout(&state, &signed, &refusal).await;
    }
    users::set_active(change.conn(), id, active).await?;
    change
        .commit(admin_record("set_active", serde_json::json!({ "username": user.username, "active": active })))
        .await?;
    state.directory_changed().await;
    Ok(Redirect::to("/admin").into_response())
}

async fn refuse_lockout(state: &AppState, signed: &Signed, refusal: &users::Lockout) -> Result<Response, WebError> {
    let problem = match refusal {
        users::Lockout::Yourself => signed.tr.t("admin.lockout.yourself").to_owned(),
        users::Lockout::LastAdmin(name) => signed.tr.f("admin.lockout.last_admin", &[("name", name.clone())]),
    };
    render(state, signed, Some(problem), Default::default(), StatusCode::UNPROCESSABLE_ENTITY).await
}

pub async fn create_unit(
    State(state): State<AppState>,
    Posted { by: Admin(signed), fields: form }: Posted<Admin>,
) -> Result<Response, WebError> {
    let parsed = (|| {
        let text = |k: &str, required| parse_unit_text(form.value(k), required);
        // Given by name, the roster's size is counted from it.
        let roster = crate::people::domain::parse_unit_roster(form.value("roster"))?;
        let typed = form.value("roster_size").trim().parse::<i64>().unwrap_or(0).clamp(0, MAX_ROSTER);
        Ok::<_, PeopleError>(Unit {
            id: parse_unit_id(form.value("id"))?,
            name_zh: text("name_zh", true)?,
            name_en: text("name_en", false)?,
            sector: text("sector", true)?,
            kind: text("kind", false)?,
            roster_size: if roster.is_empty() { typed } else { roster.len() as i64 },
            roster: roster.join("\n"),
        })
    })();
    let unit = match parsed {
        Ok(unit) => unit,
        Err(e) => {
            let problem = people_error_text(&signed.tr, &e);
            return render(&state, &signed, Some(problem), Default::default(), StatusCode::UNPROCESSABLE_ENTITY).await;
        }
    };
    let change = signed.admin_change(&state).await?;
    units::upsert(change.conn(), &unit, state.now()).await?;
    change.commit(admin_record("save_unit", serde_json::json!({ "unit": unit.id }))).await?;
    state.directory_changed().await;
    Ok(Redirect::to("/admin").into_response())
}

/// Sets a person's e-mail address, digest and its language, audited as an admin's change.
pub async fn set_mail(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Posted { by: Admin(signed), fields: form }: Posted<Admin>,
) -> Result<Response, WebError> {
    use crate::web::settings;
    let user = users::find(state.db(), id).await?.ok_or(WebError::NotFound)?;
    let choice = match settings::parse_choice(&form) {
        Ok(c) => c,
        Err(p) => {
            let problem = format!("{}: {}", user.username, settings::email_problem_text(&signed.tr, &p));
            return render(&state, &signed, Some(problem), Default::default(), StatusCode::UNPROCESSABLE_ENTITY).await;
        }
    };
    let change = signed.admin_change(&state).await?;
    let before = crate::store::digests::mail_of(change.conn(), id).await?;
    settings::store_choice(change.conn(), id, &choice).await?;
    change.commit(admin_record("set_mail", settings::recorded(&user.username, before.as_ref(), &choice))).await?;
    Ok(Redirect::to("/admin").into_response())
}
