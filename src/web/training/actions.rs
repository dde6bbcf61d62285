//! What a coordinator does on the trainees page; each renders the page again with a report.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

use crate::sector::track;
use crate::store::audit::Record;
use crate::training::assign::{Choice, Unassigned};
use crate::training::enrol::{self, EnrolError};
use crate::training::graduate::Verdict;
use crate::training::import::{FileEncoding, FileProblem, MAX_BYTES, MAX_ROWS, RowError, RowProblem, SKILL_LEVELS};
use crate::training::mentors::{self, ReassignError};
use crate::web::errors::WebError;
use crate::web::extract::{Coordinator, Posted, PostedParts, Signed};
use crate::web::process::load_visible;
use crate::web::state::AppState;
use crate::web::training::page::{Kept, render, render_refused};

/// A bad row in the reader's words.
fn row_text(tr: &crate::web::i18n::Tr, e: &RowError) -> String {
    let what = |w: &str| tr.t(&format!("import.col.{}", w.trim_start_matches("the ").replace(' ', "_"))).to_owned();
    let problem = match &e.problem {
        RowProblem::Empty(w) => tr.f("import.empty", &[("what", what(w))]),
        RowProblem::TooLong(w) => tr.f("import.too_long", &[("what", what(w))]),
        RowProblem::SkillLevel(v) => {
            tr.f("import.skill_level", &[("value", v.clone()), ("levels", SKILL_LEVELS.join(tr.t("punct.list")))])
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

/// A character named as Unicode does, since a control or invisible character cannot be shown.
fn code_point(code: u32) -> String {
    format!("U+{code:04X}")
}

fn file_text(tr: &crate::web::i18n::Tr, p: &FileProblem) -> String {
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
        EnrolError::Runtime(crate::runtime::RuntimeError::Refused(r)) => {
            (crate::web::view::refusal_text(&tr, None, &state.rt.definitions().roles, &r), Vec::new())
        }
        EnrolError::Runtime(e) => return Err(e.into()),
        EnrolError::Db(e) => return Err(e.into()),
    })
}

/// More trainees than one mentor can follow.
const MAX_MENTOR_CAPACITY: i64 = 1000;

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
    match enrol::import_csv_as(&state.rt, state.db(), id, &signed.actor(), file, encoding, valid_only).await {
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
                signed,
                id,
                Some((summary, done.skipped.iter().map(|e| row_text(&tr, e)).collect())),
                StatusCode::OK,
            )
            .await
        }
        Err(e) => {
            let report = refusal(signed, &state, e)?;
            render(&state, signed, id, Some(report), StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

fn value<'a>(form: &'a [(String, String)], name: &str) -> &'a str {
    form.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.as_str())
}

pub async fn capacity(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Posted { by: Coordinator(signed), fields }: Posted<Coordinator>,
) -> Result<Response, WebError> {
    let form = fields.0;
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
    Path(id): Path<i64>,
    Posted { by: Coordinator(signed), .. }: Posted<Coordinator>,
) -> Result<Response, WebError> {
    load_visible(&state, &signed, id).await?;
    let tr = signed.tr;
    let choices = match mentors::auto_assign(&state.rt, state.db(), id, &signed.actor()).await {
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
    Path(id): Path<i64>,
    Posted { by: Coordinator(signed), fields }: Posted<Coordinator>,
) -> Result<Response, WebError> {
    let form = fields.0;
    let username = match crate::people::Username::parse(value(&form, "username")) {
        Ok(u) => u,
        Err(e) => {
            return render_refused(
                &state,
                &signed,
                id,
                (e.to_string(), Vec::new()),
                Kept { form: "mentor", values: form },
            )
            .await;
        }
    };
    let texts = crate::people::DisplayName::parse(value(&form, "name"))
        .and_then(|name| Ok((name, crate::people::domain::parse_unit_text(value(&form, "field"), true)?)));
    let (name, field) = match texts {
        Ok(t) => t,
        Err(e) => {
            let report = (crate::web::view::people_error_text(&signed.tr, &e), Vec::new());
            return render_refused(&state, &signed, id, report, Kept { form: "mentor", values: form }).await;
        }
    };
    let capacity =
        value(&form, "capacity").trim().parse::<i64>().ok().filter(|c| (0..=MAX_MENTOR_CAPACITY).contains(c));
    let Some(capacity) = capacity else {
        let report = (signed.tr.t("refusal.input").to_owned(), Vec::new());
        return render_refused(&state, &signed, id, report, Kept { form: "mentor", values: form.clone() }).await;
    };
    let change = signed.admin_change(&state).await?;
    mentors::upsert(change.conn(), username.as_str(), name.as_str(), &field, capacity, state.now()).await?;
    let data = serde_json::json!({ "mentor": username.as_str(), "field": field, "capacity": capacity });
    change.commit(Record { kind: "admin", event: Some("save_mentor"), data }).await?;
    Ok(Redirect::to(&format!("/cohorts/{id}/trainees")).into_response())
}

/// One trainee added by hand: the same checks as a row of an imported file.
pub async fn add_trainee(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Posted { by: Coordinator(signed), fields }: Posted<Coordinator>,
) -> Result<Response, WebError> {
    let form = fields.0;
    load_visible(&state, &signed, id).await?;
    const COLUMNS: [&str; 5] = ["name", "employer", "trade", "skill_level", "contact"];
    let row = COLUMNS.map(|k| value(&form, k).trim());
    let mut file = csv::Writer::from_writer(Vec::new());
    file.write_record(COLUMNS)
        .and_then(|()| file.write_record(row))
        .map_err(|e| WebError::BadRequest(e.to_string()))?;
    let bytes = file.into_inner().map_err(|e| WebError::BadRequest(e.to_string()))?;
    let tr = signed.tr;
    match enrol::import_csv(&state.rt, state.db(), id, &signed.actor(), &bytes, false).await {
        Ok(done) => {
            let key = if done.enrolled == 1 { "training.added" } else { "training.added_waiting" };
            let report = (tr.f(key, &[("name", row[0].to_owned())]), Vec::new());
            render(&state, &signed, id, Some(report), StatusCode::OK).await
        }
        Err(EnrolError::Rows(checked)) => {
            // One row: its problems without the line number of a file nobody uploaded.
            let lines = checked.errors.iter().map(|e| row_text(&tr, e)).map(|t| without_line(&t)).collect();
            let report = (tr.t("training.add_refused").to_owned(), lines);
            render_refused(&state, &signed, id, report, Kept { form: "trainee", values: form }).await
        }
        Err(e) => {
            let report = refusal(&signed, &state, e)?;
            render_refused(&state, &signed, id, report, Kept { form: "trainee", values: form }).await
        }
    }
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
    let roles = &state.rt.definitions().roles;
    let track_def = state.rt.definitions().get(track::PROCESS).cloned();
    let reason = |failure: &crate::engine::GuardFailure| {
        let refusal = crate::engine::Refusal::Guard(failure.clone());
        crate::web::view::refusal_text(&tr, track_def.as_deref(), roles, &refusal)
    };
    match crate::training::graduate::graduate_cohort(&state.rt, state.db(), id, &signed.actor(), &reason).await {
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
    Path(id): Path<i64>,
    Posted { by: Coordinator(signed), fields }: Posted<Coordinator>,
) -> Result<Response, WebError> {
    let form = fields.0;
    load_visible(&state, &signed, id).await?;
    let tr = signed.tr;
    let codes: Vec<String> = form.iter().filter(|(k, _)| k == "trainee").map(|(_, v)| v.clone()).collect();
    let (mentor, reason) = (value(&form, "mentor").trim(), value(&form, "reason").trim());
    if reason.is_empty() {
        let report = (tr.t("training.reason_needed").to_owned(), Vec::new());
        return render_refused(&state, &signed, id, report, Kept { form: "reassign", values: form }).await;
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
    render_refused(&state, &signed, id, (report, Vec::new()), Kept { form: "reassign", values: form }).await
}
