//! The web app: server-rendered pages over the runtime. Handlers parse input into domain values,
//! call the runtime, and render; no business rule lives here.

mod admin;
mod assets;
pub mod attachments;
mod audit;
mod auth;
pub mod charts;
pub mod comments;
mod cookies;
mod csv_export;
mod delegations;
pub mod diagram;
mod diff;
mod documents;
pub mod errors;
pub mod extract;
mod feed;
pub mod figures;
mod figures_cache;
pub mod i18n;
mod mentoring;
mod migrations;
pub mod process;
pub mod redirect;
mod rollcall;
pub mod settings;
pub mod state;
mod substitutes;
mod talent;
mod training;
pub mod view;
mod webhooks;
mod work;

use axum::Router;
use axum::routing::{get, post};

pub use state::{AppState, DigestOffer, WebConfig};

/// Uploads may be this large before the server stops reading; the import refuses files past its
/// own, smaller limit with a clear message.
const UPLOAD_LIMIT: usize = 64 * 1024 * 1024;

/// The whole app, with its security headers and friendly error pages.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(work::my_work))
        .route("/signin", get(auth::signin_page).post(auth::signin))
        .route("/signout", post(auth::signout))
        .route("/lang/{code}", get(auth::switch_language))
        .route("/processes", get(process::list_processes))
        .route("/processes/{process}", get(process::process_page))
        .route("/processes/{process}/start", post(process::start))
        .route("/processes/{process}/find", get(process::find))
        .route("/instances/{id}", get(process::instance_page))
        .route("/instances/{id}/fire/{event}", post(process::fire))
        .route("/instances/{id}/comments", post(comments::add_comment))
        .route("/feeds", post(feed::new_feed))
        .route("/feeds/{secret}", get(feed::work_feed))
        .route("/instances/{id}/versions/{field}", get(documents::versions))
        .route("/instances/{id}/print", get(documents::print))
        .route("/instances/{id}/documents/{doc}", get(documents::document))
        .route("/audit", get(audit::audit_page))
        .route("/audit.csv", get(audit::audit_csv))
        .route("/cohorts/{id}/trainees", get(training::trainees_page))
        .route("/cohorts/{id}/import", post(training::import).layer(axum::extract::DefaultBodyLimit::max(UPLOAD_LIMIT)))
        .route("/cohorts/{id}/capacity", post(training::capacity))
        .route("/cohorts/{id}/assign", post(training::assign))
        .route("/cohorts/{id}/mentors", post(training::add_mentor))
        .route("/cohorts/{id}/trainee", post(training::add_trainee))
        .route("/cohorts/{id}/reassign", post(training::reassign))
        .route("/cohorts/{id}/begin", post(training::begin))
        .route("/cohorts/{id}/graduate", post(training::graduate))
        .route("/talent", get(talent::talent_page))
        .route("/my-trainees", get(mentoring::my_trainees))
        .route("/figures", get(figures::figures_page))
        .route("/figures.csv", get(figures::figures_csv))
        .route("/delegations", get(delegations::delegations_page).post(delegations::create_delegation))
        .route("/delegations/{id}/revoke", post(delegations::revoke_delegation))
        .route("/admin", get(admin::admin_page))
        .route("/admin/users", post(admin::create_user))
        .route("/admin/users/{id}/roles", post(admin::set_roles))
        .route("/admin/users/{id}/active", post(admin::set_active))
        .route("/admin/units", post(admin::create_unit))
        .route("/admin/tokens/{name}/revoke", post(admin::revoke_token))
        .route("/admin/migrations", get(migrations::migrations_page).post(migrations::migrate_instances))
        .route("/admin/webhooks", get(webhooks::webhooks_page).post(webhooks::create_subscription))
        .route("/admin/webhooks/{id}/active", post(webhooks::set_active))
        .route("/admin/webhooks/{id}/remove", post(webhooks::remove))
        .route("/admin/webhooks/deliveries/{id}/resend", post(webhooks::resend))
        .route("/substitutes", get(substitutes::substitutes_page).post(substitutes::create_substitute))
        .route("/substitutes/{id}/end", post(substitutes::end_substitute))
        .route("/settings", get(settings::settings_page).post(settings::save_settings))
        .route("/admin/users/{id}/mail", post(admin::set_mail))
        .route(
            "/instances/{id}/attachments",
            post(attachments::add_attachment).layer(axum::extract::DefaultBodyLimit::max(attachments::BODY_LIMIT)),
        )
        .route("/instances/{id}/attachments/{file}", get(attachments::download))
        .route(
            "/instances/{id}/fire/{event}/with-file",
            post(attachments::fire_with_file).layer(axum::extract::DefaultBodyLimit::max(attachments::BODY_LIMIT)),
        )
        .route("/static/style.css", get(assets::stylesheet))
        .route("/health", get(|| async { "ok" }))
        // Pages name no icon (`<link rel="icon" href="data:,">`); a browser that asks anyway
        // gets an empty answer, not a 404.
        .route("/favicon.ico", get(|| async { axum::http::StatusCode::NO_CONTENT }))
        .merge(crate::api::router(state.clone()))
        .fallback(assets::not_found)
        .layer(axum::middleware::from_fn(assets::error_pages))
        .layer(axum::middleware::from_fn(assets::security_headers))
        .with_state(state)
}
