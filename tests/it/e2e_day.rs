//! Each role's day in a real browser (issue 12, items 1 to 3): the links a step rests on open,
//! typed minutes survive a session that ends, and a roll call of 48 is ticked row by row.
//!
//! The browser, chromedriver and axe-core checks are those of [`e2e`](crate::e2e): every page a
//! click or an address loads is checked for WCAG 2.1 AA. Unlike those tests, the app here keeps
//! its runtime at hand, so a test can prepare what is not its subject (a round at the table)
//! and end a session on the server, and it runs over either database: SQLite, and PostgreSQL
//! when `UNIONFLOW_TEST_PG` is set too.

use std::sync::Arc;

use fantoccini::Locator;
use serde_json::{Value, json};
use unionflow::engine::{Actor, Data};
use unionflow::runtime::Runtime;

use crate::e2e::{Browser, Driver, act, axe_source, require_browser};
use crate::support::{Backend, TestDb};
use crate::web::zh;

/// The demo's units the tests look at: u01, whose secretary is chen.jing, and u02.
const U01: &str = "启明民办小学";
const U02: &str = "育才实验学校";
/// The demo's cohort in training, whose trainees xu.ming mentors.
const COHORT: &str = "2026 海淀工匠学院第一期";
/// The first clause of the demo's 2026 draft, which the units vote on.
const DRAFT_OPENS: &str = "第一条 工资：教职工月工资不低于本区最低工资标准的 1.8 倍";

// ---------------------------------------------------------------------------------------------
// The app over the demo, its runtime at hand

/// Runs one scenario against the demo, seeded into a fresh database of `backend`, in a fresh
/// browser. As [`e2e`](crate::e2e)'s runner, the scenario runs in its own task so a failing
/// assertion still closes the browser before the panic is passed on.
async fn day<F, Fut>(backend: Backend, scenario: F)
where
    F: FnOnce(Browser, Arc<Runtime>) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    require_browser();
    let axe = Arc::new(axe_source());
    let db = TestDb::new(backend).await;
    let set = unionflow::definition::embedded::load_embedded().expect("built-in definitions are valid");
    let clock = Arc::new(unionflow::clock::SystemClock);
    let offset = unionflow::config::parse_offset("+08:00").expect("an offset");
    let rt = Arc::new(Runtime::new(db.db.clone(), set, clock, offset).await.expect("the runtime"));
    assert!(unionflow::demo::seed(&rt).await.expect("seed the demo"), "the demo seeds an empty database");
    let router = unionflow::web::router(unionflow::web::AppState::new(rt.clone(), Default::default()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("the app's address");
    let server = tokio::spawn(async move {
        axum::serve(listener, router).await.expect("serve the app");
    });
    let driver = Driver::start();
    let client = driver.session().await;
    let browser = Browser { client: client.clone(), base: format!("http://{addr}"), axe };
    let outcome = tokio::spawn(scenario(browser, rt)).await;
    let _ = client.close().await;
    drop(driver);
    server.abort();
    drop(db);
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

/// Ends every session on the server, as an idle timeout would: the browser keeps its cookie,
/// the server no longer knows it.
async fn expire_sessions(rt: &Runtime) {
    let ended = unionflow::store::db::exec(rt.db(), "UPDATE sessions SET expires_at = 0", vec![]).await;
    assert!(ended.expect("age the sessions") > 0, "a session was running");
}

fn data(v: Value) -> Data {
    crate::support::data(v)
}

/// A new round over u01 brought to the table by its negotiators, as the demo's people.
async fn round_at_the_table(rt: &Runtime) -> i64 {
    let worker = Actor::new("wang.wei", ["worker_negotiator", "chief_representative"]);
    let employer = Actor::new("zhao.lei", ["employer_negotiator", "chief_representative"]);
    let start = data(json!({ "sector": "海淀区民办教育", "year": 2027, "units": ["u01"] }));
    let round = rt.start("bargaining_round", &worker, &start).await.expect("a round");
    let steps = [
        (&worker, "request_by_workers", json!({ "request_letter": "关于开展集体协商的要约书" })),
        (&employer, "reply_by_employer", json!({})),
        (
            &worker,
            "name_worker_side",
            json!({ "worker_reps": ["wang.wei", "li.na", "chen.jing"], "worker_chief": "wang.wei" }),
        ),
        (
            &employer,
            "name_employer_side",
            json!({ "employer_reps": ["zhao.lei", "sun.li", "zheng.hua"], "employer_chief": "zhao.lei" }),
        ),
        (&employer, "start_negotiation", json!({})),
    ];
    for (who, event, given) in steps {
        rt.fire(round, None, who, event, &data(given)).await.unwrap_or_else(|e| panic!("{event}: {e:?}"));
    }
    round
}

// ---------------------------------------------------------------------------------------------
// Reading the page as a person would

/// The address of the link inside `scope` whose text contains `text`.
async fn link_to(b: &Browser, scope: &str, text: &str) -> String {
    let links = b.client.find_all(Locator::Css(&format!("{scope} a"))).await.expect("the links");
    for link in links {
        if link.text().await.expect("a link's text").contains(text) {
            return link.attr("href").await.expect("a link's address").expect("an address");
        }
    }
    panic!("on {}, no link in {scope} reads {text}", b.path().await);
}

async fn links_in(b: &Browser, scope: &str) -> Vec<String> {
    let mut out = Vec::new();
    for link in b.client.find_all(Locator::Css(&format!("{scope} a"))).await.expect("the links") {
        out.extend(link.attr("href").await.expect("a link's address"));
    }
    out
}

/// The page shown is one of ours with something on it: not empty, not a refusal or an address
/// used the wrong way.
async fn a_real_page(b: &Browser, what: &str) {
    let main = b.text("main").await;
    assert!(!main.trim().is_empty(), "{what}: the page at {} is empty", b.path().await);
    let tr = zh();
    for key in ["error.403", "error.404", "error.405", "error.500"] {
        assert!(!main.contains(tr.t(key)), "{what}: {} answers {key}: {main}", b.path().await);
    }
}

/// Opens a unit's assembly from the round's page (already shown), then its confirmation letter.
async fn opens_the_assembly_and_its_letter(b: &Browser, assembly: &str, who: &str) {
    b.click(&format!("section[aria-labelledby=children-h] a[href='{assembly}']")).await;
    assert_eq!(b.path().await, assembly, "{who} opens the unit's assembly from the round");
    a_real_page(b, who).await;
    assert!(b.text("h1").await.contains(U01), "{who} reads u01's assembly");
    b.click("main a[href$='/documents/confirmation_letter']").await;
    a_real_page(b, who).await;
    let letter = b.text("main").await;
    assert!(letter.contains("审议确认函") && letter.contains(U01), "{who} reads u01's letter: {letter}");
}

// ---------------------------------------------------------------------------------------------
// Item 1: links that open, and only those

/// Issue 12, item 1: the negotiator and the bureau's reviewer open a unit's assembly from the
/// round's page, and its confirmation letter; the unit's secretary opens the round (and the
/// draft) from her assembly's page, and is shown no link to another unit's assembly, which
/// would be refused.
async fn those_a_step_rests_on_open_its_papers(backend: Backend) {
    day(backend, |b, _rt| async move {
        b.sign_in("wang.wei").await;
        b.click("header nav a[href='/processes']").await;
        b.click("main a[href='/processes/bargaining_round']").await;
        let round = link_to(&b, "main table", "2026").await;
        b.click(&format!("main table a[href='{round}']")).await;
        let children = "section[aria-labelledby=children-h]";
        let (ours, theirs) = (link_to(&b, children, U01).await, link_to(&b, children, U02).await);
        opens_the_assembly_and_its_letter(&b, &ours, "wang.wei").await;

        b.sign_out().await;
        b.sign_in("ma.qiang").await;
        b.click("header nav a[href='/processes']").await;
        b.click("main a[href='/processes/bargaining_round']").await;
        b.click(&format!("main table a[href='{round}']")).await;
        opens_the_assembly_and_its_letter(&b, &ours, "ma.qiang").await;

        b.sign_out().await;
        b.sign_in("chen.jing").await;
        b.click("header nav a[href='/processes']").await;
        b.click("main a[href='/processes/assembly_approval']").await;
        assert!(!links_in(&b, "main").await.contains(&theirs), "her list has no other unit's assembly");
        b.click(&format!("main table a[href='{ours}']")).await;
        b.click(&format!("main .crumbs a[href='{round}']")).await;
        assert_eq!(b.path().await, round, "the secretary opens the round her assembly votes on");
        a_real_page(&b, "chen.jing").await;
        assert!(b.text("main").await.contains(DRAFT_OPENS), "the round shows the draft");
        let listed = b.text(children).await;
        assert!(listed.contains(U01) && listed.contains(U02), "every unit is listed: {listed}");
        let links = links_in(&b, children).await;
        assert!(links.contains(&ours), "her assembly is linked: {links:?}");
        assert!(!links.contains(&theirs), "another unit's assembly is not linked: {links:?}");
        assert!(!links_in(&b, "main").await.contains(&theirs), "nowhere on the page");
        b.click("main a[href$='/versions/draft_text']").await;
        a_real_page(&b, "chen.jing").await;
        assert!(b.text("main").await.contains(DRAFT_OPENS), "she reads the draft's text");

        // The link left out would have been refused.
        b.open(&theirs).await;
        let refused = b.text("main").await;
        assert!(refused.contains(zh().t("error.403")), "another unit's assembly is refused: {refused}");
        assert!(!refused.contains(U02), "and nothing of it shown: {refused}");
    })
    .await;
}

/// Issue 12, item 1, for a mentor: a trainee's track names its cohort, but links it only for
/// those who may open it; the mentor, who acts in the track and not in the cohort, is shown the
/// cohort's name and no link that would be refused, while the coordinator follows it.
async fn a_mentor_is_shown_no_link_to_a_cohort_he_cannot_open(backend: Backend) {
    day(backend, |b, rt| async move {
        b.sign_in("xu.ming").await;
        b.click("header nav a[href='/my-trainees']").await;
        b.click("main table a[href^='/instances/']").await;
        let track = b.path().await;
        a_real_page(&b, "xu.ming").await;
        let id: i64 = track.trim_start_matches("/instances/").parse().expect("a track's id");
        let cohort = rt.instance(id).await.expect("the track").row.parent_id.expect("a track has its cohort");
        let cohort = format!("/instances/{cohort}");
        let crumbs = b.text("main .crumbs").await;
        assert!(crumbs.contains(COHORT), "the track names its cohort: {crumbs}");
        assert!(!links_in(&b, "main").await.contains(&cohort), "no link to the cohort for the mentor");
        b.open(&cohort).await;
        assert!(b.text("main").await.contains(zh().t("error.403")), "the link left out would have been refused");
        b.click("main a[href='/']").await;

        b.sign_out().await;
        b.sign_in("gao.hong").await;
        b.open(&track).await;
        b.click(&format!("main .crumbs a[href='{cohort}']")).await;
        a_real_page(&b, "gao.hong").await;
        assert!(b.text("h1").await.contains(COHORT), "the coordinator opens the cohort from the track");
    })
    .await;
}

// ---------------------------------------------------------------------------------------------
// Item 2: what was typed survives the end of a session

/// Minutes with more than one line and characters HTML gives meaning to: they must come back
/// as typed, not as markup.
const MINUTES: &str = "第三次协商：工资年增长 5%，班主任津贴 600 元。\n<b>\"原文\"</b> & 备注";

/// Issue 12, item 2: the negotiator types a session's minutes, the session ends on the server
/// while he types, he sends them and lands on the sign-in page that says his text is kept; signed
/// in, he sees the form back with what he typed, sends it, and the minutes are on the round.
async fn minutes_typed_while_the_session_ends_are_not_lost(backend: Backend) {
    day(backend, |b, rt| async move {
        let round = round_at_the_table(&rt).await;
        let path = format!("/instances/{round}");
        b.sign_in("wang.wei").await;
        b.open(&path).await;
        b.set_date("#record_session-session_date", "2027-03-02").await;
        b.fill("#record_session-session_attendees", "王伟\n赵磊").await;
        b.fill("#record_session-session_minutes", MINUTES).await;

        expire_sessions(&rt).await;
        b.click("#action-record_session button[type=submit]").await;
        a_real_page(&b, "sent after the session ended").await;
        let signin = b.text("main").await;
        assert!(signin.contains(zh().t("signin.expired_kept")), "the sign-in says the text is kept: {signin}");
        let held = rt.instance(round).await.expect("the round").row.data;
        assert!(held.get("session_minutes").is_none(), "nothing was recorded without a session");

        // A mistyped password first: the text is still kept.
        b.fill("#username", "wang.wei").await;
        b.fill("#password", "not the password").await;
        b.click("main form button[type=submit]").await;
        a_real_page(&b, "a mistyped password").await;
        assert!(b.text("main .alert").await.contains(zh().t("signin.failed")), "the sign-in is refused");
        b.fill("#username", "wang.wei").await;
        b.fill("#password", unionflow::demo::DEMO_PASSWORD).await;
        b.click("main form button[type=submit]").await;
        a_real_page(&b, "signed in again").await;
        assert_eq!(b.text("h1").await, zh().t("resend.title"), "the form comes back before it is sent");
        let shown = b.text("main dl.details").await;
        for line in MINUTES.lines() {
            assert!(shown.contains(line), "what was typed is shown: {line:?} in {shown}");
        }
        // Under the words of the form it was typed in, not the engine's names for them.
        for label in ["协商会议日期", "出席人员", "协商会议记录"] {
            assert!(shown.contains(label), "the field is named {label}: {shown}");
        }
        assert!(!shown.contains("session_"), "no field by its internal name: {shown}");

        b.click("main form button[type=submit]").await;
        assert_eq!(b.path().await, path, "sent, the round's page");
        a_real_page(&b, "sent").await;
        let alerts = b.client.find_all(Locator::Css("main .alert")).await.expect("alerts");
        assert!(alerts.is_empty(), "sent without a refusal");
        let page = b.text("main").await;
        for line in MINUTES.lines() {
            assert!(page.contains(line), "the minutes are on the round's page: {line:?} in {page}");
        }
        let held = rt.instance(round).await.expect("the round").row.data;
        let held = held["session_minutes"].as_str().unwrap_or_default().replace("\r\n", "\n");
        assert_eq!(held, MINUTES, "recorded as typed");
    })
    .await;
}

// ---------------------------------------------------------------------------------------------
// Item 3: the roll call by ticks

/// How the delegate in row `i` (from 1) of 48 votes: 40 attend, 30 in favour, 5 against, 3
/// abstaining, 2 without a vote.
fn ballot(i: usize) -> &'static str {
    match i {
        1..=30 => "yes",
        31..=35 => "no",
        36..=38 => "abstain",
        _ => "",
    }
}

/// The delegate not ticked present whose vote is ticked by mistake.
const MISTAKE: usize = 45;

/// Each row of the roll call as shown: the name, whether ticked present, and the vote ticked.
async fn roll_call_rows(b: &Browser) -> Vec<(String, bool, String)> {
    let rows: Value = b
        .client
        .execute(
            "return [...document.querySelectorAll('#action-record_roll_call tbody tr')].map(tr => {
               const vote = tr.querySelector('input[type=radio]:checked');
               return [tr.querySelector('input[type=checkbox]').value,
                       tr.querySelector('input[type=checkbox]').checked,
                       vote ? vote.value : null,
                       tr.classList.contains('invalid')];
             });",
            vec![],
        )
        .await
        .expect("the roll call's rows");
    let rows = rows.as_array().cloned().unwrap_or_default();
    rows.iter()
        .map(|r| {
            let name = r[0].as_str().unwrap_or_default().to_owned();
            (name, r[1] == json!(true), r[2].as_str().unwrap_or("-").to_owned())
        })
        .collect()
}

async fn invalid_rows(b: &Browser) -> Vec<String> {
    let mut out = Vec::new();
    for row in b.client.find_all(Locator::Css("#action-record_roll_call tbody tr.invalid")).await.expect("rows") {
        out.push(row.find(Locator::Css("th")).await.expect("a row's name").text().await.expect("its text"));
    }
    out
}

/// Issue 12, item 3: the secretary of u01 records her assembly's vote by ticking the unit's 48
/// delegates row by row; the vote ticked for someone not ticked present is named on its row, the
/// ticks kept; ticked present, the vote is recorded and its outcome shown with its figures.
async fn a_roll_call_of_48_is_recorded_by_ticks(backend: Backend) {
    day(backend, |b, rt| async move {
        let admin = Actor::new("admin", ["admin"]);
        let given = data(json!({ "unit": "u01", "draft_version": 2 }));
        let assembly = rt.start("assembly_approval", &admin, &given).await.expect("an assembly");
        let path = format!("/instances/{assembly}");

        b.sign_in("chen.jing").await;
        b.click(&format!("main a[href='{path}']")).await;
        let roster = b.find("#schedule-roster_size").await.prop("value").await.expect("the roster's size");
        assert_eq!(roster.as_deref(), Some("48"), "the roster is the unit's on record");
        b.set_date("#schedule-assembly_date", "2026-12-10").await;
        b.select("#schedule-kind", "representatives").await;
        act(&b, &path, "schedule").await;
        act(&b, &path, "open_session").await;

        let rows = roll_call_rows(&b).await;
        assert_eq!(rows.len(), 48, "one row per delegate of the unit's register");
        assert!(rows.iter().all(|(_, present, vote)| !present && vote.is_empty()), "nothing ticked yet: {rows:?}");
        let names: Vec<String> = rows.into_iter().map(|(name, _, _)| name).collect();
        let tick = |i: usize, column: &str| {
            let name = &names[i - 1];
            if column == "present" {
                format!("#action-record_roll_call input[name=attendees][value='{name}']")
            } else {
                format!("#action-record_roll_call input[name='ballot:{name}'][value='{column}']")
            }
        };
        for i in 1..=48 {
            if i <= 40 {
                b.tick(&tick(i, "present")).await;
            }
            if !ballot(i).is_empty() {
                b.tick(&tick(i, ballot(i))).await;
            }
        }
        b.tick(&tick(MISTAKE, "yes")).await;
        b.click("#action-record_roll_call button[type=submit]").await;

        let mistaken = &names[MISTAKE - 1];
        let why = zh().f("tally.voted_but_absent", &[("name", mistaken.clone())]);
        let alert = b.text("#action-record_roll_call .alert").await;
        assert!(alert.contains(&why), "the form says what does not add up: {alert}");
        assert_eq!(invalid_rows(&b).await.len(), 1, "one row is marked");
        let marked = invalid_rows(&b).await.remove(0);
        assert!(marked.contains(mistaken.as_str()) && marked.contains(&why), "the mistake on its row: {marked}");
        let kept = roll_call_rows(&b).await;
        for (i, (name, present, vote)) in kept.iter().enumerate() {
            let row = i + 1;
            let expected = if row == MISTAKE { "yes" } else { ballot(row) };
            assert_eq!(name, &names[i], "the rows keep their order");
            assert_eq!((*present, vote.as_str()), (row <= 40, expected), "row {row} ({name}) keeps its ticks");
        }

        b.tick(&tick(MISTAKE, "present")).await;
        b.click("#action-record_roll_call button[type=submit]").await;
        assert_eq!(b.path().await, path, "recorded, the assembly's page");
        assert!(b.client.find(Locator::Css("#action-record_roll_call")).await.is_err(), "the vote is recorded once");
        let vote = b.find("main p.vote").await;
        assert_eq!(vote.attr("class").await.expect("the vote's class").as_deref(), Some("vote passed"));
        let figures = vote.text().await.expect("the vote's figures");
        assert!(figures.contains(zh().t("vote.check.passed")), "the draft passed: {figures}");
        // 41 of 48 present (32 needed), 31 in favour (24 needed), 5 against, 3 abstaining.
        let counted = [("present", 41), ("roster", 48), ("quorum_needed", 32), ("yes", 31), ("yes_needed", 24)];
        let counted = counted.into_iter().chain([("no", 5), ("abstain", 3)]).map(|(k, n)| (k, n.to_string()));
        let expected = zh().f("instance.vote.figures", &counted.collect::<Vec<_>>());
        assert!(figures.contains(&expected), "the outcome shows its figures, {expected}: {figures}");
        let held = rt.instance(assembly).await.expect("the assembly").row.data;
        let counts = ["roster", "present", "yes", "no", "abstain"].map(|k| held["vote"][k].as_i64());
        assert_eq!(counts, [48, 41, 31, 5, 3].map(Some), "counted from the ticks: {}", held["vote"]);
    })
    .await;
}

/// Each scenario on SQLite, and on PostgreSQL when asked for; both need the browser.
macro_rules! in_the_browser_on_both_backends {
    ($($name:ident => $body:ident;)*) => {
        $(mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[ignore = "needs Chromium, chromedriver and axe-core: set UNIONFLOW_E2E=1 and run with --include-ignored"]
            async fn sqlite() { super::$body($crate::support::Backend::Sqlite).await }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[ignore = "needs Chromium, chromedriver, axe-core and PostgreSQL: set UNIONFLOW_E2E=1 and UNIONFLOW_TEST_PG, and run with --include-ignored"]
            async fn postgres() { super::$body($crate::support::Backend::Postgres).await }
        })*
    };
}

in_the_browser_on_both_backends! {
    e2e_papers_open => those_a_step_rests_on_open_its_papers;
    e2e_mentor_links => a_mentor_is_shown_no_link_to_a_cohort_he_cannot_open;
    e2e_minutes_survive => minutes_typed_while_the_session_ends_are_not_lost;
    e2e_roll_call_by_ticks => a_roll_call_of_48_is_recorded_by_ticks;
}
