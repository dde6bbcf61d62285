//! The web app in-process, through its router, on both databases: sign-in, CSRF, scopes,
//! refusals that keep what was typed, conflicts, the language switch, the audit trail. Each test
//! builds just the people, units, rounds and cohorts it reads; wording is compared with the
//! locale's own strings, so a change in `locales/` does not break a test.

use axum::http::{StatusCode, header};
use sea_orm::ConnectionTrait;
use serde_json::json;

use crate::on_both_backends;
use crate::support::Backend;
use crate::web::{NEGOTIATORS, PASSWORD, RoundAt, Web, admin, coordinator, display_name, en, zh};

/// The text of a locale's string before its first placeholder: what a refusal always starts with.
fn lead(key: &str) -> String {
    zh().t(key).split('{').next().unwrap_or_default().to_owned()
}

async fn signing_in_and_out(backend: Backend) {
    let web = Web::embedded(backend).await;
    web.people(&[("wang.wei", &["worker_negotiator"])]).await;
    let mut b = web.browser();
    assert_eq!(b.get("/").await.location.as_deref(), Some("/signin?next=/"), "the work list needs a session");
    let wrong = b.sign_in_with("wang.wei", "not the password").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.says(zh().t("signin.failed")), "the reason is shown in Chinese by default");
    assert_eq!(wrong.field("username").as_deref(), Some("wang.wei"), "the user name is kept");
    b.sign_in("wang.wei").await;
    let home = b.get("/").await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.texts("h1").iter().any(|h| h == zh().t("work.title")), "the work list");
    let csrf = b.csrf().await;
    b.post("/signout", &[("_csrf", &csrf)]).await;
    assert_eq!(b.get("/").await.status, StatusCode::SEE_OTHER, "signed out");
}

async fn repeated_failures_lock_the_name_even_for_the_right_password(backend: Backend) {
    let web = Web::embedded(backend).await;
    web.people(&[("li.na", &["worker_negotiator"])]).await;
    let mut b = web.browser();
    for _ in 0..5 {
        assert_eq!(b.sign_in_with("li.na", "wrong password").await.status, StatusCode::UNAUTHORIZED);
    }
    let locked = b.sign_in_with("li.na", PASSWORD).await;
    assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(locked.says(&lead("signin.locked")), "{}", locked.body);
    web.clock.advance(time::Duration::minutes(16));
    assert_eq!(b.sign_in_with("li.na", PASSWORD).await.status, StatusCode::SEE_OTHER, "unlocked after the window");
}

async fn an_idle_session_expires(backend: Backend) {
    let web = Web::embedded(backend).await;
    web.people(&[("admin", &["admin"])]).await;
    let mut b = web.browser();
    b.sign_in("admin").await;
    assert_eq!(b.get("/audit").await.status, StatusCode::OK);
    web.clock.advance(time::Duration::hours(9));
    assert_eq!(b.get("/audit").await.location.as_deref(), Some("/signin?next=/audit"));
}

async fn a_post_without_the_csrf_token_is_refused_and_changes_nothing(backend: Backend) {
    let web = Web::embedded(backend).await;
    web.negotiators().await;
    web.people(&[("admin", &["admin"])]).await;
    let round = web.round(&["u01"], RoundAt::UnitReview).await;
    let mut b = web.browser();
    b.sign_in("admin").await;
    let before = web.count("SELECT COUNT(*) AS n FROM audit_events").await;
    let path = format!("/instances/{round}/fire/withdraw");
    for token in ["", "forged"] {
        let page = b.post(&path, &[("_csrf", token), ("withdrawal_reason", "test")]).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN);
        assert!(page.says(zh().t("error.csrf")), "{}", page.body);
    }
    assert_eq!(web.count("SELECT COUNT(*) AS n FROM audit_events").await, before);
    assert_eq!(web.state_of(round).await, "unit_review");
}

async fn pages_by_role_and_scope(backend: Backend) {
    let web = Web::embedded(backend).await;
    web.units(&["u01", "u02", "u03"]).await;
    web.negotiators().await;
    web.people(&[("admin", &["admin"])]).await;
    let own = web.assembly("u01").await;
    let other = web.assembly("u02").await;
    let round = web.round(&["u02", "u03"], RoundAt::UnitReview).await;
    let mut b = web.browser();
    b.sign_in("chen.jing").await;
    assert_eq!(b.get(&format!("/instances/{own}")).await.status, StatusCode::OK, "her own unit's assembly");
    let refused = b.get(&format!("/instances/{other}")).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "another unit's assembly");
    assert!(!refused.says(&crate::web::unit("u02").name_zh), "the refusal shows no data");
    assert_eq!(
        b.get(&format!("/instances/{round}")).await.status,
        StatusCode::FORBIDDEN,
        "a round none of her unit's assemblies votes on is the negotiators'"
    );
    assert_eq!(b.get("/audit").await.status, StatusCode::FORBIDDEN);
    assert_eq!(b.get("/admin").await.status, StatusCode::FORBIDDEN);
    for path in ["/", "/processes", "/processes/assembly_approval"] {
        assert_eq!(b.get(path).await.status, StatusCode::OK, "{path}");
    }

    let mut admin = web.browser();
    admin.sign_in("admin").await;
    for path in [
        "/",
        "/processes",
        "/processes/bargaining_round",
        "/audit",
        "/admin",
        "/figures",
        "/figures.csv?process=bargaining_round&report=signing_rate",
    ] {
        assert_eq!(admin.get(path).await.status, StatusCode::OK, "admin sees {path}");
    }
    assert_eq!(admin.get(&format!("/instances/{round}")).await.status, StatusCode::OK);
}

async fn a_bad_tally_is_refused_with_the_reason_and_the_input_kept(backend: Backend) {
    let web = Web::embedded(backend).await;
    web.units(&["u01"]).await;
    web.people(&[("admin", &["admin"])]).await;
    let mut b = web.browser();
    b.sign_in("admin").await;
    let csrf = b.csrf().await;
    let started = b
        .post("/processes/assembly_approval/start", &[("_csrf", &csrf), ("unit", "u01"), ("draft_version", "2")])
        .await;
    let path = started.location.expect("to the new instance");
    let id: i64 = path.trim_start_matches("/instances/").parse().expect("an instance id");
    b.post(
        &format!("/instances/{id}/fire/schedule"),
        &[
            ("_csrf", &csrf),
            ("assembly_date", "2026-12-01"),
            ("kind", "representatives"),
            ("roster_size", "25"),
            ("roster_reason", "改选后代表 25 人"),
        ],
    )
    .await;
    b.post(&format!("/instances/{id}/fire/open_session"), &[("_csrf", &csrf)]).await;
    let vote = |present: &'static str, no: &'static str| {
        [
            ("_csrf", csrf.clone()),
            ("present", present.into()),
            ("yes", "14".into()),
            ("no", no.into()),
            ("abstain", "1".into()),
        ]
    };
    let form = vote("18", "4");
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let bad = b.post(&format!("/instances/{id}/fire/record_vote"), &form).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let reason = zh().f("tally.votes_above_present", &[("cast", "19".into()), ("present", "18".into())]);
    assert!(bad.says(&reason), "the reason names the problem: {}", bad.body);
    assert_eq!((bad.field("yes").as_deref(), bad.field("present").as_deref()), (Some("14"), Some("18")), "kept");
    assert_eq!(web.state_of(id).await, "in_session", "nothing was applied");
    let form = vote("18", "3");
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let good = b.post(&format!("/instances/{id}/fire/record_vote"), &form).await;
    assert_eq!(good.status, StatusCode::SEE_OTHER);
    let page = b.get(&path).await;
    let figures = zh().f(
        "instance.vote.figures",
        &[
            ("present", "18".into()),
            ("roster", "25".into()),
            ("quorum_needed", "17".into()),
            ("yes", "14".into()),
            ("yes_needed", "13".into()),
            ("no", "3".into()),
            ("abstain", "1".into()),
        ],
    );
    assert!(page.says(&figures), "the figures that decided it: {}", page.text());
}

async fn a_stale_form_is_a_conflict_that_keeps_the_input(backend: Backend) {
    let web = Web::embedded(backend).await;
    web.negotiators().await;
    web.people(&[("admin", &["admin"])]).await;
    let round = web.round(&["u01"], RoundAt::UnitReview).await;
    let mut b = web.browser();
    b.sign_in("admin").await;
    let page = b.get(&format!("/instances/{round}")).await;
    let (csrf, version) = (page.hidden("_csrf"), page.hidden("_version"));
    let current = version.parse::<i64>().expect("a version");
    let stale = (current - 1).to_string();
    let conflict = b
        .post(
            &format!("/instances/{round}/fire/withdraw"),
            &[("_csrf", &csrf), ("_version", &stale), ("withdrawal_reason", "合并到下一轮")],
        )
        .await;
    assert_eq!(conflict.status, StatusCode::CONFLICT);
    assert!(conflict.says(&zh().f("instance.conflict", &[("found", current.to_string())])), "{}", conflict.body);
    assert_eq!(conflict.field("withdrawal_reason").as_deref(), Some("合并到下一轮"), "what was typed is kept");
    assert_eq!(web.state_of(round).await, "unit_review", "nothing changed");
}

async fn the_language_switch_is_remembered(backend: Backend) {
    let web = Web::embedded(backend).await;
    web.people(&[("wang.wei", &["worker_negotiator"])]).await;
    let mut b = web.browser();
    b.sign_in("wang.wei").await;
    let switch = b.get("/lang/en?back=/processes").await;
    assert_eq!(switch.location.as_deref(), Some("/processes"));
    assert!(b.get("/").await.texts("h1").iter().any(|h| h == en().t("work.title")));
    assert_eq!(b.get("/processes").await.lang().as_deref(), Some("en"));
    b.get("/lang/zh-CN?back=/").await;
    let home = b.get("/").await;
    assert!(home.texts("h1").iter().any(|h| h == zh().t("work.title")));
    assert_eq!(home.lang().as_deref(), Some("zh-CN"));
    assert_eq!(
        b.get("/lang/en?back=https://evil.example/").await.location.as_deref(),
        Some("/"),
        "only this site's paths"
    );
}

async fn the_audit_trail_filters_exports_and_raises_the_alarm(backend: Backend) {
    let web = Web::embedded(backend).await;
    web.units(&["u01"]).await;
    web.people(&[("admin", &["admin"]), ("gao.hong", &["training_coordinator"]), ("wang.wei", &["worker_negotiator"])])
        .await;
    // More events than a page holds, from two people.
    for i in 0..12 {
        let given =
            json!({ "name": format!("班{i}"), "year": 2026, "fields": ["智能制造"], "phases": 6, "capacity": 10 });
        web.rt().start("training_cohort", &coordinator(), &crate::support::data(given)).await.expect("a cohort");
    }
    for _ in 0..95 {
        let given = json!({ "sector": "教育", "year": 2026, "units": ["u01"] });
        web.rt().start("bargaining_round", &crate::web::worker(), &crate::support::data(given)).await.expect("a round");
    }
    let mut b = web.browser();
    b.sign_in("admin").await;
    let filtered = b.get("/audit?actor=gao.hong&kind=start").await;
    assert_eq!(filtered.status, StatusCode::OK);
    let cells = filtered.texts("td");
    assert!(cells.iter().any(|c| c == "gao.hong") && !cells.iter().any(|c| c == "wang.wei"), "{cells:?}");
    // The actor is picked by name as it is typed (a datalist: no script needed).
    let offered = filtered.elements("option");
    assert!(
        offered.iter().any(|o| o.attr("value") == Some("gao.hong") && o.text == display_name("gao.hong")),
        "people are offered by name"
    );
    let first = b.get("/audit").await;
    let older = first
        .links()
        .iter()
        .find_map(|l| l.split("before=").nth(1).map(|s| s.split('&').next().unwrap_or_default().to_owned()))
        .expect("a link to older events");
    let second = b.get(&format!("/audit?before={older}")).await;
    assert_eq!(second.status, StatusCode::OK);
    let ids: Vec<i64> = second.texts("td").iter().filter_map(|c| c.parse().ok()).collect();
    let older: i64 = older.parse().expect("an event id");
    assert!(!ids.is_empty() && !ids.contains(&older), "strictly older than the cursor: {ids:?}");

    // An instance is written "#N" everywhere; the filter takes it so.
    let instance: i64 = web.count("SELECT MIN(instance_id) AS n FROM audit_events WHERE instance_id IS NOT NULL").await;
    let by_hash = b.get(&format!("/audit?instance=%23{instance}")).await;
    assert_eq!(by_hash.status, StatusCode::OK, "#{instance} is an instance filter");
    let plain = b.get(&format!("/audit?instance={instance}")).await;
    assert_eq!(by_hash.texts("td"), plain.texts("td"), "the same events as {instance}");

    let csv = b.get("/audit.csv?actor=gao.hong").await;
    assert_eq!(csv.header(header::CONTENT_TYPE), Some("text/csv; charset=utf-8"));
    let lines: Vec<&str> = csv.body.trim_start_matches('\u{feff}').lines().collect();
    assert!(lines[0].starts_with("id,at,actor,kind"));
    assert!(
        lines.len() > 10 && lines[1..].iter().all(|l| l.split(',').nth(2) == Some("gao.hong")),
        "the filtered rows only"
    );

    b.state.refresh_chain_status().await.expect("verify");
    assert!(b.get("/audit").await.says(&lead("audit.chain.ok")));
    if web.db.backend == Backend::Postgres {
        web.db
            .db
            .execute_unprepared("ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_change")
            .await
            .expect("unguard");
    }
    let victim = web.count("SELECT MIN(id) + 3 AS n FROM audit_events").await;
    web.db
        .db
        .execute_unprepared(&format!("UPDATE audit_events SET actor = 'mallory' WHERE id = {victim}"))
        .await
        .expect("tamper");
    b.state.refresh_chain_status().await.expect("verify");
    let alarm = b.get("/audit").await;
    assert_eq!(alarm.with_class("alarm").len(), 1, "a loud alarm");
    assert!(alarm.body.contains(&format!("event {victim} ")), "naming the first bad event");
}

async fn pages_carry_strict_headers_and_errors_show_no_internals(backend: Backend) {
    let web = Web::embedded(backend).await;
    web.people(&[("admin", &["admin"])]).await;
    let mut b = web.browser();
    let page = b.get("/signin").await;
    let csp = page.header(header::CONTENT_SECURITY_POLICY).unwrap_or_default().to_owned();
    assert!(csp.contains("default-src 'none'") && !csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(page.header(header::X_FRAME_OPTIONS), Some("DENY"));
    b.sign_in("admin").await;
    let missing = b.get("/instances/999999").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(missing.says(zh().t("error.404")) && !missing.body.contains("RecordNotFound"));
    let bad = b.get("/audit?instance=abc").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "bad input is a clear error, not a 500");
}

async fn admins_add_users_and_a_bad_role_keeps_the_form(backend: Backend) {
    let web = Web::embedded(backend).await;
    web.units(&["u03"]).await;
    web.people(&[("admin", &["admin"])]).await;
    let mut b = web.browser();
    b.sign_in("admin").await;
    let csrf = b.csrf().await;
    let user = |roles: &'static str| {
        [
            ("_csrf", csrf.clone()),
            ("username", "qian.li".into()),
            ("display_name", "钱力".into()),
            ("password", "long enough password".into()),
            ("roles", roles.into()),
        ]
    };
    let form = user("janitor");
    let bad = b.post("/admin/users", &form.iter().map(|(k, v)| (*k, v.as_str())).collect::<Vec<_>>()).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.field("username").as_deref(), Some("qian.li"), "the input is kept");
    assert!(
        bad.says(&zh().f("people.unknown_role", &[("role", "janitor".into())])),
        "the problem in the reader's words"
    );
    let form = user("unit_secretary@u03");
    let ok = b.post("/admin/users", &form.iter().map(|(k, v)| (*k, v.as_str())).collect::<Vec<_>>()).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    let mut new_user = web.browser();
    assert_eq!(new_user.sign_in_with("qian.li", "long enough password").await.status, StatusCode::SEE_OTHER);
    assert_eq!(
        web.count("SELECT COUNT(*) AS n FROM audit_events WHERE kind = 'admin' AND event = 'create_user'").await,
        1
    );
}

async fn a_coordinator_uploads_trainees_and_bad_rows_are_listed_by_line(backend: Backend) {
    let web = Web::embedded(backend).await;
    web.people(&[("gao.hong", &["training_coordinator"])]).await;
    let in_training = web.cohort_in_training(2, &["xu.ming"], 1).await;
    let mut b = web.browser();
    b.sign_in("gao.hong").await;
    let csrf = b.csrf().await;
    let started = b
        .post(
            "/processes/training_cohort/start",
            &[
                ("_csrf", &csrf),
                ("name", "2027 工匠学院"),
                ("year", "2027"),
                ("fields", "智能制造"),
                ("phases", "6"),
                ("capacity", "1"),
            ],
        )
        .await;
    let cohort = started.location.expect("the new cohort").trim_start_matches("/instances/").to_owned();
    // A cohort in training offers no form that can only fail there (issue 12, item 5).
    let running = b.get(&format!("/cohorts/{in_training}/trainees")).await;
    assert_eq!(running.status, StatusCode::OK);
    for action in ["import", "trainee", "capacity"] {
        assert!(
            running
                .elements("form")
                .iter()
                .all(|f| f.attr("action") != Some(&format!("/cohorts/{in_training}/{action}"))),
            "no {action} form in training"
        );
    }
    assert!(running.says(zh().t("training.enrolment_closed")), "and it says why");
    let enrolling = b.get(&format!("/cohorts/{cohort}/trainees")).await;
    assert!(
        enrolling.elements("form").iter().any(|f| f.attr("action") == Some(&format!("/cohorts/{cohort}/capacity"))),
        "planning takes a capacity"
    );
    let early = b.post(&format!("/instances/{cohort}/fire/open_enrolment"), &[("_csrf", &csrf)]).await;
    assert_eq!(early.status, StatusCode::SEE_OTHER);
    let import = format!("/cohorts/{cohort}/import");
    let (enrolled, waiting) = (zh().t("training.enrolled"), zh().t("training.waiting"));
    let bad = "姓名,工作单位,工种,技能等级,联系方式\n新人甲,海淀厂,焊工,高级工,13911112222\n新人乙,,焊工,高级工,13911112223\n";
    let refused = b.upload(&import, &[("_csrf", &csrf)], bad.as_bytes()).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let employer = zh().f("import.empty", &[("what", "工作单位".into())]);
    let line = zh().f("import.line", &[("line", "3".into()), ("problem", employer)]);
    assert!(refused.says(&line), "the bad row by its line: {}", refused.text());
    assert_eq!(refused.number_after(enrolled), Some(0), "nothing was imported");
    let good = "姓名,工作单位,工种,技能等级,联系方式\n新人甲,海淀厂,焊工,高级工,13911112222\n新人丙,海淀厂,焊工,高级工,13911112224\n";
    let imported = b.upload(&import, &[("_csrf", &csrf)], good.as_bytes()).await;
    assert_eq!(imported.status, StatusCode::OK);
    let counts = (imported.number_after(enrolled), imported.number_after(waiting));
    assert_eq!(counts, (Some(1), Some(1)), "beyond the capacity, the next one waits");
    let mut huge = String::from("姓名,工作单位,工种,技能等级,联系方式\n");
    while huge.len() < 50 * 1024 * 1024 {
        huge.push_str("新人丁,海淀厂,焊工,高级工,13911112225\n");
    }
    let refused = b.upload(&import, &[("_csrf", &csrf)], huge.as_bytes()).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "a 50 MB file is refused with a report");
    assert!(refused.says(&zh().f("import.file.too_large", &[("mb", "5".into())])), "the report names the limit");
    let counts = (refused.number_after(enrolled), refused.number_after(waiting));
    assert_eq!(counts, (Some(1), Some(1)), "and nothing was imported");
}

async fn representatives_are_chosen_from_people_and_one_chief_a_side(backend: Backend) {
    let web = Web::embedded(backend).await;
    web.units(&["u01", "u02"]).await;
    web.negotiators().await;
    let mut b = web.browser();
    b.sign_in("wang.wei").await;
    let csrf = b.csrf().await;
    let started = b
        .post(
            "/processes/bargaining_round/start",
            &[("_csrf", &csrf), ("sector", "海淀区民办教育"), ("year", "2027"), ("units", "u01"), ("units", "u02")],
        )
        .await;
    let path = started.location.expect("to the new round");
    let id: i64 = path.trim_start_matches("/instances/").parse().expect("an id");
    b.post(&format!("/instances/{id}/fire/request_by_workers"), &[("_csrf", &csrf), ("request_letter", "请求协商")])
        .await;
    let mut employer = web.browser();
    employer.sign_in("zhao.lei").await;
    let ecsrf = employer.csrf().await;
    employer.post(&format!("/instances/{id}/fire/reply_by_employer"), &[("_csrf", &ecsrf)]).await;

    let form = b.get(&path).await;
    let offered: Vec<String> = form.choices("worker_reps").into_iter().map(|(v, _)| v).collect();
    assert!(offered.contains(&"li.na".to_owned()), "people are offered: {offered:?}");
    assert!(form.says(&format!("{} (li.na)", display_name("li.na"))), "by their names");
    let name = |reps: &[&'static str], chiefs: &[&'static str]| {
        let mut f: Vec<(&str, &str)> = vec![("_csrf", csrf.as_str())];
        f.extend(reps.iter().map(|r| ("worker_reps", *r)));
        f.extend(chiefs.iter().map(|c| ("worker_chief", *c)));
        f
    };
    let fire = format!("/instances/{id}/fire/name_worker_side");
    let refused = b.post(&fire, &name(&["wang.wei", "li.na", "chen.jing"], &["wang.wei", "li.na"])).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.says(&lead("field.only_one")), "a second chief is named as the problem");
    assert!(refused.ticked("worker_reps").contains(&"chen.jing".to_owned()), "the representatives ticked stay ticked");
    let refused = b.post(&fire, &name(&["wang.wei", "li.na"], &["wang.wei"])).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let count = |n: &str| zh().f("guard.count.people", &[("n", n.into())]);
    let label = "职工方协商代表".to_owned();
    let too_few = zh().f("guard.too_few", &[("field", label), ("count", count("2")), ("min", count("3"))]);
    assert!(refused.says(&too_few), "people are counted as people: {}", refused.text());
    let refused = b.post(&fire, &name(&["wang.wei", "li.na", "nobody.here"], &["wang.wei"])).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.says(&zh().f("field.not_in_directory", &[("item", "nobody.here".into())])));
    let unchanged = web.rt().instance(id).await.expect("the round").row.version;

    assert_eq!(
        b.post(&fire, &name(&["wang.wei", "li.na", "chen.jing"], &["wang.wei"])).await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(web.rt().instance(id).await.expect("the round").row.version, unchanged + 1);
    let page = b.get(&path).await;
    let names = ["wang.wei", "li.na", "chen.jing"].map(display_name).join(zh().t("punct.list"));
    assert!(page.says(&names), "representatives are shown by name: {names}");
}

async fn letters_and_contracts_print_with_their_signatures_and_dates(backend: Backend) {
    let web = Web::embedded(backend).await;
    web.units(&["u01", "u02"]).await;
    web.negotiators().await;
    web.people(&[("admin", &["admin"]), ("gao.hong", &["training_coordinator"])]).await;
    let passed = web.assembly("u01").await;
    web.vote(passed, 30, 27, 22).await;
    web.fire(passed, &admin(), "confirm", json!({})).await;
    let pending = web.assembly("u02").await;
    let reviewing = web.round(&["u01", "u02"], RoundAt::UnitReview).await;
    let objecting = web.assemblies(reviewing).await["u02"];
    web.vote(objecting, 30, 27, 5).await;
    web.fire(objecting, &admin(), "close", json!({ "objections": "工资年增长幅度低于本园实际" })).await;
    let round = web.round(&["u01"], RoundAt::InEffect).await;
    let cohort = web.graduated_cohort(1, "xu.ming").await;
    let graduate = web.tracks(cohort).await[0];
    assert_eq!(web.state_of(graduate).await, "in_talent_pool");

    let mut b = web.browser();
    b.sign_in("admin").await;
    let letter = b.get(&format!("/instances/{passed}/documents/confirmation_letter")).await;
    assert_eq!(letter.status, StatusCode::OK);
    let heading = web.rt().definitions().definitions["assembly_approval"].documents[0].heading.zh.clone();
    assert!(letter.says(&heading), "the letter's heading from its definition");
    let paragraphs = letter.texts("p");
    let unit = crate::web::unit("u01").name_zh;
    assert!(
        paragraphs.iter().any(|p| p.starts_with(&unit) && p.contains("2026-04-01")),
        "the unit and the date are filled in: {paragraphs:?}"
    );
    let figures = zh().f(
        "instance.vote.figures",
        &[
            ("present", "27".into()),
            ("roster", "30".into()),
            ("quorum_needed", "20".into()),
            ("yes", "22".into()),
            ("yes_needed", "15".into()),
            ("no", "5".into()),
            ("abstain", "0".into()),
        ],
    );
    assert!(letter.says(&figures), "the figures that decided the vote are printed");
    let rule = &web.rt().definitions().definitions["assembly_approval"].vote_rules["contract"];
    let wording = rule.wording.as_ref().expect("the contract rule words its passing").zh.clone();
    assert!(
        paragraphs.iter().any(|p| p.contains(&format!("，{wording}，"))) && !letter.body.contains("{rule.wording}"),
        "the letter says how the draft passed in the words of the rule applied: {paragraphs:?}"
    );
    let early = b.get(&format!("/instances/{pending}/documents/confirmation_letter")).await;
    assert_eq!(early.status, StatusCode::NOT_FOUND, "no letter before the assembly approved");

    let units = b.get(&format!("/instances/{reviewing}")).await;
    assert!(units.says("工资年增长幅度低于本园实际"), "a unit's objections stand beside it on the round");

    let page = b.get(&format!("/instances/{round}")).await;
    let contract_path = format!("/instances/{round}/documents/contract");
    assert!(page.links_to(&contract_path), "the contract is offered");
    let contract = b.get(&contract_path).await;
    assert_eq!(contract.status, StatusCode::OK);
    assert!(contract.says(&display_name("wang.wei")) && contract.says(&display_name("zhao.lei")), "both chiefs");
    assert!(contract.says("3 年"), "the term is filled in");
    assert!(
        contract.texts("p").iter().any(|p| p.starts_with("本合同适用于：") && p.contains(&unit)),
        "the contract names the units it covers: {:?}",
        contract.texts("p")
    );
    assert!(
        !contract.body.contains("{draft_text}") && !contract.body.contains("{term_years}"),
        "every placeholder is filled"
    );

    // A graduate's record: the map of levels shown by the competences' names, and drawn.
    let record = b.get(&format!("/instances/{graduate}")).await;
    assert!(record.says("引领力 ") && !record.says("leadership "), "levels by competence name");
    assert!(record.by_id("map-levels").is_some(), "and as a chart");
}

async fn a_long_draft_shows_only_its_changed_clause_between_versions(backend: Backend) {
    let web = Web::embedded(backend).await;
    web.negotiators().await;
    web.people(&[("admin", &["admin"])]).await;
    let round = web.round(&["u01"], RoundAt::Negotiating).await;
    // A draft near the field's limit of 100,000 characters, in more lines than a comparison of
    // every line with every line can afford.
    let clause = |i: usize| format!("第{i}条 支付第{i}项报酬。\n");
    let first: String = (1..=5200).map(clause).collect();
    assert!((95_000..=100_000).contains(&first.chars().count()), "{} characters", first.chars().count());
    let second = first.replacen(&clause(1500), "第1500条 第1500项报酬每年增长不低于5%。\n", 1);
    assert_ne!(first, second);
    web.fire(round, &admin(), "propose_draft", json!({ "draft_text": first, "term_years": 3 })).await;
    web.fire(round, &admin(), "propose_draft", json!({ "draft_text": second, "term_years": 3 })).await;

    let mut b = web.browser();
    b.sign_in("admin").await;
    let page = b.get(&format!("/instances/{round}/versions/draft_text")).await;
    assert_eq!(page.status, StatusCode::OK);
    let newest = page.body.split("<section").nth(1).expect("the newest version first").to_owned();
    assert_eq!(newest.matches("<del>").count(), 1, "one line removed");
    assert!(newest.contains(&format!("<del>{}</del>", clause(1500).trim_end())));
    assert_eq!(newest.matches("<ins>").count(), 1, "one line added");
    assert!(newest.contains("<ins>第1500条 第1500项报酬每年增长不低于5%。</ins>"));
    assert!(newest.matches(r#"<span class="same">"#).count() >= first.lines().count() - 1, "the rest unchanged");
}

async fn a_coordinator_adds_reassigns_and_graduates_from_the_trainees_page(backend: Backend) {
    let web = Web::embedded(backend).await;
    web.people(&[("gao.hong", &["training_coordinator"])]).await;
    let running = web.cohort_in_training(120, &["xu.ming", "tang.hui"], 2).await;
    web.assess_all(web.tracks(running).await[0], 3).await;
    let mut b = web.browser();
    b.sign_in("gao.hong").await;
    let csrf = b.csrf().await;
    let start = [
        ("_csrf", csrf.as_str()),
        ("name", "2027 班"),
        ("year", "2027"),
        ("fields", "智能制造"),
        ("phases", "6"),
        ("capacity", "1"),
    ];
    let started = b.post("/processes/training_cohort/start", &start).await;
    let cohort = started.location.expect("the new cohort").trim_start_matches("/instances/").to_owned();
    b.post(&format!("/instances/{cohort}/fire/open_enrolment"), &[("_csrf", &csrf)]).await;
    let path = format!("/cohorts/{cohort}/trainee");
    let trainee = |name: &'static str, contact: &'static str| {
        vec![
            ("_csrf", csrf.as_str()),
            ("employer", "海淀厂"),
            ("trade", "焊工"),
            ("skill_level", "技师"),
            ("name", name),
            ("contact", contact),
        ]
    };
    let first = b.post(&path, &trainee("孙一", "13900000001")).await;
    assert!(first.says(&zh().f("training.added", &[("name", "孙一".into())])), "the first trainee takes the one place");
    let second = b.post(&path, &trainee("孙二", "13900000002")).await;
    assert!(second.says(&zh().f("training.added_waiting", &[("name", "孙二".into())])), "the next one waits");
    let bad = b.post(&path, &trainee("孙三", "12345")).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.says(&zh().f("import.contact", &[("value", "12345".into())])), "the bad contact is named");
    assert_eq!((bad.field("name").as_deref(), bad.field("contact").as_deref()), (Some("孙三"), Some("12345")), "kept");
    assert_eq!(web.count(&format!("SELECT COUNT(*) AS n FROM trainees WHERE cohort_id = {cohort}")).await, 2);

    // The cohort in training: two trainees given to another mentor, with the reason kept.
    let page = b.get(&format!("/cohorts/{running}/trainees")).await;
    // 120 enrolled, shown 100 at a time by position.
    assert_eq!(page.choices("trainee").len(), 100);
    assert_eq!(page.number_after(zh().t("training.enrolled")), Some(120));
    let last = b.get(&format!("/cohorts/{running}/trainees?after=100")).await;
    assert_eq!(last.choices("trainee").len(), 20, "the last page");
    assert!(!last.links().iter().any(|l| l.contains("?after=")), "and no page after it");
    assert!(page.links().iter().any(|l| l.contains("?after=100")), "the first page links to the next");
    for chart in ["chart-attendance", "chart-competences"] {
        assert!(page.by_id(chart).is_some(), "the dashboard's {chart}");
    }
    // Two trainees whom another mentor follows.
    let xu_mings: Vec<String> = web
        .rt()
        .children(running)
        .await
        .expect("tracks")
        .into_iter()
        .filter(|t| t.data.get("mentor").and_then(|m| m.as_str()) == Some("xu.ming"))
        .filter_map(|t| t.data.get("trainee").and_then(|c| c.as_str()).map(str::to_owned))
        .collect();
    let codes: Vec<String> =
        page.choices("trainee").into_iter().map(|(code, _)| code).filter(|c| xu_mings.contains(c)).take(2).collect();
    assert_eq!(codes.len(), 2, "xu.ming follows trainees on the first page");
    let path = format!("/cohorts/{running}/reassign");
    let mut form =
        vec![("_csrf", csrf.as_str()), ("trainee", &codes[0]), ("trainee", &codes[1]), ("mentor", "tang.hui")];
    let no_reason = b.post(&path, &form).await;
    assert_eq!(no_reason.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(no_reason.says(zh().t("training.reason_needed")));
    assert_eq!(no_reason.ticked("trainee"), codes, "the ticks are kept");
    assert!(no_reason.selected().contains(&"tang.hui".to_owned()), "and the mentor chosen");
    form.push(("reason", "学员转岗，改由唐慧指导"));
    let moved = b.post(&path, &form).await;
    assert_eq!(moved.status, StatusCode::OK);
    assert!(moved.says(&zh().f("training.reassigned", &[("count", "2".into())])), "{}", moved.text());
    let kept = "SELECT COUNT(*) AS n FROM audit_events WHERE event IN ('reassign', 'assign_mentor') AND data LIKE '%改由唐慧%'";
    assert!(web.count(kept).await >= 1, "the reason is in the audit trail");
    let early = b.post(&format!("/cohorts/{running}/graduate"), &[("_csrf", &csrf)]).await;
    assert_eq!(early.status, StatusCode::UNPROCESSABLE_ENTITY, "no graduation before the last phase");
}

async fn a_mentor_sees_their_own_trainees_with_what_is_due(backend: Backend) {
    let web = Web::embedded(backend).await;
    web.units(&["u01"]).await;
    web.people(&[
        ("gao.hong", &["training_coordinator"]),
        ("xu.ming", &["mentor"]),
        ("chen.jing", &["unit_secretary@u01"]),
    ])
    .await;
    let cohort = web.cohort_in_training(6, &["xu.ming", "tang.hui"], 3).await;
    let mut b = web.browser();
    b.sign_in("xu.ming").await;
    let home = b.get("/").await;
    assert!(home.links_to("/my-trainees"), "mentors have the menu entry");
    assert!(!home.links_to("/figures"), "the sector figures are not for mentors");
    let page = b.get("/my-trainees").await;
    assert_eq!(page.status, StatusCode::OK);
    let own = web
        .count(&format!("SELECT COUNT(*) AS n FROM instances WHERE parent_id = {cohort} AND process = 'trainee_track' AND outcome IS NULL AND data LIKE '%\"mentor\":\"xu.ming\"%'"))
        .await;
    assert!(own > 0 && own < 6, "the test's mentors share the cohort: {own}");
    let rows = page.links().iter().filter(|l| l.starts_with("/instances/")).count() as i64;
    assert_eq!(rows, own, "only their own");
    assert!(page.says(&zh().f("mentoring.phase_record", &[("n", "3".into())])), "the phase the cohort is in is due");

    let mut secretary = web.browser();
    secretary.sign_in("chen.jing").await;
    assert!(!secretary.get("/").await.links_to("/my-trainees"));
    assert_eq!(secretary.get("/my-trainees").await.status, StatusCode::FORBIDDEN);
}

/// Issue 12, item 1: the people a step rests on can read what it rests on.
async fn those_a_step_rests_on_read_the_round_and_its_units_assemblies(backend: Backend) {
    let web = Web::embedded(backend).await;
    web.units(&["u01", "u02"]).await;
    web.negotiators().await;
    let round = web.round(&["u01", "u02"], RoundAt::UnitReview).await;
    let assemblies = web.assemblies(round).await;
    let (u01, u02) = (assemblies["u01"], assemblies["u02"]);
    web.vote(u01, 30, 27, 22).await;
    web.fire(u01, &admin(), "confirm", json!({})).await;
    let mut b = web.browser();
    b.sign_in("wang.wei").await;
    assert_eq!(b.get(&format!("/instances/{u01}")).await.status, StatusCode::OK, "a negotiator reads a unit's vote");
    let letter = b.get(&format!("/instances/{u01}/documents/confirmation_letter")).await;
    assert_eq!(letter.status, StatusCode::OK, "and its confirmation letter");
    let mut bureau = web.browser();
    bureau.sign_in("ma.qiang").await;
    assert_eq!(bureau.get(&format!("/instances/{u01}")).await.status, StatusCode::OK, "so does the bureau's reviewer");
    let mut secretary = web.browser();
    secretary.sign_in("chen.jing").await;
    let page = secretary.get(&format!("/instances/{round}")).await;
    assert_eq!(page.status, StatusCode::OK, "a unit's secretary reads the round her assembly votes on");
    assert_eq!(
        secretary.get(&format!("/instances/{u02}")).await.status,
        StatusCode::FORBIDDEN,
        "not another unit's vote"
    );
    // A link is shown only where it opens: hers, not the other unit's.
    let (her, other) = (format!("/instances/{u01}"), format!("/instances/{u02}"));
    assert!(page.links_to(&her) && !page.links_to(&other), "{:?}", page.links());
    let negotiators = b.get(&format!("/instances/{round}")).await;
    assert!(negotiators.links_to(&her) && negotiators.links_to(&other), "a negotiator opens every unit's");
}

/// The demo itself: it seeds, and every one of its people signs in with the demo password. The
/// one page test that seeds it, since the demo is what it checks.
async fn the_demo_seeds_and_its_people_sign_in(backend: Backend) {
    let web = Web::embedded(backend).await;
    assert!(unionflow::demo::seed(web.rt()).await.expect("the demo"), "seeded into an empty database");
    assert!(!unionflow::demo::seed(web.rt()).await.expect("a second start"), "and only once");
    for (name, _) in NEGOTIATORS {
        let mut b = web.browser();
        let page = b.sign_in_with(name, unionflow::demo::DEMO_PASSWORD).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{name} signs in to the demo");
    }
}

/// A trainee's track is titled by its definition (`title = ["trainee"]`, the field naming a
/// trainee of the cohort), on its own page and in the cohort's list of children, in each
/// language's punctuation.
async fn a_track_is_titled_by_its_trainee_as_the_definition_says(backend: Backend) {
    let web = Web::embedded(backend).await;
    let cohort = web.cohort_in_training(2, &["xu.ming"], 1).await;
    let track = web.tracks(cohort).await[0];
    let code =
        web.rt().instance(track).await.expect("the track").row.data["trainee"].as_str().unwrap_or_default().to_owned();
    let name = unionflow::training::enrol::name_of(web.state.db(), cohort, &code).await.expect("read").expect("a name");
    web.people(&[("gao.hong", &["training_coordinator"])]).await;
    let mut b = web.browser();
    b.sign_in("gao.hong").await;
    let zh_title = zh().f("title.name_with_id", &[("name", name.clone()), ("id", code.clone())]);
    assert!(b.get(&format!("/instances/{track}")).await.texts("h1")[0].starts_with(&zh_title));
    let children = b.get(&format!("/instances/{cohort}")).await;
    assert!(children.texts("a").contains(&zh_title), "the cohort lists its trainee by name");
    b.get("/lang/en").await;
    let en_title = en().f("title.name_with_id", &[("name", name), ("id", code)]);
    assert!(b.get(&format!("/instances/{track}")).await.texts("h1")[0].starts_with(&en_title));
}

/// Minutes typed while the session runs out are not lost: the post that finds no session shows
/// the sign-in with the form carried through it, and after signing in the form comes back,
/// ready to send, with what was typed; sent, it is recorded as if the session had never ended.
async fn a_form_posted_after_the_session_ended_survives_the_sign_in(backend: Backend) {
    let web = Web::embedded(backend).await;
    web.negotiators().await;
    let round = web.round(&["u01"], RoundAt::Negotiating).await;
    let mut b = web.browser();
    b.sign_in("wang.wei").await;
    let page = b.get(&format!("/instances/{round}")).await;
    let (csrf, version) = (b.csrf().await, page.hidden("_version"));
    web.clock.advance(time::Duration::hours(9));
    let minutes = "第三次协商：工资增长 5%。\n<b>\"原文\"</b> & 备注";
    let path = format!("/instances/{round}/fire/record_session");
    let typed = [
        ("_csrf", csrf.as_str()),
        ("_version", version.as_str()),
        ("session_date", "2026-03-02"),
        ("session_attendees", "王伟\n赵磊"),
        ("session_minutes", minutes),
    ];
    let signin = b.post(&path, &typed).await;
    assert_eq!(signin.status, StatusCode::UNAUTHORIZED);
    assert!(signin.says(zh().t("signin.expired_kept")));
    assert_eq!(signin.field("carried.session_minutes").as_deref(), Some(minutes), "the minutes ride along");
    assert_eq!(signin.field("next").as_deref(), Some(path.as_str()));
    assert_eq!(signin.field("carried._csrf"), None, "the old session's token is not carried");
    let mut form: Vec<(String, String)> = signin
        .elements("input")
        .into_iter()
        .filter(|e| e.attr("type") == Some("hidden"))
        .filter_map(|e| Some((e.attr("name")?.to_owned(), e.attr("value")?.to_owned())))
        .collect();
    form.extend([("username".to_owned(), "wang.wei".to_owned()), ("password".to_owned(), PASSWORD.to_owned())]);
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let resend = b.post("/signin", &pairs).await;
    assert_eq!(resend.status, StatusCode::OK, "signed in, the form comes back before it is sent");
    assert_eq!(web.count("SELECT COUNT(*) AS n FROM audit_events WHERE event = 'record_session'").await, 0);
    let shown = |t: &String| t.split_whitespace().eq(minutes.split_whitespace());
    assert!(resend.texts("dd").iter().any(shown), "what was typed is shown: {:?}", resend.texts("dd"));
    let again: Vec<(String, String)> = resend
        .elements("input")
        .into_iter()
        .filter_map(|e| Some((e.attr("name")?.to_owned(), e.attr("value")?.to_owned())))
        .collect();
    let again: Vec<(&str, &str)> = again.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let sent = b.post(&path, &again).await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "sent under the new session: {}", sent.body);
    let row = web.rt().instance(round).await.expect("the round").row;
    assert_eq!(row.data["session_minutes"].as_str(), Some(minutes), "recorded as typed");
}

/// A post too large to carry is not carried cut short (a roll call sent with its last rows
/// missing would count them absent), and a post that carries nothing leads home after the
/// sign-in rather than to a route that only takes posts.
async fn a_form_too_large_or_empty_is_not_carried(backend: Backend) {
    let web = Web::embedded(backend).await;
    web.negotiators().await;
    let round = web.round(&["u01"], RoundAt::Negotiating).await;
    let mut b = web.browser();
    let many: Vec<(String, String)> = (0..12_001).map(|i| (format!("f{i}"), "x".to_owned())).collect();
    let pairs: Vec<(&str, &str)> = many.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let big = b.post(&format!("/instances/{round}/fire/record_session"), &pairs).await;
    assert!(big.field("carried.f0").is_none() && big.field("carried.f12000").is_none(), "not carried at all");
    assert_eq!(big.field("next").as_deref(), Some("/"));
    let signout = b.post("/signout", &[("_csrf", "stale")]).await;
    assert_eq!(signout.field("next").as_deref(), Some("/"), "not back to a route that only takes posts");
}

/// Another site's page cannot use the carry-through: its post, landing without a session, is
/// sent to a plain sign-in, so nothing it chose comes back to be sent under the victim's session.
async fn another_sites_post_is_not_carried_through_the_sign_in(backend: Backend) {
    let web = Web::embedded(backend).await;
    web.negotiators().await;
    let round = web.round(&["u01"], RoundAt::Negotiating).await;
    let mut b = web.browser();
    let body = "session_date=2026-03-02&session_minutes=planted";
    let forged = axum::http::Request::post(format!("/instances/{round}/fire/record_session"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::HOST, "unionflow.example")
        .header(header::ORIGIN, "https://elsewhere.example")
        .header("sec-fetch-site", "cross-site")
        .body(axum::body::Body::from(body))
        .expect("a request");
    let answer = b.send(forged).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "a plain way to the sign-in");
    assert!(!answer.body.contains("planted"));
}

/// u01 on record with 48 representatives by name (issue 11, item 6).
async fn u01_by_name(web: &Web) -> Vec<String> {
    let names: Vec<String> = (1..=48).map(|i| format!("代表{i:02}")).collect();
    let mut unit = crate::web::unit("u01");
    unit.roster_size = 48;
    unit.roster = names.join("\n");
    unionflow::store::units::upsert(&web.db.db, &unit, crate::support::START).await.expect("u01");
    names
}

/// Issue 12, item 3: a roll call of 48 recorded by ticks, one row per delegate of the unit's
/// register; every name that does not add up is named at once, and the ticks are kept.
async fn a_roll_call_of_48_is_ticked_row_by_row(backend: Backend) {
    let web = Web::embedded(backend).await;
    web.people(&[("admin", &["admin"])]).await;
    let names = u01_by_name(&web).await;
    let mut b = web.browser();
    b.sign_in("admin").await;
    let csrf = b.csrf().await;
    let started = b
        .post("/processes/assembly_approval/start", &[("_csrf", &csrf), ("unit", "u01"), ("draft_version", "2")])
        .await;
    let path = started.location.expect("to the new instance");
    let id = path.trim_start_matches("/instances/").to_owned();
    let form = b.get(&path).await;
    assert!(
        form.body.contains(r#"id="schedule-roster_size" name="roster_size" type="number" value="48""#),
        "the form shows the register's figure"
    );
    let schedule = [("_csrf", csrf.as_str()), ("assembly_date", "2026-12-01"), ("kind", "representatives")];
    let scheduled = b.post(&format!("/instances/{id}/fire/schedule"), &schedule).await;
    assert_eq!(scheduled.status, StatusCode::SEE_OTHER, "the register's roster needs no typing");
    b.post(&format!("/instances/{id}/fire/open_session"), &[("_csrf", &csrf)]).await;

    let page = b.get(&path).await;
    assert!(page.body.contains(zh().t("rollcall.caption")), "the roll call is a table");
    for name in &names {
        assert_eq!(page.body.matches(&format!(r#"name="ballot:{name}""#)).count(), 4, "{name}: yes, no, abstain, none");
    }
    assert!(!page.body.contains(r#"id="record_roll_call-voted_yes""#), "no box to type the names in");
    assert!(
        page.body.contains(r#"aria-labelledby="record_roll_call-rc1 record_roll_call-rc-present""#),
        "each tick is named by its person and column"
    );

    // 40 present: 30 in favour, 5 against, 3 abstaining, 2 without a vote; and two delegates
    // not ticked present who are ticked as voting.
    let vote_of = |i: usize| match i {
        1..=30 => "yes",
        31..=35 => "no",
        36..=38 => "abstain",
        45 | 46 => "yes",
        _ => "",
    };
    let keys: Vec<String> = names.iter().map(|n| format!("ballot:{n}")).collect();
    let mut form: Vec<(&str, &str)> = vec![("_csrf", &csrf), ("_rollcall", "1"), ("minutes", "会议记录")];
    for (i, name) in names.iter().enumerate() {
        if i < 40 {
            form.push(("attendees", name));
        }
        form.push((&keys[i], vote_of(i + 1)));
    }
    let refused = b.post(&format!("/instances/{id}/fire/record_roll_call"), &form).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let absent = |i: usize| zh().f("tally.voted_but_absent", &[("name", names[i - 1].clone())]);
    assert!(refused.body.contains(&absent(45)), "the first name that does not add up");
    assert!(refused.body.contains(&absent(46)), "and the second, at once");
    let present = format!(
        r#"name="attendees" value="{}" aria-labelledby="record_roll_call-rc40 record_roll_call-rc-present" checked"#,
        names[39]
    );
    assert!(refused.body.contains(&present), "the ticks are kept");
    let against = format!(
        r#"name="ballot:{}" value="no" aria-labelledby="record_roll_call-rc31 record_roll_call-rc-no" checked"#,
        names[30]
    );
    assert!(refused.body.contains(&against), "and the votes");
    assert!(refused.body.contains(r#"id="record_roll_call-rc45-error""#), "the row is marked");

    // The two are ticked present: 42 present of 48, 32 in favour.
    form.push(("attendees", &names[44]));
    form.push(("attendees", &names[45]));
    let recorded = b.post(&format!("/instances/{id}/fire/record_roll_call"), &form).await;
    assert_eq!(recorded.status, StatusCode::SEE_OTHER, "{}", recorded.body);
    let vote = &web.rt().instance(id.parse().unwrap()).await.unwrap().row.data["vote"];
    assert_eq!(
        (vote["roster"].as_i64(), vote["present"].as_i64(), vote["yes"].as_i64()),
        (Some(48), Some(42), Some(32))
    );
}

/// Issue 11, item 6: an admin keeps a unit's roster by name; an assembly then starts from it.
async fn an_admin_keeps_a_units_roster_by_name(backend: Backend) {
    let web = Web::embedded(backend).await;
    web.people(&[("admin", &["admin"])]).await;
    let mut b = web.browser();
    b.sign_in("admin").await;
    let csrf = b.csrf().await;
    let unit = |roster: &'static str| {
        vec![
            ("id", "u99"),
            ("name_zh", "新星幼儿园"),
            ("name_en", "Xinxing Kindergarten"),
            ("sector", "海淀区民办教育"),
            ("kind", "kindergarten"),
            ("roster_size", "10"),
            ("roster", roster),
        ]
    };
    let mut bad = unit("张一\n张\u{202E}二");
    bad.push(("_csrf", &csrf));
    let refused = b.post("/admin/units", &bad).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "a name that reads backwards is refused");
    let mut long = unit(
        "张一\n张二张二张二张二张二张二张二张二张二张二张二张二张二张二张二张二张二张二张二张二张二张二张二张二张二张二张二张二张二张二张二",
    );
    long.push(("_csrf", &csrf));
    let refused = b.post("/admin/units", &long).await;
    let line = zh().f("people.bad_roster_name", &[("line", "2".into()), ("max", "60".into()), ("most", "5000".into())]);
    assert!(refused.body.contains(&line), "the line is named");
    // Two people of one name would be one row and one vote: refused at its line.
    let mut twice = unit("张一\n\n张二\n张三\n张二");
    twice.push(("_csrf", &csrf));
    let refused = b.post("/admin/units", &twice).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let repeated = zh().f("people.roster_repeated", &[("line", "5".into()), ("name", "张二".into())]);
    assert!(refused.says(&repeated), "the repeated name is named with its line");
    let mut good = unit("张一\n\n张二\n张三");
    good.push(("_csrf", &csrf));
    assert_eq!(b.post("/admin/units", &good).await.status, StatusCode::SEE_OTHER);
    let page = b.get("/admin").await;
    let counted = format!("3 ({})", zh().t("admin.unit.by_name"));
    assert!(page.texts("td").contains(&counted), "counted");

    let started = b
        .post("/processes/assembly_approval/start", &[("_csrf", &csrf), ("unit", "u99"), ("draft_version", "1")])
        .await;
    let id: i64 = started.location.expect("to the new instance").trim_start_matches("/instances/").parse().unwrap();
    let data = web.rt().instance(id).await.unwrap().row.data;
    assert_eq!(data["roster"], json!(["张一", "张二", "张三"]), "the assembly starts from the unit's roster");
    assert_eq!(data["roster_size"], json!(3));
}

/// A new draft version starts from the last one, and its term from the term last proposed, so
/// nobody pastes the whole contract again (issue 12, item 10).
async fn a_new_draft_version_starts_from_the_last(backend: Backend) {
    let web = Web::embedded(backend).await;
    web.negotiators().await;
    let round = web.round(&["u01"], RoundAt::Negotiating).await;
    let mut b = web.browser();
    b.sign_in("wang.wei").await;
    let first = b.get(&format!("/instances/{round}")).await;
    assert_eq!(first.field("draft_text").as_deref(), Some(""), "the first version starts empty");
    let text = "第一条 工资\n第二条 工时";
    web.fire(round, &crate::web::worker(), "propose_draft", json!({ "draft_text": text, "term_years": 2 })).await;
    let next = b.get(&format!("/instances/{round}")).await;
    assert_eq!(next.field("draft_text").as_deref(), Some(text), "the next version starts from the last");
    assert_eq!(next.field("term_years").as_deref(), Some("2"));
    assert_eq!(next.field("draft_summary").as_deref(), Some(""), "what changed is said anew each time");
    assert!(next.says_shape(zh().t("instance.record_revision")), "the record's revision is not called a version");
}

/// The figures page draws the round's declared reports: the signing rate per sector and year,
/// and the rounds by stage, each as a chart and a table (issue 13, item 7: the stage durations
/// the page drew before are not a declared report and are gone).
async fn the_figures_page_draws_the_rounds_declared_reports(backend: Backend) {
    let web = Web::embedded(backend).await;
    web.negotiators().await;
    web.round(&["u01"], RoundAt::InEffect).await;
    let mut b = web.browser();
    b.sign_in("wang.wei").await;
    let page = b.get("/figures").await;
    assert_eq!(page.status, StatusCode::OK);
    let chart = |id: &str| {
        page.body
            .split(&format!(r#"aria-labelledby="{id}""#))
            .nth(1)
            .map(|rest| rest.split("</svg>").next().unwrap_or_default().to_owned())
    };
    let rate = chart("bargaining_round-signing_rate").expect("the signing rate");
    assert!(rate.contains("100% (1/1)"), "the one unit's round is in effect: {rate}");
    let stages = chart("bargaining_round-rounds_by_stage").expect("the rounds by stage");
    assert!(stages.contains("履行"), "the stage by its label: {stages}");
    assert!(page.texts("figcaption").contains(&"签订率".to_owned()), "{:?}", page.texts("figcaption"));
}

/// The figures page keeps its sums between views, but never past a change: a round started
/// after a view is counted in the next one.
async fn the_figures_page_counts_a_change_made_since_the_last_view(backend: Backend) {
    let web = Web::embedded(backend).await;
    web.negotiators().await;
    web.round(&["u01"], RoundAt::InEffect).await;
    let mut b = web.browser();
    b.sign_in("wang.wei").await;
    let rate = |page: &crate::web::Page| {
        page.body
            .split(r#"aria-labelledby="bargaining_round-signing_rate""#)
            .nth(1)
            .and_then(|rest| rest.split("</svg>").next())
            .unwrap_or_default()
            .to_owned()
    };
    let before = b.get("/figures").await;
    assert!(rate(&before).contains("100% (1/1)"), "{}", rate(&before));
    assert_eq!(rate(&b.get("/figures").await), rate(&before), "nothing changed: the same figures");
    web.round(&["u02"], RoundAt::Negotiating).await;
    let after = b.get("/figures").await;
    assert!(rate(&after).contains("50% (1/2)"), "the new round's unit is counted: {}", rate(&after));
}

/// The talent pool links a graduate only where their page opens for the reader, and names each
/// mentor by name (issue 12, items 1 and 11).
async fn the_talent_pool_links_only_what_opens_and_names_mentors(backend: Backend) {
    let web = Web::embedded(backend).await;
    web.people(&[("xu.ming", &["mentor"]), ("tang.hui", &["mentor"])]).await;
    web.graduated_cohort(2, "xu.ming").await;
    let mut theirs = web.browser();
    theirs.sign_in("xu.ming").await;
    let own = theirs.get("/talent").await;
    let tracks = own.links().into_iter().filter(|l| l.starts_with("/instances/")).collect::<Vec<_>>();
    assert_eq!(tracks.len(), 2, "their mentor opens both graduates: {:?}", own.links());
    for track in &tracks {
        assert_eq!(theirs.get(track).await.status, StatusCode::OK);
    }
    assert!(own.texts("td").contains(&display_name("xu.ming")), "the mentor by name, not by user name");
    let mut other = web.browser();
    other.sign_in("tang.hui").await;
    let pool = other.get("/talent").await;
    assert!(pool.links().iter().all(|l| !l.starts_with("/instances/")), "no link that would be refused");
    assert_eq!(other.get(&tracks[0]).await.status, StatusCode::FORBIDDEN, "it would have been refused");
}

/// The capacity guard's own words in the definition, with both numbers, in the reader's language.
async fn a_guard_refuses_in_its_own_words(backend: Backend) {
    let web = Web::embedded(backend).await;
    web.people(&[("gao.hong", &["training_coordinator"])]).await;
    let cohort = web.cohort(3, 3).await;
    let mut b = web.browser();
    b.sign_in("gao.hong").await;
    let csrf = b.csrf().await;
    let lower = format!("/instances/{cohort}/fire/raise_capacity");
    let refused = b.post(&lower, &[("_csrf", &csrf), ("capacity", "2")]).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let zh_words = "名额不能少于已录取人数：填写的是 2，已录取 3 人。";
    assert!(refused.says(zh_words), "the definition's words: {}", refused.text());
    assert!(!refused.says("必须 >="), "not the built-in words: {}", refused.text());
    b.get("/lang/en?back=/").await;
    let refused = b.post(&lower, &[("_csrf", &csrf), ("capacity", "2")]).await;
    let en_words = "The capacity cannot be below those enrolled: 2 given, 3 enrolled.";
    assert!(refused.says(en_words), "in English: {}", refused.text());
    assert!(!en().t("guard.counts_differ").contains("sides") && !zh().t("guard.counts_differ").contains("双方"));
    assert!(!zh().t("guard.already_set").contains("填写"), "a flag set by the round is not typed in");
}

/// The round's publication is refused in a union officer's words, never "0 people" or "sides".
async fn publication_is_refused_in_the_words_of_units(backend: Backend) {
    let web = Web::embedded(backend).await;
    web.units(&["u01", "u02"]).await;
    web.negotiators().await;
    let round = web.round(&["u01", "u02"], RoundAt::Approved).await;
    let mut b = web.browser();
    b.sign_in("wang.wei").await;
    let path = format!("/instances/{round}");
    let words = "还有合同覆盖的单位未登记公布：请先登记";
    let page = b.get(&path).await;
    assert!(page.says(words), "the definition's words: {}", page.text());
    assert!(
        page.says(&format!("已登记：{}；", zh().t("guard.message.blank"))),
        "nothing recorded yet: {}",
        page.text()
    );
    assert!(!page.says("双方") && !page.says("有 0 人"), "no sides, no people: {}", page.text());
    web.fire(round, &crate::web::worker(), "record_publication", json!({ "published_now": ["u01"] })).await;
    let page = b.get(&path).await;
    assert!(page.says(words) && !page.says(zh().t("guard.message.blank")), "the recorded unit is named");
    b.get("/lang/en?back=/").await;
    let page = b.get(&path).await;
    assert!(
        page.says("Some units the contract covers have not recorded publication yet"),
        "in English: {}",
        page.text()
    );
    assert!(!page.says("sides"), "{}", page.text());
}

/// After a unit rejects the draft, signing the old one is refused with what to do instead.
async fn signing_after_a_rejection_says_to_wait_for_the_new_draft(backend: Backend) {
    let web = Web::embedded(backend).await;
    web.units(&["u01"]).await;
    web.negotiators().await;
    let round = web.round(&["u01"], RoundAt::UnitReview).await;
    let assembly = web.assemblies(round).await["u01"];
    web.vote(assembly, 30, 27, 5).await;
    web.fire(assembly, &crate::web::admin(), "close", json!({ "objections": "工资条款" })).await;
    assert_eq!(web.state_of(round).await, "negotiating", "back to the table");
    let mut b = web.browser();
    b.sign_in("wang.wei").await;
    let page = b.get(&format!("/instances/{round}")).await;
    assert!(page.says("已要求提出新版草案：请在新版草案提交后再草签。"), "{}", page.text());
    assert!(!page.says("已经填写过了"), "not the engine's words: {}", page.text());
}

/// A blank on a printed document is drawn in the reader's typography: full-width in Chinese,
/// plain underscores in English (issue 12, item 9).
async fn a_documents_blanks_follow_the_readers_language(backend: Backend) {
    let web = Web::embedded(backend).await;
    web.negotiators().await;
    let round = web.round(&["u01"], RoundAt::Negotiating).await;
    let mut b = web.browser();
    b.sign_in("wang.wei").await;
    let path = format!("/instances/{round}/documents/draft");
    let zh_page = b.get(&path).await;
    assert!(zh_page.body.contains(zh().t("documents.blank")), "an unsigned line is a blank");
    b.get("/lang/en").await;
    let en_page = b.get(&path).await;
    assert!(
        en_page.body.contains(en().t("documents.blank")) && !en_page.body.contains('＿'),
        "no full-width blank in English"
    );
}

/// Issue 11, item 10: the chair records a written delegation on its page (a bad one is refused
/// with what was typed kept), the delegate signs for the chief, the draft prints who signed under
/// which letter, and once revoked the delegate can no longer sign.
async fn a_written_delegation_lets_its_holder_sign_for_the_chief_until_revoked(backend: Backend) {
    let web = Web::embedded(backend).await;
    web.negotiators().await;
    let round = web.round(&["u01"], RoundAt::Negotiating).await;
    let draft = json!({ "draft_text": "第一条 工资：年增长不低于 5%。", "term_years": 3 });
    web.fire(round, &crate::web::worker(), "propose_draft", draft).await;
    let mut chair = web.browser();
    chair.sign_in("wang.wei").await;
    let csrf = chair.csrf().await;
    let to_self = chair
        .post("/delegations", &[("_csrf", &csrf), ("to", "wang.wei"), ("round", "#999"), ("letter", "兹委托")])
        .await;
    assert_eq!(to_self.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(to_self.says(zh().t("delegations.problem.to_self")) && to_self.says("兹委托"), "{}", to_self.text());
    let no_round =
        chair.post("/delegations", &[("_csrf", &csrf), ("to", "li.na"), ("round", "#999"), ("letter", "兹委托")]).await;
    assert!(no_round.says(&zh().f("delegations.problem.no_round", &[("id", "999".into())])), "{}", no_round.text());
    let audited = web.count("SELECT COUNT(*) AS n FROM audit_events WHERE stream = 'delegations'").await;
    assert_eq!(audited, 0, "nothing refused is kept");
    let round_ref = format!("#{round}");
    let letter = "兹委托李娜代表本人在本轮集体合同草案上签字。";
    let made = chair
        .post("/delegations", &[("_csrf", &csrf), ("to", "li.na"), ("round", &round_ref), ("letter", letter)])
        .await;
    assert_eq!(made.status, StatusCode::SEE_OTHER);
    let listed = chair.get("/delegations").await;
    assert!(listed.says(letter) && listed.says(&display_name("li.na")), "{}", listed.text());
    assert_eq!(web.count("SELECT COUNT(*) AS n FROM audit_events WHERE stream = 'delegations'").await, 1);
    let mut holder = web.browser();
    holder.sign_in("li.na").await;
    let token = holder.csrf().await;
    let chained = holder.post("/delegations", &[("_csrf", &token), ("to", "chen.jing"), ("letter", "转委托")]).await;
    assert_eq!(chained.status, StatusCode::UNPROCESSABLE_ENTITY, "a delegate cannot hand it on");
    assert!(
        chained.says(&zh().f("delegations.problem.chain_from", &[("name", display_name("li.na"))])),
        "{}",
        chained.text()
    );

    // The delegate sees the chief's signature among her steps, and signs.
    let mut delegate = web.browser();
    delegate.sign_in("li.na").await;
    let path = format!("/instances/{round}");
    let page = delegate.get(&path).await;
    assert!(
        page.body.contains(&format!("action=\"{path}/fire/sign_draft_worker\"")),
        "the delegate may sign for the chief"
    );
    let version = page.hidden("_version");
    let token = delegate.csrf().await;
    let signed =
        delegate.post(&format!("{path}/fire/sign_draft_worker"), &[("_csrf", &token), ("_version", &version)]).await;
    assert_eq!(signed.status, StatusCode::SEE_OTHER, "{}", signed.text());
    let printed = delegate.get(&format!("{path}/documents/draft")).await;
    let by = zh().f("signature.delegated", &[("signer", display_name("li.na")), ("letter", "1".into())]);
    assert!(printed.says(&by), "the draft prints who signed under which letter: {}", printed.text());

    // Revoked by the chair: a new draft can no longer be signed by her.
    let revoke = chair.post("/delegations/1/revoke", &[("_csrf", &csrf)]).await;
    assert_eq!(revoke.status, StatusCode::SEE_OTHER);
    assert!(chair.get("/delegations").await.says("撤销"), "shown as revoked");
    let draft = json!({ "draft_text": "第一条 工资：年增长不低于 6%。", "term_years": 3 });
    web.fire(round, &crate::web::worker(), "propose_draft", draft).await;
    let page = delegate.get(&path).await;
    assert!(!page.body.contains(&format!("action=\"{path}/fire/sign_draft_worker\"")), "no longer hers to sign");
    let mut other = web.browser();
    other.sign_in("zhao.lei").await;
    let token = other.csrf().await;
    let forbidden = other.post("/delegations/1/revoke", &[("_csrf", &token)]).await;
    assert_eq!(forbidden.status, StatusCode::FORBIDDEN, "only the one who gave it, or an admin, revokes");
    assert_eq!(web.count("SELECT COUNT(*) AS n FROM audit_events WHERE stream = 'delegations'").await, 2);
    assert!(web.verify().await.broken.is_none());
}

on_both_backends! {
    delegation => a_written_delegation_lets_its_holder_sign_for_the_chief_until_revoked;
    blanks => a_documents_blanks_follow_the_readers_language;
    talent_links => the_talent_pool_links_only_what_opens_and_names_mentors;
    figures_declared => the_figures_page_draws_the_rounds_declared_reports;
    figures_after_a_change => the_figures_page_counts_a_change_made_since_the_last_view;
    draft_from_last => a_new_draft_version_starts_from_the_last;
    sign_after_rejection => signing_after_a_rejection_says_to_wait_for_the_new_draft;
    publication_words => publication_is_refused_in_the_words_of_units;
    own_words => a_guard_refuses_in_its_own_words;
    expired_form => a_form_posted_after_the_session_ended_survives_the_sign_in;
    forged_form => another_sites_post_is_not_carried_through_the_sign_in;
    uncarried_form => a_form_too_large_or_empty_is_not_carried;
    track_titles => a_track_is_titled_by_its_trainee_as_the_definition_says;
    readers => those_a_step_rests_on_read_the_round_and_its_units_assemblies;
    roll_call_by_ticks => a_roll_call_of_48_is_ticked_row_by_row;
    unit_roster => an_admin_keeps_a_units_roster_by_name;
    trainee_upload => a_coordinator_uploads_trainees_and_bad_rows_are_listed_by_line;
    sign_in_out => signing_in_and_out;
    throttling => repeated_failures_lock_the_name_even_for_the_right_password;
    expiry => an_idle_session_expires;
    csrf => a_post_without_the_csrf_token_is_refused_and_changes_nothing;
    roles_and_scopes => pages_by_role_and_scope;
    bad_tally => a_bad_tally_is_refused_with_the_reason_and_the_input_kept;
    conflict => a_stale_form_is_a_conflict_that_keeps_the_input;
    language => the_language_switch_is_remembered;
    audit_trail => the_audit_trail_filters_exports_and_raises_the_alarm;
    headers_and_errors => pages_carry_strict_headers_and_errors_show_no_internals;
    admin_users => admins_add_users_and_a_bad_role_keeps_the_form;
    representatives => representatives_are_chosen_from_people_and_one_chief_a_side;
    documents => letters_and_contracts_print_with_their_signatures_and_dates;
    cohort_actions => a_coordinator_adds_reassigns_and_graduates_from_the_trainees_page;
    mentoring => a_mentor_sees_their_own_trainees_with_what_is_due;
    long_draft_versions => a_long_draft_shows_only_its_changed_clause_between_versions;
    demo => the_demo_seeds_and_its_people_sign_in;
}
