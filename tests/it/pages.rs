//! The web app in-process, through its router, on both databases: sign-in, CSRF, scopes,
//! refusals that keep what was typed, conflicts, the language switch, the audit trail.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use sea_orm::ConnectionTrait;
use tower::ServiceExt;
use unionflow::web::{AppState, WebConfig};

use crate::on_both_backends;
use crate::support::{Backend, START, TestDb};

struct App {
    db: Arc<TestDb>,
    clock: Arc<unionflow::clock::ManualClock>,
    state: AppState,
    cookies: Vec<(String, String)>,
}

struct Page {
    status: StatusCode,
    location: Option<String>,
    headers: axum::http::HeaderMap,
    body: String,
}

impl App {
    async fn new(backend: Backend) -> App {
        let db = TestDb::new(backend).await;
        let clock = Arc::new(unionflow::clock::ManualClock::new(START));
        let set = unionflow::definition::embedded::load_embedded().expect("built-in definitions");
        let rt = unionflow::runtime::Runtime::new(db.db.clone(), set, clock.clone(), time::macros::offset!(+8))
            .await
            .expect("runtime");
        unionflow::demo::seed(&rt).await.expect("demo");
        let state = AppState::new(Arc::new(rt), WebConfig::default());
        App { db: Arc::new(db), clock, state, cookies: Vec::new() }
    }

    /// A second browser on the same server: its own cookies.
    fn another_browser(&self) -> App {
        App { db: self.db.clone(), clock: self.clock.clone(), state: self.state.clone(), cookies: Vec::new() }
    }

    async fn send(&mut self, req: Request<Body>) -> Page {
        let resp = unionflow::web::router(self.state.clone()).oneshot(req).await.expect("a response");
        for v in resp.headers().get_all(header::SET_COOKIE) {
            let pair = v.to_str().unwrap_or_default().split(';').next().unwrap_or_default().to_owned();
            if let Some((k, val)) = pair.split_once('=') {
                self.cookies.retain(|(name, _)| name != k);
                if !val.is_empty() {
                    self.cookies.push((k.to_owned(), val.to_owned()));
                }
            }
        }
        let status = resp.status();
        let headers = resp.headers().clone();
        let location = headers.get(header::LOCATION).and_then(|l| l.to_str().ok()).map(str::to_owned);
        let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX).await.expect("a body");
        Page { status, location, headers, body: String::from_utf8_lossy(&bytes).into_owned() }
    }

    fn cookie_header(&self) -> String {
        self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }

    async fn get(&mut self, path: &str) -> Page {
        let req = Request::get(path).header(header::COOKIE, self.cookie_header()).body(Body::empty()).expect("request");
        self.send(req).await
    }

    async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let body = form.iter().map(|(k, v)| format!("{}={}", enc(k), enc(v))).collect::<Vec<_>>().join("&");
        let req = Request::post(path)
            .header(header::COOKIE, self.cookie_header())
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .expect("request");
        self.send(req).await
    }

    async fn sign_in_with(&mut self, user: &str, password: &str) -> Page {
        let form = self.get("/signin").await;
        let token = hidden(&form.body, "_csrf");
        self.post("/signin", &[("_csrf", &token), ("username", user), ("password", password), ("next", "/")]).await
    }

    async fn sign_in(&mut self, user: &str) {
        let page = self.sign_in_with(user, unionflow::demo::DEMO_PASSWORD).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{user} signs in");
    }

    async fn csrf(&mut self) -> String {
        let page = self.get("/processes").await;
        hidden(&page.body, "_csrf")
    }

    async fn count(&self, sql: &str) -> i64 {
        let row = unionflow::store::db::one(&self.db.db, sql, vec![]).await.expect("query").expect("row");
        unionflow::store::db::get(&row, "n").expect("n")
    }

    /// The first instance of a process whose data matches, e.g. the u01 assembly of the round.
    async fn instance(&self, sql_where: &str) -> i64 {
        self.count(&format!("SELECT MIN(id) AS n FROM instances WHERE {sql_where}")).await
    }
}

fn enc(s: &str) -> String {
    unionflow::web::errors::urlencode(s).replace('/', "%2F")
}

fn hidden(body: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = body.find(&marker).map(|i| i + marker.len()).unwrap_or_else(|| panic!("no {name} field"));
    body[start..].split('"').next().unwrap_or_default().to_owned()
}

async fn signing_in_and_out(backend: Backend) {
    let mut app = App::new(backend).await;
    assert_eq!(app.get("/").await.location.as_deref(), Some("/signin?next=/"), "the work list needs a session");
    let wrong = app.sign_in_with("wang.wei", "not the password").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.body.contains("用户名或密码不正确"), "the reason is shown in Chinese by default");
    assert!(wrong.body.contains("value=\"wang.wei\""), "the user name is kept");
    app.sign_in("wang.wei").await;
    let home = app.get("/").await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.body.contains("我的待办"));
    let csrf = app.csrf().await;
    app.post("/signout", &[("_csrf", &csrf)]).await;
    assert_eq!(app.get("/").await.status, StatusCode::SEE_OTHER, "signed out");
}

async fn repeated_failures_lock_the_name_even_for_the_right_password(backend: Backend) {
    let mut app = App::new(backend).await;
    for _ in 0..5 {
        assert_eq!(app.sign_in_with("li.na", "wrong password").await.status, StatusCode::UNAUTHORIZED);
    }
    let locked = app.sign_in_with("li.na", unionflow::demo::DEMO_PASSWORD).await;
    assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(locked.body.contains("登录失败次数过多"));
    app.clock.advance(time::Duration::minutes(16));
    assert_eq!(
        app.sign_in_with("li.na", unionflow::demo::DEMO_PASSWORD).await.status,
        StatusCode::SEE_OTHER,
        "unlocked after the window"
    );
}

async fn an_idle_session_expires(backend: Backend) {
    let mut app = App::new(backend).await;
    app.sign_in("admin").await;
    assert_eq!(app.get("/audit").await.status, StatusCode::OK);
    app.clock.advance(time::Duration::hours(9));
    assert_eq!(app.get("/audit").await.location.as_deref(), Some("/signin?next=/audit"));
}

async fn a_post_without_the_csrf_token_is_refused_and_changes_nothing(backend: Backend) {
    let mut app = App::new(backend).await;
    app.sign_in("admin").await;
    let round = app.instance("process = 'bargaining_round' AND outcome IS NULL AND state = 'unit_review'").await;
    let before = app.count("SELECT COUNT(*) AS n FROM audit_events").await;
    let path = format!("/instances/{round}/fire/withdraw");
    for token in ["", "forged"] {
        let page = app.post(&path, &[("_csrf", token), ("withdrawal_reason", "test")]).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN);
        assert!(page.body.contains("表单已过期或来源不明"));
    }
    assert_eq!(app.count("SELECT COUNT(*) AS n FROM audit_events").await, before);
}

async fn pages_by_role_and_scope(backend: Backend) {
    let mut app = App::new(backend).await;
    let own = app.instance("process = 'assembly_approval' AND data LIKE '%\"unit\":\"u01\"%'").await;
    let other = app.instance("process = 'assembly_approval' AND data LIKE '%\"unit\":\"u02\"%'").await;
    let round = app.instance("process = 'bargaining_round' AND data NOT LIKE '%\"u01\"%'").await;
    app.sign_in("chen.jing").await;
    assert_eq!(app.get(&format!("/instances/{own}")).await.status, StatusCode::OK, "her own unit's assembly");
    let refused = app.get(&format!("/instances/{other}")).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "another unit's assembly");
    assert!(!refused.body.contains("育才"), "the refusal shows no data");
    assert_eq!(
        app.get(&format!("/instances/{round}")).await.status,
        StatusCode::FORBIDDEN,
        "a round none of her unit's assemblies votes on is the negotiators'"
    );
    assert_eq!(app.get("/audit").await.status, StatusCode::FORBIDDEN);
    assert_eq!(app.get("/admin").await.status, StatusCode::FORBIDDEN);
    for path in ["/", "/processes", "/processes/assembly_approval"] {
        assert_eq!(app.get(path).await.status, StatusCode::OK, "{path}");
    }

    let mut admin = app.another_browser();
    admin.sign_in("admin").await;
    for path in ["/", "/processes", "/processes/bargaining_round", "/audit", "/admin", "/figures", "/figures.csv"] {
        assert_eq!(admin.get(path).await.status, StatusCode::OK, "admin sees {path}");
    }
    assert_eq!(admin.get(&format!("/instances/{round}")).await.status, StatusCode::OK);
}

async fn a_bad_tally_is_refused_with_the_reason_and_the_input_kept(backend: Backend) {
    let mut app = App::new(backend).await;
    app.sign_in("admin").await;
    let csrf = app.csrf().await;
    let started = app
        .post("/processes/assembly_approval/start", &[("_csrf", &csrf), ("unit", "u01"), ("draft_version", "2")])
        .await;
    let path = started.location.expect("to the new instance");
    let id = path.trim_start_matches("/instances/").to_owned();
    app.post(
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
    app.post(&format!("/instances/{id}/fire/open_session"), &[("_csrf", &csrf)]).await;
    let bad = app
        .post(
            &format!("/instances/{id}/fire/record_vote"),
            &[("_csrf", &csrf), ("present", "18"), ("yes", "14"), ("no", "4"), ("abstain", "1")],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("赞成、反对、弃权合计（19）不能超过到会人数（18）"), "the reason names the problem");
    assert!(bad.body.contains("value=\"14\"") && bad.body.contains("value=\"18\""), "what was typed is kept");
    let good = app
        .post(
            &format!("/instances/{id}/fire/record_vote"),
            &[("_csrf", &csrf), ("present", "18"), ("yes", "14"), ("no", "3"), ("abstain", "1")],
        )
        .await;
    assert_eq!(good.status, StatusCode::SEE_OTHER);
    let page = app.get(&path).await;
    assert!(page.body.contains("到会 18 / 应到 25（法定人数 17）；赞成 14（需 13）"), "the figures that decided it");
}

async fn a_stale_form_is_a_conflict_that_keeps_the_input(backend: Backend) {
    let mut app = App::new(backend).await;
    app.sign_in("admin").await;
    let round = app.instance("process = 'bargaining_round' AND state = 'unit_review'").await;
    let page = app.get(&format!("/instances/{round}")).await;
    let (csrf, version) = (hidden(&page.body, "_csrf"), hidden(&page.body, "_version"));
    let stale = (version.parse::<i64>().expect("a version") - 1).to_string();
    let conflict = app
        .post(
            &format!("/instances/{round}/fire/withdraw"),
            &[("_csrf", &csrf), ("_version", &stale), ("withdrawal_reason", "合并到下一轮")],
        )
        .await;
    assert_eq!(conflict.status, StatusCode::CONFLICT);
    assert!(conflict.body.contains("别人已更改了此流程"));
    assert!(conflict.body.contains("合并到下一轮"), "what was typed is kept");
    let state =
        app.count(&format!("SELECT COUNT(*) AS n FROM instances WHERE id = {round} AND state = 'unit_review'")).await;
    assert_eq!(state, 1, "nothing changed");
}

async fn the_language_switch_is_remembered(backend: Backend) {
    let mut app = App::new(backend).await;
    app.sign_in("wang.wei").await;
    let switch = app.get("/lang/en?back=/processes").await;
    assert_eq!(switch.location.as_deref(), Some("/processes"));
    assert!(app.get("/").await.body.contains("My work"));
    assert!(app.get("/processes").await.body.contains("lang=\"en\""));
    app.get("/lang/zh-CN?back=/").await;
    assert!(app.get("/").await.body.contains("我的待办"));
    assert_eq!(
        app.get("/lang/en?back=https://evil.example/").await.location.as_deref(),
        Some("/"),
        "only this site's paths"
    );
}

async fn the_audit_trail_filters_exports_and_raises_the_alarm(backend: Backend) {
    let mut app = App::new(backend).await;
    app.sign_in("admin").await;
    let filtered = app.get("/audit?actor=gao.hong&kind=start").await;
    assert_eq!(filtered.status, StatusCode::OK);
    assert!(filtered.body.contains("gao.hong") && !filtered.body.contains("<td>wang.wei</td>"));
    let first = app.get("/audit").await;
    let older = first
        .body
        .split("before=")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("a link to older events")
        .to_owned();
    let second = app.get(&format!("/audit?before={older}")).await;
    assert_eq!(second.status, StatusCode::OK);
    assert!(!second.body.contains(&format!("<td>{older}</td>")), "strictly older than the cursor");

    let csv = app.get("/audit.csv?actor=gao.hong").await;
    assert_eq!(csv.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()), Some("text/csv; charset=utf-8"));
    let lines: Vec<&str> = csv.body.trim_start_matches('\u{feff}').lines().collect();
    assert!(lines[0].starts_with("id,at,actor,kind"));
    assert!(
        lines.len() > 10 && lines[1..].iter().all(|l| l.split(',').nth(2) == Some("gao.hong")),
        "the filtered rows only"
    );

    app.state.refresh_chain_status().await.expect("verify");
    assert!(app.get("/audit").await.body.contains("审计链完整"));
    if app.db.backend == Backend::Postgres {
        app.db
            .db
            .execute_unprepared("ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_change")
            .await
            .expect("unguard");
    }
    let victim = app.count("SELECT MIN(id) + 3 AS n FROM audit_events").await;
    app.db
        .db
        .execute_unprepared(&format!("UPDATE audit_events SET actor = 'mallory' WHERE id = {victim}"))
        .await
        .expect("tamper");
    app.state.refresh_chain_status().await.expect("verify");
    let alarm = app.get("/audit").await;
    assert!(alarm.body.contains("class=\"alarm\""), "a loud alarm");
    assert!(alarm.body.contains(&format!("event {victim} ")), "naming the first bad event");
}

async fn pages_carry_strict_headers_and_errors_show_no_internals(backend: Backend) {
    let mut app = App::new(backend).await;
    let page = app.get("/signin").await;
    let csp =
        page.headers.get(header::CONTENT_SECURITY_POLICY).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    assert!(csp.contains("default-src 'none'") && !csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(page.headers.get(header::X_FRAME_OPTIONS).and_then(|v| v.to_str().ok()), Some("DENY"));
    app.sign_in("admin").await;
    let missing = app.get("/instances/999999").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(missing.body.contains("找不到这个页面") && !missing.body.contains("RecordNotFound"));
    let bad = app.get("/audit?instance=abc").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "bad input is a clear error, not a 500");
}

async fn admins_add_users_and_a_bad_role_keeps_the_form(backend: Backend) {
    let mut app = App::new(backend).await;
    app.sign_in("admin").await;
    let csrf = app.csrf().await;
    let bad = app
        .post(
            "/admin/users",
            &[
                ("_csrf", &csrf),
                ("username", "qian.li"),
                ("display_name", "钱力"),
                ("password", "long enough password"),
                ("roles", "janitor"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("value=\"qian.li\""), "the input is kept");
    assert!(bad.body.contains("没有“janitor”这一角色"), "the problem in the reader's words");
    let ok = app
        .post(
            "/admin/users",
            &[
                ("_csrf", &csrf),
                ("username", "qian.li"),
                ("display_name", "钱力"),
                ("password", "long enough password"),
                ("roles", "unit_secretary@u03"),
            ],
        )
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    let mut new_user = app.another_browser();
    assert_eq!(new_user.sign_in_with("qian.li", "long enough password").await.status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.count("SELECT COUNT(*) AS n FROM audit_events WHERE kind = 'admin' AND event = 'create_user'").await,
        1
    );
}

async fn a_coordinator_uploads_trainees_and_bad_rows_are_listed_by_line(backend: Backend) {
    let mut app = App::new(backend).await;
    app.sign_in("gao.hong").await;
    let csrf = app.csrf().await;
    let started = app
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
    let in_training = app.instance("process = 'training_cohort' AND state = 'in_training'").await;
    let page = app.get(&format!("/cohorts/{in_training}/trainees")).await;
    assert_eq!(page.status, StatusCode::OK);
    let early = app.post(&format!("/instances/{cohort}/fire/open_enrolment"), &[("_csrf", &csrf)]).await;
    assert_eq!(early.status, StatusCode::SEE_OTHER);
    let cookies = app.cookie_header();
    let upload = |csv: &str| {
        let boundary = "unionflowboundary";
        let body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\n{csrf}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"t.csv\"\r\nContent-Type: text/csv\r\n\r\n{csv}\r\n--{boundary}--\r\n"
        );
        Request::post(format!("/cohorts/{cohort}/import"))
            .header(header::COOKIE, cookies.clone())
            .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={boundary}"))
            .body(Body::from(body))
            .expect("request")
    };
    let bad = upload(
        "姓名,工作单位,工种,技能等级,联系方式\n新人甲,海淀厂,焊工,高级工,13911112222\n新人乙,,焊工,高级工,13911112223\n",
    );
    let refused = app.send(bad).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("第 3 行：工作单位为空"), "the bad row by its line");
    assert!(refused.body.contains("已录取 0"), "nothing was imported");
    let good = upload(
        "姓名,工作单位,工种,技能等级,联系方式\n新人甲,海淀厂,焊工,高级工,13911112222\n新人丙,海淀厂,焊工,高级工,13911112224\n",
    );
    let imported = app.send(good).await;
    assert_eq!(imported.status, StatusCode::OK);
    assert!(imported.body.contains("已录取 1 · 候补 1"), "beyond the capacity, the next one waits");
    let mut huge = String::from("姓名,工作单位,工种,技能等级,联系方式\n");
    while huge.len() < 50 * 1024 * 1024 {
        huge.push_str("新人丁,海淀厂,焊工,高级工,13911112225\n");
    }
    let refused = app.send(upload(&huge)).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "a 50 MB file is refused with a report");
    assert!(refused.body.contains("5 MB"), "the report names the limit");
    assert!(refused.body.contains("已录取 1 · 候补 1"), "and nothing was imported");
}

async fn representatives_are_chosen_from_people_and_one_chief_a_side(backend: Backend) {
    let mut app = App::new(backend).await;
    app.sign_in("wang.wei").await;
    let csrf = app.csrf().await;
    let started = app
        .post(
            "/processes/bargaining_round/start",
            &[("_csrf", &csrf), ("sector", "海淀区民办教育"), ("year", "2027"), ("units", "u01"), ("units", "u02")],
        )
        .await;
    let path = started.location.expect("to the new round");
    let id = path.trim_start_matches("/instances/").to_owned();
    app.post(&format!("/instances/{id}/fire/request_by_workers"), &[("_csrf", &csrf), ("request_letter", "请求协商")])
        .await;
    let mut employer = app.another_browser();
    employer.sign_in("zhao.lei").await;
    let ecsrf = employer.csrf().await;
    employer.post(&format!("/instances/{id}/fire/reply_by_employer"), &[("_csrf", &ecsrf)]).await;

    let form = app.get(&path).await;
    assert!(form.body.contains(r#"value="li.na""#) && form.body.contains("李娜 (li.na)"), "people are offered");
    let name = |reps: &'static [&'static str], chiefs: &'static [&'static str]| {
        let mut f: Vec<(&str, &str)> = vec![("_csrf", "")];
        f.extend(reps.iter().map(|r| ("worker_reps", *r)));
        f.extend(chiefs.iter().map(|c| ("worker_chief", *c)));
        f
    };
    let fire = format!("/instances/{id}/fire/name_worker_side");
    let mut two = name(&["wang.wei", "li.na", "chen.jing"], &["wang.wei", "li.na"]);
    two[0].1 = &csrf;
    let refused = app.post(&fire, &two).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("只能选择一个"), "a second chief is named as the problem");
    assert!(refused.body.contains(r#"value="chen.jing" checked"#), "the representatives ticked stay ticked");
    let mut stranger = name(&["wang.wei", "li.na", "nobody.here"], &["wang.wei"]);
    stranger[0].1 = &csrf;
    let refused = app.post(&fire, &stranger).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("名录中没有“nobody.here”"));
    let unchanged = app.count(&format!("SELECT version AS n FROM instances WHERE id = {id}")).await;

    let mut good = name(&["wang.wei", "li.na", "chen.jing"], &["wang.wei"]);
    good[0].1 = &csrf;
    assert_eq!(app.post(&fire, &good).await.status, StatusCode::SEE_OTHER);
    assert_eq!(app.count(&format!("SELECT version AS n FROM instances WHERE id = {id}")).await, unchanged + 1);
    let page = app.get(&path).await;
    assert!(page.body.contains("王伟（工会主席）、李娜、陈静"), "representatives are shown by name");
}

async fn letters_and_contracts_print_with_their_signatures_and_dates(backend: Backend) {
    let mut app = App::new(backend).await;
    app.sign_in("admin").await;
    let passed = app.instance("process = 'assembly_approval' AND state = 'passed'").await;
    let letter = app.get(&format!("/instances/{passed}/documents/confirmation_letter")).await;
    assert_eq!(letter.status, StatusCode::OK);
    assert!(letter.body.contains("关于集体合同草案的审议确认函"));
    let unit = letter.body.split("<p>").nth(2).unwrap_or_default().to_owned();
    assert!(!unit.starts_with('＿') && unit.contains("于 20"), "the unit and the date are filled in: {unit}");
    assert!(letter.body.contains("法定人数"), "the figures that decided the vote are printed");
    let pending = app.instance("process = 'assembly_approval' AND state = 'draft_received'").await;
    let early = app.get(&format!("/instances/{pending}/documents/confirmation_letter")).await;
    assert_eq!(early.status, StatusCode::NOT_FOUND, "no letter before the assembly approved");

    let reviewing = app.instance("process = 'bargaining_round' AND state = 'unit_review'").await;
    let units = app.get(&format!("/instances/{reviewing}")).await;
    assert!(units.body.contains("工资年增长幅度低于本园实际"), "a unit's objections stand beside it on the round");

    let round = app.instance("process = 'bargaining_round' AND state = 'in_effect'").await;
    let page = app.get(&format!("/instances/{round}")).await;
    assert!(page.body.contains(&format!("/instances/{round}/documents/contract")), "the contract is offered");
    let contract = app.get(&format!("/instances/{round}/documents/contract")).await;
    assert_eq!(contract.status, StatusCode::OK);
    assert!(contract.body.contains("王伟（工会主席）") && contract.body.contains("赵磊（校董会代表）"), "both chiefs");
    assert!(contract.body.contains("本合同期限为 3 年"), "the term is filled in");
    assert!(!contract.body.contains("{draft_text}"), "every placeholder is filled");

    // A graduate's record: the map of levels shown by the competences' names, and drawn.
    let graduate = app.instance("process = 'trainee_track' AND state = 'in_talent_pool'").await;
    let record = app.get(&format!("/instances/{graduate}")).await;
    assert!(record.body.contains("引领力 ") && !record.body.contains("leadership "), "levels by competence name");
    assert!(record.body.contains(r#"id="map-levels""#), "and as a chart");
}

async fn a_long_draft_shows_only_its_changed_clause_between_versions(backend: Backend) {
    let mut app = App::new(backend).await;
    let admin = unionflow::engine::Actor::new("admin", ["admin"]);
    let rt = app.state.rt.clone();
    let fire = async |id: i64, event: &str, given: serde_json::Value| {
        let given = given.as_object().cloned().expect("an object");
        rt.fire(id, None, &admin, event, &given).await.unwrap_or_else(|e| panic!("{event}: {e}"));
    };
    let start = serde_json::json!({ "sector": "海淀区民办教育", "year": 2027, "units": ["u01"] });
    let round = rt.start("bargaining_round", &admin, start.as_object().expect("an object")).await.expect("a round");
    fire(round, "request_by_workers", serde_json::json!({ "request_letter": "请求协商" })).await;
    fire(round, "reply_by_employer", serde_json::json!({})).await;
    let workers = serde_json::json!({ "worker_reps": ["wang.wei", "li.na", "chen.jing"], "worker_chief": "wang.wei" });
    fire(round, "name_worker_side", workers).await;
    let employers =
        serde_json::json!({ "employer_reps": ["zhao.lei", "sun.li", "zheng.hua"], "employer_chief": "zhao.lei" });
    fire(round, "name_employer_side", employers).await;
    fire(round, "start_negotiation", serde_json::json!({})).await;
    // A draft near the field's limit of 100,000 characters, in more lines than a comparison of
    // every line with every line can afford.
    let clause = |i: usize| format!("第{i}条 支付第{i}项报酬。\n");
    let first: String = (1..=5200).map(clause).collect();
    assert!((95_000..=100_000).contains(&first.chars().count()), "{} characters", first.chars().count());
    let second = first.replacen(&clause(1500), "第1500条 第1500项报酬每年增长不低于5%。\n", 1);
    assert_ne!(first, second);
    fire(round, "propose_draft", serde_json::json!({ "draft_text": first, "term_years": 3 })).await;
    fire(round, "propose_draft", serde_json::json!({ "draft_text": second, "term_years": 3 })).await;

    app.sign_in("admin").await;
    let page = app.get(&format!("/instances/{round}/versions/draft_text")).await;
    assert_eq!(page.status, StatusCode::OK);
    let newest = page.body.split("<section").nth(1).expect("the newest version first").to_owned();
    assert_eq!(newest.matches("<del>").count(), 1, "one line removed");
    assert!(newest.contains(&format!("<del>{}</del>", clause(1500).trim_end())));
    assert_eq!(newest.matches("<ins>").count(), 1, "one line added");
    assert!(newest.contains("<ins>第1500条 第1500项报酬每年增长不低于5%。</ins>"));
    assert!(newest.matches(r#"<span class="same">"#).count() >= first.lines().count() - 1, "the rest unchanged");
}

async fn a_coordinator_adds_reassigns_and_graduates_from_the_trainees_page(backend: Backend) {
    let mut app = App::new(backend).await;
    app.sign_in("gao.hong").await;
    let csrf = app.csrf().await;
    let fields = [("_csrf", csrf.as_str()), ("name", "2027 班"), ("year", "2027"), ("fields", "智能制造")];
    let mut start = fields.to_vec();
    start.extend([("phases", "6"), ("capacity", "1")]);
    let started = app.post("/processes/training_cohort/start", &start).await;
    let cohort = started.location.expect("the new cohort").trim_start_matches("/instances/").to_owned();
    app.post(&format!("/instances/{cohort}/fire/open_enrolment"), &[("_csrf", &csrf)]).await;
    let path = format!("/cohorts/{cohort}/trainee");
    let trainee = |name: &'static str, contact: &'static str| {
        [("employer", "海淀厂"), ("trade", "焊工"), ("skill_level", "技师"), ("name", name), ("contact", contact)]
    };
    let with_csrf = |fields: [(&'static str, &'static str); 5]| {
        let mut form = vec![("_csrf", csrf.as_str())];
        form.extend(fields);
        form
    };
    let first = app.post(&path, &with_csrf(trainee("孙一", "13900000001"))).await;
    assert!(first.body.contains("已录取 孙一"), "the first trainee takes the one place");
    let second = app.post(&path, &with_csrf(trainee("孙二", "13900000002"))).await;
    assert!(second.body.contains("名额已满：孙二 已列入候补名单"));
    let bad = app.post(&path, &with_csrf(trainee("孙三", "12345"))).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("12345"), "the bad contact is named");
    assert!(bad.body.contains(r#"value="孙三""#) && bad.body.contains(r#"value="12345""#), "what was typed is kept");
    assert_eq!(app.count(&format!("SELECT COUNT(*) AS n FROM trainees WHERE cohort_id = {cohort}")).await, 2);

    // The cohort in training: two trainees given to another mentor, with the reason kept.
    let running = app.instance("process = 'training_cohort' AND state = 'in_training'").await;
    let page = app.get(&format!("/cohorts/{running}/trainees")).await;
    // 240 enrolled, shown 100 at a time by position.
    assert_eq!(page.body.matches(r#"name="trainee" value=""#).count(), 100);
    assert!(page.body.contains("已录取 240"));
    let last = app.get(&format!("/cohorts/{running}/trainees?after=200")).await;
    assert_eq!(last.body.matches(r#"name="trainee" value=""#).count(), 40, "the last page");
    assert!(!last.body.contains("?after="), "and no page after it");
    assert!(page.body.contains("?after=100"), "the first page links to the next");
    assert!(page.body.contains("各期平均出勤率") && page.body.contains("各项能力等级分布"), "the dashboard");
    let codes: Vec<String> = page
        .body
        .split(r#"name="trainee" value=""#)
        .skip(1)
        .take(2)
        .map(|rest| rest.split('"').next().unwrap_or_default().to_owned())
        .collect();
    let path = format!("/cohorts/{running}/reassign");
    let mut form =
        vec![("_csrf", csrf.as_str()), ("trainee", &codes[0]), ("trainee", &codes[1]), ("mentor", "tang.hui")];
    let no_reason = app.post(&path, &form).await;
    assert_eq!(no_reason.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(no_reason.body.contains("请填写更换原因"));
    let ticked = format!(r#"value="{}" id="pick-{}" checked"#, codes[0], codes[0]);
    assert!(no_reason.body.contains(&ticked), "the ticks are kept");
    assert!(no_reason.body.contains(r#"value="tang.hui" selected"#), "and the mentor chosen");
    form.push(("reason", "学员转岗，改由唐慧指导"));
    let moved = app.post(&path, &form).await;
    assert_eq!(moved.status, StatusCode::OK);
    assert!(moved.body.contains("名学员已更换为所选导师"), "{}", moved.body);
    let kept = "SELECT COUNT(*) AS n FROM audit_events WHERE event IN ('reassign', 'assign_mentor') AND data LIKE '%改由唐慧%'";
    assert!(app.count(kept).await >= 1, "the reason is in the audit trail");
    let early = app.post(&format!("/cohorts/{running}/graduate"), &[("_csrf", &csrf)]).await;
    assert_eq!(early.status, StatusCode::UNPROCESSABLE_ENTITY, "no graduation before the last phase");
}

async fn a_mentor_sees_their_own_trainees_with_what_is_due(backend: Backend) {
    let mut app = App::new(backend).await;
    app.sign_in("xu.ming").await;
    let home = app.get("/").await;
    assert!(home.body.contains(r#"href="/my-trainees""#), "mentors have the menu entry");
    assert!(!home.body.contains(r#"href="/figures""#), "the sector figures are not for mentors");
    let page = app.get("/my-trainees").await;
    assert_eq!(page.status, StatusCode::OK);
    let own = app
        .count("SELECT COUNT(*) AS n FROM instances WHERE process = 'trainee_track' AND outcome IS NULL AND data LIKE '%\"mentor\":\"xu.ming\"%'")
        .await;
    assert!(own > 0);
    assert_eq!(page.body.matches(r#"<tr><td><a href="/instances/"#).count() as i64, own, "only their own");
    assert!(page.body.contains("第3期成长档案待记录"), "the phase the cohort is in is due");

    let mut secretary = app.another_browser();
    secretary.sign_in("chen.jing").await;
    assert!(!secretary.get("/").await.body.contains(r#"href="/my-trainees""#));
    assert_eq!(secretary.get("/my-trainees").await.status, StatusCode::FORBIDDEN);
}

/// Issue 12, item 1: the people a step rests on can read what it rests on.
async fn those_a_step_rests_on_read_the_round_and_its_units_assemblies(backend: Backend) {
    let mut app = App::new(backend).await;
    let round = app.instance("process = 'bargaining_round' AND outcome IS NULL").await;
    let of_unit = |unit: &str| {
        format!("process = 'assembly_approval' AND parent_id = {round} AND data LIKE '%\"unit\":\"{unit}\"%'")
    };
    let (u01, u02) = (app.instance(&of_unit("u01")).await, app.instance(&of_unit("u02")).await);
    app.sign_in("wang.wei").await;
    assert_eq!(app.get(&format!("/instances/{u01}")).await.status, StatusCode::OK, "a negotiator reads a unit's vote");
    let letter = app.get(&format!("/instances/{u01}/documents/confirmation_letter")).await;
    assert_eq!(letter.status, StatusCode::OK, "and its confirmation letter");
    let mut bureau = app.another_browser();
    bureau.sign_in("ma.qiang").await;
    assert_eq!(bureau.get(&format!("/instances/{u01}")).await.status, StatusCode::OK, "so does the bureau's reviewer");
    let mut secretary = app.another_browser();
    secretary.sign_in("chen.jing").await;
    let page = secretary.get(&format!("/instances/{round}")).await;
    assert_eq!(page.status, StatusCode::OK, "a unit's secretary reads the round her assembly votes on");
    assert_eq!(
        secretary.get(&format!("/instances/{u02}")).await.status,
        StatusCode::FORBIDDEN,
        "not another unit's vote"
    );
}

/// Issue 12, item 3: a roll call of 48 recorded by ticks, one row per delegate; every name that
/// does not add up is named at once, and the ticks are kept.
async fn a_roll_call_of_48_is_ticked_row_by_row(backend: Backend) {
    let mut app = App::new(backend).await;
    app.sign_in("admin").await;
    let csrf = app.csrf().await;
    let started = app
        .post("/processes/assembly_approval/start", &[("_csrf", &csrf), ("unit", "u01"), ("draft_version", "2")])
        .await;
    let path = started.location.expect("to the new instance");
    let id = path.trim_start_matches("/instances/").to_owned();
    // The demo's u01 is on record with its 48 representatives by name: the roll call is on
    // them, and nobody typed a name.
    let surnames = ["王", "李", "张", "刘", "陈", "杨", "赵", "黄"];
    let given = ["晓明", "丽华", "建国", "雪梅", "志强", "静怡"];
    let names: Vec<String> = surnames.iter().flat_map(|s| given.iter().map(move |g| format!("{s}{g}"))).collect();
    let form = app.get(&path).await;
    assert!(
        form.body.contains(r#"id="schedule-roster_size" name="roster_size" type="number" value="48""#),
        "the form shows the register's figure"
    );
    let schedule = [("_csrf", csrf.as_str()), ("assembly_date", "2026-12-01"), ("kind", "representatives")];
    let scheduled = app.post(&format!("/instances/{id}/fire/schedule"), &schedule).await;
    assert_eq!(scheduled.status, StatusCode::SEE_OTHER, "the register's roster needs no typing");
    app.post(&format!("/instances/{id}/fire/open_session"), &[("_csrf", &csrf)]).await;

    let page = app.get(&path).await;
    assert!(page.body.contains("记名表决：逐人勾选是否到会及表决意见"), "the roll call is a table");
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
    let refused = app.post(&format!("/instances/{id}/fire/record_roll_call"), &form).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let absent = |i: usize| format!("“{}”投了票，但未登记到会", names[i - 1]);
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

    // The two are ticked present: 42 present of 48 (quorum 32), 32 in favour (24 needed).
    form.push(("attendees", &names[44]));
    form.push(("attendees", &names[45]));
    let recorded = app.post(&format!("/instances/{id}/fire/record_roll_call"), &form).await;
    assert_eq!(recorded.status, StatusCode::SEE_OTHER, "{}", recorded.body);
    let done = app.get(&path).await;
    assert!(done.body.contains("到会 42 / 应到 48"), "the figures counted from the ticks");
    assert!(done.body.contains("赞成 32"), "{}", done.body);
}

/// Issue 11, item 6: an admin keeps a unit's roster by name; an assembly then starts from it.
async fn an_admin_keeps_a_units_roster_by_name(backend: Backend) {
    let mut app = App::new(backend).await;
    app.sign_in("admin").await;
    let csrf = app.csrf().await;
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
    let refused = app.post("/admin/units", &bad).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "a name that reads backwards is refused");
    let mut long = unit(
        "张一\n张二张二张二张二张二张二张二张二张二张二张二张二张二张二张二张二张二张二张二张二张二张二张二张二张二张二张二张二张二张二张二",
    );
    long.push(("_csrf", &csrf));
    let refused = app.post("/admin/units", &long).await;
    assert!(refused.body.contains("名单第 2 行"), "the line is named");
    let mut good = unit("张一\n\n张二\n张三\n张二");
    good.push(("_csrf", &csrf));
    assert_eq!(app.post("/admin/units", &good).await.status, StatusCode::SEE_OTHER);
    let page = app.get("/admin").await;
    assert!(page.body.contains("<td>3 (附名单)</td>"), "counted from the names, each once");

    let started = app
        .post("/processes/assembly_approval/start", &[("_csrf", &csrf), ("unit", "u99"), ("draft_version", "1")])
        .await;
    let path = started.location.expect("to the new instance");
    let id = path.trim_start_matches("/instances/");
    let with_names = format!(
        "SELECT COUNT(*) AS n FROM instances WHERE id = {id} AND data LIKE '%\"roster\":[\"张一\",\"张二\",\"张三\"]%'"
    );
    assert_eq!(app.count(&with_names).await, 1, "the assembly starts from the unit's roster");
}

on_both_backends! {
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
}
