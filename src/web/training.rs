//! A cohort's trainees: the enrolled and the waiting list, the CSV import (checked whole, every
//! bad row shown with its line), raising the capacity, the mentor pool and automatic assignment.

use askama::Template;
use axum::Form;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

use crate::training::assign::{Choice, Unassigned};
use crate::training::enrol::{self, ENROLLED, EnrolError, TraineeRecord, WAITING};

/// Trainees shown a page at a time (a cohort may have hundreds).
const PAGE: u64 = 100;
use crate::training::graduate::Verdict;
use crate::training::import::{FileProblem, MAX_BYTES, RowError, RowProblem, SKILL_LEVELS};
use crate::training::mentors::{self, ReassignError};
use crate::web::charts::{self, Bar};
use crate::web::errors::WebError;
use crate::web::extract::{CSRF_FIELD, Signed};
use crate::web::process::load_visible;
use crate::web::state::AppState;
use crate::web::view::{Chrome, page};

pub struct MentorLine {
    pub username: String,
    pub name: String,
    pub field: String,
    pub load: usize,
    pub capacity: usize,
}

/// An enrolled trainee with their track, once training started.
pub struct EnrolledLine {
    pub record: TraineeRecord,
    pub track: Option<i64>,
    pub mentor: String,
    pub state: String,
}

#[derive(Template)]
#[template(path = "training.html")]
struct TraineesPage {
    chrome: Chrome,
    id: i64,
    title: String,
    capacity: String,
    /// Whether the cohort's trainees can be decided now (after its last phase).
    may_graduate: bool,
    skill_levels: &'static [&'static str],
    enrolled: Vec<EnrolledLine>,
    /// How many are enrolled and waiting in all, beyond the page shown.
    counts: (i64, i64),
    /// The position after which the next page of enrolled trainees starts, if there is one.
    next_page: Option<i64>,
    /// Whether this is a later page than the first.
    later_page: bool,
    /// Those waiting beyond the first page of the waiting list.
    more_waiting: i64,
    waiting: Vec<TraineeRecord>,
    mentors: Vec<MentorLine>,
    /// What the last action reported: a summary, and the lines of rows or choices.
    report: Option<(String, Vec<String>)>,
    may_manage: bool,
    /// The cohort's pictures: where its trainees stand, mentor load, competences.
    charts: Vec<(String, String)>,
}

/// Where the cohort's trainees stand (by the state of their tracks), each phase's records and
/// attendance, how the assessed levels of each competence are spread, and mentor load.
async fn dashboard(
    state: &AppState,
    signed: &Signed,
    cohort: &crate::runtime::Instance,
    tracks: &[crate::store::instances::InstanceRow],
    mentors: &[MentorLine],
) -> Result<Vec<(String, String)>, WebError> {
    let tr = signed.tr;
    let lang = tr.code();
    let mut charts = Vec::new();
    let chart = |charts: &mut Vec<(String, String)>, key: &str, svg: String| {
        charts.push((tr.t(key).to_owned(), svg));
    };
    if let Some(first) = tracks.first() {
        let def = state
            .rt
            .registry()
            .by_row(state.db(), first.definition_id)
            .await
            .map_err(crate::runtime::RuntimeError::from)?;
        let phases = cohort.row.data.get("phases").and_then(serde_json::Value::as_i64).unwrap_or(0);
        let scale = match def.field("competence_level").map(|f| &f.kind) {
            Some(crate::definition::FieldKind::Int { min, max }) => (*min, *max),
            _ => (1, 5),
        };
        let figures =
            crate::training::dashboard::summarise(tracks.iter().map(|t| (t.state.as_str(), &t.data)), phases, scale);

        let most = figures.states.values().copied().max().unwrap_or(1).max(1);
        let bars: Vec<Bar> = def
            .states
            .iter()
            .filter_map(|s| figures.states.get(&s.id).map(|n| (s, *n)))
            .map(|(s, n)| Bar {
                label: s.label.get(lang).to_owned(),
                share: n as f64 / most as f64,
                value: n.to_string(),
            })
            .collect();
        chart(&mut charts, "training.chart.states", charts::bars(tr.t("training.chart.states"), "chart-states", &bars));

        let phase_label = |p: i64| tr.f("training.phase_n", &[("n", p.to_string())]);
        let progress: Vec<Bar> = figures
            .phases
            .iter()
            .map(|p| Bar {
                label: phase_label(p.phase),
                share: p.recorded as f64 / p.active.max(1) as f64,
                value: format!("{} / {}", p.recorded, p.active),
            })
            .collect();
        chart(
            &mut charts,
            "training.chart.progress",
            charts::bars(tr.t("training.chart.progress"), "chart-progress", &progress),
        );
        let attendance: Vec<Bar> = figures
            .phases
            .iter()
            .filter_map(|p| p.attendance.map(|a| (p.phase, a)))
            .map(|(phase, a)| Bar { label: phase_label(phase), share: a / 100.0, value: format!("{a:.0}%") })
            .collect();
        if !attendance.is_empty() {
            chart(
                &mut charts,
                "training.chart.attendance",
                charts::bars(tr.t("training.chart.attendance"), "chart-attendance", &attendance),
            );
        }

        if let Some(crate::definition::FieldKind::Choice { options }) = def.field("competence").map(|f| &f.kind) {
            let rows: Vec<charts::Stack> = options
                .iter()
                .filter_map(|o| figures.competences.get(&o.id).map(|spread| (o, spread)))
                .map(|(o, spread)| {
                    let n: usize = spread.iter().sum();
                    let sum: i64 = spread.iter().zip(scale.0..).map(|(c, level)| *c as i64 * level).sum();
                    charts::Stack {
                        label: o.label.get(lang).to_owned(),
                        parts: spread.clone(),
                        value: tr.f("training.mean_level", &[("mean", format!("{:.1}", sum as f64 / n.max(1) as f64))]),
                    }
                })
                .collect();
            if !rows.is_empty() {
                let names: Vec<String> = (scale.0..=scale.1).map(|l| l.to_string()).collect();
                chart(
                    &mut charts,
                    "training.chart.competences",
                    charts::stacked(tr.t("training.chart.competences"), "chart-competences", &names, &rows),
                );
            }
        }
    }
    let loaded: Vec<Bar> = mentors
        .iter()
        .filter(|m| m.load > 0)
        .map(|m| Bar {
            label: m.name.clone(),
            share: m.load as f64 / m.capacity.max(1) as f64,
            value: format!("{} / {}", m.load, m.capacity),
        })
        .collect();
    if !loaded.is_empty() {
        chart(
            &mut charts,
            "training.chart.mentors",
            charts::bars(tr.t("training.chart.mentors"), "chart-mentors", &loaded),
        );
    }
    Ok(charts)
}

/// A coordinator's (or admin's) form, with its CSRF token.
fn managing_form(signed: &Signed, form: &[(String, String)]) -> Result<(), WebError> {
    signed.check_csrf(form)?;
    if manages(signed) { Ok(()) } else { Err(WebError::Forbidden) }
}

fn manages(signed: &Signed) -> bool {
    let u = &signed.session.user;
    u.has_role("training_coordinator") || u.has_role("admin")
}

async fn render(
    state: &AppState,
    signed: &Signed,
    id: i64,
    report: Option<(String, Vec<String>)>,
    status: StatusCode,
) -> Result<Response, WebError> {
    render_page(state, signed, id, 0, report, status).await
}

async fn render_page(
    state: &AppState,
    signed: &Signed,
    id: i64,
    after: i64,
    report: Option<(String, Vec<String>)>,
    status: StatusCode,
) -> Result<Response, WebError> {
    let inst = load_visible(state, signed, id).await?;
    if inst.definition.id != enrol::COHORT {
        return Err(WebError::NotFound);
    }
    let enrolled = enrol::page(state.db(), id, ENROLLED, after, PAGE).await?;
    let waiting = enrol::page(state.db(), id, WAITING, 0, PAGE).await?;
    let counts = (enrol::count(state.db(), id, ENROLLED).await?, enrol::count(state.db(), id, WAITING).await?);
    let next_page = (enrolled.len() as u64 == PAGE).then(|| enrolled.last().map(|t| t.position)).flatten();
    let mentors: Vec<MentorLine> = mentors::pool(state.db())
        .await?
        .into_iter()
        .map(|(m, name)| MentorLine { username: m.username, name, field: m.field, load: m.load, capacity: m.capacity })
        .collect();
    let lang = signed.tr.code();
    let tracks = state.rt.children(id).await?;
    let track_def = state.rt.definitions().get(crate::training::mentors::TRACK).cloned();
    let by_code: std::collections::HashMap<&str, &crate::store::instances::InstanceRow> =
        tracks.iter().filter_map(|t| Some((t.data.get("trainee")?.as_str()?, t))).collect();
    let enrolled = enrolled
        .into_iter()
        .map(|record| {
            let track = by_code.get(record.code.as_str());
            EnrolledLine {
                track: track.map(|t| t.id),
                mentor: track
                    .and_then(|t| t.data.get("mentor")?.as_str())
                    .map(|m| mentors.iter().find(|x| x.username == m).map_or(m, |x| x.name.as_str()).to_owned())
                    .unwrap_or_default(),
                state: track
                    .map(|t| {
                        track_def
                            .as_ref()
                            .and_then(|d| d.state(&t.state))
                            .map_or_else(|| t.state.clone(), |s| s.label.get(lang).to_owned())
                    })
                    .unwrap_or_default(),
                record,
            }
        })
        .collect();
    let charts = dashboard(state, signed, &inst, &tracks, &mentors).await?;
    let title = inst.definition.title_of(&inst.row.data, lang);
    let capacity = inst.row.data.get("capacity").map(ToString::to_string).unwrap_or_default();
    let chrome = Chrome::signed(signed, format!("{title} — {}", signed.tr.t("training.trainees")));
    page(
        status,
        &TraineesPage {
            chrome,
            id,
            title,
            capacity,
            may_graduate: inst.row.state == "graduation",
            skill_levels: &SKILL_LEVELS,
            enrolled,
            counts,
            next_page,
            later_page: after > 0,
            more_waiting: counts.1 - waiting.len() as i64,
            waiting,
            mentors,
            report,
            may_manage: manages(signed),
            charts,
        },
    )
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct PageQuery {
    /// The position after which the page of enrolled trainees starts.
    #[serde(default)]
    after: i64,
}

pub async fn trainees_page(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<i64>,
    axum::extract::Query(q): axum::extract::Query<PageQuery>,
) -> Result<Response, WebError> {
    render_page(&state, &signed, id, q.after.max(0), None, StatusCode::OK).await
}

/// A bad row in the reader's words.
fn row_text(tr: &crate::web::i18n::Tr, e: &RowError) -> String {
    let what = |w: &str| tr.t(&format!("import.col.{}", w.trim_start_matches("the ").replace(' ', "_"))).to_owned();
    let problem = match &e.problem {
        RowProblem::Empty(w) => tr.f("import.empty", &[("what", what(w))]),
        RowProblem::TooLong(w) => tr.f("import.too_long", &[("what", what(w))]),
        RowProblem::SkillLevel(v) => {
            tr.f("import.skill_level", &[("value", v.clone()), ("levels", SKILL_LEVELS.join("、"))])
        }
        RowProblem::Contact(v) => tr.f("import.contact", &[("value", v.clone())]),
        RowProblem::Columns { found } => tr.f("import.columns", &[("found", found.to_string())]),
        RowProblem::Duplicate(line) => tr.f("import.duplicate", &[("line", line.to_string())]),
        RowProblem::AlreadyEnrolled(name) => tr.f("import.already", &[("name", name.clone())]),
    };
    tr.f("import.line", &[("line", e.line.to_string()), ("problem", problem)])
}

fn file_text(tr: &crate::web::i18n::Tr, p: &FileProblem) -> String {
    match p {
        FileProblem::Empty => tr.t("import.file.empty").to_owned(),
        FileProblem::TooLarge => tr.f("import.file.too_large", &[("mb", (MAX_BYTES / 1024 / 1024).to_string())]),
        FileProblem::NotUtf8 => tr.t("import.file.not_utf8").to_owned(),
        FileProblem::Header(found) => tr.f("import.file.header", &[("found", found.clone())]),
        FileProblem::NoRows => tr.t("import.file.no_rows").to_owned(),
    }
}

fn refusal(signed: &Signed, state: &AppState, e: EnrolError) -> Result<(String, Vec<String>), WebError> {
    let tr = signed.tr;
    Ok(match e {
        EnrolError::File(p) => (tr.t("training.file_refused").to_owned(), vec![file_text(&tr, &p)]),
        EnrolError::Rows(checked) => (
            tr.f(
                "training.rows_refused",
                &[("count", checked.errors.len().to_string()), ("valid", checked.rows.len().to_string())],
            ),
            checked.errors.iter().map(|e| row_text(&tr, e)).collect(),
        ),
        EnrolError::Runtime(crate::runtime::RuntimeError::Refused(r)) => {
            (crate::web::view::refusal_text(&tr, None, &state.rt.definitions().roles, &r), Vec::new())
        }
        EnrolError::Runtime(e) => return Err(e.into()),
        EnrolError::Db(e) => return Err(e.into()),
    })
}

/// The import form: a CSV file, and whether to take the valid rows when some are bad.
pub async fn import(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<i64>,
    mut form: Multipart,
) -> Result<Response, WebError> {
    let (mut csrf, mut file, mut valid_only) = (String::new(), Vec::new(), false);
    while let Some(field) = form.next_field().await.map_err(|e| WebError::BadRequest(e.to_string()))? {
        match field.name().unwrap_or_default() {
            CSRF_FIELD => csrf = field.text().await.map_err(|e| WebError::BadRequest(e.to_string()))?,
            "file" => file = field.bytes().await.map_err(|e| WebError::BadRequest(e.to_string()))?.to_vec(),
            "valid_only" => valid_only = true,
            _ => {}
        }
    }
    signed.check_csrf(&[(CSRF_FIELD.to_owned(), csrf)])?;
    if !manages(&signed) {
        return Err(WebError::Forbidden);
    }
    load_visible(&state, &signed, id).await?;
    match enrol::import_csv(&state.rt, id, &signed.actor(), &file, valid_only).await {
        Ok(done) => {
            let tr = signed.tr;
            let summary = tr.f(
                "training.imported",
                &[
                    ("enrolled", done.enrolled.to_string()),
                    ("waiting", done.waiting.to_string()),
                    ("skipped", done.skipped.len().to_string()),
                ],
            );
            render(
                &state,
                &signed,
                id,
                Some((summary, done.skipped.iter().map(|e| row_text(&tr, e)).collect())),
                StatusCode::OK,
            )
            .await
        }
        Err(e) => {
            let report = refusal(&signed, &state, e)?;
            render(&state, &signed, id, Some(report), StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

fn value<'a>(form: &'a [(String, String)], name: &str) -> &'a str {
    form.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.as_str())
}

pub async fn capacity(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<i64>,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    managing_form(&signed, &form)?;
    let Ok(new) = value(&form, "capacity").trim().parse::<i64>() else {
        let report = (signed.tr.t("field.not_a_number").to_owned(), Vec::new());
        return render(&state, &signed, id, Some(report), StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    match enrol::raise_capacity(&state.rt, id, &signed.actor(), new).await {
        Ok(admitted) => {
            let report = (signed.tr.f("training.admitted", &[("count", admitted.to_string())]), Vec::new());
            render(&state, &signed, id, Some(report), StatusCode::OK).await
        }
        Err(e) => {
            let report = refusal(&signed, &state, e)?;
            render(&state, &signed, id, Some(report), StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

pub async fn assign(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<i64>,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    managing_form(&signed, &form)?;
    load_visible(&state, &signed, id).await?;
    let tr = signed.tr;
    let choices = match mentors::auto_assign(&state.rt, id, &signed.actor()).await {
        Ok(c) => c,
        Err(crate::runtime::RuntimeError::Refused(r)) => {
            let report = (crate::web::view::refusal_text(&tr, None, &state.rt.definitions().roles, &r), Vec::new());
            return render(&state, &signed, id, Some(report), StatusCode::UNPROCESSABLE_ENTITY).await;
        }
        Err(e) => return Err(e.into()),
    };
    let assigned = choices.iter().filter(|(_, c)| matches!(c, Choice::Assigned { .. })).count();
    let lines = choices
        .iter()
        .map(|(trainee, c)| match c {
            Choice::Assigned { mentor, why } => tr.f(
                "training.assigned_to",
                &[
                    ("trainee", trainee.clone()),
                    ("mentor", mentor.clone()),
                    ("field", why.field.clone()),
                    ("load", why.load_before.to_string()),
                    ("capacity", why.capacity.to_string()),
                ],
            ),
            Choice::Unassigned { why } => tr.f(
                match why {
                    Unassigned::NoMentorInField => "training.no_mentor_in_field",
                    Unassigned::FieldFull => "training.field_full",
                },
                &[("trainee", trainee.clone())],
            ),
        })
        .collect();
    let summary = tr.f(
        "training.assign_summary",
        &[("assigned", assigned.to_string()), ("left", (choices.len() - assigned).to_string())],
    );
    render(&state, &signed, id, Some((summary, lines)), StatusCode::OK).await
}

pub async fn add_mentor(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<i64>,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    managing_form(&signed, &form)?;
    let username = match crate::people::Username::parse(value(&form, "username")) {
        Ok(u) => u,
        Err(e) => {
            return render(&state, &signed, id, Some((e.to_string(), Vec::new())), StatusCode::UNPROCESSABLE_ENTITY)
                .await;
        }
    };
    let (name, field) = (value(&form, "name").trim(), value(&form, "field").trim());
    let capacity = value(&form, "capacity").trim().parse::<i64>().ok().filter(|c| *c >= 0);
    let (Some(capacity), false, false) = (capacity, name.is_empty(), field.is_empty()) else {
        return render(
            &state,
            &signed,
            id,
            Some((signed.tr.t("refusal.input").to_owned(), Vec::new())),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    mentors::upsert(state.db(), username.as_str(), name, field, capacity, state.now()).await?;
    Ok(Redirect::to(&format!("/cohorts/{id}/trainees")).into_response())
}

/// One trainee added by hand: the same checks as a row of an imported file.
pub async fn add_trainee(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<i64>,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    managing_form(&signed, &form)?;
    load_visible(&state, &signed, id).await?;
    const COLUMNS: [&str; 5] = ["name", "employer", "trade", "skill_level", "contact"];
    let row = COLUMNS.map(|k| value(&form, k).trim());
    let mut file = csv::Writer::from_writer(Vec::new());
    file.write_record(COLUMNS)
        .and_then(|()| file.write_record(row))
        .map_err(|e| WebError::BadRequest(e.to_string()))?;
    let bytes = file.into_inner().map_err(|e| WebError::BadRequest(e.to_string()))?;
    let tr = signed.tr;
    match enrol::import_csv(&state.rt, id, &signed.actor(), &bytes, false).await {
        Ok(done) => {
            let key = if done.enrolled == 1 { "training.added" } else { "training.added_waiting" };
            let report = (tr.f(key, &[("name", row[0].to_owned())]), Vec::new());
            render(&state, &signed, id, Some(report), StatusCode::OK).await
        }
        Err(EnrolError::Rows(checked)) => {
            // One row: its problems without the line number of a file nobody uploaded.
            let lines = checked.errors.iter().map(|e| row_text(&tr, e)).map(|t| without_line(&t)).collect();
            let report = (tr.t("training.add_refused").to_owned(), lines);
            render(&state, &signed, id, Some(report), StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => {
            let report = refusal(&signed, &state, e)?;
            render(&state, &signed, id, Some(report), StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

fn without_line(text: &str) -> String {
    text.split_once(['：', ':']).map_or(text, |(_, rest)| rest.trim()).to_owned()
}

/// Decides every trainee still in training by the completion rule.
pub async fn graduate(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<i64>,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    managing_form(&signed, &form)?;
    load_visible(&state, &signed, id).await?;
    let tr = signed.tr;
    let roles = &state.rt.definitions().roles;
    let track_def = state.rt.definitions().get(crate::training::mentors::TRACK).cloned();
    let reason = |failure: &crate::engine::GuardFailure| {
        let refusal = crate::engine::Refusal::Guard(failure.clone());
        crate::web::view::refusal_text(&tr, track_def.as_deref(), roles, &refusal)
    };
    match crate::training::graduate::graduate_cohort(&state.rt, id, &signed.actor(), &reason).await {
        Ok(verdicts) => {
            let graduated = verdicts.iter().filter(|(_, v)| *v == Verdict::Graduated).count();
            let names: std::collections::HashMap<String, String> =
                enrol::trainees(state.db(), id).await?.into_iter().map(|t| (t.code, t.name)).collect();
            let lines = verdicts
                .iter()
                .filter_map(|(code, v)| match v {
                    Verdict::Graduated => None,
                    Verdict::NotCompleted(f) => Some(tr.f(
                        "training.not_completed",
                        &[("name", names.get(code).cloned().unwrap_or_else(|| code.clone())), ("reason", reason(f))],
                    )),
                })
                .collect();
            let summary = tr.f(
                "training.graduated",
                &[("graduated", graduated.to_string()), ("not", (verdicts.len() - graduated).to_string())],
            );
            render(&state, &signed, id, Some((summary, lines)), StatusCode::OK).await
        }
        Err(crate::runtime::RuntimeError::Refused(r)) => {
            let report = (crate::web::view::refusal_text(&tr, None, roles, &r), Vec::new());
            render(&state, &signed, id, Some(report), StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => Err(e.into()),
    }
}

/// Gives the ticked trainees to one mentor, with a reason.
pub async fn reassign(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<i64>,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    managing_form(&signed, &form)?;
    load_visible(&state, &signed, id).await?;
    let tr = signed.tr;
    let codes: Vec<String> = form.iter().filter(|(k, _)| k == "trainee").map(|(_, v)| v.clone()).collect();
    let (mentor, reason) = (value(&form, "mentor").trim(), value(&form, "reason").trim());
    if reason.is_empty() {
        let report = (tr.t("training.reason_needed").to_owned(), Vec::new());
        return render(&state, &signed, id, Some(report), StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let report = match mentors::reassign(&state.rt, id, &signed.actor(), &codes, mentor, reason).await {
        Ok(n) => {
            return render(
                &state,
                &signed,
                id,
                Some((tr.f("training.reassigned", &[("count", n.to_string())]), Vec::new())),
                StatusCode::OK,
            )
            .await;
        }
        Err(ReassignError::NoneChosen) => tr.t("training.none_chosen").to_owned(),
        Err(ReassignError::UnknownMentor(m)) => tr.f("training.unknown_mentor", &[("mentor", m)]),
        Err(ReassignError::Full { mentor, load, capacity, asked }) => tr.f(
            "training.mentor_full",
            &[
                ("mentor", mentor),
                ("load", load.to_string()),
                ("capacity", capacity.to_string()),
                ("asked", asked.to_string()),
            ],
        ),
        Err(ReassignError::Runtime(crate::runtime::RuntimeError::Refused(r))) => {
            crate::web::view::refusal_text(&tr, None, &state.rt.definitions().roles, &r)
        }
        Err(ReassignError::Runtime(e)) => return Err(e.into()),
    };
    render(&state, &signed, id, Some((report, Vec::new())), StatusCode::UNPROCESSABLE_ENTITY).await
}
