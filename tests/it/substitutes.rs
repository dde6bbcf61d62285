//! Substitutes (issue 15, item 3): a person names who stands in for them over a period; the
//! substitute sees and does their work during it, each step audited "B for A", and not before
//! it, after it, or once it is ended early. Bad input changes nothing.

use axum::http::StatusCode;
use serde_json::json;
use time::macros::datetime;

use crate::on_both_backends;
use crate::support::Backend;
use crate::web::{Browser, Web, admin, display_name, zh};

on_both_backends! {
    substitute_acts_only_within_the_period => a_substitute_acts_for_the_absent_person_only_within_the_period;
    bad_substitutions_change_nothing => bad_substitutions_are_refused_clearly_and_change_nothing;
}

const PEOPLE: &[(&str, &[&str])] =
    &[("admin", &["admin"]), ("chen.jing", &["unit_secretary@u01"]), ("liu.yang", &[]), ("zhou.min", &[])];

async fn setting(backend: Backend) -> (Web, i64) {
    let web = Web::embedded(backend).await;
    web.units(&["u01"]).await;
    web.people(PEOPLE).await;
    let given = crate::support::data(json!({ "unit": "u01", "draft_version": 1 }));
    let id = web.rt().start("assembly_approval", &admin(), &given).await.unwrap();
    (web, id)
}

async fn signed_in(web: &Web, user: &str) -> (Browser, String) {
    let mut b = web.browser();
    b.sign_in(user).await;
    let csrf = b.csrf().await;
    (b, csrf)
}

async fn name(b: &mut Browser, csrf: &str, substitute: &str, from: &str, until: &str) -> crate::web::Page {
    b.post(
        "/substitutes",
        &[("_csrf", csrf), ("substitute", substitute), ("from", from), ("until", until), ("reason", "年假")],
    )
    .await
}

/// Schedules the assembly as `b`, for `absent`.
async fn schedule_for(b: &mut Browser, csrf: &str, id: i64, absent: &str) -> crate::web::Page {
    let form = [("_csrf", csrf), ("_for", absent), ("assembly_date", "2026-03-20"), ("kind", "representatives")];
    b.post(&format!("/instances/{id}/fire/schedule"), &form).await
}

fn gap_refusal(absent: &str, gap: String) -> String {
    zh().f("refusal.not_substitute", &[("absent", display_name(absent)), ("gap", gap)])
}

async fn a_substitute_acts_for_the_absent_person_only_within_the_period(backend: Backend) {
    let (web, id) = setting(backend).await;
    let (mut chen, chen_csrf) = signed_in(&web, "chen.jing").await;
    let named = name(&mut chen, &chen_csrf, "liu.yang", "2026-03-05", "2026-03-10").await;
    assert_eq!(named.status, StatusCode::SEE_OTHER, "{}", named.text());
    let listed = chen.get("/substitutes").await;
    assert!(listed.says(&display_name("liu.yang")) && listed.says("年假"), "{}", listed.text());
    assert_eq!(web.count("SELECT COUNT(*) AS n FROM audit_events WHERE kind = 'substitute'").await, 1);

    // Before the period: the instance is not theirs to open, and a step for her says why.
    let (mut liu, liu_csrf) = signed_in(&web, "liu.yang").await;
    assert_eq!(liu.get(&format!("/instances/{id}")).await.status, StatusCode::FORBIDDEN);
    let early = schedule_for(&mut liu, &liu_csrf, id, "chen.jing").await;
    assert_eq!(early.status, StatusCode::FORBIDDEN);
    let not_yet = zh().f("substitutes.gap.not_yet", &[("from", "2026-03-05".into())]);
    assert!(early.says(&gap_refusal("chen.jing", not_yet)), "{}", early.text());
    assert_eq!(web.state_of(id).await, "draft_received");

    // Within it: her work is in his list, marked, and her absence shows where she would act.
    web.clock.set(datetime!(2026-03-06 09:00 +08:00));
    let (mut liu, liu_csrf) = signed_in(&web, "liu.yang").await;
    let work = liu.get("/").await;
    assert!(work.body.contains(&format!(r#"href="/instances/{id}""#)), "{}", work.text());
    assert!(work.says(&zh().f("work.for_absent", &[("name", display_name("chen.jing"))])), "{}", work.text());
    let page = liu.get(&format!("/instances/{id}")).await;
    assert_eq!(page.status, StatusCode::OK);
    let away = zh().f(
        "substitutes.holder_away",
        &[
            ("name", display_name("chen.jing")),
            ("until", "2026-03-10".into()),
            ("substitute", display_name("liu.yang")),
        ],
    );
    assert!(page.says(&away), "the absent holder is shown as absent: {}", page.text());
    assert!(page.body.contains(r#"name="_for" value="chen.jing""#), "the form says whom it is done for");
    let done = schedule_for(&mut liu, &liu_csrf, id, "chen.jing").await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text());
    assert_eq!(web.state_of(id).await, "assembly_scheduled");
    let history = web.rt().history(id).await.unwrap();
    let step = history.iter().find(|e| e.record.event.as_deref() == Some("schedule")).expect("the step");
    assert_eq!(step.record.actor, "liu.yang", "the substitute is the actor");
    assert_eq!((step.data()["for"].clone(), step.data()["substitution"].clone()), (json!("chen.jing"), json!(1)));
    let page = liu.get(&format!("/instances/{id}")).await;
    let b_for_a = zh().f("substitutes.history_for", &[("by", "liu.yang".into()), ("absent", "chen.jing".into())]);
    assert!(page.says(&b_for_a), "the history says B for A: {}", page.text());
    // Acting for someone one does not stand in for is refused, though the page opens.
    let forged = schedule_for(&mut liu, &liu_csrf, id, "admin").await;
    assert_eq!(forged.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", forged.text());
    let none = zh().t("substitutes.gap.none").to_owned();
    assert!(forged.says(&gap_refusal("admin", none)), "{}", forged.text());

    // After it: refused, with the reason, and nothing changes.
    web.clock.set(datetime!(2026-03-11 09:00 +08:00));
    let (mut liu, liu_csrf) = signed_in(&web, "liu.yang").await;
    let version = web.rt().instance(id).await.unwrap().row.version;
    let form = [("_csrf", liu_csrf.as_str()), ("_for", "chen.jing")];
    let late = liu.post(&format!("/instances/{id}/fire/open_session"), &form).await;
    assert_eq!(late.status, StatusCode::FORBIDDEN);
    let over = zh().f("substitutes.gap.over", &[("until", "2026-03-10".into())]);
    assert!(late.says(&gap_refusal("chen.jing", over)), "{}", late.text());
    assert_eq!(web.rt().instance(id).await.unwrap().row.version, version, "nothing changed");
    assert!(!liu.get("/").await.body.contains(&format!(r#"href="/instances/{id}""#)), "her work has left his list");

    // Ended early: it stops at once.
    let (mut chen, chen_csrf) = signed_in(&web, "chen.jing").await;
    let named = name(&mut chen, &chen_csrf, "zhou.min", "2026-03-11", "2026-03-20").await;
    assert_eq!(named.status, StatusCode::SEE_OTHER, "{}", named.text());
    let (mut zhou, zhou_csrf) = signed_in(&web, "zhou.min").await;
    assert_eq!(zhou.get(&format!("/instances/{id}")).await.status, StatusCode::OK, "in force: she sees it");
    let ended = chen.post("/substitutes/2/end", &[("_csrf", &chen_csrf)]).await;
    assert_eq!(ended.status, StatusCode::SEE_OTHER);
    let form = [("_csrf", zhou_csrf.as_str()), ("_for", "chen.jing")];
    let stopped = zhou.post(&format!("/instances/{id}/fire/open_session"), &form).await;
    assert_eq!(stopped.status, StatusCode::FORBIDDEN);
    let gap = zh().f("substitutes.gap.ended", &[("on", "2026-03-11".into())]);
    assert!(stopped.says(&gap_refusal("chen.jing", gap)), "{}", stopped.text());
    assert_eq!(web.state_of(id).await, "assembly_scheduled");
    assert_eq!(web.count("SELECT COUNT(*) AS n FROM audit_events WHERE kind = 'substitute'").await, 3);
    assert!(web.verify().await.broken.is_none(), "the chains verify");
}

async fn bad_substitutions_are_refused_clearly_and_change_nothing(backend: Backend) {
    let (web, id) = setting(backend).await;
    let (mut chen, csrf) = signed_in(&web, "chen.jing").await;
    let cases: [(&str, &str, &str, String); 5] = [
        ("nobody", "", "2026-03-10", zh().f("substitutes.problem.unknown_person", &[("name", "nobody".into())])),
        ("chen.jing", "", "2026-03-10", zh().t("substitutes.problem.to_self").to_owned()),
        ("liu.yang", "2026-03-10", "2026-03-09", zh().t("substitutes.problem.ends_before_start").to_owned()),
        ("liu.yang", "2026-03-02", "2027-03-10", zh().f("substitutes.problem.too_long", &[("days", "366".into())])),
        ("liu.yang", "2026-03-01", "2026-03-10", zh().t("substitutes.problem.in_the_past").to_owned()),
    ];
    for (substitute, from, until, says) in cases {
        let refused = name(&mut chen, &csrf, substitute, from, until).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{substitute} {from} {until}");
        assert!(refused.says(&says), "{says}: {}", refused.text());
        assert_eq!(refused.field("until").as_deref(), Some(until), "what was typed is kept");
    }
    // Someone else's substitute is an admin's to name.
    let form = [("_csrf", csrf.as_str()), ("absent", "zhou.min"), ("substitute", "liu.yang"), ("until", "2026-03-10")];
    let not_mine = chen.post("/substitutes", &form).await;
    assert_eq!(not_mine.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(not_mine.says(zh().t("substitutes.problem.not_yours")), "{}", not_mine.text());
    assert_eq!(web.count("SELECT COUNT(*) AS n FROM substitutions").await, 0, "nothing refused is kept");
    assert_eq!(web.count("SELECT COUNT(*) AS n FROM audit_events WHERE kind = 'substitute'").await, 0);

    let (mut root, root_csrf) = signed_in(&web, "admin").await;
    let form =
        [("_csrf", root_csrf.as_str()), ("absent", "zhou.min"), ("substitute", "liu.yang"), ("until", "2026-03-10")];
    assert_eq!(root.post("/substitutes", &form).await.status, StatusCode::SEE_OTHER, "an admin names anyone's");
    // One substitute at a time: an overlapping one is refused, naming the one in the way.
    let form = [
        ("_csrf", root_csrf.as_str()),
        ("absent", "zhou.min"),
        ("substitute", "chen.jing"),
        ("from", "2026-03-09"),
        ("until", "2026-03-12"),
    ];
    let overlap = root.post("/substitutes", &form).await;
    assert_eq!(overlap.status, StatusCode::UNPROCESSABLE_ENTITY);
    let args = [
        ("name", display_name("zhou.min")),
        ("substitute", display_name("liu.yang")),
        ("from", "2026-03-02".into()),
        ("until", "2026-03-10".into()),
    ];
    assert!(overlap.says(&zh().f("substitutes.problem.overlap", &args)), "{}", overlap.text());
    // Who may act both as themselves and for the absent person chooses, on the form.
    let form =
        [("_csrf", root_csrf.as_str()), ("absent", "chen.jing"), ("substitute", "admin"), ("until", "2026-03-10")];
    assert_eq!(root.post("/substitutes", &form).await.status, StatusCode::SEE_OTHER);
    let page = root.get(&format!("/instances/{id}")).await;
    let choice = page.named("_for");
    assert!(choice.iter().any(|e| e.name == "select"), "a choice of whom to act as: {}", page.body);
    assert!(page.says(zh().t("substitutes.acting.myself")));
    assert!(page.says(&zh().f("substitutes.acting.for", &[("name", display_name("chen.jing"))])));
    let done = schedule_for(&mut root, &root_csrf, id, "chen.jing").await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text());
    let history = web.rt().history(id).await.unwrap();
    let step = history.iter().find(|e| e.record.event.as_deref() == Some("schedule")).expect("the step");
    assert_eq!((step.record.actor.as_str(), step.data()["for"].clone()), ("admin", json!("chen.jing")));
    // Only those named in it, or an admin, end it.
    let forbidden = chen.post("/substitutes/1/end", &[("_csrf", &csrf)]).await;
    assert_eq!(forbidden.status, StatusCode::FORBIDDEN);
    assert_eq!(web.count("SELECT COUNT(*) AS n FROM substitutions WHERE ended_at IS NULL").await, 2);
    assert_eq!(web.count("SELECT COUNT(*) AS n FROM audit_events WHERE kind = 'substitute'").await, 2);
    assert!(web.verify().await.broken.is_none());
}
