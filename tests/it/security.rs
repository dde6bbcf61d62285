//! The defects of the hardening review (issue 9), each as the behaviour it protects, on both
//! databases: sign-in under attack, changes that commit only with their audit event, imports
//! that are all or nothing, redirects that stay on the site, grants that widen nothing, text
//! that the database can keep, and the smaller ones.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use sea_orm::ConnectionTrait;
use serde_json::json;
use unionflow::definition::DefinitionSet;
use unionflow::engine::Actor;
use unionflow::people::password::PasswordChecks;
use unionflow::people::users;
use unionflow::web::WebConfig;

use crate::on_both_backends;
use crate::support::{Backend, data};
use crate::web::{
    Browser, PASSWORD, Page, Web, display_name, embedded, embedded_with, en, fits, quick_config, trainee_file, zh,
};

/// Whether a page says the name is locked for `minutes`.
fn locked_for(page: &Page, minutes: i64) -> bool {
    page.says(&zh().f("signin.locked", &[("minutes", minutes.to_string())]))
}

/// Sends the sign-in forms of several browsers at once; returns their pages in order.
async fn sign_in_at_once(browsers: Vec<(Browser, String, &str)>) -> Vec<Page> {
    let mut ready = Vec::new();
    for (mut b, user, password) in browsers {
        let token = b.sign_in_token().await;
        ready.push((b, user, password.to_owned(), token));
    }
    let tasks: Vec<_> = ready
        .into_iter()
        .map(|(mut b, user, password, token)| {
            tokio::spawn(async move {
                b.post("/signin", &[("_csrf", &token), ("username", &user), ("password", &password), ("next", "/")])
                    .await
            })
        })
        .collect();
    let mut pages = Vec::new();
    for t in tasks {
        pages.push(t.await.expect("a sign-in"));
    }
    pages
}

fn statuses(pages: &[Page]) -> std::collections::BTreeMap<u16, usize> {
    let mut out = std::collections::BTreeMap::new();
    for p in pages {
        *out.entry(p.status.as_u16()).or_default() += 1;
    }
    out
}

// ---- 1. password checks are bounded --------------------------------------------------------

async fn a_burst_of_sign_ins_runs_no_more_password_checks_than_the_limit(backend: Backend) {
    let checks = PasswordChecks::new(1, 2, std::time::Duration::from_secs(30));
    let config = WebConfig { password_checks: checks.clone(), ..Default::default() };
    let web = Web::new(backend, embedded(), config).await;
    let browsers = (0..24u8)
        .map(|i| (web.browser_from([10, 1, 0, i]), format!("nobody{i}"), "random guess 123"))
        .collect::<Vec<_>>();
    let pages = sign_in_at_once(browsers).await;
    assert!(checks.peak() <= 1, "at most one password check ran at once, saw {}", checks.peak());
    for p in &pages {
        match p.status {
            StatusCode::UNAUTHORIZED => {}
            StatusCode::TOO_MANY_REQUESTS => {
                assert!(p.says(zh().t("signin.busy")), "a busy refusal says to wait: {}", p.body);
                assert!(p.headers.contains_key(header::RETRY_AFTER));
            }
            other => panic!("a sign-in answered {other}: {}", p.body),
        }
    }
}

// ---- 2. guesses are counted before they are checked ----------------------------------------

async fn parallel_guesses_at_one_name_are_checked_at_most_five_times(backend: Backend) {
    let web = Web::embedded(backend).await;
    web.people(&[("wang.wei", &["worker_negotiator"])]).await;
    let browsers =
        (0..40).map(|_| (web.browser_from([10, 2, 0, 1]), "wang.wei".to_owned(), "wrong password!")).collect();
    let pages = sign_in_at_once(browsers).await;
    let seen = statuses(&pages);
    assert_eq!(seen.get(&401), Some(&5), "five guesses checked, the rest refused unchecked: {seen:?}");
    assert_eq!(seen.get(&429), Some(&35), "{seen:?}");
    let locked = pages.iter().find(|p| p.status == StatusCode::TOO_MANY_REQUESTS).unwrap();
    assert!(locked.says_shape(zh().t("signin.locked")), "{}", locked.body);
}

async fn a_lock_from_one_address_does_not_lock_the_user_out_elsewhere(backend: Backend) {
    let web = Web::embedded(backend).await;
    web.people(&[("wang.wei", &["worker_negotiator"])]).await;
    let mut attacker = web.browser_from([203, 0, 113, 9]);
    for _ in 0..6 {
        attacker.sign_in_with("wang.wei", "not the password").await;
    }
    let refused = attacker.sign_in_with("wang.wei", PASSWORD).await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS, "the guesser's address is locked for the name");
    let mut owner = web.browser_from([192, 168, 1, 20]);
    owner.sign_in("wang.wei").await;
}

async fn random_names_from_one_address_are_stopped_by_the_address_limit(backend: Backend) {
    let web = Web::embedded(backend).await;
    let mut b = web.browser_from([198, 51, 100, 7]);
    let mut seen = Vec::new();
    for i in 0..33 {
        seen.push(b.sign_in_with(&format!("random{i}"), "whatever it is").await.status.as_u16());
    }
    assert!(seen[..30].iter().all(|s| *s == 401), "{seen:?}");
    assert!(seen[30..].iter().all(|s| *s == 429), "the 31st name from the address is refused: {seen:?}");
}

async fn locks_back_off_and_old_counters_are_pruned(backend: Backend) {
    let web = Web::embedded(backend).await;
    web.people(&[("wang.wei", &["worker_negotiator"])]).await;
    let mut b = web.browser_from([10, 3, 0, 1]);
    for _ in 0..5 {
        assert_eq!(b.sign_in_with("wang.wei", "wrong").await.status, StatusCode::UNAUTHORIZED);
    }
    let first = b.sign_in_with("wang.wei", "wrong").await;
    assert!(locked_for(&first, 16) || locked_for(&first, 15), "{}", first.body);
    web.clock.advance(time::Duration::minutes(16));
    for _ in 0..5 {
        assert_eq!(b.sign_in_with("wang.wei", "wrong").await.status, StatusCode::UNAUTHORIZED);
    }
    let second = b.sign_in_with("wang.wei", "wrong").await;
    assert!(locked_for(&second, 31) || locked_for(&second, 30), "{}", second.body);
    assert!(web.count("SELECT COUNT(*) AS n FROM sign_in_throttle").await >= 2);
    web.clock.advance(time::Duration::days(2));
    b.sign_in("wang.wei").await;
    assert_eq!(
        web.count("SELECT COUNT(*) AS n FROM sign_in_throttle WHERE key LIKE 'name:%'").await,
        0,
        "the lock of two days ago is pruned, the fresh counter released by the right password"
    );
}

// ---- 3 and 10. every change commits with its audit event; writers wait their turn -----------

async fn simultaneous_sign_ins_all_succeed_each_with_its_audit_event(backend: Backend) {
    let web = Web::embedded(backend).await;
    web.people(&[("wang.wei", &["worker_negotiator"]), ("zhao.lei", &["employer_negotiator"])]).await;
    let browsers = (0..40u8)
        .map(|i| {
            (web.browser_from([10, 4, 1, i]), if i % 2 == 0 { "wang.wei" } else { "zhao.lei" }.to_owned(), PASSWORD)
        })
        .collect();
    let pages = sign_in_at_once(browsers).await;
    assert_eq!(statuses(&pages), [(303, 40)].into(), "every sign-in went through, none failed on a lock");
    assert_eq!(web.count("SELECT COUNT(*) AS n FROM audit_events WHERE kind = 'sign_in'").await, 40);
    assert_eq!(web.verify().await.broken, None);
}

async fn parallel_role_grants_each_commit_with_their_audit_event(backend: Backend) {
    let web = Web::embedded(backend).await;
    web.units(&["u01", "u02"]).await;
    web.people(&[("admin", &["admin"]), ("chen.jing", &["unit_secretary@u01"])]).await;
    let mut admin = web.browser_from([10, 5, 0, 1]);
    admin.sign_in("admin").await;
    let csrf = admin.csrf().await;
    let id = web.count("SELECT id AS n FROM users WHERE username = 'chen.jing'").await;
    let tasks: Vec<_> = (0..19)
        .map(|i| {
            let mut b = admin.tab();
            let csrf = csrf.clone();
            let roles = if i % 2 == 0 { "unit_secretary@u01" } else { "unit_secretary@u02" };
            tokio::spawn(async move {
                b.post(&format!("/admin/users/{id}/roles"), &[("_csrf", &csrf), ("roles", roles)]).await.status
            })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap(), StatusCode::SEE_OTHER);
    }
    let granted = web.count("SELECT COUNT(*) AS n FROM audit_events WHERE event = 'set_roles'").await;
    assert_eq!(granted, 19, "each grant has its audit event");
    assert_eq!(web.verify().await.broken, None);
}

async fn a_change_whose_audit_event_cannot_be_written_is_not_applied(backend: Backend) {
    let web = Web::embedded(backend).await;
    web.units(&["u01", "u09"]).await;
    web.people(&[("admin", &["admin"]), ("chen.jing", &["unit_secretary@u01"])]).await;
    let mut admin = web.browser_from([10, 6, 0, 1]);
    admin.sign_in("admin").await;
    let csrf = admin.csrf().await;
    // An append that never finished (a crash between the event and its head): the head is one
    // behind the stream's last event.
    web.db
        .db
        .execute_unprepared(
            "UPDATE audit_heads SET seq = seq - 1, hash = (SELECT e.hash FROM audit_events e
             WHERE e.stream = 'admin' AND e.seq = audit_heads.seq - 1) WHERE stream = 'admin'",
        )
        .await
        .unwrap();
    let broken = web.verify().await.broken.expect("verify sees the head behind its last event");
    assert_eq!(broken.stream, "admin");
    assert!(matches!(broken.reason, unionflow::audit::ChainBreak::PastHead { .. }), "{broken}");
    let id = web.count("SELECT id AS n FROM users WHERE username = 'chen.jing'").await;
    let page =
        admin.post(&format!("/admin/users/{id}/roles"), &[("_csrf", &csrf), ("roles", "unit_secretary@u09")]).await;
    assert_eq!(page.status, StatusCode::INTERNAL_SERVER_ERROR);
    let grants =
        web.count(&format!("SELECT COUNT(*) AS n FROM user_roles WHERE user_id = {id} AND unit_id = 'u09'")).await;
    assert_eq!(grants, 0, "the grant was not kept without its audit event");
}

async fn verify_names_a_stream_that_lost_its_head(backend: Backend) {
    let web = Web::embedded(backend).await;
    web.people(&[("admin", &["admin"])]).await;
    web.db.db.execute_unprepared("DELETE FROM audit_heads WHERE stream = 'admin'").await.unwrap();
    let broken = web.verify().await.broken.expect("a stream without its head is reported");
    assert_eq!(
        (broken.stream.as_str(), &broken.reason),
        ("admin", &unionflow::audit::ChainBreak::PastHead { head: -1, last: 0 })
    );
}

// ---- 4. an import is one transaction with its step -----------------------------------------

/// The cohort definition with a cap on its enrolment list, so the `enrol` step can refuse a
/// clean file after its rows were read.
fn cohort_of_at_most(n: usize) -> DefinitionSet {
    embedded_with("training_cohort.toml", |text| {
        text.replacen(
            "id = \"trainees\"\ntype = \"list\"",
            &format!("id = \"trainees\"\ntype = \"list\"\nmax_items = {n}"),
            1,
        )
    })
}

async fn an_import_whose_enrol_step_is_refused_writes_no_trainee(backend: Backend) {
    let web = Web::new(backend, cohort_of_at_most(3), quick_config()).await;
    let cohort = web.cohort(10, 0).await;
    let coordinator = Actor::new("gao.hong", ["training_coordinator"]);
    let file = trainee_file(0, 5);
    let result =
        unionflow::training::enrol::import_csv(web.rt(), web.state.db(), cohort, &coordinator, file.as_bytes(), false)
            .await;
    assert!(result.is_err(), "five trainees do not fit a list of three");
    assert_eq!(web.count("SELECT COUNT(*) AS n FROM trainees").await, 0, "no row of the refused import was kept");
}

async fn two_imports_into_one_cohort_at_once_both_enrol_with_their_own_codes(backend: Backend) {
    let web = Web::embedded(backend).await;
    let cohort = web.cohort(100, 0).await;
    let tasks: Vec<_> = (0..2)
        .map(|k| {
            let state = web.state.clone();
            tokio::spawn(async move {
                let coordinator = Actor::new("gao.hong", ["training_coordinator"]);
                let file = trainee_file(k * 100, 20);
                unionflow::training::enrol::import_csv(
                    &state.rt,
                    state.db(),
                    cohort,
                    &coordinator,
                    file.as_bytes(),
                    false,
                )
                .await
                .map(|done| done.enrolled)
            })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap().expect("both imports are taken, one after the other"), 20);
    }
    assert_eq!(web.count("SELECT COUNT(DISTINCT code) AS n FROM trainees").await, 40);
    let trainees = web.rt().instance(cohort).await.unwrap().row.data["trainees"].as_array().map(Vec::len);
    assert_eq!(trainees, Some(40), "the cohort lists every trainee of both files");
}

// ---- 5. redirects stay on this site ------------------------------------------------------------

async fn next_and_back_never_leave_the_site_and_never_fail(backend: Backend) {
    let web = Web::embedded(backend).await;
    let mut b = web.browser_from([10, 7, 0, 1]);
    for back in ["/%09/evil.example", "/%0a", "//evil.example", "/%5Cevil.example", "https://evil.example"] {
        let page = b.get(&format!("/lang/en?back={back}")).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{back}");
        assert_eq!(page.location.as_deref(), Some("/"), "{back} falls back to the start page");
    }
    let page = b.get("/lang/en?back=/instances/3").await;
    assert_eq!(page.location.as_deref(), Some("/instances/3"), "a path of the site is followed");
    for next in ["/%0a", "/%09/evil.example"] {
        let page = b.get(&format!("/signin?next={next}")).await;
        assert_eq!(page.status, StatusCode::OK, "{next}");
        assert_eq!(page.hidden("next"), "/");
    }
}

// ---- 6. a grant's unit belongs to that grant's role ---------------------------------------------

async fn a_units_grant_belongs_to_its_role_only(backend: Backend) {
    let web = Web::embedded(backend).await;
    web.units(&["u01", "u09"]).await;
    web.people(&[("chen.jing", &["unit_secretary@u01", "bureau_reviewer@u09"])]).await;
    let rt = web.rt();
    let admin = Actor::new("admin", ["admin"]);
    let assembly = |unit: &str| data(json!({ "unit": unit, "draft_version": 1 }));
    let u09 = rt.start("assembly_approval", &admin, &assembly("u09")).await.expect("an assembly of u09");
    let u01 = rt.start("assembly_approval", &admin, &assembly("u01")).await.expect("an assembly of u01");
    let (user, _) = users::for_sign_in(web.state.db(), "chen.jing").await.unwrap().unwrap();
    let chen = user.actor();
    let refused = rt.options(u09, &chen).await.unwrap().into_iter().filter(|(_, r)| r.is_none()).count();
    assert_eq!(refused, 0, "a bureau reviewer for u09 acts on none of u09's assembly as its secretary");
    let allowed = rt.options(u01, &chen).await.unwrap().into_iter().filter(|(_, r)| r.is_none()).count();
    assert!(allowed > 0, "her own unit's assembly is hers to act on");
    let mut b = web.browser_from([10, 8, 0, 1]);
    b.sign_in("chen.jing").await;
    assert_eq!(b.get(&format!("/instances/{u09}")).await.status, StatusCode::FORBIDDEN);
}

// ---- 7 and 11. text the database can keep, and nothing that looks like something else -------

async fn control_characters_and_endless_text_are_refused_at_the_edge(backend: Backend) {
    let web = Web::embedded(backend).await;
    web.people(&[("admin", &["admin"])]).await;
    let mut admin = web.browser_from([10, 9, 0, 1]);
    admin.sign_in("admin").await;
    let csrf = admin.csrf().await;
    let long = "x".repeat(1_000_000);
    for (name, says) in [("启明\u{0}小学", "U+0000"), (long.as_str(), "100"), ("启明\u{202e}小学", "U+202E")] {
        let page =
            admin.post("/admin/units", &[("_csrf", &csrf), ("id", "u77"), ("name_zh", name), ("sector", "教育")]).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{says}");
        assert!(page.body.contains(says), "the refusal names {says}");
    }
    assert_eq!(web.count("SELECT COUNT(*) AS n FROM units").await, 0);
    let page = admin
        .post(
            "/admin/users",
            &[
                ("_csrf", &csrf),
                ("username", "li.si"),
                ("display_name", "李\u{200b}四"),
                ("password", PASSWORD),
                ("roles", ""),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("U+200B"));
    let mut stranger = web.browser_from([10, 9, 0, 2]);
    assert_eq!(stranger.sign_in_with("admin\u{0}", PASSWORD).await.status, StatusCode::UNAUTHORIZED);
    let page = admin.get("/audit?actor=%00admin").await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.body.contains("<html"), "the error page, not a bare 500");
    assert_eq!(admin.get("/audit?actor=admin").await.status, StatusCode::OK);
    let page = admin.get("/talent?trade=%00").await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST, "a search word with a NUL is refused, not sent to the database");
}

async fn text_fields_refuse_control_characters_with_the_form_kept(backend: Backend) {
    let web = Web::embedded(backend).await;
    web.people(&[("admin", &["admin"])]).await;
    let admin = Actor::new("admin", ["admin"]);
    let id =
        web.rt().start("assembly_approval", &admin, &data(json!({ "unit": "u01", "draft_version": 1 }))).await.unwrap();
    let mut b = web.browser_from([10, 10, 0, 1]);
    b.sign_in("admin").await;
    let csrf = b.csrf().await;
    let page = b
        .post(
            &format!("/instances/{id}/fire/schedule_with_roster"),
            &[
                ("_csrf", &csrf),
                ("_version", "1"),
                ("assembly_date", "2026-04-01"),
                ("kind", "representatives"),
                ("roster", "张三\n李\u{0}四"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", page.body);
    assert!(page.body.contains("U+0000"), "the refusal names the character");
    assert!(page.body.contains("张三"), "what was typed is kept");
    assert_eq!(web.rt().instance(id).await.unwrap().row.version, 1, "nothing was applied");
}

// ---- 9. the demo is seeded whole or not at all --------------------------------------------

async fn a_demo_that_fails_half_way_leaves_the_database_empty(backend: Backend) {
    // Without the cohorts' definitions the demo fails after every round has been written.
    let mut set = embedded();
    set.definitions.remove("training_cohort");
    let web = Web::new(backend, set, quick_config()).await;
    assert!(unionflow::demo::seed(web.rt()).await.is_err(), "the demo cannot finish");
    for table in ["instances", "users", "units", "audit_events", "timers"] {
        assert_eq!(web.count(&format!("SELECT COUNT(*) AS n FROM {table}")).await, 0, "{table} is left empty");
    }
}

// ---- 11. the smaller ones ------------------------------------------------------------------

async fn a_malformed_version_is_refused_not_ignored(backend: Backend) {
    let web = Web::embedded(backend).await;
    web.people(&[("admin", &["admin"])]).await;
    let admin = Actor::new("admin", ["admin"]);
    let given = data(json!({ "unit": "u01", "draft_version": 1 }));
    let id = web.rt().start("assembly_approval", &admin, &given).await.unwrap();
    let before = web.rt().instance(id).await.unwrap().row;
    let mut b = web.browser_from([10, 11, 0, 1]);
    b.sign_in("admin").await;
    let csrf = b.csrf().await;
    let form = [
        ("_csrf", csrf.as_str()),
        ("_version", "abc"),
        ("assembly_date", "2026-04-01"),
        ("kind", "representatives"),
        ("roster_size", "30"),
    ];
    let page = b.post(&format!("/instances/{id}/fire/schedule"), &form).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    let after = web.rt().instance(id).await.unwrap().row;
    assert_eq!((after.state, after.version), (before.state, before.version), "nothing was applied");
}

/// Topics raised one by one, and those at the table ticked from them.
const AGENDA: &str = r#"
id = "agenda"
label = { zh = "议程", en = "Agenda" }
initial = "open"

[start]
roles = ["admin"]
ask = []

[[stage]]
id = "main"
label = { zh = "主", en = "Main" }

[[state]]
id = "open"
stage = "main"
label = { zh = "收集中", en = "Collecting" }

[[state]]
id = "chosen"
stage = "main"
final = true
outcome = "passed"
label = { zh = "已确定", en = "Chosen" }

[[field]]
id = "topic_title"
type = "text"
label = { zh = "议题", en = "Topic" }

[[field]]
id = "raised_topics"
type = "list"
label = { zh = "已收集的议题", en = "Topics raised" }

[[field]]
id = "topics"
type = "list"
label = { zh = "提交协商的议题", en = "Topics at the table" }
pick_from = "raised_topics"

[[transition]]
event = "raise_topic"
from = "open"
to = "open"
roles = ["admin"]
label = { zh = "收集议题", en = "Raise a topic" }
ask = ["topic_title"]
effects = [{ append = { list = "raised_topics", value = "topic_title" } }]

[[transition]]
event = "choose"
from = "open"
to = "chosen"
roles = ["admin"]
label = { zh = "确定议题", en = "Choose" }
ask = ["topics"]
"#;

async fn a_topic_with_a_comma_can_be_chosen(backend: Backend) {
    let set = crate::support::defs(&[("agenda.toml", AGENDA)]);
    let web = Web::new(backend, set, quick_config()).await;
    web.people(&[("admin", &["admin"])]).await;
    let admin = Actor::new("admin", ["admin"]);
    let id = web.rt().start("agenda", &admin, &Default::default()).await.unwrap();
    for topic in ["工资、福利与休假", "安全; 卫生", "培训"] {
        web.rt().fire(id, None, &admin, "raise_topic", &data(json!({ "topic_title": topic }))).await.unwrap();
    }
    let mut b = web.browser_from([10, 14, 0, 1]);
    b.sign_in("admin").await;
    let csrf = b.csrf().await;
    let version = web.rt().instance(id).await.unwrap().row.version.to_string();
    let page = b
        .post(
            &format!("/instances/{id}/fire/choose"),
            &[("_csrf", &csrf), ("_version", &version), ("topics", "工资、福利与休假"), ("topics", "安全; 卫生")],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let chosen = web.rt().instance(id).await.unwrap().row.data["topics"].clone();
    assert_eq!(chosen, json!(["工资、福利与休假", "安全; 卫生"]), "each ticked topic is one value, whatever it holds");
    let zh = b.get(&format!("/instances/{id}")).await;
    let listed = |tr: unionflow::web::i18n::Tr| format!("工资、福利与休假{}安全; 卫生", tr.t("punct.list"));
    assert!(zh.says(&listed(crate::web::zh())), "listed with the Chinese separator");
    b.get("/lang/en?back=/").await;
    let en = b.get(&format!("/instances/{id}")).await;
    assert!(en.says(&listed(crate::web::en())), "English lists take English punctuation");
}

async fn a_new_user_appears_in_forms_at_once(backend: Backend) {
    let web = Web::embedded(backend).await;
    web.people(&[("admin", &["admin"])]).await;
    let mut admin = web.browser_from([10, 12, 0, 1]);
    admin.sign_in("admin").await;
    assert!(!web.state.directory().await.unwrap().people.contains_key("qian.duo"));
    let csrf = admin.csrf().await;
    let created = admin
        .post(
            "/admin/users",
            &[
                ("_csrf", &csrf),
                ("username", "qian.duo"),
                ("display_name", "钱多"),
                ("password", PASSWORD),
                ("roles", "worker_negotiator"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let directory = web.state.directory().await.unwrap();
    assert!(directory.people.contains_key("qian.duo"), "forms offer the new user at once, not after the cache expires");
}

async fn framework_rejections_render_the_error_page_in_the_readers_language(backend: Backend) {
    let web = Web::embedded(backend).await;
    web.people(&[("admin", &["admin"])]).await;
    let mut b = web.browser_from([10, 13, 0, 1]);
    b.sign_in("admin").await;
    b.get("/lang/en?back=/").await;
    for path in ["/instances/abc", "/audit?before=x"] {
        let page = b.get(path).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{path}");
        assert!(page.lang().as_deref() == Some("en") && page.says(en().t("error.400")), "{path}: {}", page.body);
    }
    let page = b.get("/signout").await;
    assert_eq!(page.status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(page.body.contains("<html"), "never an empty page");
}

// ---- the request edge (issue 10): every form checked, roles from the definitions -------------

async fn every_form_without_its_token_is_refused(backend: Backend) {
    let web = Web::embedded(backend).await;
    web.units(&["u01"]).await;
    web.people(&[("admin", &["admin"])]).await;
    let admin = Actor::new("admin", ["admin"]);
    let assembly =
        web.rt().start("assembly_approval", &admin, &data(json!({ "unit": "u01", "draft_version": 1 }))).await;
    let id = assembly.unwrap();
    let cohort = web.cohort(10, 0).await;
    let user = web.count("SELECT id AS n FROM users WHERE username = 'admin'").await;
    let mut b = web.browser_from([10, 15, 0, 1]);
    b.sign_in("admin").await;
    let posts = [
        "/signout".to_owned(),
        "/processes/assembly_approval/start".to_owned(),
        format!("/instances/{id}/fire/schedule"),
        format!("/cohorts/{cohort}/capacity"),
        format!("/cohorts/{cohort}/assign"),
        format!("/cohorts/{cohort}/mentors"),
        format!("/cohorts/{cohort}/trainee"),
        format!("/cohorts/{cohort}/reassign"),
        format!("/cohorts/{cohort}/graduate"),
        "/admin/users".to_owned(),
        format!("/admin/users/{user}/roles"),
        format!("/admin/users/{user}/active"),
        "/admin/units".to_owned(),
    ];
    for path in &posts {
        let page = b.post(path, &[("_csrf", "not the token"), ("active", "false")]).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{path} without its token");
    }
    let boundary = "x";
    let body =
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\nwrong\r\n--{boundary}--\r\n");
    let req = Request::post(format!("/cohorts/{cohort}/import"))
        .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={boundary}"))
        .body(Body::from(body))
        .unwrap();
    assert_eq!(b.send(req).await.status, StatusCode::FORBIDDEN, "the import without its token");
    assert_eq!(b.get("/admin").await.status, StatusCode::OK, "still signed in, still active");
}

async fn who_runs_cohorts_is_the_definitions_to_say(backend: Backend) {
    let set = embedded_with("training_cohort.toml", |t| {
        t.replacen(
            "roles = [\"training_coordinator\", \"admin\"]\nask = [\"name\"",
            "roles = [\"training_coordinator\"]\nask = [\"name\"",
            1,
        )
    });
    let web = Web::new(backend, set, quick_config()).await;
    web.people(&[("admin", &["admin"]), ("gao.hong", &["training_coordinator"])]).await;
    let cohort = web.cohort(10, 0).await;
    let mut admin = web.browser_from([10, 16, 0, 1]);
    admin.sign_in("admin").await;
    let csrf = admin.csrf().await;
    let refused = admin.post(&format!("/cohorts/{cohort}/capacity"), &[("_csrf", &csrf), ("capacity", "20")]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "the definition no longer lets admins open cohorts");
    let mut coordinator = web.browser_from([10, 16, 0, 2]);
    coordinator.sign_in("gao.hong").await;
    let csrf = coordinator.csrf().await;
    let done = coordinator.post(&format!("/cohorts/{cohort}/capacity"), &[("_csrf", &csrf), ("capacity", "20")]).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
}

// ---- issue 11: the sides apart, and people named by their names ----------------------------

async fn nobody_is_on_both_sides_and_the_refusal_names_them_by_name(backend: Backend) {
    let web = Web::embedded(backend).await;
    web.units(&["u01"]).await;
    let people: Vec<String> = (1..=6).map(|i| format!("p{i}")).collect();
    let mut all: Vec<(&str, &[&str])> =
        vec![("wang.wei", &["worker_negotiator", "chief_representative", "union_chair"])];
    all.push(("zhao.lei", &["employer_negotiator", "chief_representative"]));
    all.extend(people.iter().map(|p| (p.as_str(), &[][..])));
    web.people(&all).await;
    let (worker, employer) = (
        Actor::new("wang.wei", ["worker_negotiator", "chief_representative"]),
        Actor::new("zhao.lei", ["employer_negotiator", "chief_representative"]),
    );
    let rt = web.rt();
    let start = data(json!({ "sector": "教育", "year": 2026, "units": ["u01"] }));
    let round = rt.start("bargaining_round", &worker, &start).await.unwrap();
    rt.fire(round, None, &worker, "request_by_workers", &data(json!({ "request_letter": "要求协商" }))).await.unwrap();
    rt.fire(round, None, &employer, "reply_by_employer", &data(json!({}))).await.unwrap();
    let side = data(json!({ "worker_reps": ["wang.wei", "p1", "p2"], "worker_chief": "wang.wei" }));
    rt.fire(round, None, &worker, "name_worker_side", &side).await.unwrap();
    let mut b = web.browser_from([10, 17, 0, 1]);
    b.sign_in("zhao.lei").await;
    let csrf = b.csrf().await;
    let version = rt.instance(round).await.unwrap().row.version.to_string();
    let form = [
        ("_csrf", csrf.as_str()),
        ("_version", version.as_str()),
        ("employer_reps", "zhao.lei"),
        ("employer_reps", "p3"),
        ("employer_reps", "wang.wei"),
        ("employer_chief", "wang.wei"),
    ];
    let page = b.post(&format!("/instances/{round}/fire/name_employer_side"), &form).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", page.body);
    let alert = page.alert();
    assert!(fits(&alert, zh().t("guard.in_both")), "refused for being on both sides: {alert}");
    assert!(alert.contains(&display_name("wang.wei")), "named: {alert}");
    assert!(!alert.contains("wang.wei"), "people are named by their names, not user names: {alert}");
    assert!(rt.instance(round).await.unwrap().row.data.get("employer_reps").is_none(), "nothing was applied");
}

async fn a_votes_figures_say_which_rule_decided(backend: Backend) {
    let web = Web::embedded(backend).await;
    web.units(&["u01"]).await;
    web.people(&[("admin", &["admin"])]).await;
    let admin = Actor::new("admin", ["admin"]);
    let rt = web.rt();
    let id = rt.start("assembly_approval", &admin, &data(json!({ "unit": "u01", "draft_version": 1 }))).await.unwrap();
    let schedule = data(
        json!({ "assembly_date": "2026-04-01", "kind": "representatives", "roster_size": 100, "roster_reason": "扩大范围" }),
    );
    rt.fire(id, None, &admin, "schedule", &schedule).await.unwrap();
    rt.fire(id, None, &admin, "open_session", &data(json!({}))).await.unwrap();
    let tally = data(json!({ "present": 80, "yes": 50, "no": 30, "abstain": 0 }));
    rt.fire(id, None, &admin, "record_vote", &tally).await.unwrap();
    let mut b = web.browser_from([10, 18, 0, 1]);
    b.sign_in("admin").await;
    let page = b.get(&format!("/instances/{id}")).await;
    let figures = zh().f(
        "instance.vote.figures",
        &[
            ("present", "80".into()),
            ("roster", "100".into()),
            ("quorum_needed", "67".into()),
            ("yes", "50".into()),
            ("yes_needed", "50".into()),
            ("no", "30".into()),
            ("abstain", "0".into()),
        ],
    );
    assert!(page.says(&figures), "the figures: {}", page.text());
    assert!(page.says_shape(zh().t("instance.vote.rule")), "the rule beside them");
    assert!(page.says("集体合同草案表决（全体半数以上通过）"), "by the name its definition gives it");
    let at_least = |tr: unionflow::web::i18n::Tr| {
        tr.f("vote.at_least", &[("share", "1/2".into()), ("base", tr.t("vote.base.roster").into())])
    };
    assert!(page.says(&at_least(zh())), "at least, of the whole roster");
    b.get("/lang/en?back=/").await;
    let page = b.get(&format!("/instances/{id}")).await;
    assert!(page.says(&at_least(en())) && page.says_shape(en().t("instance.vote.rule")), "{}", page.body);
}

// ---- issue 12, item 13: admin safety ------------------------------------------------------

async fn an_admin_cannot_lock_everyone_out(backend: Backend) {
    let web = Web::embedded(backend).await;
    web.people(&[("admin", &["admin"]), ("clerk.li", &["worker_negotiator"])]).await;
    let me = web.count("SELECT id AS n FROM users WHERE username = 'admin'").await;
    let clerk = web.count("SELECT id AS n FROM users WHERE username = 'clerk.li'").await;
    let mut b = web.browser_from([10, 19, 0, 1]);
    b.sign_in("admin").await;
    let csrf = b.csrf().await;
    let page = b.post(&format!("/admin/users/{me}/active"), &[("_csrf", &csrf), ("active", "false")]).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.says(zh().t("admin.lockout.yourself")), "{}", page.body);
    let page = b.post(&format!("/admin/users/{me}/roles"), &[("_csrf", &csrf), ("roles", "worker_negotiator")]).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "the last admin keeps the role");
    assert!(page.says(&zh().f("admin.lockout.last_admin", &[("name", display_name("admin"))])), "{}", page.body);
    let active = web.count(&format!("SELECT COUNT(*) AS n FROM user_roles r JOIN users u ON u.id = r.user_id WHERE u.id = {me} AND u.active AND r.role = 'admin'")).await;
    assert_eq!(active, 1, "still an active admin");
    let page = b.post(&format!("/admin/users/{clerk}/active"), &[("_csrf", &csrf), ("active", "false")]).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "another account may be deactivated");
    let mut clerk_browser = web.browser_from([10, 19, 0, 2]);
    let refused = clerk_browser.sign_in_with("clerk.li", PASSWORD).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(refused.says(zh().t("signin.deactivated")), "a deactivated account is told so: {}", refused.body);
    let wrong = clerk_browser.sign_in_with("clerk.li", "not the password at all").await;
    assert!(wrong.says(zh().t("signin.failed")), "without the password nothing is revealed");
    assert_eq!(b.get("/favicon.ico").await.status, StatusCode::NO_CONTENT);
}

async fn the_audit_trail_is_read_in_the_readers_language(backend: Backend) {
    let web = Web::embedded(backend).await;
    web.people(&[("admin", &["admin"])]).await;
    let admin = Actor::new("admin", ["admin"]);
    web.rt().start("assembly_approval", &admin, &data(json!({ "unit": "u01", "draft_version": 1 }))).await.unwrap();
    let mut b = web.browser_from([10, 20, 0, 1]);
    b.sign_in("admin").await;
    let page = b.get("/audit").await;
    let kinds: Vec<_> = page.elements("td").into_iter().filter(|td| td.attr("title") == Some("sign_in")).collect();
    assert!(
        !kinds.is_empty() && kinds.iter().all(|td| td.text == zh().t("kind.sign_in")),
        "a kind by its label, the id on hover"
    );
    assert!(page.body.contains("→ 已收到草案"), "states by their labels");
    assert!(!page.body.contains("→ draft_received"), "not by their ids: {}", page.body);
    let csv = b.get("/audit.csv").await;
    assert!(csv.body.contains(",sign_in,"), "the export keeps the ids");
}

on_both_backends! {
    burst_of_sign_ins => a_burst_of_sign_ins_runs_no_more_password_checks_than_the_limit;
    parallel_guesses => parallel_guesses_at_one_name_are_checked_at_most_five_times;
    lock_is_per_address => a_lock_from_one_address_does_not_lock_the_user_out_elsewhere;
    address_limit => random_names_from_one_address_are_stopped_by_the_address_limit;
    back_off_and_pruning => locks_back_off_and_old_counters_are_pruned;
    simultaneous_sign_ins => simultaneous_sign_ins_all_succeed_each_with_its_audit_event;
    parallel_grants => parallel_role_grants_each_commit_with_their_audit_event;
    no_change_without_audit => a_change_whose_audit_event_cannot_be_written_is_not_applied;
    lost_head => verify_names_a_stream_that_lost_its_head;
    refused_import => an_import_whose_enrol_step_is_refused_writes_no_trainee;
    concurrent_imports => two_imports_into_one_cohort_at_once_both_enrol_with_their_own_codes;
    redirects => next_and_back_never_leave_the_site_and_never_fail;
    grants_per_role => a_units_grant_belongs_to_its_role_only;
    edge_text => control_characters_and_endless_text_are_refused_at_the_edge;
    field_text => text_fields_refuse_control_characters_with_the_form_kept;
    demo_whole_or_nothing => a_demo_that_fails_half_way_leaves_the_database_empty;
    malformed_version => a_malformed_version_is_refused_not_ignored;
    topic_with_comma => a_topic_with_a_comma_can_be_chosen;
    new_user_in_forms => a_new_user_appears_in_forms_at_once;
    rejection_pages => framework_rejections_render_the_error_page_in_the_readers_language;
    tokens_everywhere => every_form_without_its_token_is_refused;
    cohort_runners_from_definition => who_runs_cohorts_is_the_definitions_to_say;
    sides_apart => nobody_is_on_both_sides_and_the_refusal_names_them_by_name;
    vote_rule_shown => a_votes_figures_say_which_rule_decided;
    admin_safety => an_admin_cannot_lock_everyone_out;
    audit_words => the_audit_trail_is_read_in_the_readers_language;
}
