//! Issue 12's reading and typing, the rest of it: skill levels in English, training begun for
//! many trainees at once, assemblies titled with their round, and the round's banner after the
//! bureau objects. Pages in-process on both databases; wording from the locales.

use axum::http::StatusCode;
use serde_json::json;

use crate::on_both_backends;
use crate::support::Backend;
use crate::web::{RoundAt, SECTOR, Web, admin, coordinator, display_name, employer, en, worker, zh};

/// A cohort whose trainees have tracks and mentors but have not begun: `trainees` of them, a
/// mentor taking `room` (the rest stay without one).
async fn cohort_ready_to_begin(web: &Web, trainees: usize, room: i64) -> i64 {
    let by = coordinator();
    let id = web.cohort(trainees as i64, trainees).await;
    let change = unionflow::store::audit::Audited::begin(web.state.db(), "admin", "test", crate::support::START)
        .await
        .expect("begin");
    unionflow::training::mentors::upsert(
        change.conn(),
        "xu.ming",
        &display_name("xu.ming"),
        "焊工",
        room,
        crate::support::START,
    )
    .await
    .expect("a mentor");
    change
        .commit(unionflow::store::audit::Record { kind: "admin", event: Some("test_mentors"), data: json!({}) })
        .await
        .expect("the mentor");
    web.fire(id, &by, "start_training", json!({})).await;
    unionflow::training::mentors::auto_assign(web.rt(), web.state.db(), id, &by).await.expect("mentors assigned");
    id
}

async fn english_skill_levels_are_offered_accepted_and_shown(backend: Backend) {
    let web = Web::embedded(backend).await;
    web.people(&[("gao.hong", &["training_coordinator"])]).await;
    let cohort = web.cohort(5, 0).await;
    let mut b = web.browser();
    b.sign_in("gao.hong").await;
    b.get("/lang/en?back=/").await;
    let csrf = b.csrf().await;
    let page = b.get(&format!("/cohorts/{cohort}/trainees")).await;
    let offered: Vec<String> = page.elements("option").into_iter().map(|o| o.text).collect();
    for id in ["junior", "intermediate", "senior", "technician", "senior_technician"] {
        assert!(offered.iter().any(|o| o == en().t(&format!("skill.{id}"))), "{id} is offered by its English name");
    }
    assert!(!offered.iter().any(|o| o.contains('工')), "no level offered in Chinese on the English page: {offered:?}");
    let added = b
        .post(
            &format!("/cohorts/{cohort}/trainee"),
            &[
                ("_csrf", &csrf),
                ("name", "Anna Li"),
                ("employer", "Haidian Works"),
                ("trade", "Welder"),
                ("skill_level", "senior"),
                ("contact", "13900000001"),
            ],
        )
        .await;
    assert_eq!(added.status, StatusCode::OK, "{}", added.text());
    assert!(added.says(&en().f("training.added", &[("name", "Anna Li".into())])), "{}", added.text());
    assert!(added.texts("td").iter().any(|t| t == en().t("skill.senior")), "the level reads in English");
    let file = "name,employer,trade,skill_level,contact\nBo Wu,Haidian Works,Welder,Senior technician,13900000002\nCy Xu,Haidian Works,Welder,master,13900000003\n";
    let refused = b.upload(&format!("/cohorts/{cohort}/import"), &[("_csrf", &csrf)], file.as_bytes()).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let named = en().f("skill.accepted", &[("name", en().t("skill.senior").into()), ("id", "senior".into())]);
    assert!(
        refused.says("master") && refused.says(&named),
        "the bad level, and the levels in English: {}",
        refused.text()
    );
    assert!(!refused.says("初级工"), "no Chinese level names in the English refusal");
    // In Chinese, the same trainee's level reads in Chinese.
    b.get("/lang/zh-CN?back=/").await;
    let zh_page = b.get(&format!("/cohorts/{cohort}/trainees")).await;
    assert!(zh_page.texts("td").iter().any(|t| t == zh().t("skill.senior")), "高级工 in Chinese");
}

async fn training_begins_for_the_ticked_trainees_each_as_its_own_step(backend: Backend) {
    let web = Web::embedded(backend).await;
    web.people(&[("gao.hong", &["training_coordinator"])]).await;
    // Four trainees, a mentor with room for three: the fourth has no mentor and cannot begin.
    let cohort = cohort_ready_to_begin(&web, 4, 3).await;
    let mut b = web.browser();
    b.sign_in("gao.hong").await;
    let csrf = b.csrf().await;
    let page = b.get(&format!("/cohorts/{cohort}/trainees")).await;
    assert!(page.by_id("begin-ticked").is_some(), "the page offers to begin the ticked trainees");
    let codes: Vec<String> = page.choices("trainee").into_iter().map(|(c, _)| c).collect();
    assert_eq!(codes.len(), 4);
    let names = unionflow::training::enrol::trainees(web.state.db(), cohort).await.expect("trainees");
    let name = |code: &str| names.iter().find(|t| t.code == code).expect("a trainee").name.clone();

    let none = b.post(&format!("/cohorts/{cohort}/begin"), &[("_csrf", &csrf)]).await;
    assert_eq!(none.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(none.says(zh().t("training.begin_none")));

    let mut form = vec![("_csrf", csrf.as_str())];
    form.extend(codes.iter().map(|c| ("trainee", c.as_str())));
    let done = b.post(&format!("/cohorts/{cohort}/begin"), &form).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text());
    assert!(done.says(&zh().f("training.begun", &[("begun", "3".into()), ("not", "1".into())])), "{}", done.text());
    let states: Vec<String> = track_states(&web, cohort).await;
    assert_eq!(states.iter().filter(|s| *s == "in_training").count(), 3, "three began: {states:?}");
    // The one without a mentor is named, with why.
    let unassigned = web
        .rt()
        .children(cohort)
        .await
        .expect("tracks")
        .into_iter()
        .find(|t| t.state == "enrolled")
        .and_then(|t| t.data.get("trainee").and_then(|c| c.as_str()).map(str::to_owned))
        .expect("a trainee without a mentor");
    let line = done.with_class("report-lines").first().map(|e| e.text.clone()).unwrap_or_default();
    assert!(line.contains(&name(&unassigned)) && line.contains(&unassigned), "the refusal names the trainee: {line}");
    let steps = "SELECT COUNT(*) AS n FROM audit_events WHERE event = 'begin_training'";
    assert_eq!(web.count(steps).await, 3, "each trainee's start is its own event in the audit trail");
    // Ticked again: nobody begins twice, each is named.
    let again = b.post(&format!("/cohorts/{cohort}/begin"), &form).await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY, "nobody began");
    assert!(again.says(&zh().f("training.begun", &[("begun", "0".into()), ("not", "4".into())])));
    assert_eq!(again.ticked("trainee").len(), 4, "the ticks are kept");
    assert_eq!(web.count(steps).await, 3);
    let after = b.get(&format!("/cohorts/{cohort}/trainees")).await;
    assert!(after.by_id("begin-ticked").is_none(), "once nobody with a mentor waits, the button is gone");
}

async fn track_states(web: &Web, cohort: i64) -> Vec<String> {
    web.rt().children(cohort).await.expect("tracks").into_iter().map(|t| t.state).collect()
}

async fn an_assembly_is_titled_with_its_round_away_from_it(backend: Backend) {
    let web = Web::embedded(backend).await;
    web.negotiators().await;
    let round = web.round(&["u01"], RoundAt::UnitReview).await;
    let assembly = web.assemblies(round).await["u01"];
    let mut b = web.browser();
    b.sign_in("chen.jing").await;
    let round_title = format!("{SECTOR} 2026");
    let page = b.get(&format!("/instances/{assembly}")).await;
    let h1 = page.texts("h1").concat();
    assert!(h1.starts_with(&format!("{round_title} · 单位u01")), "the round, then the unit: {h1}");
    // In her work list and the list of assemblies, too: every year's assembly reads apart.
    let work = b.get("/").await;
    assert!(work.texts("td").iter().any(|t| t.starts_with(&format!("{round_title} · 单位u01"))), "{}", work.text());
    let list = b.get("/processes/assembly_approval").await;
    assert!(list.texts("td").iter().any(|t| t.starts_with(&format!("{round_title} · 单位u01"))), "{}", list.text());
    // On the round's own page its units are listed by the unit alone.
    let round_page = b.get(&format!("/instances/{round}")).await;
    assert!(round_page.texts("td").iter().any(|t| t.starts_with("单位u01")), "{}", round_page.text());
    assert!(!round_page.texts("td").iter().any(|t| t.starts_with(&round_title)));
    // An assembly started on its own has no round to name.
    let alone = web.assembly("u01").await;
    let alone_page = b.get(&format!("/instances/{alone}")).await;
    assert!(alone_page.texts("h1").concat().starts_with("单位u01"), "{}", alone_page.texts("h1").concat());
}

async fn the_rounds_page_says_when_the_bureau_objected(backend: Backend) {
    let web = Web::embedded(backend).await;
    web.negotiators().await;
    let round = web.round(&["u01"], RoundAt::UnitReview).await;
    for assembly in web.assemblies(round).await.into_values() {
        web.vote(assembly, 30, 27, 22).await;
        web.fire(assembly, &admin(), "confirm", json!({})).await;
    }
    let (worker, employer) = (worker(), employer());
    web.fire(round, &worker, "accept_confirmations", json!({})).await;
    for (who, event) in [
        (&worker, "sign_contract_worker"),
        (&employer, "sign_contract_employer"),
        (&worker, "seal_worker"),
        (&employer, "seal_employer"),
        (&employer, "submit_to_bureau"),
    ] {
        web.fire(round, who, event, json!({})).await;
    }
    let mut b = web.browser();
    b.sign_in("ma.qiang").await;
    let before = b.get(&format!("/instances/{round}")).await;
    assert!(before.with_class("banner").is_empty(), "no banner before an objection");
    let csrf = b.csrf().await;
    let version = before.hidden("_version");
    let objection = "第十二条工时条款违反规定";
    // The objection carries the bureau's written opinion, as its definition requires.
    let opinion = crate::attachments::pdf(2048);
    let objected = crate::attachments::upload(
        &mut b,
        &format!("/instances/{round}/fire/object/with-file"),
        &[("_csrf", &csrf), ("_version", &version), ("objection", objection)],
        Some(("审查意见书.pdf", &opinion)),
    )
    .await;
    assert!(objected.status.is_redirection(), "{}", objected.text());
    assert_eq!(web.state_of(round).await, "negotiating");
    let after = b.get(&format!("/instances/{round}")).await;
    let banner = after.with_class("banner").first().map(|e| e.text.clone()).expect("a banner after the objection");
    let zh_text = web.rt().definitions().get("bargaining_round").expect("the round").banners[0].text.zh.clone();
    assert_eq!(banner, zh_text.replace("{objection}", objection), "the banner says so, with the objection");
    b.get("/lang/en?back=/").await;
    let en_page = b.get(&format!("/instances/{round}")).await;
    let en_banner = en_page.with_class("banner").first().map(|e| e.text.clone()).unwrap_or_default();
    assert!(en_banner.contains("labour bureau objected") && en_banner.contains(objection), "{en_banner}");
    // A round that was never objected to shows none.
    let other = web.round(&["u01"], RoundAt::Negotiating).await;
    assert!(b.get(&format!("/instances/{other}")).await.with_class("banner").is_empty());
}

/// A banner's states, condition and placeholders are checked when the definitions load.
#[test]
fn a_banner_naming_what_the_definition_lacks_is_refused_where_it_stands() {
    let files: Vec<unionflow::definition::SourceFile> = unionflow::definition::embedded::files()
        .into_iter()
        .map(|f| {
            if !f.path.ends_with("bargaining_round.toml") {
                return f;
            }
            let text = format!(
                "{}\n[[banner]]\nstates = [\"no_such_state\"]\nwhen_set = \"no_such_field\"\ntext = {{ zh = \"{{nothing}}\", en = \"{{nothing}}\" }}\n",
                f.text
            );
            unionflow::definition::SourceFile { text, ..f }
        })
        .collect();
    let problems = unionflow::definition::load(&files).expect_err("refused").to_string();
    for what in ["unknown state \"no_such_state\"", "no_such_field", "banner names unknown field {nothing}"] {
        assert!(problems.contains(what), "{what} in {problems}");
    }
    assert!(problems.contains("bargaining_round.toml:"), "located in its file: {problems}");
}

/// The Chinese marks that must not reach an English page from the app itself (the data typed in
/// Chinese may hold them; these pages' data does not).
const CHINESE_MARKS: [char; 8] = ['：', '（', '）', '，', '、', '；', '。', '＿'];

async fn english_pages_carry_no_chinese_punctuation(backend: Backend) {
    let web = Web::embedded(backend).await;
    web.negotiators().await;
    web.people(&[("admin", &["admin"])]).await;
    let round = web.round(&["u01"], RoundAt::UnitReview).await;
    let assembly = web.assemblies(round).await["u01"];
    web.vote(assembly, 30, 27, 22).await;
    web.fire(assembly, &admin(), "confirm", json!({})).await;
    // A cohort with a waiting list, mentors and trainees in training.
    let cohort = cohort_ready_to_begin(&web, 3, 2).await;
    let waiting = web.cohort(2, 4).await;
    let mut b = web.browser();
    b.sign_in("admin").await;
    b.get("/lang/en?back=/").await;
    let letter = web.rt().instance(assembly).await.expect("the assembly");
    let mut pages = vec![
        format!("/instances/{assembly}"),
        format!("/instances/{assembly}/print"),
        format!("/cohorts/{cohort}/trainees"),
        format!("/cohorts/{waiting}/trainees"),
        "/talent".to_owned(),
        "/audit".to_owned(),
        "/".to_owned(),
    ];
    pages.extend(letter.definition.documents.iter().map(|d| format!("/instances/{assembly}/documents/{}", d.id)));
    for path in pages {
        let page = b.get(&path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        let text = page.text();
        let marks: Vec<char> = text.chars().filter(|c| CHINESE_MARKS.contains(c)).collect();
        assert!(marks.is_empty(), "{path} in English has {marks:?}: {text}");
    }
}

on_both_backends! {
    english_punctuation => english_pages_carry_no_chinese_punctuation;
    assembly_titles => an_assembly_is_titled_with_its_round_away_from_it;
    objection_banner => the_rounds_page_says_when_the_bureau_objected;
    english_skill_levels => english_skill_levels_are_offered_accepted_and_shown;
    begin_many => training_begins_for_the_ticked_trainees_each_as_its_own_step;
}
