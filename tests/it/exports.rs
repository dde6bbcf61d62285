//! Spreadsheet files in and out, through the router on both databases: the CSV exports neutralise
//! cells that would run as formulas and open as UTF-8 in Excel; the trainee import takes the
//! GB18030 files Excel saves on Chinese Windows, refuses a file past its row limit naming the
//! limit, and refuses a control character by its line, writing nothing.

use axum::http::{StatusCode, header};
use serde_json::json;
use unionflow::engine::Actor;
use unionflow::training::enrol;
use unionflow::training::import::MAX_ROWS;

use crate::on_both_backends;
use crate::support::{Backend, data};
use crate::web::{Browser, Page, Web, en, zh};

const BOM: &str = "\u{feff}";
/// What users typed that a spreadsheet would run: a link out, and sums.
const FORMULAS: [&str; 4] = ["=HYPERLINK(\"http://x\")", "+1+1", "-1+1", "@SUM(1+1)"];

/// The app with only the people a test signs in as, and one browser.
async fn app(backend: Backend) -> (Web, Browser) {
    let web = Web::embedded(backend).await;
    web.people(&[("admin", &["admin"]), ("gao.hong", &["training_coordinator"])]).await;
    let browser = web.browser();
    (web, browser)
}

/// Uploads a trainee file to a cohort's import, with the encoding chosen on the form.
async fn upload(b: &mut Browser, cohort: i64, file: &[u8], encoding: &str) -> Page {
    let csrf = b.get(&format!("/cohorts/{cohort}/trainees")).await.hidden("_csrf");
    b.upload(&format!("/cohorts/{cohort}/import"), &[("_csrf", &csrf), ("encoding", encoding)], file).await
}

/// The cells of a CSV export's lines, as a spreadsheet would split them.
fn cells(body: &str) -> Vec<Vec<String>> {
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(body.as_bytes());
    reader.records().map(|r| r.expect("a CSV record").iter().map(str::to_owned).collect()).collect()
}

fn assert_a_spreadsheet_safe_export(page: &Page, what: &str) {
    assert_eq!(page.status, StatusCode::OK, "{what}");
    assert_eq!(page.header(header::CONTENT_TYPE), Some("text/csv; charset=utf-8"), "{what}");
    assert!(page.body.starts_with(BOM), "{what} starts with the UTF-8 byte-order mark");
}

/// Rounds opened by people whose names, and in sectors whose names, are formulas.
async fn rounds_full_of_formulas(web: &Web) {
    web.units(&["u01"]).await;
    for formula in FORMULAS {
        let opener = Actor::new(formula, ["admin"]);
        let round = data(json!({ "sector": formula, "year": 2026, "units": ["u01"] }));
        web.rt().start("bargaining_round", &opener, &round).await.expect("a round");
    }
}

async fn the_exports_neutralise_formulas_and_open_as_utf8_in_excel(backend: Backend) {
    let (web, mut b) = app(backend).await;
    rounds_full_of_formulas(&web).await;
    b.sign_in("admin").await;

    let figures = b.get("/figures.csv?process=bargaining_round&report=signing_rate").await;
    assert_a_spreadsheet_safe_export(&figures, "/figures.csv");
    let rows = cells(figures.body.trim_start_matches(BOM));
    assert_eq!(rows[0][0], "sector");
    let sectors: Vec<&str> = rows[1..].iter().map(|r| r[0].as_str()).collect();
    for formula in FORMULAS {
        assert!(sectors.contains(&format!("'{formula}").as_str()), "the sector {formula} is text: {sectors:?}");
    }
    assert!(rows[1..].iter().all(|r| r[1] == "2026"), "our own figures are left as numbers");

    let audit = b.get("/audit.csv").await;
    assert_a_spreadsheet_safe_export(&audit, "/audit.csv");
    let rows = cells(audit.body.trim_start_matches(BOM));
    assert_eq!(rows[0][..3], ["id", "at", "actor"]);
    let actors: Vec<&str> = rows[1..].iter().map(|r| r[2].as_str()).collect();
    for formula in FORMULAS {
        assert!(actors.contains(&format!("'{formula}").as_str()), "the actor {formula} is text: {actors:?}");
    }
    let dangerous = ['=', '+', '-', '@', '\t', '\r'];
    for row in &rows {
        assert!(row.iter().all(|cell| !cell.starts_with(dangerous)), "no cell starts a formula: {row:?}");
    }
}

/// A trainee file as Excel on Chinese Windows saves it ("CSV"): GB18030.
fn gb18030(text: &str) -> Vec<u8> {
    let (bytes, _, unmappable) = encoding_rs::GB18030.encode(text);
    assert!(!unmappable, "the test text is all GB18030");
    bytes.into_owned()
}

async fn a_gb18030_file_enrols_its_trainees_with_their_chinese_names(backend: Backend) {
    let (web, mut b) = app(backend).await;
    let cohort = web.cohort(100, 0).await;
    b.sign_in("gao.hong").await;
    let detected = "姓名,工作单位,工种,技能等级,联系方式\n张伟,北京精工机械厂,数控车工,高级工,13800138000\n李娜,海淀职业学校,电工,技师,li.na@example.cn\n";
    let chosen = "姓名,工作单位,工种,技能等级,联系方式\n欧阳锋,中关村电子厂,焊工,中级工,13900139000\n";
    assert!(std::str::from_utf8(&gb18030(detected)).is_err(), "the file is not UTF-8");

    let page = upload(&mut b, cohort, &gb18030(detected), "auto").await;
    assert_eq!(page.status, StatusCode::OK, "detected as GB18030: {}", page.body);
    let imported =
        zh().f("training.imported", &[("enrolled", "2".into()), ("waiting", "0".into()), ("skipped", "0".into())]);
    assert!(page.says(&imported), "both enrolled: {}", page.text());
    let page = upload(&mut b, cohort, &gb18030(chosen), "gb18030").await;
    assert_eq!(page.status, StatusCode::OK, "read as the form chose");

    let names: Vec<(String, String)> = enrol::trainees(&web.db.db, cohort)
        .await
        .expect("trainees")
        .into_iter()
        .map(|t| (t.name, t.employer))
        .collect();
    let expected = [("张伟", "北京精工机械厂"), ("李娜", "海淀职业学校"), ("欧阳锋", "中关村电子厂")];
    assert_eq!(names, expected.map(|(n, e)| (n.to_owned(), e.to_owned())), "the Chinese is intact");
    assert!(page.says("欧阳锋"), "and shows on the page");

    let refused = upload(
        &mut b,
        cohort,
        &gb18030("姓名,工作单位,工种,技能等级,联系方式\n黄蓉,桃花岛,钳工,技师,13900139001\n"),
        "utf-8",
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "UTF-8 chosen, GB18030 sent");
    assert!(refused.says(zh().t("import.file.not_utf8")));
    let undecodable = upload(&mut b, cohort, b"\xff\xfen\x00a\x00m\x00e\x00", "auto").await;
    assert_eq!(undecodable.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(undecodable.says(zh().t("import.file.undecodable")), "the encodings taken are named");
    assert_eq!(enrol::trainees(&web.db.db, cohort).await.expect("trainees").len(), 3, "nothing more written");
}

async fn a_file_over_the_row_limit_is_refused_naming_the_limit(backend: Backend) {
    let (web, mut b) = app(backend).await;
    let cohort = web.cohort(100, 0).await;
    b.sign_in("gao.hong").await;
    let mut file = String::from("name,employer,trade,skill_level,contact\n");
    for i in 0..=MAX_ROWS {
        file.push_str(&format!("学员{i},海淀厂,焊工,高级工,139{i:08}\n"));
    }
    let events = web.count("SELECT COUNT(*) AS n FROM audit_events").await;

    let refused = upload(&mut b, cohort, file.as_bytes(), "auto").await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let found = MAX_ROWS + 1;
    let too_many = |tr: unionflow::web::i18n::Tr| {
        tr.f("import.file.too_many_rows", &[("found", found.to_string()), ("max", MAX_ROWS.to_string())])
    };
    assert!(refused.says(&too_many(zh())), "the count and the limit are named");
    assert_eq!(web.count("SELECT COUNT(*) AS n FROM trainees").await, 0, "nothing written");
    assert_eq!(web.count("SELECT COUNT(*) AS n FROM audit_events").await, events, "not even an event");

    b.get("/lang/en?back=/").await;
    let english = upload(&mut b, cohort, file.as_bytes(), "auto").await;
    assert!(english.says(&too_many(en())), "{}", english.text());
}

async fn a_control_character_in_a_cell_is_refused_by_its_line(backend: Backend) {
    let (web, mut b) = app(backend).await;
    let cohort = web.cohort(100, 0).await;
    b.sign_in("gao.hong").await;
    let file = "姓名,工作单位,工种,技能等级,联系方式\n张伟,北京精工机械厂,数控车工,高级工,13800138000\n李\0娜,海淀职业学校,电工,技师,li.na@example.cn\n王\u{202E}五,海淀厂,焊工,高级工,13900139000\n";
    let refused = upload(&mut b, cohort, file.as_bytes(), "auto").await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "refused, not a 500");
    let line = |n: i64, key: &str, code: &str| {
        let problem = zh().f(key, &[("what", zh().t("import.col.name").into()), ("code", code.into())]);
        zh().f("import.line", &[("line", n.to_string()), ("problem", problem)])
    };
    assert!(refused.says(&line(3, "import.control", "U+0000")), "the line and the reason: {}", refused.text());
    assert!(refused.says(&line(4, "import.hidden", "U+202E")));
    assert_eq!(web.count("SELECT COUNT(*) AS n FROM trainees").await, 0, "nothing reaches the database");
}

on_both_backends! {
    formula_cells => the_exports_neutralise_formulas_and_open_as_utf8_in_excel;
    gb18030_import => a_gb18030_file_enrols_its_trainees_with_their_chinese_names;
    row_limit => a_file_over_the_row_limit_is_refused_naming_the_limit;
    control_characters => a_control_character_in_a_cell_is_refused_by_its_line;
}
