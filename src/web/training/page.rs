//! The trainees page: the cohort's trainees with their mentor and state, its dashboard, and
//! the coordinator's forms; every action renders it again with its report.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;

use crate::sector::{cohort, track};
use crate::training::enrol::{self, ENROLLED, TraineeRecord, WAITING};
use crate::training::import::{MAX_ROWS, SkillLevel};
use crate::training::mentors;
use crate::web::errors::WebError;
use crate::web::extract::Signed;
use crate::web::process::load_visible;
use crate::web::state::AppState;
use crate::web::view::{Chrome, page};

/// Trainees shown a page at a time (a cohort may have hundreds).
const PAGE: u64 = 100;

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
    /// The skill level in the reader's language.
    pub level: String,
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
    /// Whether its state takes trainees (import, add one), and raises its capacity: a form is
    /// offered only where it can succeed.
    may_enrol: bool,
    /// Some trainee has a mentor and has not begun: the page offers to begin the ticked.
    may_begin: bool,
    may_raise: bool,
    /// Each skill level's id (what the form sends) and name in the reader's language.
    skill_levels: Vec<(&'static str, String)>,
    /// What the import takes (encodings, the row limit), in the reader's words.
    import_hint: String,
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
    /// A refused form and what was typed into it, so it comes back as the user left it.
    kept: Option<Kept>,
}

/// One of the page's forms, sent back refused: which one, and its values.
pub struct Kept {
    pub form: &'static str,
    pub values: Vec<(String, String)>,
}

impl TraineesPage {
    /// What was typed into `name` of `form`, if that form came back refused.
    fn typed(&self, form: &str, name: &str) -> &str {
        self.kept
            .as_ref()
            .filter(|k| k.form == form)
            .and_then(|k| k.values.iter().find(|(n, _)| n == name))
            .map_or("", |(_, v)| v.as_str())
    }

    /// Whether `value` was among the values of `name` in `form` when it came back refused.
    fn chosen(&self, form: &str, name: &str, value: &str) -> bool {
        self.kept.as_ref().is_some_and(|k| k.form == form && k.values.iter().any(|(n, v)| n == name && v == value))
    }
}

pub(super) async fn render(
    state: &AppState,
    signed: &Signed,
    id: i64,
    report: Option<(String, Vec<String>)>,
    status: StatusCode,
) -> Result<Response, WebError> {
    render_page(state, signed, id, 0, report, None, status).await
}

/// The page again after a refused form, with the form as the user left it.
pub(super) async fn render_refused(
    state: &AppState,
    signed: &Signed,
    id: i64,
    report: (String, Vec<String>),
    kept: Kept,
) -> Result<Response, WebError> {
    render_page(state, signed, id, 0, Some(report), Some(kept), StatusCode::UNPROCESSABLE_ENTITY).await
}

async fn render_page(
    state: &AppState,
    signed: &Signed,
    id: i64,
    after: i64,
    report: Option<(String, Vec<String>)>,
    kept: Option<Kept>,
    status: StatusCode,
) -> Result<Response, WebError> {
    let inst = load_visible(state, signed, id).await?;
    if inst.definition.id != cohort::PROCESS {
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
    // Only the tracks of the trainees shown, and the dashboard from its kept summary: the page
    // reads as much for a cohort of 600 as for one of 20.
    let codes: Vec<&str> = enrolled.iter().map(|t| t.code.as_str()).collect();
    let tracks = crate::store::instances::children_with(state.db(), id, track::TRAINEE, &codes).await?;
    let track_def = state.rt.definitions().get(track::PROCESS).cloned();
    let by_code: std::collections::HashMap<&str, &crate::store::instances::InstanceRow> =
        tracks.iter().filter_map(|t| Some((t.data.get(track::TRAINEE)?.as_str()?, t))).collect();
    let enrolled = enrolled
        .into_iter()
        .map(|record| {
            let track = by_code.get(record.code.as_str());
            EnrolledLine {
                level: level_name(&signed.tr, &record.skill_level),
                track: track.map(|t| t.id),
                mentor: track
                    .and_then(|t| t.data.get(track::MENTOR)?.as_str())
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
    let charts = super::dashboard::charts(state, signed, id, &mentors).await?;
    let title = inst.definition.title_of(&inst.row.data, lang);
    let capacity = inst.row.data.get(crate::sector::cohort::CAPACITY).map(ToString::to_string).unwrap_or_default();
    let chrome = Chrome::signed(signed, format!("{title} — {}", signed.tr.t("training.trainees")));
    page(
        status,
        &TraineesPage {
            chrome,
            id,
            title,
            capacity,
            may_graduate: inst.row.state == crate::sector::cohort::GRADUATION,
            may_enrol: inst.definition.transition(&inst.row.state, crate::sector::cohort::ENROL).is_some(),
            may_begin: crate::store::instances::has_child_in(state.db(), id, track::ASSIGNED).await?,
            may_raise: inst.definition.transition(&inst.row.state, crate::sector::cohort::RAISE_CAPACITY).is_some(),
            skill_levels: SkillLevel::ALL.iter().map(|l| (l.id(), level_name(&signed.tr, l.recorded()))).collect(),
            import_hint: signed.tr.f("training.import.hint", &[("max", MAX_ROWS.to_string())]),
            enrolled,
            counts,
            next_page,
            later_page: after > 0,
            more_waiting: counts.1 - waiting.len() as i64,
            waiting,
            mentors,
            report,
            may_manage: crate::web::extract::runs_cohorts(state, signed),
            charts,
            kept,
        },
    )
}

/// A recorded skill level in the reader's language (a record no level reads is shown as it is).
fn level_name(tr: &crate::web::i18n::Tr, recorded: &str) -> String {
    SkillLevel::parse(recorded).map_or_else(|| recorded.to_owned(), |l| tr.t(&format!("skill.{}", l.id())).to_owned())
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
    render_page(&state, &signed, id, q.after.max(0), None, None, StatusCode::OK).await
}
