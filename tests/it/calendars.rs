//! Calendars that say when they are provisional, and deadlines that follow them (issue 11, item 9):
//! a deadline resting on a year without a published calendar is marked so on the instance page and
//! in "my work"; a changed calendar moves pending deadlines at the next start, audited; and
//! `validate` warns when the next twelve months are not covered.

use std::process::Command;

use time::macros::{datetime, offset};
use unionflow::clock::Clock;
use unionflow::definition::DefinitionSet;
use unionflow::runtime::Runtime;

use crate::on_both_backends;
use crate::support::{Backend, ROLES, data, defs, unique_name};
use crate::web::{Web, admin, en, quick_config, zh};

/// A notice answered within 20 days, the last day moved past rest days (the default).
const NOTICE: &str = r#"
id = "notice"
label = { zh = "通知", en = "Notice" }
initial = "waiting"
title = ["name"]

[start]
roles = ["admin"]
ask = ["name"]

[[stage]]
id = "main"
label = { zh = "主", en = "Main" }

[[state]]
id = "waiting"
stage = "main"
label = { zh = "待答复", en = "Awaiting the reply" }
[[state.timer]]
id = "reply"
fires = "overdue"
after = "20d"

[[state]]
id = "answered"
stage = "main"
final = true
outcome = "passed"
label = { zh = "已答复", en = "Answered" }

[[field]]
id = "name"
type = "text"
label = { zh = "名称", en = "Name" }

[[transition]]
event = "answer"
from = "waiting"
to = "answered"
roles = ["admin"]
label = { zh = "答复", en = "Answer" }

[[transition]]
event = "remind"
from = "waiting"
roles = ["admin"]
task = false
label = { zh = "催告", en = "Remind" }

[[transition]]
event = "overdue"
from = "waiting"
roles = ["system"]
label = { zh = "逾期", en = "Overdue" }
effects = [{ escalate = "admin" }]
"#;

/// 2026 as published (National Day 1 – 7 October among its holidays).
const PUBLISHED_2026: &str = include_str!("../../workflows/calendars/2026.toml");
/// 2026 as a draft that had not yet listed National Day: 1 October is a working Thursday.
const DRAFT_2026: &str = "year = 2026\n";

fn notice_with(calendars: &[(&str, &str)]) -> DefinitionSet {
    let mut files = vec![("notice.toml", NOTICE)];
    files.extend_from_slice(calendars);
    defs(&files)
}

/// Another start of the server over the same database, with the calendars of `set`.
async fn restart(web: &Web, set: DefinitionSet) -> Runtime {
    Runtime::new(web.db.reconnect().await, set, web.clock.clone(), offset!(+8)).await.expect("a restart")
}

async fn start_notice(web: &Web, name: &str) -> i64 {
    web.rt().start("notice", &admin(), &data(serde_json::json!({ "name": name }))).await.expect("start")
}

async fn last_day(web: &Web, id: i64) -> String {
    let timers = web.rt().timers(id).await.expect("timers");
    assert_eq!(timers.len(), 1, "one pending timer");
    timers[0].last_day.clone()
}

async fn moves(web: &Web) -> i64 {
    web.count("SELECT COUNT(*) AS n FROM audit_events WHERE kind = 'deadline_moved'").await
}

async fn a_deadline_into_a_year_without_a_calendar_is_marked_provisional(backend: Backend) {
    let web = Web::new(backend, notice_with(&[("calendars/2026.toml", PUBLISHED_2026)]), quick_config()).await;
    web.people(&[("admin", &["admin"])]).await;
    // Started Sunday 2026-12-20: day 20 is Saturday 2027-01-09, moved to Monday 01-11, in a year
    // no calendar file describes.
    web.clock.set(datetime!(2026-12-20 10:00 +08:00));
    let late = start_notice(&web, "年底的通知").await;
    // Started Monday 2026-12-07: day 20 is Sunday 12-27, moved to Monday 12-28, all in 2026.
    web.clock.set(datetime!(2026-12-07 10:00 +08:00));
    let early = start_notice(&web, "月初的通知").await;
    assert_eq!(last_day(&web, late).await, "2027-01-11");
    assert_eq!(last_day(&web, early).await, "2026-12-28");

    let zh_note = zh().f("deadline.provisional", &[("years", "2027".into())]);
    let mut b = web.browser();
    b.sign_in("admin").await;
    let page = b.get(&format!("/instances/{late}")).await;
    assert!(page.text().contains("2027-01-11"), "{}", page.text());
    assert!(page.text().contains(&zh_note), "the late deadline is marked provisional: {}", page.text());
    assert!(page.text().contains("按暂定日历计算"));
    let page = b.get(&format!("/instances/{early}")).await;
    assert!(page.text().contains("2026-12-28"));
    assert!(!page.text().contains("按暂定日历计算"), "a deadline on published calendars is not marked");

    // "My work" marks the same deadline, on its row only.
    let work = b.get("/").await;
    let rows = work.texts("tr");
    let row =
        |name: &str| rows.iter().find(|r| r.contains(name)).cloned().unwrap_or_else(|| panic!("{name}: {rows:?}"));
    assert!(row("年底的通知").contains(&zh_note), "{rows:?}");
    assert!(!row("月初的通知").contains("按暂定日历计算"), "{rows:?}");

    // And in English.
    b.get("/lang/en?back=/").await;
    let page = b.get(&format!("/instances/{late}")).await;
    assert!(page.text().contains(&en().f("deadline.provisional", &[("years", "2027".into())])), "{}", page.text());
    assert!(page.text().contains("provisional: no published holiday calendar for 2027"));
}

async fn a_changed_calendar_moves_a_pending_deadline_at_the_next_start_audited(backend: Backend) {
    let web = Web::new(backend, notice_with(&[("calendars/2026.toml", DRAFT_2026)]), quick_config()).await;
    // Started Friday 2026-09-11: day 20 is Thursday 10-01, a working day on the draft.
    web.clock.set(datetime!(2026-09-11 10:00 +08:00));
    let id = start_notice(&web, "国庆前的通知").await;
    // One started before timers kept their base: it counts from the day its timer was made.
    let legacy = start_notice(&web, "旧版本的通知").await;
    unionflow::store::db::exec(
        &web.db.db,
        "UPDATE timers SET base_day = NULL WHERE instance_id = $1",
        vec![legacy.into()],
    )
    .await
    .expect("forget the base");
    // Another, answered before the calendar changes: its timer is no longer pending.
    let done = start_notice(&web, "已答复的通知").await;
    web.rt().fire(done, None, &admin(), "answer", &data(serde_json::json!({}))).await.expect("answer");
    assert_eq!(last_day(&web, id).await, "2026-10-01");
    assert_eq!(moves(&web).await, 0, "the first start moves nothing");

    // The published calendar makes 1 – 7 October rest days: the next start moves the deadline to
    // Thursday 10-08, the first working day after.
    web.clock.set(datetime!(2026-09-15 08:00 +08:00));
    let rt = restart(&web, notice_with(&[("calendars/2026.toml", PUBLISHED_2026)])).await;
    let timers = rt.timers(id).await.expect("timers");
    assert_eq!(timers[0].last_day, "2026-10-08");
    assert_eq!(timers[0].due_at, datetime!(2026-10-09 00:00 +08:00), "it falls due at the end of its new day");
    assert!(timers[0].provisional.is_empty());
    assert_eq!(rt.timers(legacy).await.expect("timers")[0].last_day, "2026-10-08", "a timer without a base moves too");
    assert_eq!(moves(&web).await, 2, "two moves, the answered notice's timer untouched");

    let history = rt.history(id).await.expect("history");
    let moved = history.last().expect("an event");
    assert_eq!(moved.record.kind, "deadline_moved");
    assert_eq!(moved.record.actor, "system");
    assert_eq!(moved.at(), datetime!(2026-09-15 08:00 +08:00));
    let d = moved.data();
    assert_eq!(
        (d["timer"].as_str(), d["before"].as_str(), d["after"].as_str()),
        (Some("reply"), Some("2026-10-01"), Some("2026-10-08"))
    );
    // The instance's page shows the move in its history.
    web.people(&[("admin", &["admin"])]).await;
    let mut b = web.browser();
    b.sign_in("admin").await;
    let page = b.get(&format!("/instances/{id}")).await.text();
    assert!(page.contains(zh().t("kind.deadline_moved")), "{page}");
    assert!(page.contains("2026-10-01 → 2026-10-08"), "{page}");
    let verified = web.verify().await;
    assert_eq!(verified.broken, None, "the audit chain verifies after the move");

    // A second start on the same calendars moves nothing, and the chain still verifies.
    let again = restart(&web, notice_with(&[("calendars/2026.toml", PUBLISHED_2026)])).await;
    assert_eq!(again.timers(id).await.expect("timers")[0].last_day, "2026-10-08");
    assert_eq!(again.timers(legacy).await.expect("timers")[0].last_day, "2026-10-08");
    assert_eq!(moves(&web).await, 2, "a second start moves nothing");
    assert_eq!(web.verify().await.broken, None);

    // The instance goes on after the move: a step appends to the chain after the moved deadline.
    again.fire(id, None, &admin(), "answer", &data(serde_json::json!({}))).await.expect("answer after the move");
    assert_eq!(web.verify().await.broken, None);
}

async fn a_published_calendar_clears_the_provisional_mark(backend: Backend) {
    let provisional_2027 = "year = 2027\nprovisional = true\nrest_days = [\"2027-01-01\"]\n";
    let published_2027 = "year = 2027\nrest_days = [\"2027-01-01\"]\n";
    let web = Web::new(
        backend,
        notice_with(&[("calendars/2026.toml", PUBLISHED_2026), ("calendars/2027.toml", provisional_2027)]),
        quick_config(),
    )
    .await;
    // Started Saturday 2026-12-12: day 20 is Friday 2027-01-01, New Year's Day, moved to 01-04.
    web.clock.set(datetime!(2026-12-12 10:00 +08:00));
    let id = start_notice(&web, "跨年的通知").await;
    let timers = web.rt().timers(id).await.expect("timers");
    assert_eq!((timers[0].last_day.as_str(), timers[0].provisional.as_slice()), ("2027-01-04", &[2027][..]));

    // The notice is published with the same day: the deadline stays, and is no longer marked.
    let rt =
        restart(&web, notice_with(&[("calendars/2026.toml", PUBLISHED_2026), ("calendars/2027.toml", published_2027)]))
            .await;
    let timers = rt.timers(id).await.expect("timers");
    assert_eq!((timers[0].last_day.as_str(), timers[0].provisional.as_slice()), ("2027-01-04", &[][..]));
    assert_eq!(moves(&web).await, 0, "a deadline that stays is not audited as moved");
}

async fn recomputation_pages_through_every_pending_timer(backend: Backend) {
    let web = Web::new(backend, notice_with(&[("calendars/2026.toml", DRAFT_2026)]), quick_config()).await;
    web.clock.set(datetime!(2026-09-11 10:00 +08:00));
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(start_notice(&web, &format!("通知{i}")).await);
    }
    // Pages of two: five timers are three pages, each read after the last id of the one before.
    let rt = web.rt();
    let published = notice_with(&[("calendars/2026.toml", PUBLISHED_2026)]);
    let registry =
        unionflow::store::definitions::Registry::sync(rt.db(), published, web.clock.now()).await.expect("sync");
    let moved = unionflow::store::timers::recompute_deadlines(rt.db(), &registry, offset!(+8), web.clock.now(), 2)
        .await
        .expect("recompute");
    assert_eq!(moved, 5, "every page is read");
    for id in ids {
        assert_eq!(rt.timers(id).await.expect("timers")[0].last_day, "2026-10-08");
    }
    let again = unionflow::store::timers::recompute_deadlines(rt.db(), &registry, offset!(+8), web.clock.now(), 2)
        .await
        .expect("recompute");
    assert_eq!(again, 0, "a second run moves nothing");
    assert_eq!(web.verify().await.broken, None);
}

async fn a_server_running_while_another_moves_a_deadline_goes_on(backend: Backend) {
    let web = Web::new(backend, notice_with(&[("calendars/2026.toml", DRAFT_2026)]), quick_config()).await;
    web.clock.set(datetime!(2026-09-11 10:00 +08:00));
    let id = start_notice(&web, "两台服务器").await;
    // The running server remembers the row it wrote last.
    web.rt().fire(id, None, &admin(), "remind", &data(serde_json::json!({}))).await.expect("remind");
    // A second server starts on the published calendar and moves the deadline (a new audit event).
    let _other = restart(&web, notice_with(&[("calendars/2026.toml", PUBLISHED_2026)])).await;
    assert_eq!(moves(&web).await, 1);
    // The first server's next step appends after the move, not over it.
    web.rt().fire(id, None, &admin(), "remind", &data(serde_json::json!({}))).await.expect("remind again");
    web.rt().fire(id, None, &admin(), "answer", &data(serde_json::json!({}))).await.expect("answer");
    assert_eq!(web.state_of(id).await, "answered");
    assert_eq!(web.verify().await.broken, None);
}

on_both_backends! {
    two_servers => a_server_running_while_another_moves_a_deadline_goes_on;
    recompute_pages => recomputation_pages_through_every_pending_timer;
    provisional_on_the_page => a_deadline_into_a_year_without_a_calendar_is_marked_provisional;
    changed_calendar_moves => a_changed_calendar_moves_a_pending_deadline_at_the_next_start_audited;
    published_clears_mark => a_published_calendar_clears_the_provisional_mark;
}

// ---- validate ------------------------------------------------------------------------------

/// Runs `unionflow validate` on a folder as of `today`: exit code, stdout, stderr.
fn validate_on(files: &[(&str, &str)], today: &str) -> (i32, String, String) {
    let dir = std::env::temp_dir().join(unique_name("unionflow_cal"));
    std::fs::create_dir_all(dir.join("calendars")).unwrap();
    std::fs::write(dir.join("roles.toml"), ROLES).unwrap();
    std::fs::write(dir.join("notice.toml"), NOTICE).unwrap();
    for (name, text) in files {
        std::fs::write(dir.join(name), text).unwrap();
    }
    let out = Command::new(env!("CARGO_BIN_EXE_unionflow"))
        .args(["validate", "--today", today])
        .arg(&dir)
        .output()
        .expect("run unionflow validate");
    std::fs::remove_dir_all(dir).unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.code().unwrap_or(-1), text(&out.stdout), text(&out.stderr))
}

#[test]
fn validate_warns_when_the_next_twelve_months_are_not_covered() {
    let published_2027 = "year = 2027\n";
    let provisional_2027 = "year = 2027\nprovisional = true\n";

    // Covered: 2026 and 2027 published, from 2026-12-03 to 2027-12-02.
    let (code, out, err) =
        validate_on(&[("calendars/2026.toml", PUBLISHED_2026), ("calendars/2027.toml", published_2027)], "2026-12-03");
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("1 definitions valid"), "{out}");
    assert!(!err.contains("warning"), "{err}");

    // 2027 only provisional: a warning naming it, the run still valid.
    let (code, out, err) = validate_on(
        &[("calendars/2026.toml", PUBLISHED_2026), ("calendars/2027.toml", provisional_2027)],
        "2026-12-03",
    );
    assert_eq!(code, 0, "a warning is not an error: {out}{err}");
    assert_eq!(out.lines().count(), 1, "stdout keeps its one-line summary: {out}");
    let warning: Vec<&str> = err.lines().filter(|l| l.starts_with("warning:")).collect();
    assert_eq!(warning.len(), 1, "{err}");
    assert!(warning[0].contains("2027 (its calendar file is marked provisional)"), "{err}");
    assert!(!warning[0].contains("2026 ("), "2026 is published: {err}");

    // Half a year on, 2028 is within twelve months and has no file at all.
    let (code, _, err) =
        validate_on(&[("calendars/2026.toml", PUBLISHED_2026), ("calendars/2027.toml", published_2027)], "2027-06-01");
    assert_eq!(code, 0);
    assert!(err.contains("2028 (no calendar file)"), "{err}");
    assert!(!err.contains("2027 ("), "2027 is published: {err}");

    // On 1 January the twelve months end on 31 December: the next year is not asked for.
    let (_, _, err) = validate_on(&[("calendars/2027.toml", published_2027)], "2027-01-01");
    assert!(!err.contains("warning"), "{err}");
}

#[test]
fn two_calendar_files_for_one_year_are_a_problem() {
    let (code, out, _) = validate_on(
        &[("calendars/2026.toml", PUBLISHED_2026), ("calendars/2026-draft.toml", DRAFT_2026)],
        "2026-03-02",
    );
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("another calendar file already describes the year 2026"), "{out}");
}

#[test]
fn the_built_in_2027_calendar_is_provisional() {
    let set = unionflow::definition::embedded::load_embedded().expect("built-in definitions");
    assert!(!set.calendar.is_provisional(2026));
    assert!(set.calendar.is_provisional(2027), "2027 awaits the State Council's notice");
}
