//! Spreadsheet files in and out, through the router on both databases: the CSV exports neutralise
//! cells that would run as formulas and open as UTF-8 in Excel; the trainee import takes the
//! GB18030 files Excel saves on Chinese Windows, refuses a file past its row limit naming the
//! limit, and refuses a control character by its line, writing nothing.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::json;
use tower::ServiceExt;
use unionflow::engine::Actor;
use unionflow::people::{DisplayName, Password, RoleGrant, Username, users};
use unionflow::store::audit::{Audited, Record};
use unionflow::store::units::{self, Unit};
use unionflow::training::enrol;
use unionflow::training::import::MAX_ROWS;
use unionflow::web::{AppState, WebConfig};

use crate::on_both_backends;
use crate::support::{Backend, START, TestDb, data};

const PASSWORD: &str = "a long test password";
const BOM: &str = "\u{feff}";
/// What users typed that a spreadsheet would run: a link out, and sums.
const FORMULAS: [&str; 4] = ["=HYPERLINK(\"http://x\")", "+1+1", "-1+1", "@SUM(1+1)"];

/// The app over a fresh database with only the people a test signs in as; one browser.
struct App {
    db: TestDb,
    state: AppState,
    cookies: Vec<(String, String)>,
}

struct Page {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: String,
}

impl App {
    async fn new(backend: Backend) -> App {
        let db = TestDb::new(backend).await;
        let clock = Arc::new(unionflow::clock::ManualClock::new(START));
        let set = unionflow::definition::embedded::load_embedded().expect("built-in definitions");
        let rt = unionflow::runtime::Runtime::new(db.db.clone(), set, clock, time::macros::offset!(+8))
            .await
            .expect("runtime");
        let hash = unionflow::people::password::hash(&Password::parse(PASSWORD).expect("password")).expect("hash");
        let change = Audited::begin(&db.db, "admin", "test", START).await.expect("begin");
        for (name, role) in [("admin", "admin"), ("gao.hong", "training_coordinator")] {
            let grant = RoleGrant::parse(role, &rt.definitions().roles).expect("role");
            let (user, display) = (Username::parse(name).expect("name"), DisplayName::parse(name).expect("display"));
            users::create(change.conn(), &user, &display, &hash, &[grant], START).await.expect("user");
        }
        let people = Record { kind: "admin", event: Some("test_people"), data: serde_json::json!({}) };
        change.commit(people).await.expect("people");
        let state = AppState::new(Arc::new(rt), WebConfig::default());
        App { db, state, cookies: Vec::new() }
    }

    fn rt(&self) -> &unionflow::runtime::Runtime {
        &self.state.rt
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
        let (status, headers) = (resp.status(), resp.headers().clone());
        let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX).await.expect("a body");
        Page { status, headers, body: String::from_utf8(bytes.to_vec()).expect("UTF-8 out") }
    }

    fn cookie_header(&self) -> String {
        self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }

    async fn get(&mut self, path: &str) -> Page {
        let req = Request::get(path).header(header::COOKIE, self.cookie_header()).body(Body::empty()).expect("request");
        self.send(req).await
    }

    async fn sign_in(&mut self, user: &str) {
        let token = hidden(&self.get("/signin").await.body, "_csrf");
        let form = [("_csrf", token.as_str()), ("username", user), ("password", PASSWORD), ("next", "/")];
        let body =
            form.iter().map(|(k, v)| format!("{k}={}", unionflow::web::errors::urlencode(v))).collect::<Vec<_>>();
        let req = Request::post("/signin")
            .header(header::COOKIE, self.cookie_header())
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body.join("&")))
            .expect("request");
        assert_eq!(self.send(req).await.status, StatusCode::SEE_OTHER, "{user} signs in");
    }

    /// Uploads a trainee file to a cohort's import, with the encoding chosen on the form.
    async fn upload(&mut self, cohort: i64, file: &[u8], encoding: &str) -> Page {
        let csrf = hidden(&self.get(&format!("/cohorts/{cohort}/trainees")).await.body, "_csrf");
        let b = "unionflowboundary";
        let mut body = format!(
            "--{b}\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\n{csrf}\r\n--{b}\r\nContent-Disposition: form-data; name=\"encoding\"\r\n\r\n{encoding}\r\n--{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"t.csv\"\r\nContent-Type: text/csv\r\n\r\n"
        )
        .into_bytes();
        body.extend_from_slice(file);
        body.extend_from_slice(format!("\r\n--{b}--\r\n").as_bytes());
        let req = Request::post(format!("/cohorts/{cohort}/import"))
            .header(header::COOKIE, self.cookie_header())
            .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={b}"))
            .body(Body::from(body))
            .expect("request");
        self.send(req).await
    }

    async fn count(&self, sql: &str) -> i64 {
        let row = unionflow::store::db::one(&self.db.db, sql, vec![]).await.expect("query").expect("row");
        unionflow::store::db::get(&row, "n").expect("n")
    }

    /// A cohort taking enrolments.
    async fn cohort(&self) -> i64 {
        let coordinator = Actor::new("gao.hong", ["training_coordinator"]);
        let start = data(
            json!({ "name": "2027 工匠学院", "year": 2027, "fields": ["智能制造"], "phases": 6, "capacity": 100 }),
        );
        let id = self.rt().start("training_cohort", &coordinator, &start).await.expect("a cohort");
        self.rt().fire(id, None, &coordinator, "open_enrolment", &Default::default()).await.expect("enrolment opens");
        id
    }
}

fn hidden(body: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = body.find(&marker).map(|i| i + marker.len()).unwrap_or_else(|| panic!("no {name} field"));
    body[start..].split('"').next().unwrap_or_default().to_owned()
}

/// The cells of a CSV export's lines, as a spreadsheet would split them.
fn cells(body: &str) -> Vec<Vec<String>> {
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(body.as_bytes());
    reader.records().map(|r| r.expect("a CSV record").iter().map(str::to_owned).collect()).collect()
}

fn assert_a_spreadsheet_safe_export(page: &Page, what: &str) {
    assert_eq!(page.status, StatusCode::OK, "{what}");
    let content_type = page.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    assert_eq!(content_type, Some("text/csv; charset=utf-8"), "{what}");
    assert!(page.body.starts_with(BOM), "{what} starts with the UTF-8 byte-order mark");
}

/// Rounds opened by people whose names, and in sectors whose names, are formulas.
async fn rounds_full_of_formulas(app: &App) {
    let unit = Unit {
        id: "u01".into(),
        name_zh: "育才学校".into(),
        name_en: "Yucai School".into(),
        sector: "海淀区民办教育".into(),
        kind: "school".into(),
        roster_size: 25,
        roster: String::new(),
    };
    units::upsert(&app.db.db, &unit, START).await.expect("a unit");
    for formula in FORMULAS {
        let opener = Actor::new(formula, ["admin"]);
        let round = data(json!({ "sector": formula, "year": 2026, "units": ["u01"] }));
        app.rt().start("bargaining_round", &opener, &round).await.expect("a round");
    }
}

async fn the_exports_neutralise_formulas_and_open_as_utf8_in_excel(backend: Backend) {
    let mut app = App::new(backend).await;
    rounds_full_of_formulas(&app).await;
    app.sign_in("admin").await;

    let figures = app.get("/figures.csv").await;
    assert_a_spreadsheet_safe_export(&figures, "/figures.csv");
    let rows = cells(figures.body.trim_start_matches(BOM));
    assert_eq!(rows[0][0], "sector");
    let sectors: Vec<&str> = rows[1..].iter().map(|r| r[0].as_str()).collect();
    for formula in FORMULAS {
        assert!(sectors.contains(&format!("'{formula}").as_str()), "the sector {formula} is text: {sectors:?}");
    }
    assert!(rows[1..].iter().all(|r| r[1] == "2026"), "our own figures are left as numbers");

    let audit = app.get("/audit.csv").await;
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
    let mut app = App::new(backend).await;
    let cohort = app.cohort().await;
    app.sign_in("gao.hong").await;
    let detected = "姓名,工作单位,工种,技能等级,联系方式\n张伟,北京精工机械厂,数控车工,高级工,13800138000\n李娜,海淀职业学校,电工,技师,li.na@example.cn\n";
    let chosen = "姓名,工作单位,工种,技能等级,联系方式\n欧阳锋,中关村电子厂,焊工,中级工,13900139000\n";
    assert!(std::str::from_utf8(&gb18030(detected)).is_err(), "the file is not UTF-8");

    let page = app.upload(cohort, &gb18030(detected), "auto").await;
    assert_eq!(page.status, StatusCode::OK, "detected as GB18030: {}", page.body);
    assert!(page.body.contains("录取 2 人"), "both enrolled");
    let page = app.upload(cohort, &gb18030(chosen), "gb18030").await;
    assert_eq!(page.status, StatusCode::OK, "read as the form chose");

    let names: Vec<(String, String)> = enrol::trainees(&app.db.db, cohort)
        .await
        .expect("trainees")
        .into_iter()
        .map(|t| (t.name, t.employer))
        .collect();
    let expected = [("张伟", "北京精工机械厂"), ("李娜", "海淀职业学校"), ("欧阳锋", "中关村电子厂")];
    assert_eq!(names, expected.map(|(n, e)| (n.to_owned(), e.to_owned())), "the Chinese is intact");
    assert!(page.body.contains("欧阳锋"), "and shows on the page");

    let refused = app
        .upload(cohort, &gb18030("姓名,工作单位,工种,技能等级,联系方式\n黄蓉,桃花岛,钳工,技师,13900139001\n"), "utf-8")
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "UTF-8 chosen, GB18030 sent");
    assert!(refused.body.contains("文件不是 UTF-8 编码"));
    let undecodable = app.upload(cohort, b"\xff\xfen\x00a\x00m\x00e\x00", "auto").await;
    assert_eq!(undecodable.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(undecodable.body.contains("既不是 UTF-8 也不是 GB18030/GBK"), "the encodings taken are named");
    assert_eq!(enrol::trainees(&app.db.db, cohort).await.expect("trainees").len(), 3, "nothing more written");
}

async fn a_file_over_the_row_limit_is_refused_naming_the_limit(backend: Backend) {
    let mut app = App::new(backend).await;
    let cohort = app.cohort().await;
    app.sign_in("gao.hong").await;
    let mut file = String::from("name,employer,trade,skill_level,contact\n");
    for i in 0..=MAX_ROWS {
        file.push_str(&format!("学员{i},海淀厂,焊工,高级工,139{i:08}\n"));
    }
    let events = app.count("SELECT COUNT(*) AS n FROM audit_events").await;

    let refused = app.upload(cohort, file.as_bytes(), "auto").await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let found = MAX_ROWS + 1;
    assert!(
        refused.body.contains(&format!("文件有 {found} 名学员；一个文件至多导入 {MAX_ROWS} 名")),
        "the count and the limit are named"
    );
    assert_eq!(app.count("SELECT COUNT(*) AS n FROM trainees").await, 0, "nothing written");
    assert_eq!(app.count("SELECT COUNT(*) AS n FROM audit_events").await, events, "not even an event");

    app.get("/lang/en?back=/").await;
    let english = app.upload(cohort, file.as_bytes(), "auto").await;
    assert!(english.body.contains(&format!("The file has {found} trainees; at most {MAX_ROWS} are taken in one file")));
}

async fn a_control_character_in_a_cell_is_refused_by_its_line(backend: Backend) {
    let mut app = App::new(backend).await;
    let cohort = app.cohort().await;
    app.sign_in("gao.hong").await;
    let file = "姓名,工作单位,工种,技能等级,联系方式\n张伟,北京精工机械厂,数控车工,高级工,13800138000\n李\0娜,海淀职业学校,电工,技师,li.na@example.cn\n王\u{202E}五,海淀厂,焊工,高级工,13900139000\n";
    let refused = app.upload(cohort, file.as_bytes(), "auto").await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "refused, not a 500");
    assert!(refused.body.contains("第 3 行：姓名含有控制字符 U+0000"), "the line and the reason");
    assert!(refused.body.contains("第 4 行：姓名含有不可见或改变文字方向的字符 U+202E"));
    assert_eq!(app.count("SELECT COUNT(*) AS n FROM trainees").await, 0, "nothing reaches the database");
}

on_both_backends! {
    formula_cells => the_exports_neutralise_formulas_and_open_as_utf8_in_excel;
    gb18030_import => a_gb18030_file_enrols_its_trainees_with_their_chinese_names;
    row_limit => a_file_over_the_row_limit_is_refused_naming_the_limit;
    control_characters => a_control_character_in_a_cell_is_refused_by_its_line;
}
