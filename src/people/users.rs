//! Users and their role grants.

use std::collections::BTreeMap;

use sea_orm::{ConnectionTrait, DbErr};

use crate::clock::to_micros;
use crate::engine::Actor;
use crate::people::domain::{DisplayName, RoleGrant, Username};
use crate::people::password;
use crate::store::users as store;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub active: bool,
    pub grants: Vec<RoleGrant>,
}

impl User {
    /// The user as the engine sees them: their name, roles, and the units they act for.
    pub fn actor(&self) -> Actor {
        let actor = Actor::new(self.username.clone(), self.grants.iter().map(|g| g.role.clone()));
        self.grants
            .iter()
            .filter_map(|g| g.unit.as_ref().map(|u| (&g.role, u)))
            .fold(actor, |a, (role, unit)| a.with_grant(role.clone(), unit.clone()))
    }
    pub fn has_role(&self, role: &str) -> bool {
        self.grants.iter().any(|g| g.role == role)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum UserError {
    #[error("the user name {0:?} is taken")]
    Taken(String),
    #[error(transparent)]
    Hash(#[from] password::HashError),
    #[error(transparent)]
    Db(#[from] DbErr),
}

impl From<store::UserRow> for User {
    fn from(r: store::UserRow) -> Self {
        User { id: r.id, username: r.username, display_name: r.display_name, active: r.active, grants: Vec::new() }
    }
}

/// The users with their grants, read in one more query.
async fn with_grants<C: ConnectionTrait>(c: &C, mut users: Vec<User>) -> Result<Vec<User>, DbErr> {
    let ids: Vec<i64> = users.iter().map(|u| u.id).collect();
    let mut grants: BTreeMap<i64, Vec<RoleGrant>> = BTreeMap::new();
    for g in store::grants_of(c, &ids).await? {
        let unit = (!g.unit_id.is_empty()).then_some(g.unit_id);
        grants.entry(g.user_id).or_default().push(RoleGrant { role: g.role, unit });
    }
    for u in &mut users {
        u.grants = grants.remove(&u.id).unwrap_or_default();
    }
    Ok(users)
}

/// Creates a user with their password hash and role grants, inside the caller's transaction
/// (with its audit event). The hash is computed before, outside the transaction, so a slow hash
/// never holds the database's write lock.
pub async fn create<C: ConnectionTrait>(
    c: &C,
    username: &Username,
    display_name: &DisplayName,
    password_hash: &str,
    grants: &[RoleGrant],
    now: time::OffsetDateTime,
) -> Result<i64, UserError> {
    if store::id_of(c, username.as_str()).await?.is_some() {
        return Err(UserError::Taken(username.to_string()));
    }
    let id = store::insert(c, username.as_str(), display_name.as_str(), password_hash, to_micros(now)).await?;
    set_grants(c, id, grants).await?;
    Ok(id)
}

/// Replaces a user's role grants; the caller's transaction makes it one change.
pub async fn set_grants<C: ConnectionTrait>(c: &C, id: i64, grants: &[RoleGrant]) -> Result<(), DbErr> {
    let pairs: Vec<(String, String)> =
        grants.iter().map(|g| (g.role.clone(), g.unit.clone().unwrap_or_default())).collect();
    store::replace_grants(c, id, &pairs).await
}

/// Gives a user a new password; their sessions end, so whoever held the old one is signed out.
pub async fn set_password<C: ConnectionTrait>(c: &C, id: i64, hash: &str) -> Result<(), DbErr> {
    store::set_password_hash(c, id, hash).await?;
    crate::store::sessions::delete_of_user(c, id).await
}

/// The id of the account named `username`, active or not.
pub async fn id_of<C: ConnectionTrait>(c: &C, username: &Username) -> Result<Option<i64>, DbErr> {
    store::id_of(c, username.as_str()).await
}

/// Activates or deactivates a user; a deactivated user's sessions and feed address end.
pub async fn set_active<C: ConnectionTrait>(c: &C, id: i64, active: bool) -> Result<(), DbErr> {
    store::set_active(c, id, active).await?;
    if !active {
        crate::store::sessions::delete_of_user(c, id).await?;
        // A reactivated account starts without a feed address: the old one may have been shared.
        crate::store::feeds::forget(c, id).await?;
    }
    Ok(())
}

/// The user and their password hash, for signing in.
pub async fn for_sign_in<C: ConnectionTrait>(c: &C, username: &str) -> Result<Option<(User, String)>, DbErr> {
    let Some(r) = store::for_sign_in(c, username).await? else { return Ok(None) };
    let user = User { id: r.id, username: r.username, display_name: r.display_name, active: r.active, grants: vec![] };
    Ok(with_grants(c, vec![user]).await?.pop().map(|u| (u, r.password_hash)))
}

pub async fn find<C: ConnectionTrait>(c: &C, id: i64) -> Result<Option<User>, DbErr> {
    let Some(r) = store::find(c, id).await? else { return Ok(None) };
    Ok(with_grants(c, vec![r.into()]).await?.pop())
}

/// The active person named `username` with their grants; none for a service account.
pub async fn active_person<C: ConnectionTrait>(c: &C, username: &str) -> Result<Option<User>, DbErr> {
    let Some(r) = store::active_person(c, username).await? else { return Ok(None) };
    Ok(with_grants(c, vec![r.into()]).await?.pop())
}

/// The active people who hold `role` (for `unit`, and only `person`, when given), with their
/// grants, at most `limit`.
pub async fn holders<C: ConnectionTrait>(
    c: &C,
    role: &str,
    unit: Option<&str>,
    person: Option<&str>,
    limit: u64,
) -> Result<Vec<User>, DbErr> {
    let users = store::holders(c, role, unit, person, limit).await?.into_iter().map(User::from).collect();
    with_grants(c, users).await
}

pub async fn list<C: ConnectionTrait>(c: &C) -> Result<Vec<User>, DbErr> {
    let users = store::list(c).await?.into_iter().map(User::from).collect();
    with_grants(c, users).await
}

/// A change that would leave nobody able to administer, or lock its author out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Lockout {
    #[error("an admin cannot deactivate their own account")]
    Yourself,
    #[error("{0} is the last active admin")]
    LastAdmin(String),
}

/// Whether `by` may make `target` active or not (`active`) with these admin rights (`admin`),
/// judged inside the change's transaction (which serialises admin changes).
pub async fn lockout<C: ConnectionTrait>(
    c: &C,
    by: i64,
    target: &User,
    active: bool,
    admin: bool,
) -> Result<Option<Lockout>, DbErr> {
    if !active && by == target.id {
        return Ok(Some(Lockout::Yourself));
    }
    let loses_admin = target.active && target.has_role(ADMIN) && !(active && admin);
    if loses_admin && store::active_holders(c, ADMIN).await? <= 1 {
        return Ok(Some(Lockout::LastAdmin(target.display_name.clone())));
    }
    Ok(None)
}

/// The role that administers users, units and the audit trail.
pub const ADMIN: &str = "admin";

/// The active people, as (username, display name) in username order: the directory that fields
/// with `source = "people"` name.
pub async fn directory<C: ConnectionTrait>(c: &C) -> Result<Vec<(String, String)>, DbErr> {
    Ok(store::directory(c).await?.into_iter().map(|r| (r.username, r.display_name)).collect())
}
