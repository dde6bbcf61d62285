//! What a coordinator does on the trainees page; each renders the page again with a report.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

use crate::sector::track;
use crate::store::audit::Record;
use crate::training::assign::{Choice, Unassigned};
use crate::training::enrol::{self, EnrolError};
use crate::training::graduate::Verdict;
use crate::training::import::{FileEncoding, FileProblem, MAX_BYTES, MAX_ROWS, RowError, RowProblem, SkillLevel};
use crate::training::mentors::{self, ReassignError};
use crate::web::errors::WebError;
use crate::web::extract::{Coordinator, Fields, Posted, PostedParts, Signed};
use crate::web::i18n::Tr;
use crate::web::process::load_visible;
use crate::web::state::AppState;
use crate::web::training::page::{Kept, render, render_refused};

/// A bad row in the reader's words.
fn row_text(tr: &Tr, e: &RowError) -> String {
    let what = |w: &str| tr.t(&format!("import.col.{}", w.trim_start_matches("the ").replace(' ', "_"))).to_owned();
    let problem = match &e.problem {
        RowProblem::Empty(w) => tr.f("import.empty", &[("what", what(w))]),
        RowProblem::TooLong(w) => tr.f("import.too_long", &[("what", what(w))]),
        RowProblem::SkillLevel(v) => {
            let levels: Vec<String> = SkillLevel::ALL.iter().map(|l| level_text(tr, *l)).collect();
            tr.f("import.skill_level", &[("value", v.clone()), ("levels", levels.join(tr.t("punct.list")))])
        }
        RowProblem::Contact(v) => tr.f("import.contact", &[("value", v.clone())]),
        RowProblem::Columns { found } => tr.f("import.columns", &[("found", found.to_string())]),
        RowProblem::Duplicate(line) => tr.f("import.duplicate", &[("line", line.to_string())]),
        RowProblem::AlreadyEnrolled(name) => tr.f("import.already", &[("name", name.clone())]),
        RowProblem::Control { what: w, code } => {
            tr.f("import.control", &[("what", what(w)), ("code", code_point(*code))])
        }
        RowProblem::Hidden { what: w, code } => {
            tr.f("import.hidden", &[("what", what(w)), ("code", code_point(*code))])
        }
    };
    tr.f("import.line", &[("line", e.line.to_string()), ("problem", problem)])
}

/// A skill level as a file may give it: its name in the reader's language, and its id.
fn level_text(tr: &Tr, level: SkillLevel) -> String {
    tr.f(
        "skill.accepted",
        &[
            ("name", tr.t(&format!("skill.{}", level.id())).to_owned()),
            ("id", level.id().to_owned()),
            ("zh", level.recorded().to_owned()),
        ],
    )
}

/// A character named as Unicode does, since a control or invisible character cannot be shown.
fn code_point(code: u32) -> String {
    format!("U+{code:04X}")
}

fn file_text(tr: &Tr, p: &FileProblem) -> String {
    match p {
        FileProblem::Empty => tr.t("import.file.empty").to_owned(),
        FileProblem::TooLarge => tr.f("import.file.too_large", &[("mb", (MAX_BYTES / 1024 / 1024).to_string())]),
        FileProblem::NotUtf8 => tr.t("import.file.not_utf8").to_owned(),
        FileProblem::NotGb18030 => tr.t("import.file.not_gb18030").to_owned(),
        FileProblem::Undecodable => tr.t("import.file.undecodable").to_owned(),
        FileProblem::TooManyRows { found } => {
            tr.f("import.file.too_many_rows", &[("found", found.to_string()), ("max", MAX_ROWS.to_string())])
        }
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
        EnrolError::Runtime(crate::runtime::RuntimeError::Refused(r)) => (refused_step(&tr, state, &r), Vec::new()),
        EnrolError::Runtime(e) => return Err(e.into()),
        EnrolError::Db(e) => return Err(e.into()),
    })
}

/// More trainees than one mentor can follow.
const MAX_MENTOR_CAPACITY: i64 = 1000;

/// A summary line and the lines under it, shown above the trainees page.
type Report = (String, Vec<String>);

/// What an action comes to: done, refused, or refused with the form kept as it was typed.
enum Outcome {
    Done(Report),
    Refused(Report),
    Kept(Report, Kept),
}

impl Outcome {
    fn report(text: String) -> Report {
        (text, Vec::new())
    }

    /// The trainees page again, with the outcome on top.
    async fn render(self, state: &AppState, signed: &Signed, id: i64) -> Result<Response, WebError> {
        match self {
            Outcome::Done(r) => render(state, signed, id, Some(r), StatusCode::OK).await,
            Outcome::Refused(r) => render(state, signed, id, Some(r), StatusCode::UNPROCESSABLE_ENTITY).await,
            Outcome::Kept(r, kept) => render_refused(state, signed, id, r, kept).await,
        }
    }
}

/// A step the engine refused, in the reader's words.
fn refused_step(tr: &Tr, state: &AppState, r: &crate::engine::Refusal) -> String {
    crate::web::view::refusal_text(tr, None, &state.rt.definitions().roles, r)
}

/// The import form: a CSV file, its encoding (detected unless chosen), and whether to take the
/// valid rows when some are bad.
pub async fn import(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    posted: PostedParts<Coordinator>,
) -> Result<Response, WebError> {
    let encoding = match posted.text("encoding") {
        "" => FileEncoding::Detect,
        chosen => chosen.parse::<FileEncoding>().map_err(|e| WebError::BadRequest(e.to_string()))?,
    };
    // The file as read, not copied again: an upload may be tens of megabytes.
    let file: &[u8] = posted.part("file").map_or(&[], |b| b.as_ref());
    let valid_only = posted.part("valid_only").is_some();
    let Coordinator(signed) = &posted.by;
    load_visible(&state, signed, id).await?;
    let outcome =
        match enrol::import_csv_as(&state.rt, state.db(), id, &signed.actor(), file, encoding, valid_only).await {
            Ok(done) => Outcome::Done(imported(&signed.tr, &done)),
            Err(e) => Outcome::Refused(refusal(signed, &state, e)?),
        };
    outcome.render(&state, signed, id).await
}

fn imported(tr: &Tr, done: &enrol::Imported) -> Report {
    let counts = [
        ("enrolled", done.enrolled.to_string()),
        ("waiting", done.waiting.to_string()),
        ("skipped", done.skipped.len().to_string()),
    ];
    (tr.f("training.imported", &counts), done.skipped.iter().map(|e| row_text(tr, e)).collect())
}

pub async fn capacity(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Posted { by: Coordinator(signed), fields }: Posted<Coordinator>,
) -> Result<Response, WebError> {
    let tr = signed.tr;
    let outcome = match fields.value("capacity").trim().parse::<i64>() {
        Err(_) => Outcome::Refused(Outcome::report(tr.t("field.not_a_number").to_owned())),
        Ok(new) => match enrol::raise_capacity(&state.rt, id, &signed.actor(), new).await {
            Ok(admitted) => {
                Outcome::Done(Outcome::report(tr.f("training.admitted", &[("count", admitted.to_string())])))
            }
            Err(e) => Outcome::Refused(refusal(&signed, &state, e)?),
        },
    };
    outcome.render(&state, &signed, id).await
}

pub async fn assign(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Posted { by: Coordinator(signed), .. }: Posted<Coordinator>,
) -> Result<Response, WebError> {
    load_visible(&state, &signed, id).await?;
    let outcome = match mentors::auto_assign(&state.rt, state.db(), id, &signed.actor()).await {
        Ok(choices) => Outcome::Done(assignment(&signed.tr, &choices)),
        Err(crate::runtime::RuntimeError::Refused(r)) => {
            Outcome::Refused(Outcome::report(refused_step(&signed.tr, &state, &r)))
        }
        Err(e) => return Err(e.into()),
    };
    outcome.render(&state, &signed, id).await
}

/// Each trainee's mentor, or why they have none, under a count of both.
fn assignment(tr: &Tr, choices: &[(String, Choice)]) -> Report {
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
    let counts = [("assigned", assigned.to_string()), ("left", (choices.len() - assigned).to_string())];
    (tr.f("training.assign_summary", &counts), lines)
}

pub async fn add_mentor(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Posted { by: Coordinator(signed), fields }: Posted<Coordinator>,
) -> Result<Response, WebError> {
    let (username, name, field, capacity) = match mentor_form(&signed.tr, &fields) {
        Ok(m) => m,
        Err(report) => {
            return Outcome::Kept(report, Kept { form: "mentor", values: fields.0 }).render(&state, &signed, id).await;
        }
    };
    let change = signed.admin_change(&state).await?;
    mentors::upsert(change.conn(), username.as_str(), name.as_str(), &field, capacity, state.now()).await?;
    let data = serde_json::json!({ "mentor": username.as_str(), "field": field, "capacity": capacity });
    change.commit(Record { kind: "admin", event: Some("save_mentor"), data }).await?;
    Ok(Redirect::to(&format!("/cohorts/{id}/trainees")).into_response())
}

/// The mentor form parsed: user name, display name, field and capacity, or what is wrong.
fn mentor_form(
    tr: &Tr,
    form: &Fields,
) -> Result<(crate::people::Username, crate::people::DisplayName, String, i64), Report> {
    let username = crate::people::Username::parse(form.value("username"))
        .map_err(|e| Outcome::report(crate::web::view::people_error_text(tr, &e)))?;
    let (name, field) = crate::people::DisplayName::parse(form.value("name"))
        .and_then(|name| Ok((name, crate::people::domain::parse_unit_text(form.value("field"), true)?)))
        .map_err(|e| Outcome::report(crate::web::view::people_error_text(tr, &e)))?;
    let capacity = form.value("capacity").trim().parse::<i64>().ok().filter(|c| (0..=MAX_MENTOR_CAPACITY).contains(c));
    let capacity = capacity.ok_or_else(|| Outcome::report(tr.t("refusal.input").to_owned()))?;
    Ok((username, name, field, capacity))
}

/// One trainee added by hand: the same checks as a row of an imported file.
pub async fn add_trainee(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Posted { by: Coordinator(signed), fields }: Posted<Coordinator>,
) -> Result<Response, WebError> {
    load_visible(&state, &signed, id).await?;
    let row = crate::training::import::COLUMNS.map(|(en, _)| fields.value(en).trim());
    let tr = signed.tr;
    let kept = || Kept { form: "trainee", values: fields.0.clone() };
    let outcome = match enrol::add_one(&state.rt, state.db(), id, &signed.actor(), row).await {
        Ok(done) => {
            let key = if done.enrolled == 1 { "training.added" } else { "training.added_waiting" };
            Outcome::Done(Outcome::report(tr.f(key, &[("name", row[0].to_owned())])))
        }
        Err(EnrolError::Rows(checked)) => {
            // One row: its problems without the line number of a file nobody uploaded.
            let lines = checked.errors.iter().map(|e| without_line(&row_text(&tr, e))).collect();
            Outcome::Kept((tr.t("training.add_refused").to_owned(), lines), kept())
        }
        Err(e) => Outcome::Kept(refusal(&signed, &state, e)?, kept()),
    };
    outcome.render(&state, &signed, id).await
}

fn without_line(text: &str) -> String {
    text.split_once(['：', ':']).map_or(text, |(_, rest)| rest.trim()).to_owned()
}

/// Decides every trainee still in training by the completion rule.
pub async fn graduate(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Posted { by: Coordinator(signed), .. }: Posted<Coordinator>,
) -> Result<Response, WebError> {
    load_visible(&state, &signed, id).await?;
    let tr = signed.tr;
    let track_def = state.rt.definitions().get(track::PROCESS).cloned();
    let reason = |failure: &crate::engine::GuardFailure| {
        let refusal = crate::engine::Refusal::Guard(failure.clone(), None);
        crate::web::view::refusal_text(&tr, track_def.as_deref(), &state.rt.definitions().roles, &refusal)
    };
    let outcome =
        match crate::training::graduate::graduate_cohort(&state.rt, state.db(), id, &signed.actor(), &reason).await {
            Ok(verdicts) => {
                let names = enrol::trainees(state.db(), id).await?.into_iter().map(|t| (t.code, t.name)).collect();
                Outcome::Done(graduation(&tr, &verdicts, &names, &reason))
            }
            Err(crate::runtime::RuntimeError::Refused(r)) => {
                Outcome::Refused(Outcome::report(refused_step(&tr, &state, &r)))
            }
            Err(e) => return Err(e.into()),
        };
    outcome.render(&state, &signed, id).await
}

/// How many graduated, and why each of the others did not.
fn graduation(
    tr: &Tr,
    verdicts: &[(String, Verdict)],
    names: &std::collections::HashMap<String, String>,
    reason: &dyn Fn(&crate::engine::GuardFailure) -> String,
) -> Report {
    let graduated = verdicts.iter().filter(|(_, v)| *v == Verdict::Graduated).count();
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
    let counts = [("graduated", graduated.to_string()), ("not", (verdicts.len() - graduated).to_string())];
    (tr.f("training.graduated", &counts), lines)
}

/// Gives the ticked trainees to one mentor, with a reason.
pub async fn reassign(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Posted { by: Coordinator(signed), fields }: Posted<Coordinator>,
) -> Result<Response, WebError> {
    load_visible(&state, &signed, id).await?;
    let tr = signed.tr;
    let codes: Vec<String> = fields.all("trainee").map(str::to_owned).collect();
    let (mentor, reason) = (fields.value("mentor").trim(), fields.value("reason").trim());
    let result = if reason.is_empty() {
        Err(tr.t("training.reason_needed").to_owned())
    } else {
        match mentors::reassign(&state.rt, id, &signed.actor(), &codes, mentor, reason).await {
            Ok(n) => Ok(n),
            Err(ReassignError::Runtime(crate::runtime::RuntimeError::Refused(r))) => Err(refused_step(&tr, &state, &r)),
            Err(ReassignError::Runtime(e)) => return Err(e.into()),
            Err(e) => Err(reassign_refusal(&tr, e)),
        }
    };
    let outcome = match result {
        Ok(n) => Outcome::Done(Outcome::report(tr.f("training.reassigned", &[("count", n.to_string())]))),
        Err(text) => Outcome::Kept(Outcome::report(text), Kept { form: "reassign", values: fields.0 }),
    };
    outcome.render(&state, &signed, id).await
}

/// Begins training for the ticked trainees: each is its own step of their track, committed on
/// its own (see [`crate::training::begin`]); those who could not begin are named with the reason.
pub async fn begin(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Posted { by: Coordinator(signed), fields }: Posted<Coordinator>,
) -> Result<Response, WebError> {
    load_visible(&state, &signed, id).await?;
    let tr = signed.tr;
    let codes: Vec<String> = fields.all("trainee").map(str::to_owned).collect();
    let kept = || Kept { form: "reassign", values: fields.0.clone() };
    if codes.is_empty() {
        return Outcome::Kept(Outcome::report(tr.t("training.begin_none").to_owned()), kept())
            .render(&state, &signed, id)
            .await;
    }
    let results = crate::training::begin::begin_many(&state.rt, id, &signed.actor(), &codes).await?;
    let names = enrol::trainees(state.db(), id).await?.into_iter().map(|t| (t.code, t.name)).collect();
    let report = begun(&tr, &state, &results, &names);
    let outcome =
        if results.iter().any(|(_, r)| r.is_ok()) { Outcome::Done(report) } else { Outcome::Kept(report, kept()) };
    outcome.render(&state, &signed, id).await
}

/// How many began, and each trainee who did not, by name, with the reason in the reader's words.
fn begun(
    tr: &Tr,
    state: &AppState,
    results: &crate::training::begin::Begun,
    names: &std::collections::HashMap<String, String>,
) -> Report {
    use crate::training::begin::NotBegun;
    let track_def = state.rt.definitions().get(track::PROCESS).cloned();
    let lines = results
        .iter()
        .filter_map(|(code, r)| {
            let reason = match r.as_ref().err()? {
                NotBegun::NoTrack => tr.t("training.no_track").to_owned(),
                NotBegun::Refused(r) => {
                    crate::web::view::refusal_text(tr, track_def.as_deref(), &state.rt.definitions().roles, r)
                }
            };
            let name = names.get(code).map_or_else(
                || code.clone(),
                |n| tr.f("title.name_with_id", &[("name", n.clone()), ("id", code.clone())]),
            );
            Some(tr.f("training.not_begun", &[("name", name), ("reason", reason)]))
        })
        .collect();
    let started = results.iter().filter(|(_, r)| r.is_ok()).count();
    let counts = [("begun", started.to_string()), ("not", (results.len() - started).to_string())];
    (tr.f("training.begun", &counts), lines)
}

/// A reassignment refused for a reason of its own, in the reader's words.
fn reassign_refusal(tr: &Tr, e: ReassignError) -> String {
    match e {
        ReassignError::NoneChosen => tr.t("training.none_chosen").to_owned(),
        ReassignError::UnknownMentor(m) => tr.f("training.unknown_mentor", &[("mentor", m)]),
        ReassignError::Full { mentor, load, capacity, asked } => tr.f(
            "training.mentor_full",
            &[
                ("mentor", mentor),
                ("load", load.to_string()),
                ("capacity", capacity.to_string()),
                ("asked", asked.to_string()),
            ],
        ),
        ReassignError::Runtime(e) => e.to_string(),
    }
}
