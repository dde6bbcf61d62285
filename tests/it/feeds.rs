//! "My work" as an Atom feed at an address with a secret of its own: what waits for the person and
//! where they were mentioned, for a feed reader that has no session; a new address ends the old.

use axum::http::StatusCode;
use serde_json::json;

use crate::on_both_backends;
use crate::support::{Backend, data};
use crate::web::{Web, admin};

on_both_backends! {
    the_work_list_is_a_feed_at_a_secret_address => the_work_list_is_a_feed_at_a_secret_address;
}

/// The feed's path from the page that shows its address.
fn feed_path(page: &str) -> String {
    let at = page.find("/feeds/").expect("the feed's address is shown");
    page[at..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '/').collect()
}

async fn the_work_list_is_a_feed_at_a_secret_address(backend: Backend) {
    let web = Web::embedded(backend).await;
    web.units(&["u01"]).await;
    web.people(&[("chen.jing", &["unit_secretary@u01"])]).await;
    let id = web
        .rt()
        .start("assembly_approval", &admin(), &data(json!({ "unit": "u01", "draft_version": 1 })))
        .await
        .unwrap();

    let mut secretary = web.browser();
    secretary.sign_in("chen.jing").await;
    let csrf = secretary.csrf().await;
    let made = secretary.post("/feeds", &[("_csrf", &csrf)]).await;
    assert_eq!(made.status, StatusCode::OK);
    let path = feed_path(&made.body);

    // A feed reader: no cookie.
    let mut reader = web.browser();
    let feed = reader.get(&path).await;
    assert_eq!(feed.status, StatusCode::OK);
    assert_eq!(feed.header(axum::http::header::CONTENT_TYPE), Some("application/atom+xml; charset=utf-8"));
    assert!(feed.body.starts_with("<?xml") && feed.body.contains(r#"<feed xmlns="http://www.w3.org/2005/Atom""#));
    assert!(feed.body.contains(&format!("urn:unionflow:work:{id}:1")), "the waiting assembly: {}", feed.body);
    assert!(feed.body.contains(&format!("/instances/{id}\"")));
    // A step gives a new entry (a reader shows it as new); done, it leaves the feed.
    web.fire(id, &admin(), "schedule", json!({ "assembly_date": "2026-03-20", "kind": "representatives" })).await;
    let feed = reader.get(&path).await;
    assert!(feed.body.contains(&format!("urn:unionflow:work:{id}:2")));
    web.fire(id, &admin(), "withdraw", json!({ "withdrawal_reason": "重新协商" })).await;
    assert!(!reader.get(&path).await.body.contains("urn:unionflow:work:"), "nothing waits any more");

    // A new address ends the old one; an unknown one is not found.
    let csrf = secretary.csrf().await;
    let again = secretary.post("/feeds", &[("_csrf", &csrf)]).await;
    let new_path = feed_path(&again.body);
    assert_ne!(new_path, path);
    assert_eq!(reader.get(&path).await.status, StatusCode::NOT_FOUND);
    assert_eq!(reader.get(&new_path).await.status, StatusCode::OK);
    assert_eq!(reader.get("/feeds/0000").await.status, StatusCode::NOT_FOUND);
    // A deactivated account's feed ends with it.
    let change =
        unionflow::store::audit::Audited::begin(web.state.db(), "admin", "test", crate::support::START).await.unwrap();
    let who = unionflow::people::Username::parse("chen.jing").unwrap();
    let user = unionflow::people::users::id_of(change.conn(), &who).await.unwrap().expect("chen.jing");
    unionflow::people::users::set_active(change.conn(), user, false).await.unwrap();
    let record = unionflow::store::audit::Record { kind: "admin", event: Some("set_active"), data: json!({}) };
    change.commit(record).await.unwrap();
    assert_eq!(reader.get(&new_path).await.status, StatusCode::NOT_FOUND);
}
