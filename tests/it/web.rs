//! The web app in-process, for the page tests of every module: a fresh database per test (as
//! [`TestDb`] makes it, on either backend), the router over a runtime with a manual clock,
//! browsers that keep their cookies, pages read by their elements, and small builders that make
//! just what a test needs through the runtime and store functions the app itself uses.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Request, StatusCode, header};
use serde_json::{Value, json};
use tower::ServiceExt;
use unionflow::clock::ManualClock;
use unionflow::definition::{DefinitionSet, SourceFile};
use unionflow::engine::Actor;
use unionflow::people::password::PasswordChecks;
use unionflow::people::{DisplayName, Password, RoleGrant, Username, users};
use unionflow::runtime::Runtime;
use unionflow::store::audit::{Audited, Record};
use unionflow::web::i18n::{Lang, Tr};
use unionflow::web::{AppState, WebConfig};

use crate::support::{Backend, START, TestDb, data};

/// The password of every person a builder adds.
pub const PASSWORD: &str = "a long test password";

/// The Chinese strings pages render by default, looked up as the app looks them up.
pub fn zh() -> Tr {
    Tr::new(Lang::Zh)
}

pub fn en() -> Tr {
    Tr::new(Lang::En)
}

/// The app over a fresh database holding only what the test's builders put in it.
pub struct Web {
    pub db: Arc<TestDb>,
    pub clock: Arc<ManualClock>,
    pub state: AppState,
}

impl Web {
    pub async fn new(backend: Backend, set: DefinitionSet, config: WebConfig) -> Web {
        let db = TestDb::new(backend).await;
        let clock = Arc::new(ManualClock::new(START));
        let rt = Runtime::new(db.db.clone(), set, clock.clone(), time::macros::offset!(+8)).await.expect("runtime");
        let state = AppState::new(Arc::new(rt), config);
        Web { db: Arc::new(db), clock, state }
    }

    /// The built-in definitions, password checks that never turn a test's sign-in away.
    pub async fn embedded(backend: Backend) -> Web {
        Self::new(backend, embedded(), quick_config()).await
    }

    pub fn rt(&self) -> &Runtime {
        &self.state.rt
    }

    /// A browser from an address of its own.
    pub fn browser(&self) -> Browser {
        static NEXT: AtomicU32 = AtomicU32::new(1);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        self.browser_from([10, 200, (n >> 8) as u8, n as u8])
    }

    /// A browser whose requests come from `from`, for the limits kept per address.
    pub fn browser_from(&self, from: [u8; 4]) -> Browser {
        Browser { state: self.state.clone(), cookies: Vec::new(), from: IpAddr::V4(Ipv4Addr::from(from)) }
    }

    /// The value of the column `n` of the one row `sql` returns.
    pub async fn count(&self, sql: &str) -> i64 {
        let row = unionflow::store::db::one(&self.db.db, sql, vec![]).await.expect("query").expect("row");
        unionflow::store::db::get(&row, "n").expect("n")
    }

    pub async fn verify(&self) -> unionflow::store::audit::Verification {
        unionflow::store::audit::verify(&self.db.db).await.expect("verify")
    }

    pub async fn state_of(&self, id: i64) -> String {
        self.rt().instance(id).await.expect("instance").row.state
    }

    // ---- builders ------------------------------------------------------------------------

    /// Adds people (user name, grants like `unit_secretary@u01`), all with [`PASSWORD`]. Their
    /// display names are unlike their user names ("WANG WEI" for wang.wei), so a page that shows
    /// one where the other belongs is caught.
    pub async fn people(&self, people: &[(&str, &[&str])]) {
        let named: Vec<(String, &[&str])> = people.iter().map(|(name, grants)| (display_name(name), *grants)).collect();
        let with_names: Vec<(&str, &str, &[&str])> = people
            .iter()
            .zip(&named)
            .map(|((name, _), (display, grants))| (*name, display.as_str(), *grants))
            .collect();
        self.named_people(&with_names).await;
    }

    /// Adds people with the display names given.
    pub async fn named_people(&self, people: &[(&str, &str, &[&str])]) {
        let hash = unionflow::people::password::hash(&Password::parse(PASSWORD).expect("password")).expect("hash");
        let roles = &self.rt().definitions().roles;
        let change = Audited::begin(self.state.db(), "admin", "test", START).await.expect("begin");
        for (name, display, grants) in people {
            let grants: Vec<RoleGrant> =
                grants.iter().map(|g| RoleGrant::parse(g, roles).expect("a role of the definitions")).collect();
            let display = DisplayName::parse(display).expect("a display name");
            let name = Username::parse(name).expect("a user name");
            users::create(change.conn(), &name, &display, &hash, &grants, START).await.expect("a user");
        }
        change.commit(Record { kind: "admin", event: Some("test_people"), data: json!({}) }).await.expect("people");
    }

    /// Adds units `单位u01` ("Unit u01") and so on, with a roster of 30.
    pub async fn units(&self, ids: &[&str]) {
        let change = Audited::begin(self.state.db(), "admin", "test", START).await.expect("begin");
        for id in ids {
            unionflow::store::units::upsert(change.conn(), &unit(id), START).await.expect("a unit");
        }
        change.commit(Record { kind: "admin", event: Some("test_units"), data: json!({}) }).await.expect("units");
    }

    /// The two sides of a round as [`round`](Self::round) names them, and the units' secretary
    /// of u01 (who is also a worker representative), and u01.
    pub async fn negotiators(&self) {
        self.units(&["u01"]).await;
        self.people(NEGOTIATORS).await;
    }

    /// A round over `units` brought to `at` by its negotiators (who must exist, see
    /// [`negotiators`](Self::negotiators)); at `UnitReview` and later each unit has its assembly.
    pub async fn round(&self, units: &[&str], at: RoundAt) -> i64 {
        let (worker, employer) = (worker(), employer());
        let start = data(json!({ "sector": SECTOR, "year": 2026, "units": units }));
        let id = self.rt().start("bargaining_round", &worker, &start).await.expect("a round");
        self.fire(id, &worker, "request_by_workers", json!({ "request_letter": "关于开展集体协商的要约书" })).await;
        if at == RoundAt::Requested {
            return id;
        }
        self.fire(id, &employer, "reply_by_employer", json!({})).await;
        let workers = json!({ "worker_reps": ["wang.wei", "li.na", "chen.jing"], "worker_chief": "wang.wei" });
        self.fire(id, &worker, "name_worker_side", workers).await;
        let employers = json!({ "employer_reps": ["zhao.lei", "sun.li", "zheng.hua"], "employer_chief": "zhao.lei" });
        self.fire(id, &employer, "name_employer_side", employers).await;
        self.fire(id, &employer, "start_negotiation", json!({})).await;
        if at == RoundAt::Negotiating {
            return id;
        }
        let draft = json!({ "draft_text": DRAFT, "draft_summary": "工资年增长不低于 5%", "term_years": 3 });
        self.fire(id, &worker, "propose_draft", draft).await;
        self.fire(id, &worker, "sign_draft_worker", json!({})).await;
        self.fire(id, &employer, "sign_draft_employer", json!({})).await;
        self.fire(id, &worker, "send_to_units", json!({})).await;
        if at == RoundAt::UnitReview {
            return id;
        }
        for assembly in self.assemblies(id).await.into_values() {
            self.vote(assembly, 30, 27, 22).await;
            self.fire(assembly, &admin(), "confirm", json!({})).await;
        }
        self.fire(id, &worker, "accept_confirmations", json!({})).await;
        for (who, event) in [
            (&worker, "sign_contract_worker"),
            (&employer, "sign_contract_employer"),
            (&worker, "seal_worker"),
            (&employer, "seal_employer"),
            (&employer, "submit_to_bureau"),
        ] {
            self.fire(id, who, event, json!({})).await;
        }
        self.fire(id, &Actor::new("ma.qiang", ["bureau_reviewer"]), "approve", json!({})).await;
        if at == RoundAt::Approved {
            return id;
        }
        self.fire(id, &worker, "record_publication", json!({ "published_now": units })).await;
        self.fire(id, &worker, "confirm_published_everywhere", json!({})).await;
        assert_eq!(self.state_of(id).await, "in_effect");
        id
    }

    /// A round's assemblies by their unit.
    pub async fn assemblies(&self, round: i64) -> BTreeMap<String, i64> {
        let children = self.rt().children(round).await.expect("children");
        children
            .into_iter()
            .filter(|c| c.process == "assembly_approval")
            .map(|c| (c.data.get("unit").and_then(Value::as_str).unwrap_or_default().to_owned(), c.id))
            .collect()
    }

    /// An assembly of `unit` on its own, its draft received.
    pub async fn assembly(&self, unit: &str) -> i64 {
        let given = data(json!({ "unit": unit, "draft_version": 1 }));
        self.rt().start("assembly_approval", &admin(), &given).await.expect("an assembly")
    }

    /// An assembly meets with `roster` on its roster, `present` come, `yes` of them for; the
    /// rest against.
    pub async fn vote(&self, id: i64, roster: i64, present: i64, yes: i64) {
        let schedule = json!({ "assembly_date": "2026-04-01", "kind": "representatives", "roster_size": roster, "roster_reason": "改选" });
        self.fire(id, &admin(), "schedule", schedule).await;
        self.fire(id, &admin(), "open_session", json!({})).await;
        let tally = json!({ "present": present, "yes": yes, "no": present - yes, "abstain": 0 });
        self.fire(id, &admin(), "record_vote", tally).await;
    }

    /// A cohort run by gao.hong (who must exist), its enrolment open, with `trainees` imported.
    pub async fn cohort(&self, capacity: i64, trainees: usize) -> i64 {
        let coordinator = coordinator();
        let given =
            json!({ "name": "测试班", "year": 2026, "fields": ["智能制造"], "phases": 6, "capacity": capacity });
        let id = self.rt().start("training_cohort", &coordinator, &data(given)).await.expect("a cohort");
        self.fire(id, &coordinator, "open_enrolment", json!({})).await;
        if trainees > 0 {
            let file = trainee_file(0, trainees);
            unionflow::training::enrol::import_csv(
                self.rt(),
                self.state.db(),
                id,
                &coordinator,
                file.as_bytes(),
                false,
            )
            .await
            .expect("the trainees enrol");
        }
        id
    }

    /// A cohort in training in its `phase`: its `trainees` with `mentors` (user names, who take
    /// up to 100 each), every phase before `phase` recorded for each trainee.
    pub async fn cohort_in_training(&self, trainees: usize, mentors: &[&str], phase: usize) -> i64 {
        let coordinator = coordinator();
        let id = self.cohort(trainees as i64, trainees).await;
        let change = Audited::begin(self.state.db(), "admin", "test", START).await.expect("begin");
        for mentor in mentors {
            unionflow::training::mentors::upsert(change.conn(), mentor, &display_name(mentor), "焊工", 100, START)
                .await
                .expect("a mentor");
        }
        change.commit(Record { kind: "admin", event: Some("test_mentors"), data: json!({}) }).await.expect("mentors");
        self.fire(id, &coordinator, "start_training", json!({})).await;
        unionflow::training::mentors::auto_assign(self.rt(), self.state.db(), id, &coordinator)
            .await
            .expect("mentors assigned");
        for track in self.tracks(id).await {
            self.fire(track, &coordinator, "begin_training", json!({})).await;
            for done in 1..phase {
                self.record_phase(track, done).await;
            }
        }
        for _ in 1..phase {
            self.fire(id, &coordinator, "advance_phase", json!({})).await;
        }
        id
    }

    /// The trainee tracks of a cohort.
    pub async fn tracks(&self, cohort: i64) -> Vec<i64> {
        let children = self.rt().children(cohort).await.expect("children");
        children.into_iter().filter(|c| c.process == "trainee_track").map(|c| c.id).collect()
    }

    pub async fn record_phase(&self, track: i64, phase: usize) {
        let given = json!({
            "phase": phase,
            "attendance": 90,
            "progress_note": "按计划完成",
            "project_name": "节能改造",
            "project_role": "参与",
            "project_outcome": "已验收",
        });
        self.fire(track, &coordinator(), "record_growth", given).await;
    }

    /// Every competence of a track assessed at `level`.
    pub async fn assess_all(&self, track: i64, level: i64) {
        for competence in COMPETENCES {
            let given = json!({ "competence": competence, "competence_level": level });
            self.fire(track, &coordinator(), "assess_competence", given).await;
        }
    }

    /// A cohort of `trainees` through all six phases, assessed and graduated: its tracks are in
    /// the talent pool.
    pub async fn graduated_cohort(&self, trainees: usize, mentor: &str) -> i64 {
        let coordinator = coordinator();
        let id = self.cohort_in_training(trainees, &[mentor], 6).await;
        for track in self.tracks(id).await {
            self.record_phase(track, 6).await;
            self.assess_all(track, 4).await;
        }
        self.fire(id, &coordinator, "finish_training", json!({})).await;
        unionflow::training::graduate::graduate_cohort(self.rt(), self.state.db(), id, &coordinator, |f| {
            format!("{f:?}")
        })
        .await
        .expect("graduation");
        id
    }

    /// Fires `event` as `by`, which the test expects to be taken.
    pub async fn fire(&self, id: i64, by: &Actor, event: &str, given: Value) {
        self.rt().fire(id, None, by, event, &data(given)).await.unwrap_or_else(|e| panic!("{event}: {e}"));
    }
}

/// How far [`Web::round`] takes a round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoundAt {
    /// The workers asked; the employer has not replied.
    Requested,
    /// Both sides named, at the table, no draft yet.
    Negotiating,
    /// The draft is with the units' assemblies.
    UnitReview,
    /// Approved by the bureau, in effect, not yet published in any unit.
    Approved,
    /// Every unit approved; the contract is signed, approved and published.
    InEffect,
}

pub const SECTOR: &str = "海淀区民办教育";

const DRAFT: &str = "第一条 工资：年增长不低于 5%。\n第二条 本合同期限三年。";

const COMPETENCES: [&str; 5] = ["leadership", "practice", "problem_solving", "passing_on_skills", "innovation"];

/// The people [`Web::round`] acts as and names.
pub const NEGOTIATORS: &[(&str, &[&str])] = &[
    ("wang.wei", &["worker_negotiator", "chief_representative", "union_chair"]),
    ("li.na", &["worker_negotiator"]),
    ("chen.jing", &["unit_secretary@u01"]),
    ("zhao.lei", &["employer_negotiator", "chief_representative"]),
    ("sun.li", &["employer_negotiator"]),
    ("zheng.hua", &["employer_negotiator"]),
    ("ma.qiang", &["bureau_reviewer"]),
];

/// The display name the builders give `username`: "WANG WEI" for wang.wei.
pub fn display_name(username: &str) -> String {
    username.replace('.', " ").to_uppercase()
}

/// The unit the builders make for `id`.
pub fn unit(id: &str) -> unionflow::store::units::Unit {
    unionflow::store::units::Unit {
        id: id.into(),
        name_zh: format!("单位{id}"),
        name_en: format!("Unit {id}"),
        sector: SECTOR.into(),
        kind: "school".into(),
        roster_size: 30,
        roster: String::new(),
    }
}

pub fn admin() -> Actor {
    Actor::new("admin", ["admin"])
}

pub fn worker() -> Actor {
    Actor::new("wang.wei", ["worker_negotiator", "chief_representative"])
}

pub fn employer() -> Actor {
    Actor::new("zhao.lei", ["employer_negotiator", "chief_representative"])
}

pub fn coordinator() -> Actor {
    Actor::new("gao.hong", ["training_coordinator"])
}

/// Password checks that never turn a test's sign-in away.
pub fn quick_config() -> WebConfig {
    WebConfig {
        password_checks: PasswordChecks::new(4, 1000, std::time::Duration::from_secs(600)),
        ..Default::default()
    }
}

pub fn embedded() -> DefinitionSet {
    unionflow::definition::embedded::load_embedded().expect("built-in definitions")
}

/// The built-in definitions with one file's text changed.
pub fn embedded_with(file: &str, change: impl Fn(&str) -> String) -> DefinitionSet {
    let files: Vec<SourceFile> = unionflow::definition::embedded::files()
        .into_iter()
        .map(|f| if f.path.ends_with(file) { SourceFile { text: change(&f.text), ..f } } else { f })
        .collect();
    unionflow::definition::load(&files).unwrap_or_else(|p| panic!("{p}"))
}

/// A trainee file of `n` trainees numbered from `from`, every one with a contact of its own.
pub fn trainee_file(from: usize, n: usize) -> String {
    let mut out = String::from("name,employer,trade,skill_level,contact\n");
    for i in from..from + n {
        out.push_str(&format!("学员{i},精工机械厂,焊工,高级工,139{i:08}\n"));
    }
    out
}

// ---- the browser -----------------------------------------------------------------------------

/// One browser: its cookies, and the address its requests come from.
pub struct Browser {
    pub state: AppState,
    pub cookies: Vec<(String, String)>,
    pub from: IpAddr,
}

impl Browser {
    /// Another tab of this browser: the same cookies, from the same address.
    pub fn tab(&self) -> Browser {
        Browser { state: self.state.clone(), cookies: self.cookies.clone(), from: self.from }
    }

    pub async fn send(&mut self, mut req: Request<Body>) -> Page {
        req.extensions_mut().insert(ConnectInfo(SocketAddr::new(self.from, 40000)));
        let cookie = self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ");
        if let Ok(v) = cookie.parse() {
            req.headers_mut().insert(header::COOKIE, v);
        }
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
        Page { status, location, headers, body: String::from_utf8(bytes.to_vec()).expect("UTF-8 out") }
    }

    pub async fn get(&mut self, path: &str) -> Page {
        self.send(Request::get(path).body(Body::empty()).expect("request")).await
    }

    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let body = form.iter().map(|(k, v)| format!("{}={}", enc(k), enc(v))).collect::<Vec<_>>().join("&");
        let req = Request::post(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .expect("request");
        self.send(req).await
    }

    /// Posts a multipart form: text parts, then one file part named `file`.
    pub async fn upload(&mut self, path: &str, parts: &[(&str, &str)], file: &[u8]) -> Page {
        let b = "unionflowboundary";
        let mut body = Vec::new();
        for (name, value) in parts {
            body.extend(format!("--{b}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").bytes());
        }
        body.extend(
            format!("--{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"t.csv\"\r\nContent-Type: text/csv\r\n\r\n")
                .bytes(),
        );
        body.extend_from_slice(file);
        body.extend(format!("\r\n--{b}--\r\n").bytes());
        let req = Request::post(path)
            .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={b}"))
            .body(Body::from(body))
            .expect("request");
        self.send(req).await
    }

    /// The sign-in form's token; the cookie that goes with it is kept.
    pub async fn sign_in_token(&mut self) -> String {
        self.get("/signin").await.hidden("_csrf")
    }

    pub async fn sign_in_with(&mut self, user: &str, password: &str) -> Page {
        let token = self.sign_in_token().await;
        self.post("/signin", &[("_csrf", &token), ("username", user), ("password", password), ("next", "/")]).await
    }

    /// Signs in with [`PASSWORD`], which must succeed.
    pub async fn sign_in(&mut self, user: &str) {
        let page = self.sign_in_with(user, PASSWORD).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{user} signs in: {}", page.body);
    }

    /// The session's form token.
    pub async fn csrf(&mut self) -> String {
        self.get("/processes").await.hidden("_csrf")
    }
}

pub fn enc(s: &str) -> String {
    unionflow::web::errors::urlencode(s).replace('/', "%2F")
}

// ---- pages, read by their elements ------------------------------------------------------------

pub struct Page {
    pub status: StatusCode,
    pub location: Option<String>,
    pub headers: HeaderMap,
    pub body: String,
}

/// One element: its name, its attributes, and its text up to the first closing tag of its name
/// (a textarea's exactly as typed).
#[derive(Debug, Clone)]
pub struct Element {
    pub name: String,
    pub attrs: BTreeMap<String, String>,
    pub text: String,
}

impl Element {
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs.get(name).map(String::as_str)
    }
    pub fn has(&self, name: &str) -> bool {
        self.attrs.contains_key(name)
    }
}

impl Page {
    pub fn header(&self, name: header::HeaderName) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The value of the hidden (or any) input named `name`; panics if there is none.
    pub fn hidden(&self, name: &str) -> String {
        self.field(name).unwrap_or_else(|| panic!("no {name} field in {}", self.body))
    }

    /// What the form field `name` holds: an input's value, a textarea's text.
    pub fn field(&self, name: &str) -> Option<String> {
        self.named(name)
            .into_iter()
            .find(|e| e.name != "input" || e.attr("type") != Some("checkbox"))
            .map(|e| if e.name == "textarea" { e.text.clone() } else { e.attr("value").unwrap_or_default().to_owned() })
    }

    /// The inputs, textareas and selects named `name`.
    pub fn named(&self, name: &str) -> Vec<Element> {
        ["input", "textarea", "select"]
            .iter()
            .flat_map(|tag| self.elements(tag))
            .filter(|e| e.attr("name") == Some(name))
            .collect()
    }

    /// The values offered under `name` (checkboxes, radios) and which are ticked.
    pub fn choices(&self, name: &str) -> Vec<(String, bool)> {
        self.elements("input")
            .into_iter()
            .filter(|e| e.attr("name") == Some(name))
            .map(|e| (e.attr("value").unwrap_or_default().to_owned(), e.has("checked")))
            .collect()
    }

    pub fn ticked(&self, name: &str) -> Vec<String> {
        self.choices(name).into_iter().filter(|(_, on)| *on).map(|(v, _)| v).collect()
    }

    /// The values of the options selected anywhere on the page.
    pub fn selected(&self) -> Vec<String> {
        self.elements("option")
            .into_iter()
            .filter(|e| e.has("selected"))
            .map(|e| e.attr("value").unwrap_or_default().to_owned())
            .collect()
    }

    /// Every link's target.
    pub fn links(&self) -> Vec<String> {
        self.elements("a").into_iter().filter_map(|e| e.attr("href").map(unescape)).collect()
    }

    pub fn links_to(&self, href: &str) -> bool {
        self.links().iter().any(|l| l == href)
    }

    /// The element with `id`, if the page has one.
    pub fn by_id(&self, id: &str) -> Option<Element> {
        self.all_elements().into_iter().find(|e| e.attr("id") == Some(id))
    }

    /// The elements whose class list holds `class`.
    pub fn with_class(&self, class: &str) -> Vec<Element> {
        self.all_elements()
            .into_iter()
            .filter(|e| e.attr("class").is_some_and(|c| c.split_whitespace().any(|w| w == class)))
            .collect()
    }

    /// The page's text without its tags, entities decoded, whitespace runs made one space.
    pub fn text(&self) -> String {
        text_of(&self.body)
    }

    /// Whether the page's text holds `words` (a locale's string, a value).
    pub fn says(&self, words: &str) -> bool {
        self.text().contains(&collapse(words))
    }

    /// Whether the page's text has the shape of a locale's string: every piece of `template`
    /// between its `{placeholders}`, in order, whatever values fill them.
    pub fn says_shape(&self, template: &str) -> bool {
        fits(&self.text(), template)
    }

    /// The text of the first `role="alert"` element: the refusal a form shows.
    pub fn alert(&self) -> String {
        let after = self.body.split("role=\"alert\"").nth(1).unwrap_or_default();
        let inner = after.split_once('>').map(|(_, rest)| rest).unwrap_or_default();
        text_of(inner.split("</").next().unwrap_or_default())
    }

    /// The text inside every `tag` element (`td`, `h1`, ...), in order.
    pub fn texts(&self, tag: &str) -> Vec<String> {
        let (open, close) = (format!("<{tag}"), format!("</{tag}>"));
        let mut out = Vec::new();
        for piece in self.body.split(&open).skip(1) {
            if !piece.starts_with(['>', ' ', '\n']) {
                continue;
            }
            let inner = piece.split_once('>').map_or("", |(_, rest)| rest);
            out.push(text_of(inner.split(&close).next().unwrap_or_default()));
        }
        out
    }

    /// The number the page shows right after `label` (a count beside its name).
    pub fn number_after(&self, label: &str) -> Option<i64> {
        let text = self.text();
        let rest = &text[text.find(label)? + label.len()..];
        let digits: String = rest.trim_start().chars().take_while(char::is_ascii_digit).collect();
        digits.parse().ok()
    }

    pub fn lang(&self) -> Option<String> {
        self.elements("html").first().and_then(|e| e.attr("lang").map(str::to_owned))
    }

    /// Every opening tag named `tag`.
    pub fn elements(&self, tag: &str) -> Vec<Element> {
        self.all_elements().into_iter().filter(|e| e.name == tag).collect()
    }

    fn all_elements(&self) -> Vec<Element> {
        let body = &self.body;
        let mut out = Vec::new();
        let mut at = 0;
        while let Some(i) = body[at..].find('<') {
            let start = at + i + 1;
            let name: String =
                body[start..].chars().take_while(|c| c.is_ascii_alphanumeric()).collect::<String>().to_lowercase();
            if name.is_empty() {
                at = start;
                continue;
            }
            let (attrs, end) = attributes(body, start + name.len());
            let rest = &body[end..];
            let inner = rest.find(&format!("</{name}>")).map_or("", |close| &rest[..close]);
            let text = if name == "textarea" { unescape(inner) } else { text_of(inner) };
            out.push(Element { name, attrs, text });
            at = end;
        }
        out
    }
}

/// The attributes from `from` to the end of the tag, and where the tag ends.
fn attributes(body: &str, from: usize) -> (BTreeMap<String, String>, usize) {
    let bytes = body.as_bytes();
    let mut attrs = BTreeMap::new();
    let mut i = from;
    loop {
        while i < bytes.len() && (bytes[i].is_ascii_whitespace() || bytes[i] == b'/') {
            i += 1;
        }
        if i >= bytes.len() || bytes[i] == b'>' {
            return (attrs, (i + 1).min(bytes.len()));
        }
        let name_start = i;
        while i < bytes.len() && !bytes[i].is_ascii_whitespace() && !matches!(bytes[i], b'=' | b'>' | b'/') {
            i += 1;
        }
        let name = body[name_start..i].to_lowercase();
        let mut value = String::new();
        if i < bytes.len() && bytes[i] == b'=' {
            i += 1;
            if i < bytes.len() && (bytes[i] == b'"' || bytes[i] == b'\'') {
                let quote = bytes[i];
                let end = body[i + 1..].find(quote as char).map_or(bytes.len(), |e| i + 1 + e);
                value = unescape(&body[i + 1..end]);
                i = (end + 1).min(bytes.len());
            } else {
                let start = i;
                while i < bytes.len() && !bytes[i].is_ascii_whitespace() && bytes[i] != b'>' {
                    i += 1;
                }
                value = unescape(&body[start..i]);
            }
        }
        attrs.insert(name, value);
    }
}

fn text_of(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    collapse(&unescape(&out))
}

/// Whether `text` holds every piece of `template` between its `{placeholders}`, in order.
pub fn fits(text: &str, template: &str) -> bool {
    let mut rest = text;
    for (i, piece) in template.split('{').enumerate() {
        let literal = if i == 0 { piece } else { piece.split_once('}').map_or(piece, |(_, after)| after) };
        let literal = collapse(literal);
        if literal.is_empty() {
            continue;
        }
        match rest.find(&literal) {
            Some(at) => rest = &rest[at + literal.len()..],
            None => return false,
        }
    }
    true
}

fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// HTML's escapes, as askama writes them, undone.
pub fn unescape(s: &str) -> String {
    // Named entities, and numeric ones (askama writes `&#60;` for `<`).
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        let entity = tail.find(';').map(|end| (&tail[1..end], end));
        let decoded = entity.and_then(|(name, end)| {
            let c = match name {
                "quot" => Some('"'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "amp" => Some('&'),
                "apos" => Some('\''),
                _ => name.strip_prefix('#').and_then(|n| n.parse::<u32>().ok()).and_then(char::from_u32),
            };
            c.map(|c| (c, end))
        });
        match decoded {
            Some((c, end)) => {
                out.push(c);
                rest = &tail[end + 1..];
            }
            None => {
                out.push('&');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}
