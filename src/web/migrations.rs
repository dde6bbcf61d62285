//! The admin's migrations page: move the running instances of a process from one stored version
//! of its definition to another. "Check" reports what a move would do and changes nothing;
//! "move" does it. Both run `store::migrate` (as `unionflow migrate-instances` does), which audits
//! each move in the instance's own chain under the admin's name.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use crate::definition::{Definition, Roles};
use crate::engine::migrate::{MapError, Stay, ValueProblem};
use crate::store::migrate::{self, MigrateError, Migration, Report, Skip, Summary};
use crate::web::errors::WebError;
use crate::web::extract::{Admin, Fields, Posted, Signed};
use crate::web::i18n::Tr;
use crate::web::state::AppState;
use crate::web::view::{Chrome, field_label, field_problem_text, page, refusal_text};

/// Instances that stay listed on the page; the rest are counted.
const LISTED: usize = 500;

/// A stored version and how many instances are open on it.
pub struct VersionLine {
    pub process: String,
    pub label: String,
    pub version: i64,
    pub open: i64,
    pub current: bool,
}

/// The form as typed.
#[derive(Default)]
pub struct Typed {
    pub process: String,
    pub from: String,
    pub to: String,
    pub map: String,
}

/// A run's report in the reader's words.
pub struct ReportView {
    pub dry_run: bool,
    pub counts: String,
    pub moves: Vec<String>,
    pub notes: Vec<String>,
    pub stays: Vec<(i64, String)>,
    pub unlisted: u64,
}

#[derive(Template)]
#[template(path = "migrations.html")]
struct MigrationsPage {
    chrome: Chrome,
    versions: Vec<VersionLine>,
    processes: Vec<(String, String)>,
    form: Typed,
    problem: Option<String>,
    report: Option<ReportView>,
}

async fn render(
    state: &AppState,
    signed: &Signed,
    form: Typed,
    problem: Option<String>,
    report: Option<ReportView>,
    status: StatusCode,
) -> Result<Response, WebError> {
    let tr = signed.tr;
    let registry = state.rt.registry();
    let label =
        |p: &str| registry.set.definitions.get(p).map_or_else(|| p.to_owned(), |d| d.label.get(tr.code()).to_owned());
    let versions = migrate::versions_in_use(state.db())
        .await?
        .into_iter()
        .map(|v| VersionLine {
            label: label(&v.process),
            current: registry.current_version(&v.process) == Some(v.version),
            process: v.process,
            version: v.version,
            open: v.open,
        })
        .collect();
    let processes =
        registry.set.definitions.values().map(|d| (d.id.clone(), d.label.get(tr.code()).to_owned())).collect();
    let chrome = Chrome::signed(signed, tr.t("migrations.title"));
    page(status, &MigrationsPage { chrome, versions, processes, form, problem, report })
}

pub async fn migrations_page(State(state): State<AppState>, Admin(signed): Admin) -> Result<Response, WebError> {
    let form = Typed::default();
    render(&state, &signed, form, None, None, StatusCode::OK).await
}

/// Checks (`action=check`) or moves (`action=move`) the instances of a process between two
/// stored versions; a refused request re-renders the form as typed with the reason.
pub async fn migrate_instances(
    State(state): State<AppState>,
    Posted { by: Admin(signed), fields }: Posted<Admin>,
) -> Result<Response, WebError> {
    let form = typed(&fields);
    let dry_run = fields.value("action") != "move";
    match run(&state, &signed, &form, dry_run).await {
        Ok(report) => render(&state, &signed, form, None, Some(report), StatusCode::OK).await,
        Err(Refused::Problem(problem)) => {
            render(&state, &signed, form, Some(problem), None, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(Refused::Web(e)) => Err(e),
    }
}

enum Refused {
    /// Something the admin can put right, in their words.
    Problem(String),
    Web(WebError),
}

fn typed(f: &Fields) -> Typed {
    Typed {
        process: f.value("process").trim().to_owned(),
        from: f.value("from").trim().to_owned(),
        to: f.value("to").trim().to_owned(),
        map: f.value("map").to_owned(),
    }
}

async fn run(state: &AppState, signed: &Signed, form: &Typed, dry_run: bool) -> Result<ReportView, Refused> {
    let tr = signed.tr;
    let number = |s: &str| s.parse::<i64>().map_err(|_| Refused::Problem(tr.t("migrations.error.version").to_owned()));
    let (from, to) = (number(&form.from)?, number(&form.to)?);
    let db = state.db();
    let problem = |e: MigrateError| match error_text(&tr, &e) {
        Some(text) => Refused::Problem(text),
        None => Refused::Web(WebError::Internal(e.into())),
    };
    let from = migrate::version(db, &form.process, from).await.map_err(problem)?;
    let to = migrate::version(db, &form.process, to).await.map_err(problem)?;
    let pairs: Vec<&str> = form.map.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    let actor = signed.session.user.username.clone();
    let m = Migration::new(&form.process, &from, &to, &pairs, &actor, dry_run).map_err(problem)?;
    let ctx = crate::engine::Context {
        now: state.now(),
        calendar: &state.rt.definitions().calendar,
        offset: state.rt.offset(),
        people: None,
    };
    let mut report = Report::new(LISTED);
    let summary = migrate::run(db, &m, ctx, |line| report.add(line)).await.map_err(problem)?;
    Ok(report_view(&tr, state, &m, &summary, report))
}

/// A refusal the admin can act on, in their words; `None` for a fault of the server.
fn error_text(tr: &Tr, e: &MigrateError) -> Option<String> {
    Some(match e {
        MigrateError::NoVersion { process, version } => {
            tr.f("migrations.error.no_version", &[("process", process.clone()), ("version", version.to_string())])
        }
        MigrateError::SameVersion(v) => tr.f("migrations.error.same_version", &[("version", v.to_string())]),
        MigrateError::Map(m) => match m {
            MapError::Malformed(pair) => tr.f("migrations.error.malformed", &[("pair", pair.clone())]),
            MapError::Twice { state } => tr.f("migrations.error.twice", &[("state", state.clone())]),
            MapError::UnknownFrom { state } => tr.f("migrations.error.unknown_from", &[("state", state.clone())]),
            MapError::UnknownTo { state } => tr.f("migrations.error.unknown_to", &[("state", state.clone())]),
            MapError::FromFinal { state } => tr.f("migrations.error.from_final", &[("state", state.clone())]),
            MapError::ToFinal { state } => tr.f("migrations.error.to_final", &[("state", state.clone())]),
        },
        MigrateError::Stored { .. } | MigrateError::Db(_) => return None,
    })
}

fn report_view(tr: &Tr, state: &AppState, m: &Migration<'_>, s: &Summary, r: Report) -> ReportView {
    let n = |v: u64| v.to_string();
    let counts = tr.f(
        if m.dry_run { "migrations.counts.dry_run" } else { "migrations.counts.moved" },
        &[
            ("checked", n(s.checked)),
            ("moved", n(s.moved)),
            ("stayed", n(s.stayed + s.skipped)),
            ("finished", n(s.finished)),
            ("from", m.from.number.to_string()),
            ("to", m.to.number.to_string()),
        ],
    );
    let moves = r
        .moves
        .iter()
        .map(|((from, to), count)| {
            tr.f("migrations.move_line", &[("from", from.clone()), ("to", to.clone()), ("n", count.to_string())])
        })
        .collect();
    let named = |map: &std::collections::BTreeMap<String, u64>| {
        map.iter().map(|(name, n)| format!("{name} ({n})")).collect::<Vec<_>>().join(tr.t("punct.list"))
    };
    let notes = [
        ("migrations.dropped", &r.dropped),
        ("migrations.changed", &r.changed),
        ("migrations.timers_kept", &r.kept),
        ("migrations.timers_added", &r.added),
        ("migrations.timers_cancelled", &r.cancelled),
    ]
    .into_iter()
    .filter(|(_, map)| !map.is_empty())
    .map(|(key, map)| tr.f(key, &[("names", named(map))]))
    .collect();
    let roles = &state.rt.definitions().roles;
    let mut stays: Vec<(i64, String)> = r
        .stays
        .iter()
        .map(|(id, reasons)| {
            let why: Vec<String> = reasons.iter().map(|s| stay_text(tr, &m.to.def, roles, s)).collect();
            (*id, why.join(tr.t("punct.list")))
        })
        .collect();
    stays.extend(r.skipped.iter().map(|(id, skip)| {
        let key = match skip {
            Skip::Gone => "migrations.skip.gone",
            Skip::OtherVersion => "migrations.skip.other_version",
        };
        (*id, tr.t(key).to_owned())
    }));
    ReportView { dry_run: m.dry_run, counts, moves, notes, stays, unlisted: r.unlisted }
}

/// Why an instance stays, in the reader's words, with fields as the versions label them.
fn stay_text(tr: &Tr, to: &Definition, roles: &Roles, s: &Stay) -> String {
    match s {
        Stay::StateGone { state } => tr.f("migrations.stay.state_gone", &[("state", state.clone())]),
        Stay::TargetFinal { state } => tr.f("migrations.stay.target_final", &[("state", state.clone())]),
        Stay::Value { field, value, problem } => {
            let problem = match problem {
                ValueProblem::Field(p) => field_problem_text(tr, p),
                ValueProblem::NotAMap => tr.t("migrations.stay.not_a_map").to_owned(),
                ValueProblem::Rows(why) => tr.f("migrations.stay.rows", &[("why", why.clone())]),
            };
            let label = field_label(Some(to), tr.code(), field);
            tr.f("migrations.stay.value", &[("field", label), ("value", value.clone()), ("problem", problem)])
        }
        Stay::Computed(r) => refusal_text(tr, Some(to), roles, r),
        Stay::Timer(r) => tr.f("migrations.stay.timer", &[("why", refusal_text(tr, Some(to), roles, r))]),
    }
}
