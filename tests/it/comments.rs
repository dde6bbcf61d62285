//! Comments on an instance and its steps: in the history beside the steps and in the audit chain,
//! never edited (a correction refers to the comment it corrects), and a mention that waits in the
//! person's work until they open the instance.

use axum::http::StatusCode;
use serde_json::json;

use crate::on_both_backends;
use crate::support::Backend;
use crate::web::{Web, admin};

on_both_backends! {
    comments_join_the_history_and_mentions_wait_in_my_work => comments_join_the_history_and_mentions_wait_in_my_work;
}

async fn comments_join_the_history_and_mentions_wait_in_my_work(backend: Backend) {
    let web = Web::embedded(backend).await;
    web.units(&["u01", "u02"]).await;
    web.people(&[("admin", &["admin"]), ("chen.jing", &["unit_secretary@u01"]), ("liu.yang", &["unit_secretary@u02"])])
        .await;
    let id = web
        .rt()
        .start("assembly_approval", &admin(), &crate::support::data(json!({ "unit": "u01", "draft_version": 1 })))
        .await
        .unwrap();
    web.fire(id, &admin(), "schedule", json!({ "assembly_date": "2026-03-20", "kind": "representatives" })).await;
    let version = web.rt().instance(id).await.unwrap().row.version;

    let mut secretary = web.browser();
    secretary.sign_in("chen.jing").await;
    let csrf = secretary.csrf().await;
    let path = format!("/instances/{id}/comments");
    // The schedule step is the second event of the instance's history.
    let said = secretary
        .post(
            &path,
            &[("_csrf", &csrf), ("text", "会议室改在三楼，请 @admin 确认。"), ("on_step", "1"), ("corrects", "")],
        )
        .await;
    assert_eq!(said.status, StatusCode::SEE_OTHER, "{}", said.body);
    let page = secretary.get(&format!("/instances/{id}")).await;
    assert!(page.body.contains("会议室改在三楼，请 @admin 确认。"), "the comment is in the history");
    assert!(page.body.contains(r#"class="comment""#));
    let history = web.rt().history(id).await.unwrap();
    let comment = history.iter().find(|e| e.record.kind == "comment").expect("a comment event in the chain");
    assert_eq!((comment.record.actor.as_str(), comment.data()["on_step"].clone()), ("chen.jing", json!(1)));
    assert_eq!(web.rt().instance(id).await.unwrap().row.version, version, "a comment does not make open forms stale");

    // The mention waits in the admin's work until they open the instance.
    let mut admin_browser = web.browser();
    admin_browser.sign_in("admin").await;
    let work = admin_browser.get("/").await;
    assert!(
        work.body.contains(&format!(r#"href="/instances/{id}""#)) && work.body.contains("CHEN JING"),
        "{}",
        work.body
    );
    admin_browser.get(&format!("/instances/{id}")).await;
    let work = admin_browser.get("/").await;
    assert!(!work.body.contains("mentions-h"), "opened: the mention has left their work");

    // A correction is a new comment naming the one it corrects; only one's own can be corrected.
    let seq = comment.record.seq.to_string();
    let corrected = secretary
        .post(&path, &[("_csrf", &csrf), ("text", "更正：会议室在二楼。"), ("on_step", ""), ("corrects", &seq)])
        .await;
    assert_eq!(corrected.status, StatusCode::SEE_OTHER);
    let admin_csrf = admin_browser.csrf().await;
    let not_theirs = admin_browser
        .post(&path, &[("_csrf", &admin_csrf), ("text", "不对"), ("on_step", ""), ("corrects", &seq)])
        .await;
    assert_eq!(not_theirs.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(not_theirs.field("text").as_deref(), Some("不对"), "what was typed is kept");
    let history = web.rt().history(id).await.unwrap();
    let comments: Vec<_> = history.iter().filter(|e| e.record.kind == "comment").collect();
    assert_eq!(comments.len(), 2);
    assert_eq!(comments[1].data()["corrects"], json!(comment.record.seq));
    assert_eq!(comments[0].data()["text"], "会议室改在三楼，请 @admin 确认。", "never edited");

    // Someone who cannot see the instance is neither mentioned nor commenting; an empty comment
    // is refused; nothing of these is recorded.
    let mention_other = secretary.post(&path, &[("_csrf", &csrf), ("text", "@liu.yang 看看"), ("on_step", "")]).await;
    assert_eq!(mention_other.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(mention_other.body.contains("LIU YANG"), "names who cannot be mentioned");
    let empty = secretary.post(&path, &[("_csrf", &csrf), ("text", "  "), ("on_step", "")]).await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    let mut other = web.browser();
    other.sign_in("liu.yang").await;
    let other_csrf = other.csrf().await;
    let outsider = other.post(&path, &[("_csrf", &other_csrf), ("text", "我也说两句"), ("on_step", "")]).await;
    assert_eq!(outsider.status, StatusCode::FORBIDDEN);
    let below_zero =
        secretary.post(&path, &[("_csrf", &csrf), ("text", "x"), ("on_step", "-9223372036854775808")]).await;
    assert_eq!(below_zero.status, StatusCode::BAD_REQUEST, "a place below 0 is refused, not a panic");
    let after = web.rt().history(id).await.unwrap();
    assert_eq!(after.len(), history.len(), "refused comments leave nothing");
    assert_eq!(web.verify().await.broken, None, "the chain covers the comments");

    // A name that is no one's yet, and the author's own, are text, not mentions: a person made
    // later with that name is not sent to the instance.
    let later =
        secretary.post(&path, &[("_csrf", &csrf), ("text", "@bob.new @chen.jing 记下了"), ("on_step", "")]).await;
    assert_eq!(later.status, StatusCode::SEE_OTHER);
    let last = web.rt().history(id).await.unwrap().pop().expect("the comment");
    assert_eq!(last.data()["mentions"], json!([]));
    web.people(&[("bob.new", &["admin"])]).await;
    let mut bob = web.browser();
    bob.sign_in("bob.new").await;
    assert!(!bob.get("/").await.body.contains("mentions-h"));
    // A step still goes through after the comments moved the chain's head.
    web.fire(id, &admin(), "open_session", json!({})).await;
    assert_eq!(web.state_of(id).await, "in_session");
}
