//! `unionflow user activate|deactivate|password`: the way back in when no admin can sign in,
//! audited like an admin's change on the page.

use axum::http::StatusCode;

use crate::on_both_backends;
use crate::support::Backend;
use crate::web::{PASSWORD, Web, zh};
use unionflow::cli::{AccountChange, user_change};
use unionflow::config::DbArgs;

async fn the_command_line_deactivates_reactivates_and_resets_a_password(backend: Backend) {
    let web = Web::embedded(backend).await;
    web.people(&[("admin", &["admin"])]).await;
    let db = DbArgs { database: web.db.url.clone() };
    let mut signed_in = web.browser();
    signed_in.sign_in("admin").await;

    user_change(&db, "admin", AccountChange::Deactivate).await.expect("deactivated");
    assert_eq!(signed_in.get("/admin").await.status, StatusCode::SEE_OTHER, "their session ended");
    let refused = web.browser().sign_in_with("admin", PASSWORD).await;
    assert!(refused.says(zh().t("signin.deactivated")), "told so, not 'wrong password'");

    user_change(&db, "admin", AccountChange::Activate).await.expect("activated");
    web.browser().sign_in("admin").await;

    let new = unionflow::people::Password::parse("a new long password").expect("a password");
    user_change(&db, "admin", AccountChange::ResetPassword(new)).await.expect("reset");
    assert_eq!(web.browser().sign_in_with("admin", PASSWORD).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(web.browser().sign_in_with("admin", "a new long password").await.status, StatusCode::SEE_OTHER);

    let events =
        "SELECT COUNT(*) AS n FROM audit_events WHERE actor = 'cli' AND event IN ('set_active', 'reset_password')";
    assert_eq!(web.count(events).await, 3, "each change is in the audit trail");
    assert!(user_change(&db, "nobody", AccountChange::Activate).await.is_err(), "an unknown name is refused");
}

on_both_backends! {
    cli_accounts => the_command_line_deactivates_reactivates_and_resets_a_password;
}
