//! Extractors: the reader's language, their session (signing in when there is none), and the
//! CSRF check every state-changing form passes.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;

use crate::people::sessions::{self, Session};
use crate::sector::{cohort, track};
use crate::store::writer::on_target;
use crate::web::cookies;
use crate::web::errors::WebError;
use crate::web::i18n::Tr;
use crate::web::state::AppState;
use futures_util::FutureExt;

pub const CSRF_FIELD: &str = "_csrf";

/// The request's language, session (if any) and path.
pub struct Ctx {
    pub tr: Tr,
    pub session: Option<Session>,
    pub path: String,
}

/// A signed-in request.
pub struct Signed {
    pub tr: Tr,
    pub session: Session,
    pub path: String,
    /// Which of the pages beyond every user's the menu offers this person.
    pub nav: Nav,
    /// The written delegations this person holds today (a chief's signature by a delegate).
    pub delegations: Vec<crate::engine::Delegated>,
    /// The absent people this person stands in for today, as the actors they act as.
    pub standing_in: Vec<crate::engine::Actor>,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct Nav {
    /// The figures page: for whoever may read a process's declared reports.
    pub figures: bool,
    /// The talent pool: for whoever acts on trainee tracks.
    pub talent: bool,
    /// "My trainees": for whoever a trainee track is scoped to by person (a mentor).
    pub mentoring: bool,
}

impl Nav {
    fn for_actor(state: &AppState, actor: &crate::engine::Actor) -> Nav {
        use crate::definition::ScopeMatch;
        let defs = state.rt.definitions();
        let track = defs.get(track::PROCESS);
        let mut probe = crate::engine::Data::new();
        probe.insert(track::MENTOR.into(), actor.name.clone().into());
        Nav {
            figures: defs.definitions.values().any(|d| crate::web::figures::reads_reports(actor, d)),
            talent: track.is_some_and(|d| actor.may_view(d, &probe)),
            mentoring: track.is_some_and(|d| {
                d.scopes.iter().any(|s| s.matches == ScopeMatch::Person && actor.roles.contains(&s.role))
            }),
        }
    }
}

impl Signed {
    pub fn actor(&self) -> crate::engine::Actor {
        self.session.user.actor().with_delegations(self.delegations.clone())
    }
    /// The person as themselves, then as each absent person they stand in for today: what they
    /// may read and do is what any of these may.
    pub fn actors(&self) -> Vec<crate::engine::Actor> {
        std::iter::once(self.actor()).chain(self.standing_in.iter().cloned()).collect()
    }
    pub fn is_admin(&self) -> bool {
        self.session.user.has_role(crate::people::users::ADMIN)
    }
    /// Begins an administrative change by this person (users, units, mentors): it commits with
    /// its audit event in the admin stream, or not at all.
    pub async fn admin_change(&self, state: &AppState) -> Result<crate::store::audit::Audited, WebError> {
        let by = &self.session.user.username;
        Ok(crate::store::audit::Audited::begin(state.db(), "admin", by, state.now()).await?)
    }

    /// Refuses a form whose CSRF token is not this session's.
    pub fn check_csrf(&self, form: &[(String, String)]) -> Result<(), WebError> {
        let given = form.iter().find(|(k, _)| k == CSRF_FIELD).map(|(_, v)| v.as_str());
        if given.is_some_and(|g| constant_time_eq(g.as_bytes(), self.session.csrf_token.as_bytes())) {
            Ok(())
        } else {
            Err(WebError::Csrf)
        }
    }
}

pub use crate::people::constant_time_eq;

/// The address a request came from, as the sign-in limits count it: the connection's peer, or
/// the header a reverse proxy sets when the operator named one. An IPv6 client is counted by its
/// /64 network, which one household or host holds whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientAddr(pub String);

impl ClientAddr {
    pub fn of(ip: std::net::IpAddr) -> Self {
        match ip {
            std::net::IpAddr::V6(v6) if v6.to_ipv4_mapped().is_none() => {
                let s = v6.segments();
                Self(format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3]))
            }
            std::net::IpAddr::V6(v6) => Self(v6.to_ipv4_mapped().map_or_else(|| v6.to_string(), |v4| v4.to_string())),
            std::net::IpAddr::V4(v4) => Self(v4.to_string()),
        }
    }
}

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let forwarded = state.config.client_ip_header.as_ref().and_then(|h| {
            let value = parts.headers.get_all(h).iter().next_back()?.to_str().ok()?;
            value.rsplit(',').next()?.trim().parse::<std::net::IpAddr>().ok()
        });
        let peer = || parts.extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip());
        Ok(forwarded.or_else(peer).map_or_else(|| ClientAddr("unknown".to_owned()), ClientAddr::of))
    }
}

fn path_of(parts: &Parts) -> String {
    parts.uri.path_and_query().map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned())
}

impl FromRequestParts<AppState> for Ctx {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let tr = Tr::new(cookies::lang(&parts.headers));
        let path = path_of(parts);
        let Some(token) = cookies::value(&parts.headers, cookies::SESSION) else {
            return Ok(Ctx { tr, session: None, path });
        };
        let now = state.now();
        let session = sessions::lookup(state.db(), &token, now).await?;
        if let Some(s) = &session
            && now - s.last_seen_at > state.config.session_touch_every
        {
            // Through the shared commit: on SQLite, never queued for the write lock beside it.
            // Best effort: a page is not refused because its session's expiry did not slide (the
            // next request tries again).
            let (id, idle) = (s.id.clone(), state.config.session_idle);
            let touched = state
                .rt
                .write(move |target| {
                    async move { on_target!(target, |conn| sessions::touch(conn, &id, now, idle).await) }.boxed()
                })
                .await;
            if let Ok(Err(e)) | Err(e) = touched {
                tracing::warn!(error = %e, "sliding a session's expiry failed");
            }
        }
        Ok(Ctx { tr, session, path })
    }
}

impl FromRequestParts<AppState> for Signed {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let ctx = Ctx::from_request_parts(parts, state).await?;
        match ctx.session {
            Some(session) => {
                let nav = Nav::for_actor(state, &session.user.actor());
                let today = crate::definition::calendar::format_date(state.now().to_offset(state.rt.offset()).date());
                let delegations = crate::store::delegations::held(state.db(), &session.user.username, &today).await?;
                let standing_in =
                    crate::people::standing_in::actors_of(state.db(), &session.user.username, state.rt.today()).await?;
                Ok(Signed { tr: ctx.tr, session, path: ctx.path, nav, delegations, standing_in })
            }
            None => Err(WebError::SignIn { next: ctx.path }),
        }
    }
}

/// Who may pass: a signed-in request turned into the kind of person a handler serves, or a
/// refusal. Handlers name the gate in their signature and never check roles themselves.
pub trait Gate: Sized {
    fn admit(signed: Signed, state: &AppState) -> Result<Self, WebError>;
}

impl Gate for Signed {
    fn admit(signed: Signed, _: &AppState) -> Result<Self, WebError> {
        Ok(signed)
    }
}

/// An admin: users, units, the audit trail.
pub struct Admin(pub Signed);

impl Gate for Admin {
    fn admit(signed: Signed, _: &AppState) -> Result<Self, WebError> {
        if signed.is_admin() { Ok(Admin(signed)) } else { Err(WebError::Forbidden) }
    }
}

/// Whoever runs training cohorts: a person the cohort definition lets open one (its `start`
/// roles), so who manages cohorts is the definition's to say.
pub struct Coordinator(pub Signed);

impl Gate for Coordinator {
    fn admit(signed: Signed, state: &AppState) -> Result<Self, WebError> {
        if runs_cohorts(state, &signed) { Ok(Coordinator(signed)) } else { Err(WebError::Forbidden) }
    }
}

/// Whether the person may open a training cohort, and so run them.
pub fn runs_cohorts(state: &AppState, signed: &Signed) -> bool {
    let defs = state.rt.definitions();
    let starters = defs.get(cohort::PROCESS).and_then(|d| d.start.as_ref()).map(|s| &s.roles);
    starters.is_some_and(|roles| roles.iter().any(|r| signed.session.user.has_role(r)))
}

/// Whoever may read a process's declared reports: the figures page ([`Nav::figures`]).
pub struct FiguresReader(pub Signed);

/// Whoever acts on trainee tracks (coordinators, mentors, admins): the talent pool ([`Nav::talent`]).
pub struct PoolSearcher(pub Signed);

/// Whoever a trainee track is scoped to by person: "my trainees" ([`Nav::mentoring`]).
pub struct Mentor(pub Signed);

/// The pages the menu offers are the pages the person may open: one rule for both.
macro_rules! by_menu {
    ($($gate:ident => $flag:ident),*) => {$(
        impl Gate for $gate {
            fn admit(signed: Signed, _: &AppState) -> Result<Self, WebError> {
                if signed.nav.$flag { Ok($gate(signed)) } else { Err(WebError::Forbidden) }
            }
        }
    )*};
}

by_menu!(FiguresReader => figures, PoolSearcher => talent, Mentor => mentoring);

macro_rules! gated {
    ($($gate:ident),*) => {$(
        impl std::ops::Deref for $gate {
            type Target = Signed;
            fn deref(&self) -> &Signed {
                &self.0
            }
        }

        impl FromRequestParts<AppState> for $gate {
            type Rejection = WebError;

            async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
                let signed = Signed::from_request_parts(parts, state).await?;
                <$gate as Gate>::admit(signed, state)
            }
        }
    )*};
}

gated!(Admin, Coordinator, FiguresReader, PoolSearcher, Mentor);

/// The fields of a posted form, in the order sent (a field ticked several times comes several
/// times).
#[derive(Debug, Clone, Default)]
pub struct Fields(pub Vec<(String, String)>);

impl Fields {
    /// The first value of `name`, or "" when it was not sent.
    pub fn value(&self, name: &str) -> &str {
        self.0.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.as_str())
    }

    /// Every value of `name`.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0.iter().filter(move |(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// A form posted by someone who passed the gate `G`, its CSRF token checked: a handler that
/// takes one never checks the token or the person's role itself.
pub struct Posted<G = Signed> {
    pub by: G,
    pub fields: Fields,
}

impl<G: Gate + Send> FromRequest<AppState> for Posted<G> {
    /// A refusal of ours, or the framework's own (a body too large, not a form), which the
    /// error-page layer renders in the reader's language.
    type Rejection = axum::response::Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        use axum::response::IntoResponse;
        let (mut parts, body) = req.into_parts();
        let signed = Signed::from_request_parts(&mut parts, state).await;
        let tr = Tr::new(cookies::lang(&parts.headers));
        let path = path_of(&parts);
        let ours = same_site_post(&parts.headers);
        let axum::Form(fields) =
            axum::Form::<Vec<(String, String)>>::from_request(Request::from_parts(parts, body), state)
                .await
                .map_err(IntoResponse::into_response)?;
        let signed = match signed {
            Ok(signed) => signed,
            // The session ended while the form was being filled in: what was typed goes through
            // the sign-in instead of being lost.
            Err(WebError::SignIn { next }) if ours => {
                let ctx = Ctx { tr, session: None, path };
                let page = crate::web::auth::signin_keeping(state, &ctx, &next, fields);
                return Err(page.unwrap_or_else(IntoResponse::into_response));
            }
            Err(e) => return Err(e.into_response()),
        };
        signed.check_csrf(&fields).map_err(IntoResponse::into_response)?;
        let by = G::admit(signed, state).map_err(IntoResponse::into_response)?;
        Ok(Posted { by, fields: Fields(fields) })
    }
}

/// Whether a post came from one of our own pages, as far as the browser says: another site's
/// page must not get its fields carried through the sign-in to be sent under the victim's new
/// session. A client that sends neither header (not a browser) is taken at its word.
fn same_site_post(headers: &axum::http::HeaderMap) -> bool {
    let fetch_site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    if fetch_site.is_some_and(|s| s != "same-origin") {
        return false;
    }
    let origin = headers.get(axum::http::header::ORIGIN).and_then(|v| v.to_str().ok());
    let host = headers.get(axum::http::header::HOST).and_then(|v| v.to_str().ok());
    match origin {
        None => true,
        Some(origin) => host.is_some_and(|h| origin.split_once("://").is_some_and(|(_, authority)| authority == h)),
    }
}

/// A file form (multipart) posted by someone who passed the gate `G`, its CSRF token checked; the
/// parts are read whole, within the route's body limit.
pub struct PostedParts<G = Signed> {
    pub by: G,
    pub parts: Vec<(String, axum::body::Bytes)>,
}

impl<G> PostedParts<G> {
    /// The first part named `name`.
    pub fn part(&self, name: &str) -> Option<&axum::body::Bytes> {
        self.parts.iter().find(|(n, _)| n == name).map(|(_, b)| b)
    }

    /// The text of the first part named `name`, or "" when it was not sent or is not text.
    pub fn text(&self, name: &str) -> &str {
        self.part(name).and_then(|b| std::str::from_utf8(b).ok()).unwrap_or_default()
    }
}

impl<G: Gate + Send> FromRequest<AppState> for PostedParts<G> {
    type Rejection = axum::response::Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        use axum::response::IntoResponse;
        let (mut parts, body) = req.into_parts();
        let signed = Signed::from_request_parts(&mut parts, state).await.map_err(IntoResponse::into_response)?;
        let mut form = axum::extract::Multipart::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(IntoResponse::into_response)?;
        let mut read = Vec::new();
        while let Some(field) = form.next_field().await.map_err(IntoResponse::into_response)? {
            let name = field.name().unwrap_or_default().to_owned();
            read.push((name, field.bytes().await.map_err(IntoResponse::into_response)?));
        }
        let posted = PostedParts { by: signed, parts: read };
        let token = posted.text(CSRF_FIELD).to_owned();
        posted.by.check_csrf(&[(CSRF_FIELD.to_owned(), token)]).map_err(IntoResponse::into_response)?;
        let by = G::admit(posted.by, state).map_err(IntoResponse::into_response)?;
        Ok(PostedParts { by, parts: posted.parts })
    }
}
