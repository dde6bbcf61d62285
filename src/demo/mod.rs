//! `serve --demo`: fills an empty database with a realistic demo — a district's private schools
//! and kindergartens, their assemblies, a bargaining round under way, last year's round in
//! effect, a training cohort, and one user for every role — all driven through the runtime, so
//! the audit trail is real.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::clock::{Clock, ManualClock};
use crate::definition::calendar::format_date;
use crate::sector::track;

mod script;

use crate::engine::{Actor, Data};
use crate::people::{DisplayName, Password, RoleGrant, Username, users};
use crate::runtime::Runtime;
use crate::store::audit::{Audited, Record};
use crate::store::units::{self, Unit};
use sea_orm::DatabaseTransaction;

/// Scenarios played after the rest is seeded: a year of hardship cases.
const SCRIPTS: &[&str] = &[include_str!("../../demo/hardship_cases.toml")];

/// The password of every demo user (printed at start; a demo is not a deployment).
pub const DEMO_PASSWORD: &str = "unionflow-demo";

const SECTOR: &str = "海淀区民办教育";

/// u01's 48 representatives by name, so its assemblies take the roll call by ticks.
fn u01_roster() -> String {
    let (surnames, given) =
        (["王", "李", "张", "刘", "陈", "杨", "赵", "黄"], ["晓明", "丽华", "建国", "雪梅", "志强", "静怡"]);
    surnames.iter().flat_map(|s| given.iter().map(move |g| format!("{s}{g}"))).collect::<Vec<_>>().join("\n")
}

/// (id, Chinese name, English name, kind, roster)
const UNITS: &[(&str, &str, &str, &str, i64)] = &[
    ("u01", "启明民办小学", "Qiming Private Primary School", "school", 48),
    ("u02", "育才实验学校", "Yucai Experimental School", "school", 62),
    ("u03", "博雅双语学校", "Boya Bilingual School", "school", 55),
    ("u04", "星河中学", "Xinghe Secondary School", "school", 71),
    ("u05", "知行外国语学校", "Zhixing Foreign Language School", "school", 40),
    ("u06", "晨曦小学", "Chenxi Primary School", "school", 33),
    ("u07", "小太阳幼儿园", "Little Sun Kindergarten", "kindergarten", 24),
    ("u08", "蓝天幼儿园", "Blue Sky Kindergarten", "kindergarten", 19),
    ("u09", "童心幼儿园", "Tongxin Kindergarten", "kindergarten", 27),
    ("u10", "彩虹幼儿园", "Rainbow Kindergarten", "kindergarten", 21),
    ("u11", "春苗幼儿园", "Chunmiao Kindergarten", "kindergarten", 16),
    ("u12", "明德艺术学校", "Mingde Arts School", "school", 38),
];

/// (user name, name, roles)
const PEOPLE: &[(&str, &str, &[&str])] = &[
    ("admin", "系统管理员 周敏", &["admin"]),
    ("wang.wei", "王伟（工会主席）", &["worker_negotiator", "chief_representative", "union_chair"]),
    ("li.na", "李娜", &["worker_negotiator"]),
    ("zhao.lei", "赵磊（校董会代表）", &["employer_negotiator", "chief_representative"]),
    ("sun.li", "孙丽", &["employer_negotiator"]),
    ("zheng.hua", "郑华（民办学校协会）", &["employer_negotiator"]),
    ("chen.jing", "陈静（启明小学职代会秘书）", &["unit_secretary@u01"]),
    ("liu.yang", "刘洋（育才学校职代会秘书）", &["unit_secretary@u02"]),
    ("he.fang", "何芳（小太阳幼儿园职代会秘书）", &["unit_secretary@u07"]),
    ("ma.qiang", "马强（区人社局）", &["bureau_reviewer"]),
    ("gao.hong", "高红（培训协调员）", &["training_coordinator"]),
    ("xu.ming", "徐明（工匠经纪人）", &["mentor"]),
    ("tang.hui", "唐慧（工匠经纪人）", &["mentor"]),
    ("ye.lan", "叶兰（江山市总工会帮扶中心）", &["caseworker"]),
];

const TRADES: [&str; 4] = ["数控车工", "维修电工", "焊工", "幼儿保育"];

/// A trainee list as a coordinator would upload it.
fn trainee_csv(n: usize) -> String {
    const SURNAMES: [&str; 10] = ["王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴"];
    const GIVEN: [&str; 10] = ["伟", "芳", "娜", "敏", "静", "强", "磊", "洋", "艳", "军"];
    const EMPLOYERS: [&str; 4] = ["北京精工机械厂", "海淀热力公司", "中关村电子装配厂", "小太阳幼儿园"];
    let mut out = String::from("姓名,工作单位,工种,技能等级,联系方式\n");
    for i in 0..n {
        let name = format!("{}{}{}", SURNAMES[i % 10], GIVEN[(i / 10) % 10], if i >= 100 { GIVEN[i % 7] } else { "" });
        let level = ["中级工", "高级工", "技师"][i % 3];
        out.push_str(&format!("{name},{},{},{level},139{:08}\n", EMPLOYERS[i % 4], TRADES[i % 4], 10_000 + i));
    }
    out
}

fn coordinator_actor() -> Actor {
    Actor::new("gao.hong", ["training_coordinator"])
}

fn data(v: Value) -> Data {
    v.as_object().cloned().unwrap_or_default()
}

/// Seeds the demo unless the database already holds instances. Returns whether it did.
///
/// The whole demo is one transaction: a start that is interrupted, or fails half-way, leaves the
/// database as empty as it found it, and the next start seeds it whole.
pub async fn seed(rt: &Runtime) -> anyhow::Result<bool> {
    let now = rt.clock().now();
    // The rounds happen on a clock of their own that moves through each year, so their history
    // (and the figures' days per stage) looks like a real one. It never passes `now`.
    let clock = Arc::new(ManualClock::new(now));
    let history = Runtime::new(rt.db().clone(), rt.definitions().clone(), clock.clone(), rt.offset()).await?;
    let password_hash = crate::people::password::hash(&Password::parse(DEMO_PASSWORD)?)?;
    let seeding = Audited::begin(rt.db(), "admin", "demo", now).await?;
    let c = seeding.conn();
    if !crate::store::instances::count_by_process(c).await?.is_empty() {
        return Ok(false);
    }
    for (id, zh, en, kind, roster) in UNITS {
        let unit = Unit {
            id: (*id).into(),
            name_zh: (*zh).into(),
            name_en: (*en).into(),
            sector: SECTOR.into(),
            kind: (*kind).into(),
            roster_size: *roster,
            roster: if *id == "u01" { u01_roster() } else { String::new() },
        };
        units::upsert(c, &unit, now).await?;
    }
    let roles = &rt.definitions().roles;
    for (name, display, grants) in PEOPLE {
        let grants = grants.iter().map(|g| RoleGrant::parse(g, roles)).collect::<Result<Vec<_>, _>>()?;
        let (name, display) = (Username::parse(name)?, DisplayName::parse(display)?);
        users::create(c, &name, &display, &password_hash, &grants, now).await?;
    }

    let worker = Actor::new("wang.wei", ["worker_negotiator", "chief_representative"]);
    let employer = Actor::new("zhao.lei", ["employer_negotiator", "chief_representative"]);
    let unit_ids: Vec<&str> = UNITS.iter().map(|u| u.0).collect();

    let (rt_now, rt) = (rt, &history);
    let spring = |year: i32| {
        time::Date::from_calendar_date(year, time::Month::March, 2)
            .map(|d| d.with_hms(9, 0, 0).expect("9:00 is a time").assume_offset(rt_now.offset()))
    };

    // Past years, for the figures: rounds that concluded, and two that were withdrawn.
    let of_kind = |kind: &str| -> Vec<&str> { UNITS.iter().filter(|u| u.3 == kind).map(|u| u.0).collect() };
    let (schools, kindergartens) = (of_kind("school"), of_kind("kindergarten"));
    let years = |from: i32| clock.set(spring(from).unwrap_or(now).min(now));
    years(2022);
    concluded_round(rt, c, &clock, &worker, &employer, 2022, &schools).await?;
    withdrawn_round(rt, c, &clock, &worker, &employer, 2022, &kindergartens, "幼儿园举办者未能按期组成协商代表")
        .await?;
    years(2023);
    concluded_round(rt, c, &clock, &worker, &employer, 2023, &unit_ids).await?;
    years(2024);
    concluded_round(rt, c, &clock, &worker, &employer, 2024, &unit_ids[..10]).await?;
    withdrawn_round(rt, c, &clock, &worker, &employer, 2024, &unit_ids[10..], "两所单位并入集团，另行协商").await?;
    // Last year's round: concluded and in effect.
    years(2025);
    concluded_round(rt, c, &clock, &worker, &employer, 2025, &unit_ids).await?;

    // This year's round, opened some ten weeks ago: the draft is with the units; some have
    // voted, one said no.
    clock.set(now - time::Duration::days(70));
    let current = open_round(rt, c, &clock, &worker, &employer, 2026, &unit_ids).await?;
    send_draft(rt, c, &clock, current, 2026, &worker, &employer).await?;
    let children = latest_children(rt, c, current).await?;
    for (i, child) in children.iter().enumerate() {
        match i {
            0..=3 => vote(rt, c, &clock, *child, 0.75).await?,
            4 => vote(rt, c, &clock, *child, 0.3).await?,
            5 | 6 => {
                let sec = Actor::new("admin", ["admin"]);
                rt.fire_in(
                    c,
                    *child,
                    None,
                    &sec,
                    "schedule",
                    &data(
                        json!({ "assembly_date": "2026-12-10", "kind": "representatives", "roster_size": UNITS[i].4 }),
                    ),
                )
                .await?;
            }
            _ => {}
        }
    }

    let rt = rt_now;

    // Last year's cohort: graduated, its trainees in the talent pool with their assessments.
    let past = rt
        .start_in(
            c,
            "training_cohort",
            &coordinator_actor(),
            &data(json!({ "name": "2025 海淀工匠学院（已结业）", "year": 2025, "fields": ["智能制造"], "phases": 6, "capacity": 40 })),
        )
        .await?;
    let coordinator = coordinator_actor();
    rt.fire_in(c, past, None, &coordinator, "open_enrolment", &Data::new()).await?;
    crate::training::enrol::import_csv(
        rt,
        c,
        past,
        &coordinator,
        trainee_csv(36).replace("139", "138").as_bytes(),
        false,
    )
    .await?;
    for (i, trade) in TRADES.iter().enumerate() {
        crate::training::mentors::upsert(c, &format!("mentor2025-{i}"), &format!("往届导师{i}"), trade, 12, now)
            .await?;
    }
    rt.fire_in(c, past, None, &coordinator, "start_training", &Data::new()).await?;
    crate::training::mentors::auto_assign(rt, c, past, &coordinator).await?;
    for _ in 1..6 {
        rt.fire_in(c, past, None, &coordinator, "advance_phase", &Data::new()).await?;
    }
    for (i, track) in latest_children(rt, c, past).await?.into_iter().enumerate() {
        rt.fire_in(c, track, None, &coordinator, "begin_training", &Data::new()).await?;
        for phase in 1..=6 {
            // Every twelfth trainee missed most of the fourth phase and does not complete.
            let attendance = if i % 12 == 11 && phase == 4 { 40 } else { 80 + (i + phase) % 21 };
            record_phase(rt, c, track, &coordinator, phase, attendance as i64).await?;
        }
        assess_all(rt, c, track, &coordinator, i).await?;
    }
    rt.fire_in(c, past, None, &coordinator, "finish_training", &Data::new()).await?;
    let tr = crate::web::i18n::Tr::new(crate::web::i18n::Lang::Zh);
    let roles = &rt.definitions().roles;
    let track_def = rt.registry().current(track::PROCESS).map(|(_, d)| d.as_ref());
    crate::training::graduate::graduate_cohort(rt, c, past, &coordinator, |failure| {
        let refusal = crate::engine::Refusal::Guard(failure.clone(), None);
        crate::web::view::refusal_text(&tr, track_def, roles, &refusal)
    })
    .await?;

    // A training cohort: 250 applicants for 240 places, 16 mentors, in its third of six phases.
    let cohort = rt
        .start_in(
            c,
            "training_cohort",
            &coordinator,
            &data(json!({ "name": "2026 海淀工匠学院第一期", "year": 2026, "fields": ["智能制造", "教育服务"], "phases": 6, "capacity": 240 })),
        )
        .await?;
    rt.fire_in(c, cohort, None, &coordinator, "open_enrolment", &Data::new()).await?;
    const MODULES: [(&str, &str, &str, &str); 6] = [
        ("工匠精神与职业素养", "岗位技能诊断", "", ""),
        ("先进制造工艺", "数控与电气实操", "项目选题", ""),
        ("质量管理与精益生产", "技能比武训练", "项目立项答辩", "中关村科技园"),
        ("班组管理与沟通", "导师带徒实训", "项目中期检查", "亦庄经济开发区"),
        ("技术创新方法", "绝技绝活传承", "成果转化辅导", "怀柔科学城"),
        ("劳动法律与权益保障", "综合考核", "项目结题展示", ""),
    ];
    for (i, (theory, practice, incubation, field)) in MODULES.iter().enumerate() {
        let month = 3 + i;
        let given = json!({
            "plan_phase": i + 1,
            "phase_starts_on": format!("2026-{month:02}-02"),
            "phase_ends_on": format!("2026-{month:02}-27"),
            "module_theory": theory,
            "module_practice": practice,
            "module_incubation": incubation,
            "module_field_study": field,
        });
        rt.fire_in(c, cohort, None, &coordinator, "plan_phase", &data(given)).await?;
    }
    crate::training::enrol::import_csv(rt, c, cohort, &coordinator, trainee_csv(250).as_bytes(), false).await?;
    for (i, trade) in TRADES.iter().cycle().take(16).enumerate() {
        let (username, name) = match i {
            0 => ("xu.ming".to_owned(), "徐明".to_owned()),
            1 => ("tang.hui".to_owned(), "唐慧".to_owned()),
            _ => (format!("mentor{i:02}"), format!("导师{i:02}")),
        };
        crate::training::mentors::upsert(c, &username, &name, trade, 16, now).await?;
    }
    rt.fire_in(c, cohort, None, &coordinator, "start_training", &Data::new()).await?;
    crate::training::mentors::auto_assign(rt, c, cohort, &coordinator).await?;
    for (i, track) in latest_children(rt, c, cohort).await?.into_iter().enumerate() {
        rt.fire_in(c, track, None, &coordinator, "begin_training", &Data::new()).await?;
        // The first two phases are recorded; the third is under way and its records are due.
        for phase in 1..=2 {
            record_phase(rt, c, track, &coordinator, phase, (70 + (i * 7 + phase) % 31) as i64).await?;
        }
        if i % 3 == 0 {
            assess_all(rt, c, track, &coordinator, i).await?;
        }
    }
    rt.fire_in(c, cohort, None, &coordinator, "advance_phase", &Data::new()).await?;
    rt.fire_in(c, cohort, None, &coordinator, "advance_phase", &Data::new()).await?;
    let data = json!({ "units": UNITS.len(), "users": PEOPLE.len() });
    seeding.commit(Record { kind: "admin", event: Some("seed_demo"), data }).await?;
    // Scenarios kept as data, each step its own transaction on the demo's clock (their timers
    // fire in between), for the processes this folder of definitions has.
    for text in SCRIPTS {
        let scenario: script::Script = toml::from_str(text)?;
        if rt.definitions().get(&scenario.process).is_some() {
            script::play(&history, &clock, now, &scenario).await?;
        }
    }
    Ok(true)
}

async fn record_phase(
    rt: &Runtime,
    c: &DatabaseTransaction,
    track: i64,
    by: &Actor,
    phase: usize,
    attendance: i64,
) -> anyhow::Result<()> {
    const PROJECTS: [&str; 3] = ["数控车间节能改造", "校企合作实训基地", "劳模创新工作室课题"];
    let given = json!({
        "phase": phase,
        "attendance": attendance,
        "progress_note": format!("第{phase}期课程按计划完成，理论与实操考核合格。"),
        "project_name": PROJECTS[phase % PROJECTS.len()],
        "project_role": if phase.is_multiple_of(2) { "骨干成员" } else { "参与" },
        "project_outcome": "阶段成果已验收",
    });
    rt.fire_in(c, track, None, by, "record_growth", &data(given)).await?;
    Ok(())
}

async fn assess_all(rt: &Runtime, c: &DatabaseTransaction, track: i64, by: &Actor, seed: usize) -> anyhow::Result<()> {
    const COMPETENCES: [&str; 5] = ["leadership", "practice", "problem_solving", "passing_on_skills", "innovation"];
    for (j, competence) in COMPETENCES.iter().enumerate() {
        let level = 2 + ((seed + j) % 4);
        let given = json!({ "competence": competence, "competence_level": level });
        rt.fire_in(c, track, None, by, "assess_competence", &data(given)).await?;
    }
    Ok(())
}

/// A round from its opening to a contract in effect, published in every unit, over some months.
async fn concluded_round(
    rt: &Runtime,
    c: &DatabaseTransaction,
    clock: &ManualClock,
    worker: &Actor,
    employer: &Actor,
    year: i64,
    units: &[&str],
) -> anyhow::Result<i64> {
    let pass = |days: i64| clock.advance(time::Duration::days(days));
    let round = open_round(rt, c, clock, worker, employer, year, units).await?;
    send_draft(rt, c, clock, round, year, worker, employer).await?;
    for child in latest_children(rt, c, round).await? {
        vote(rt, c, clock, child, 0.8).await?;
    }
    pass(6);
    rt.fire_in(c, round, None, worker, "accept_confirmations", &Data::new()).await?;
    pass(4);
    rt.fire_in(c, round, None, worker, "sign_contract_worker", &Data::new()).await?;
    rt.fire_in(c, round, None, employer, "sign_contract_employer", &Data::new()).await?;
    rt.fire_in(c, round, None, worker, "seal_worker", &Data::new()).await?;
    rt.fire_in(c, round, None, employer, "seal_employer", &Data::new()).await?;
    pass(5);
    rt.fire_in(c, round, None, employer, "submit_to_bureau", &Data::new()).await?;
    pass(11);
    rt.fire_in(c, round, None, &Actor::new("ma.qiang", ["bureau_reviewer"]), "approve", &Data::new()).await?;
    // Two batches of units, as the news reaches the negotiators.
    let (first, rest) = units.split_at(units.len() / 2);
    for batch in [first, rest] {
        pass(2);
        rt.fire_in(c, round, None, worker, "record_publication", &data(json!({ "published_now": batch }))).await?;
    }
    rt.fire_in(c, round, None, worker, "confirm_published_everywhere", &Data::new()).await?;
    Ok(round)
}

#[expect(clippy::too_many_arguments, reason = "a demo step names everything it uses")]
async fn withdrawn_round(
    rt: &Runtime,
    c: &DatabaseTransaction,
    clock: &ManualClock,
    worker: &Actor,
    employer: &Actor,
    year: i64,
    units: &[&str],
    reason: &str,
) -> anyhow::Result<()> {
    let round = open_round(rt, c, clock, worker, employer, year, units).await?;
    clock.advance(time::Duration::days(9));
    rt.fire_in(
        c,
        round,
        None,
        &Actor::new("admin", ["admin"]),
        "withdraw",
        &data(json!({ "withdrawal_reason": reason })),
    )
    .await?;
    Ok(())
}

async fn open_round(
    rt: &Runtime,
    c: &DatabaseTransaction,
    clock: &ManualClock,
    worker: &Actor,
    employer: &Actor,
    year: i64,
    units: &[&str],
) -> anyhow::Result<i64> {
    let pass = |days: i64| clock.advance(time::Duration::days(days));
    let round = rt
        .start_in(c, "bargaining_round", worker, &data(json!({ "sector": SECTOR, "year": year, "units": units })))
        .await?;
    rt.fire_in(
        c,
        round,
        None,
        worker,
        "request_by_workers",
        &data(json!({ "request_letter": format!("关于开展{year}年度集体协商的要约书") })),
    )
    .await?;
    pass(12);
    rt.fire_in(c, round, None, employer, "reply_by_employer", &Data::new()).await?;
    pass(5);
    rt.fire_in(
        c,
        round,
        None,
        worker,
        "name_worker_side",
        &data(json!({ "worker_reps": ["wang.wei", "li.na", "chen.jing"], "worker_chief": "wang.wei" })),
    )
    .await?;
    rt.fire_in(
        c,
        round,
        None,
        employer,
        "name_employer_side",
        &data(json!({ "employer_reps": ["zhao.lei", "sun.li", "zheng.hua"], "employer_chief": "zhao.lei" })),
    )
    .await?;
    pass(3);
    rt.fire_in(c, round, None, employer, "start_negotiation", &Data::new()).await?;
    const RAISED: [(&str, &str, &str); 4] = [
        ("教师工资标准", "专任教师月工资与本区公办学校差距较大，要求明确最低标准与年增长幅度。", "u01"),
        ("带薪休假", "寒暑假期间值班安排频繁，要求保障带薪年休假。", "u07"),
        ("班主任津贴", "班主任工作量大，津贴多年未调整。", "u02"),
        ("校车接送加班", "早晚接送时间未计入工作时间。", "u05"),
    ];
    for (title, detail, unit) in RAISED {
        let given = json!({ "topic_title": title, "topic_detail": detail, "topic_unit": unit });
        rt.fire_in(c, round, None, worker, "raise_topic", &data(given)).await?;
    }
    let chosen = json!({ "topics": RAISED[..3].iter().map(|r| r.0).collect::<Vec<_>>() });
    rt.fire_in(c, round, None, worker, "record_topics", &data(chosen)).await?;
    rt.fire_in(c,
        round,
        None,
        worker,
        "record_session",
        &data(json!({ "session_date": format_date(clock.now().date()), "session_attendees": ["王伟", "李娜", "陈静", "赵磊", "孙丽", "郑华"], "session_minutes": "双方就工资增长幅度达成一致意见" })),
    )
    .await?;
    pass(14);
    Ok(round)
}

async fn send_draft(
    rt: &Runtime,
    c: &DatabaseTransaction,
    clock: &ManualClock,
    round: i64,
    year: i64,
    worker: &Actor,
    employer: &Actor,
) -> anyhow::Result<()> {
    const TEXT: &str = "第一条 工资：教职工月工资不低于本区最低工资标准的 1.8 倍，年增长不低于 5%。\n第二条 工作时间：每周工作不超过 40 小时，延时工作按规定支付报酬。\n第三条 休假：带薪年休假 10 天起，寒暑假按学校安排执行。\n第四条 津贴：班主任津贴每月不低于 500 元。\n第五条 本合同期限三年，经双方首席代表签字并报区人社局审查后生效。";
    let summary = format!("{year} 年度：工资年增长不低于 5%；带薪年假 10 天起");
    rt.fire_in(
        c,
        round,
        None,
        worker,
        "propose_draft",
        &data(json!({ "draft_text": TEXT, "draft_summary": summary, "term_years": 3 })),
    )
    .await?;
    clock.advance(time::Duration::days(2));
    rt.fire_in(c, round, None, worker, "sign_draft_worker", &Data::new()).await?;
    rt.fire_in(c, round, None, employer, "sign_draft_employer", &Data::new()).await?;
    clock.advance(time::Duration::days(3));
    rt.fire_in(c, round, None, worker, "send_to_units", &Data::new()).await?;
    Ok(())
}

async fn latest_children(rt: &Runtime, c: &DatabaseTransaction, id: i64) -> anyhow::Result<Vec<i64>> {
    let children = rt.children_in(c, id).await?;
    let latest = children.iter().map(|c| c.fanout).max().unwrap_or(0);
    Ok(children.into_iter().filter(|c| c.fanout == latest).map(|c| c.id).collect())
}

/// A unit's assembly meets and votes, `share` of those present in favour, a couple of days after
/// the one before.
async fn vote(
    rt: &Runtime,
    c: &DatabaseTransaction,
    clock: &ManualClock,
    child: i64,
    share: f64,
) -> anyhow::Result<()> {
    clock.advance(time::Duration::days(2));
    let admin = Actor::new("admin", ["admin"]);
    let inst = rt.instance_in(c, child).await?;
    let unit = inst.row.data.get("unit").and_then(Value::as_str).unwrap_or_default().to_owned();
    let roster = UNITS.iter().find(|u| u.0 == unit).map_or(30, |u| u.4);
    let present = roster * 9 / 10;
    // Demo figures only: the engine counts with exact integers.
    let yes = ((present as f64) * share).round() as i64;
    rt.fire_in(c,
        child,
        None,
        &admin,
        "schedule",
        &data(json!({ "assembly_date": format_date(clock.now().date()), "kind": "representatives", "roster_size": roster })),
    )
    .await?;
    rt.fire_in(c, child, None, &admin, "open_session", &Data::new()).await?;
    rt.fire_in(
        c,
        child,
        None,
        &admin,
        "record_vote",
        &data(json!({ "present": present, "yes": yes, "no": present - yes, "abstain": 0 })),
    )
    .await?;
    let passed =
        rt.instance_in(c, child).await?.row.data.get("vote").and_then(|v| v.get("outcome")).and_then(Value::as_str)
            == Some("passed");
    if passed {
        rt.fire_in(c, child, None, &admin, "confirm", &Data::new()).await?;
    } else {
        let objections = json!({ "objections": "工资年增长幅度低于本园实际，要求不低于 6%；保育员津贴未列入。" });
        rt.fire_in(c, child, None, &admin, "close", &data(objections)).await?;
    }
    Ok(())
}

/// What the console shows after seeding: who can sign in, as what.
pub fn sign_in_sheet() -> String {
    let mut out = format!("Demo users (password for all: {DEMO_PASSWORD}):\n");
    for (name, display, roles) in PEOPLE {
        out.push_str(&format!("  {name:<12} {display}  [{}]\n", roles.join(", ")));
    }
    out
}
