//! Process pages, drawn from the definition for any process: the list, the start form, and an
//! instance with its stepper, diagram, details, actions, children, timers and history.

use std::collections::{BTreeMap, BTreeSet};

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::Value;

use crate::definition::{Definition, Effect, Field, FieldKind, Source};
use crate::engine::{self, Data, FieldError, FieldProblem, Refusal, VOTE_KEY};
use crate::runtime::{Instance, RuntimeError};
use crate::store::instances;
use crate::web::charts;
use crate::web::diagram::{self, Marks};
use crate::web::errors::WebError;
use crate::web::extract::{Posted, Signed};
use crate::web::i18n::Tr;
use crate::web::rollcall;
use crate::web::state::{AppState, Directory};
use crate::web::view::{Chrome, deadline_text, field_problem_text, fmt_time, money_text, page, refusal_text};

// ---- form values ---------------------------------------------------------------------------

/// The values a form sent for the given fields. Lists may arrive as several values or as lines
/// of one box; an unticked box sends nothing, which means "no".
fn form_data(def: &Definition, form: &[(String, String)], names: &[String], units: &Directory) -> Data {
    let mut data = Data::new();
    for name in names {
        let Some(field) = def.field(name) else { continue };
        let values: Vec<&str> = form.iter().filter(|(k, _)| k == name).map(|(_, v)| v.as_str()).collect();
        match field.kind {
            FieldKind::List { .. } => {
                // "All units of a sector" arrives as `sector:NAME`, and means those units.
                let mut items: Vec<String> = Vec::new();
                for v in values {
                    match v.strip_prefix(SECTOR_PREFIX) {
                        Some(sector) => {
                            items.extend(units.units.values().filter(|u| u.sector == sector).map(|u| u.id.clone()))
                        }
                        None => items.push(v.to_owned()),
                    }
                }
                let mut seen = BTreeSet::new();
                items.retain(|i| seen.insert(i.clone()));
                // Ticked items are whole values (a topic may hold a comma); only a box the reader
                // typed into is split into items, by the engine.
                let ticked = field.source.is_some() || field.pick_from.is_some();
                if ticked && !items.is_empty() {
                    data.insert(name.clone(), Value::Array(items.into_iter().map(Value::String).collect()));
                } else if !items.is_empty() {
                    data.insert(name.clone(), Value::String(items.join("\n")));
                }
            }
            FieldKind::Bool => {
                data.insert(name.clone(), Value::Bool(values.contains(&"true")));
            }
            // Several values for one value (a second chief picked) are kept together, and the
            // directory check refuses them by name.
            _ => {
                let mut distinct: Vec<&str> = Vec::new();
                for v in values.into_iter().filter(|v| !v.trim().is_empty()) {
                    if !distinct.contains(&v) {
                        distinct.push(v);
                    }
                }
                if !distinct.is_empty() {
                    data.insert(name.clone(), Value::String(distinct.join("\n")));
                }
            }
        }
    }
    data
}

pub const SECTOR_PREFIX: &str = "sector:";

/// Ids that the directory does not know, and several ids where one is asked, for fields whose
/// values come from a directory.
/// The form's values of the fields `names`, and the refusal of any value the directories do
/// not know (an unknown unit or person), which the engine cannot judge.
fn decode_form(
    def: &Definition,
    form: &[(String, String)],
    names: &[String],
    directory: &Directory,
    lang: &str,
) -> (Data, Result<(), RuntimeError>) {
    let given = form_data(def, form, names, directory);
    let unknown = directory_errors(def, &given, directory, lang);
    let known = if unknown.is_empty() { Ok(()) } else { Err(RuntimeError::Refused(Refusal::Input(unknown))) };
    (given, known)
}

pub fn directory_errors(def: &Definition, given: &Data, directory: &Directory, lang: &str) -> Vec<FieldError> {
    let mut errors = Vec::new();
    for (name, value) in given {
        let Some((field, source)) = def.field(name).and_then(|f| Some((f, f.source?))) else { continue };
        let items: Vec<&str> = match value {
            Value::String(s) => s.lines().map(str::trim).filter(|s| !s.is_empty()).collect(),
            Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        let problem = if let Some(unknown) = items.iter().find(|i| !directory.knows(source, i)) {
            FieldProblem::NotInDirectory { item: (*unknown).to_owned() }
        } else if items.len() > 1 && !matches!(field.kind, FieldKind::List { .. }) {
            let names = items.iter().map(|i| directory.name(source, i, lang).unwrap_or_default());
            FieldProblem::OnlyOne { given: names.collect::<Vec<_>>().join(list_separator(lang)) }
        } else {
            continue;
        };
        errors.push(FieldError { field: field.id.clone(), problem });
    }
    errors
}

/// The separator of a list in `lang` ("、" in Chinese, ", " in English).
fn list_separator(lang: &str) -> &'static str {
    crate::web::i18n::Tr::new(crate::web::i18n::Lang::parse(lang).unwrap_or_default()).t("punct.list")
}

/// An id named as what it stands for (a unit's name, a person's name), for fields whose values
/// come from a directory.
pub fn namer<'a>(directory: &'a Directory, lang: &'a str) -> impl Fn(&Field, &str) -> Option<String> + 'a {
    move |field: &Field, value: &str| directory.name(field.source?, value, lang)
}

pub fn display_value(tr: &Tr, field: Option<&Field>, value: &Value, units: &Directory) -> String {
    let lang = tr.code();
    if let Some(f) = field.filter(|f| f.source.is_some()) {
        let name = namer(units, lang);
        let named =
            |v: &Value| v.as_str().map_or_else(|| v.to_string(), |s| name(f, s).unwrap_or_else(|| s.to_owned()));
        return match value {
            Value::Array(items) => items.iter().map(named).collect::<Vec<_>>().join(tr.t("punct.list")),
            other => named(other),
        };
    }
    display_kind(tr, field.map(|f| &f.kind), value)
}

/// A value of a field type (or of a table's column) as a page shows it: a choice by its label,
/// money with its thousands grouped and its unit, a table as its number of rows.
fn display_kind(tr: &Tr, kind: Option<&FieldKind>, value: &Value) -> String {
    let lang = tr.code();
    match (kind, value) {
        (Some(FieldKind::Money { .. }), Value::String(s)) => {
            crate::definition::money::money_of(value).map_or_else(|| s.clone(), |m| money_text(tr, m))
        }
        (Some(FieldKind::Table { .. }), Value::Array(rows)) => tr.f("table.rows", &[("n", rows.len().to_string())]),
        (Some(FieldKind::Choice { options }), Value::String(s)) => {
            options.iter().find(|o| &o.id == s).map_or_else(|| s.clone(), |o| o.label.get(lang).to_owned())
        }
        (_, Value::Bool(b)) => tr.t(if *b { "bool.yes" } else { "bool.no" }).to_owned(),
        (_, Value::Array(items)) => items
            .iter()
            .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_owned))
            .collect::<Vec<_>>()
            .join(tr.t("punct.list")),
        (_, Value::String(s)) => s.clone(),
        (_, other) => other.to_string(),
    }
}

/// The text to put back in a form control for a value.
fn input_value(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(items)) => items.iter().filter_map(|i| i.as_str()).collect::<Vec<_>>().join("\n"),
        Some(other) => other.to_string(),
    }
}

pub struct FieldView {
    pub id: String,
    pub name: String,
    pub label: String,
    pub kind: &'static str,
    pub required: bool,
    pub value: String,
    pub options: Vec<(String, String, bool)>,
    pub min: Option<i64>,
    pub max: Option<i64>,
    pub hint: String,
    pub error: Option<String>,
}

/// What a form was sent back with: the values as typed, and what was wrong with them.
#[derive(Clone, Copy)]
struct Typed<'a> {
    given: &'a Data,
    errors: &'a [FieldError],
    /// The instance's data, for fields that pick from one of its lists (empty when starting).
    current: &'a Data,
}

fn field_views(
    tr: &Tr,
    units: &Directory,
    def: &Definition,
    prefix: &str,
    (ask, optional): (&[String], &[String]),
    typed: Typed<'_>,
) -> Vec<FieldView> {
    let Typed { given, errors, current } = typed;
    let lang = tr.code();
    ask.iter()
        .map(|n| (n, true))
        .chain(optional.iter().map(|n| (n, false)))
        .filter_map(|(name, required)| {
            let field = def.field(name)?;
            // A field that starts from a record shows what the instance holds from it (the unit's
            // roster size): kept as it is, it needs no reason. A field that is revised starts
            // from its last value (the draft's text).
            let held = (field.default.is_some() || field.revise).then(|| current.get(name)).flatten();
            let value = input_value(given.get(name).or(held));
            let (kind, options, min, max, hint) = match &field.kind {
                FieldKind::Text { .. } | FieldKind::Map | FieldKind::Table { .. } => {
                    ("text", vec![], None, None, String::new())
                }
                FieldKind::Money { .. } => ("text", vec![], None, None, tr.t("field.money_hint").to_owned()),
                FieldKind::LongText { .. } => ("textarea", vec![], None, None, String::new()),
                FieldKind::Int { min, max } => (
                    "number",
                    vec![],
                    (*min > i64::MIN).then_some(*min),
                    (*max < i64::MAX).then_some(*max),
                    String::new(),
                ),
                FieldKind::Date => ("date", vec![], None, None, String::new()),
                FieldKind::Bool => ("checkbox", vec![], None, None, String::new()),
                FieldKind::Choice { options } => (
                    "select",
                    options.iter().map(|o| (o.id.clone(), o.label.get(lang).to_owned(), o.id == value)).collect(),
                    None,
                    None,
                    String::new(),
                ),
                FieldKind::List { .. } => {
                    ("textarea", vec![], None, None, tr.t("instance.fields.list_hint").to_owned())
                }
            };
            let (kind, options) = match (field.source, &field.kind) {
                (Some(source), FieldKind::List { .. }) => {
                    let chosen: BTreeSet<&str> = value.lines().map(str::trim).collect();
                    // "All units of a sector" comes first, for the unit directory.
                    let mut sectors: Vec<&str> = units.units.values().map(|u| u.sector.as_str()).collect();
                    sectors.dedup();
                    let all = tr.t("field.all_units");
                    let whole = sectors
                        .into_iter()
                        .filter(|_| source == Source::Units)
                        .map(|s| (format!("{SECTOR_PREFIX}{s}"), format!("{all}{}{s}", tr.t("punct.colon")), false));
                    let each = units.entries(source, lang).into_iter().map(|(id, label)| {
                        let on = chosen.contains(id.as_str());
                        (id, label, on)
                    });
                    ("choices", whole.chain(each).collect())
                }
                (Some(source), _) => (
                    "select",
                    units
                        .entries(source, lang)
                        .into_iter()
                        .map(|(id, label)| {
                            let on = id == value;
                            (id, label, on)
                        })
                        .collect(),
                ),
                _ => (kind, options),
            };
            let (kind, options) = match field.pick_from.as_ref() {
                Some(from) => {
                    let chosen: BTreeSet<&str> = value.lines().map(str::trim).collect();
                    let offered = current.get(from).and_then(Value::as_array).into_iter().flatten();
                    let options = offered
                        .filter_map(Value::as_str)
                        .map(|item| (item.to_owned(), item.to_owned(), chosen.contains(item)))
                        .collect();
                    (if matches!(field.kind, FieldKind::List { .. }) { "choices" } else { "select" }, options)
                }
                None => (kind, options),
            };
            let error = errors.iter().find(|e| &e.field == name).map(|e| field_problem_text(tr, &e.problem));
            Some(FieldView {
                id: format!("{prefix}-{name}"),
                name: name.clone(),
                label: field.label.get(lang).to_owned(),
                kind,
                required: required && kind != "checkbox",
                value,
                options,
                min,
                max,
                hint,
                error,
            })
        })
        .collect()
}

// ---- the list of processes ------------------------------------------------------------------

pub struct ProcessCard {
    pub id: String,
    pub label: String,
    pub count_text: String,
}

#[derive(Template)]
#[template(path = "processes.html")]
struct ProcessesPage {
    chrome: Chrome,
    processes: Vec<ProcessCard>,
}

pub async fn list_processes(State(state): State<AppState>, signed: Signed) -> Result<Response, WebError> {
    let counts = instances::count_by_process(state.db()).await?;
    let count = |p: &str| counts.get(p).copied().unwrap_or(0);
    let lang = signed.tr.code();
    let processes = state
        .rt
        .definitions()
        .definitions
        .values()
        .map(|d| ProcessCard {
            id: d.id.clone(),
            label: d.label.get(lang).to_owned(),
            count_text: format!("{}: {}", signed.tr.t("processes.instances"), count(&d.id)),
        })
        .collect();
    page(StatusCode::OK, &ProcessesPage { chrome: Chrome::signed(&signed, signed.tr.t("processes.title")), processes })
}

// ---- one process: its instances and start form ----------------------------------------------

pub struct StartForm {
    pub fields: Vec<FieldView>,
    pub error: Option<String>,
    /// The open instance a start was refused for (the same key): linked beside the refusal.
    pub open_case: Option<i64>,
}

pub struct InstanceLine {
    pub id: i64,
    pub title: String,
    pub state: String,
    pub updated: String,
}

#[derive(Template)]
#[template(path = "process.html")]
struct ProcessPage {
    chrome: Chrome,
    id: String,
    label: String,
    start: Option<StartForm>,
    rows: Vec<InstanceLine>,
    older: Option<i64>,
    /// The fields of the definition's unique keys (id, label): a form finds the open instance.
    lookup: Vec<(String, String)>,
    /// The definition's reference tables, to read (the minimum living standard per city).
    references: Vec<ReferenceView>,
}

/// A reference table as its process page shows it: at most [`REFERENCE_ROWS_SHOWN`] rows.
pub struct ReferenceView {
    pub table: RecordTable,
    /// "The first 200 of 1,234 rows", when not all are shown.
    pub more: Option<String>,
}

const REFERENCE_ROWS_SHOWN: usize = 200;

fn reference_views(tr: &Tr, def: &Definition) -> Vec<ReferenceView> {
    let lang = tr.code();
    def.references
        .iter()
        .map(|r| {
            let rows = r
                .rows
                .iter()
                .take(REFERENCE_ROWS_SHOWN)
                .map(|row| {
                    r.columns
                        .iter()
                        .map(|c| {
                            row.get(&c.id).map_or_else(String::new, |v| display_kind(tr, Some(&c.kind.field_kind()), v))
                        })
                        .collect()
                })
                .collect();
            let more = (r.rows.len() > REFERENCE_ROWS_SHOWN).then(|| {
                tr.f(
                    "processes.references.more",
                    &[("shown", REFERENCE_ROWS_SHOWN.to_string()), ("n", r.rows.len().to_string())],
                )
            });
            let table = RecordTable {
                title: r.label.get(lang).to_owned(),
                columns: r.columns.iter().map(|c| c.label.get(lang).to_owned()).collect(),
                rows,
            };
            ReferenceView { table, more }
        })
        .collect()
}

#[derive(Deserialize)]
pub struct PageQuery {
    before: Option<i64>,
}

const PAGE_SIZE: u64 = 50;

async fn render_process(
    state: &AppState,
    signed: &Signed,
    process: &str,
    before: Option<i64>,
    start_input: (&Data, &[FieldError], Option<String>, Option<i64>),
    status: StatusCode,
) -> Result<Response, WebError> {
    let def = state.rt.definitions().get(process).cloned().ok_or(WebError::NotFound)?;
    let units = state.directory().await?;
    let actor = signed.actor();
    let lang = signed.tr.code();
    let start = def.start.as_ref().filter(|s| s.roles.iter().any(|r| actor.roles.contains(r))).map(|s| StartForm {
        fields: field_views(
            &signed.tr,
            &units,
            &def,
            "start",
            (&s.ask, &s.optional),
            Typed { given: start_input.0, errors: start_input.1, current: &Data::new() },
        ),
        error: start_input.2.clone(),
        open_case: start_input.3,
    });
    let mut rows = Vec::new();
    let mut parents = ParentTitles::default();
    let mut cursor = before;
    let mut older = None;
    // Pages by key; rows the reader may not see are skipped, reading on until the page is full.
    'pages: for _ in 0..20 {
        let batch = instances::list(state.db(), process, cursor, PAGE_SIZE).await?;
        let full = batch.len() as u64 == PAGE_SIZE;
        for row in batch {
            cursor = Some(row.id);
            let row_def =
                state.rt.registry().by_row(state.db(), row.definition_id).await.map_err(RuntimeError::from)?;
            if !actor.may_view(&row_def, &row.data) {
                continue;
            }
            let own = row_def.title_named(&row.data, lang, namer(&units, lang));
            let parent = parents.of(state, &row_def, row.parent_id, lang, &units).await?;
            rows.push(InstanceLine {
                id: row.id,
                title: row_def.title_beside_parent(own, parent),
                state: row_def.state(&row.state).map_or_else(|| row.state.clone(), |s| s.label.get(lang).to_owned()),
                updated: fmt_time(row.updated_at, state.rt.offset()),
            });
            if rows.len() as u64 == PAGE_SIZE {
                older = cursor;
                break 'pages;
            }
        }
        if !full {
            break;
        }
        older = cursor;
    }
    let chrome = Chrome::signed(signed, def.label.get(lang));
    let lookup = def
        .unique
        .iter()
        .flat_map(|k| &k.fields)
        .map(|f| (f.clone(), def.field(f).map_or(f.as_str(), |x| x.label.get(lang)).to_owned()))
        .collect();
    let label = def.label.get(lang).to_owned();
    let references = reference_views(&signed.tr, &def);
    page(status, &ProcessPage { chrome, id: def.id.clone(), label, start, rows, older, lookup, references })
}

pub async fn process_page(
    State(state): State<AppState>,
    signed: Signed,
    Path(process): Path<String>,
    Query(q): Query<PageQuery>,
) -> Result<Response, WebError> {
    render_process(&state, &signed, &process, q.before, (&Data::new(), &[], None, None), StatusCode::OK).await
}

/// The open instance holding a unique key (`?id_number=…`): its page, or "not found".
pub async fn find(
    State(state): State<AppState>,
    _: Signed,
    Path(process): Path<String>,
    Query(q): Query<BTreeMap<String, String>>,
) -> Result<Response, WebError> {
    let def = state.rt.definitions().get(&process).cloned().ok_or(WebError::NotFound)?;
    for key in &def.unique {
        let mut data = Data::new();
        for f in &key.fields {
            let (Some(field), Some(given)) = (def.field(f), q.get(f)) else { continue };
            if let Ok(Some(value)) = crate::engine::parse_value(field, &Value::String(given.clone())) {
                data.insert(f.clone(), value);
            }
        }
        if let Some(value) = key.of(&data)
            && let Some(open) = crate::store::keys::holder(state.db(), &def.id, &value).await?
        {
            return Ok(Redirect::to(&format!("/instances/{open}")).into_response());
        }
    }
    Err(WebError::NotFound)
}

pub async fn start(
    State(state): State<AppState>,
    Path(process): Path<String>,
    Posted { by: signed, fields }: Posted,
) -> Result<Response, WebError> {
    let def = state.rt.definitions().get(&process).cloned().ok_or(WebError::NotFound)?;
    let rule = def.start.as_ref().ok_or(WebError::Forbidden)?;
    let names: Vec<String> = rule.ask.iter().chain(&rule.optional).cloned().collect();
    let units = state.directory().await?;
    let (given, known) = decode_form(&def, &fields.0, &names, &units, signed.tr.code());
    let result = match known {
        Ok(()) => state.rt.start(&process, &signed.actor(), &given).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(id) => Ok(Redirect::to(&format!("/instances/{id}")).into_response()),
        Err(RuntimeError::Refused(r)) => {
            let errors = if let Refusal::Input(errors) = &r { errors.clone() } else { Vec::new() };
            let named = named_refusal(&def, &units, &signed.tr, &given, &r);
            let message = refusal_text(&signed.tr, Some(&def), &state.rt.definitions().roles, &named);
            let open = if let Refusal::Duplicate { open, .. } = &r { Some(*open) } else { None };
            let returned = (&given, &errors[..], Some(message), open);
            render_process(&state, &signed, &process, None, returned, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => Err(e.into()),
    }
}

// ---- one instance ----------------------------------------------------------------------------

pub struct StageView {
    pub label: String,
    pub status: &'static str,
}

pub struct ActionView {
    pub event: String,
    pub label: String,
    pub fields: Vec<FieldView>,
    pub error: Option<String>,
    /// A roll call's table of ticks, in place of its lists' boxes.
    pub roll_call: Option<rollcall::RollCallView>,
    /// Who the person may do it as: ("", "myself") and (absent person, "for them"), each where
    /// allowed; a choice is offered when there are several.
    pub acting: Vec<(String, String)>,
    /// The choice sent with a form that came back.
    pub chosen: String,
    /// The file the step carries.
    pub attachment: Option<FileInput>,
}

/// A step form's file input: what the file is, and whether the step needs it.
pub struct FileInput {
    pub label: String,
    pub required: bool,
}

pub struct ChildView {
    pub id: i64,
    /// Whether the child's page opens for the reader: a link is shown only where it does.
    pub opens: bool,
    pub title: String,
    pub state: String,
    pub class: &'static str,
    /// Why the child is where it is, if its state names a summary field (a unit's objections).
    pub summary: String,
}

/// The entries an internal action has made (topics raised, sessions held, publications): every
/// firing of a transition that keeps the state and asks for values, from the history.
pub struct RecordTable {
    pub title: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// Long texts are cut in tables; their page shows them whole.
const CELL_CHARS: usize = 120;

pub struct TimerView {
    pub label: String,
    pub due: String,
    pub left: String,
    pub urgent: bool,
    /// Computed on a calendar that is a guess: said so beside the date.
    pub provisional: Option<String>,
}

pub struct HistoryView {
    pub when: String,
    pub who: String,
    pub what: String,
    pub change: String,
    /// What was given with the step ("Phase: 2 · Attendance: 90"), so the history reads as a
    /// timeline of the records; a comment's text.
    pub detail: String,
    pub comment: bool,
    /// The files this event recorded, each a download link.
    pub files: Vec<crate::web::attachments::FileLink>,
}

#[derive(Template)]
#[template(path = "instance.html")]
struct InstancePage {
    chrome: Chrome,
    id: i64,
    version: i64,
    title: String,
    process_id: String,
    process_label: String,
    state_label: String,
    is_final: bool,
    outcome: Option<String>,
    /// The instance this one belongs to: its id, its title, and whether the reader may open it
    /// (a link is shown only where it opens).
    parent: Option<(i64, String, bool)>,
    conflict: Option<String>,
    escalations: Vec<String>,
    /// The definition's notices for the instance's state and values.
    banners: Vec<String>,
    stages: Vec<StageView>,
    diagram: String,
    /// Label, value, and for a long text the link to all its versions.
    details: Vec<(String, String, Option<String>)>,
    vote: Option<(String, String, String)>,
    actions: Vec<ActionView>,
    refused: Vec<(String, String)>,
    children: Vec<ChildView>,
    children_summary: String,
    records: Vec<RecordTable>,
    /// The documents the instance issues in its state: (id, label).
    documents: Vec<(String, String)>,
    /// Charts of the instance's map fields (a level per competence, attendance per phase).
    pictures: Vec<(String, String)>,
    timers: Vec<TimerView>,
    history: Vec<HistoryView>,
    comment: crate::web::comments::CommentBox,
    /// Who may act now, each away one marked with their substitute.
    holders: Vec<String>,
    /// Why the last file added from the history was refused.
    attach_error: Option<String>,
    /// The file inputs' `accept` list and hint (types and limit).
    accept: &'static str,
    attach_hint: String,
}

/// The refusal with the people and units it names by their names: a refusal about
/// representatives names 王伟, never the user name `wang.wei`. A guard's own words get the
/// instance's values (`data`, with what was typed) in their `{field}` placeholders.
fn named_refusal(def: &Definition, directory: &Directory, tr: &Tr, data: &Data, r: &Refusal) -> Refusal {
    use crate::engine::GuardFailure as G;
    let lang = tr.code();
    let name = |field: &str, value: &str| {
        def.field(field)
            .and_then(|f| f.source)
            .and_then(|source| directory.name(source, value, lang))
            .unwrap_or_else(|| value.to_owned())
    };
    if let Refusal::NotSubstitute { absent, gap } = r {
        let absent = directory.people.get(absent).cloned().unwrap_or_else(|| absent.clone());
        return Refusal::NotSubstitute { absent, gap: gap.clone() };
    }
    let Refusal::Guard(failure, message) = r else { return r.clone() };
    let message = message.as_ref().map(|m| {
        let value = |field: &str| {
            let f = def.field(field)?;
            Some(match data.get(field).filter(|v| !v.is_null()) {
                Some(v) => field_text(tr, def, f, v, directory),
                None => tr.t("guard.message.blank").to_owned(),
            })
        };
        let fill = |text: &str| crate::definition::fill_placeholders(text, value);
        Box::new(crate::definition::Label { zh: fill(&m.zh), en: fill(&m.en) })
    });
    let failure = match failure {
        G::InBoth { a, b, item } => G::InBoth { a: a.clone(), b: b.clone(), item: name(a, item) },
        G::NotMember { field, list, value } => {
            G::NotMember { field: field.clone(), list: list.clone(), value: name(field, value) }
        }
        G::Member { field, list, value } => {
            G::Member { field: field.clone(), list: list.clone(), value: name(field, value) }
        }
        other => other.clone(),
    };
    Refusal::Guard(failure, message)
}

/// A fire that came back: which action, what was typed, and why it did not go through.
struct Returned<'a> {
    event: &'a str,
    /// Whom the person acted for ("" for themselves).
    for_absent: &'a str,
    given: &'a Data,
    refusal: Option<Refusal>,
    conflict: Option<i64>,
    /// Why the file the step carried was refused, in the reader's words.
    file_error: Option<String>,
}

pub async fn load_visible(state: &AppState, signed: &Signed, id: i64) -> Result<Instance, WebError> {
    let inst = state.rt.instance(id).await?;
    if !may_read(state, signed, &inst).await? {
        return Err(WebError::Forbidden);
    }
    Ok(inst)
}

/// Whether the person may read the instance, as themselves or as someone they stand in for.
pub async fn may_read(state: &AppState, signed: &Signed, inst: &Instance) -> Result<bool, WebError> {
    for actor in signed.actors() {
        if state.rt.may_read(&actor, inst).await? {
            return Ok(true);
        }
    }
    Ok(false)
}

/// What every section of an instance's page is worded with.
struct Sections<'a> {
    tr: Tr,
    lang: &'a str,
    def: &'a Definition,
    units: &'a Directory,
    offset: time::UtcOffset,
}

impl Sections<'_> {
    /// A refusal in the reader's words, the definition's own filled from the instance's values
    /// with what was typed over them.
    fn refused(&self, roles: &crate::definition::Roles, held: &Data, typed: &Data, r: &Refusal) -> String {
        let mut values = held.clone();
        values.extend(typed.clone());
        refusal_text(&self.tr, Some(self.def), roles, &named_refusal(self.def, self.units, &self.tr, &values, r))
    }

    fn state_label(&self, d: &Definition, s: &str) -> String {
        d.state(s).map_or_else(|| s.to_owned(), |st| st.label.get(self.lang).to_owned())
    }

    /// The stage stepper: stages before the current one done, the current one current.
    fn stages(&self, row: &instances::InstanceRow) -> (Vec<StageView>, bool) {
        let current = self.def.state(&row.state);
        let current_stage = current.map(|s| s.stage.as_str()).unwrap_or_default();
        let stage_index = self.def.stages.iter().position(|s| s.id == current_stage).unwrap_or(0);
        let is_final = current.is_some_and(|s| s.is_final);
        let stages = self
            .def
            .stages
            .iter()
            .enumerate()
            .map(|(i, s)| StageView {
                label: s.label.get(self.lang).to_owned(),
                status: if i < stage_index || (is_final && i == stage_index) {
                    "done"
                } else if i == stage_index {
                    "current"
                } else {
                    "todo"
                },
            })
            .collect();
        (stages, is_final)
    }

    /// A form for each action the person may take (what they typed kept when it came back
    /// refused), and the reason for each they may not.
    fn actions(
        &self,
        row: &instances::InstanceRow,
        actor: &crate::engine::Actor,
        people: Option<&crate::engine::PeopleFacts>,
        today: time::Date,
        roles: &crate::definition::Roles,
        returned: Option<&Returned<'_>>,
    ) -> (Vec<ActionView>, Vec<(String, String)>) {
        let (tr, lang, def) = (&self.tr, self.lang, self.def);
        let mut actions = Vec::new();
        let mut refused = Vec::new();
        for option in engine::options(def, &row.state, &row.data, actor, people, today) {
            let t = option.transition;
            let Some(r) = &option.refusal else {
                let (given, errors, error) = match returned {
                    Some(r) if r.event == t.event => {
                        let errors = match &r.refusal {
                            Some(Refusal::Input(errors)) => errors.clone(),
                            _ => Vec::new(),
                        };
                        let text = |x| self.refused(roles, &row.data, r.given, x);
                        (r.given.clone(), errors, r.file_error.clone().or_else(|| r.refusal.as_ref().map(text)))
                    }
                    _ => (Data::new(), Vec::new(), None),
                };
                let typed = Typed { given: &given, errors: &errors, current: &row.data };
                let mut fields = field_views(tr, self.units, def, &t.event, (&t.ask, &t.optional), typed);
                let refusal = returned.filter(|r| r.event == t.event).and_then(|r| r.refusal.as_ref());
                let roll_call = rollcall::view(tr, t, &row.data, &given, refusal);
                if roll_call.is_some() {
                    fields.retain(|f| !rollcall::is_ballot(t, &f.name));
                }
                let label = t.label.get(lang).to_owned();
                let (acting, chosen) = (Vec::new(), String::new());
                let attachment = t
                    .attachment
                    .as_ref()
                    .map(|a| FileInput { label: a.label.get(lang).to_owned(), required: a.required });
                actions.push(ActionView {
                    event: t.event.clone(),
                    label,
                    fields,
                    error,
                    roll_call,
                    acting,
                    chosen,
                    attachment,
                });
                continue;
            };
            let text = refusal_text(tr, Some(def), roles, &named_refusal(def, self.units, tr, &row.data, r));
            refused.push((t.label.get(lang).to_owned(), text));
        }
        (actions, refused)
    }

    /// Every field the instance holds, with a link to the versions of long texts.
    fn details(&self, row: &instances::InstanceRow) -> Vec<(String, String, Option<String>)> {
        let mut details = Vec::new();
        // A table is shown as a table of its own (see `tables`).
        for field in self.def.fields.iter().filter(|f| !matches!(f.kind, FieldKind::Table { .. })) {
            if let Some(v) = row.data.get(&field.id).filter(|v| !v.is_null()) {
                let versions = matches!(field.kind, FieldKind::LongText { .. })
                    .then(|| format!("/instances/{}/versions/{}", row.id, field.id));
                let text = field_text(&self.tr, self.def, field, v, self.units);
                details.push((field.label.get(self.lang).to_owned(), text, versions));
            }
        }
        details
    }

    /// The vote that decided the instance: its outcome, the rule's reason and the figures.
    fn vote(&self, row: &instances::InstanceRow) -> Option<(String, String, String)> {
        let (v, figures) = crate::web::view::decided_vote(&self.tr, self.def, row.data.get(VOTE_KEY)?)?;
        Some((v.outcome.clone(), self.tr.t(&format!("instance.vote.reason.{}", v.reason)).to_owned(), figures))
    }

    /// The banners the definition shows in the instance's state, their `{field}` placeholders
    /// filled with the values as the page shows them.
    fn banners(&self, row: &instances::InstanceRow) -> Vec<String> {
        let value = |name: &str| {
            let field = self.def.field(name)?;
            let v = row.data.get(name).filter(|v| !v.is_null())?;
            Some(field_text(&self.tr, self.def, field, v, self.units))
        };
        self.def
            .banners
            .iter()
            .filter(|b| b.shows(&row.state, &row.data))
            .map(|b| crate::definition::fill_placeholders(b.text.get(self.lang), value))
            .collect()
    }

    fn escalations(&self, row: &instances::InstanceRow) -> Vec<String> {
        let Some(Value::Array(list)) = row.data.get(engine::ESCALATIONS_KEY) else { return Vec::new() };
        list.iter()
            .map(|e| {
                let event = e.get("event").and_then(Value::as_str).unwrap_or_default();
                let on = e.get("on").and_then(Value::as_str).unwrap_or_default();
                format!("{}: {} ({on})", self.tr.t("work.escalated"), self.def.event_label(event, self.lang))
            })
            .collect()
    }

    fn timers(&self, timers: Vec<crate::store::timers::TimerRow>, now: time::OffsetDateTime) -> Vec<TimerView> {
        timers
            .into_iter()
            .map(|t| {
                let (left, urgent) = deadline_text(&self.tr, t.due_at, now);
                let provisional = crate::web::view::provisional_note(&self.tr, &t.provisional);
                let label = self.def.event_label(&t.event, self.lang).to_owned();
                TimerView { label, due: t.last_day, left, urgent, provisional }
            })
            .collect()
    }

    /// The instance's table fields, each with a row per record it holds (every row, two alike
    /// included), its cells worded as their columns' types are.
    fn tables(&self, row: &instances::InstanceRow) -> Vec<RecordTable> {
        let mut tables = Vec::new();
        for field in &self.def.fields {
            let FieldKind::Table { columns, .. } = &field.kind else { continue };
            let Some(Value::Array(rows)) = row.data.get(&field.id) else { continue };
            if rows.is_empty() {
                continue;
            }
            let cells = rows
                .iter()
                .map(|r| {
                    columns
                        .iter()
                        .map(|c| match r.get(&c.id).filter(|v| !v.is_null()) {
                            Some(v) => display_kind(&self.tr, Some(&c.kind.field_kind()), v),
                            None => String::new(),
                        })
                        .collect()
                })
                .collect();
            tables.push(RecordTable {
                title: field.label.get(self.lang).to_owned(),
                columns: columns.iter().map(|c| c.label.get(self.lang).to_owned()).collect(),
                rows: cells,
            });
        }
        tables
    }

    /// The records kept by steps that stay in their state (sessions, topics, growth records), one
    /// table per kind of step.
    fn records(&self, history: &[crate::store::audit::AuditRow]) -> Vec<RecordTable> {
        let (tr, lang, def) = (&self.tr, self.lang, self.def);
        let mut records = Vec::new();
        let mut seen_events = BTreeSet::new();
        for t in def.transitions.iter().filter(|t| t.to.is_none() && !(t.ask.is_empty() && t.optional.is_empty())) {
            if !seen_events.insert(t.event.as_str()) {
                continue;
            }
            let names: Vec<&String> = t.ask.iter().chain(&t.optional).collect();
            let rows: Vec<Vec<String>> = history
                .iter()
                .filter(|h| h.record.event.as_deref() == Some(t.event.as_str()) && h.record.kind == "transition")
                .map(|h| {
                    let input = h.data().get("input").cloned().unwrap_or(Value::Null);
                    let mut cells = vec![fmt_time(h.at(), self.offset), h.record.actor.clone()];
                    cells.extend(names.iter().map(|n| {
                        let text = input
                            .get(n.as_str())
                            .map(|v| display_value(tr, def.field(n), v, self.units))
                            .unwrap_or_default();
                        if text.chars().count() > CELL_CHARS {
                            format!("{}…", text.chars().take(CELL_CHARS).collect::<String>())
                        } else {
                            text
                        }
                    }));
                    cells
                })
                .collect();
            if rows.is_empty() {
                continue;
            }
            let mut columns = vec![tr.t("history.when").to_owned(), tr.t("history.who").to_owned()];
            columns.extend(
                names.iter().map(|n| def.field(n).map_or_else(|| (*n).clone(), |f| f.label.get(lang).to_owned())),
            );
            records.push(RecordTable { title: t.label.get(lang).to_owned(), columns, rows });
        }
        records
    }

    fn history(
        &self,
        history: &[crate::store::audit::AuditRow],
        files: &[crate::store::attachments::AttachmentRow],
    ) -> Vec<HistoryView> {
        let def = self.def;
        let what = |r: &crate::audit::AuditRecord| match r.event.as_deref() {
            Some(e) => def.event_label(e, self.lang).to_owned(),
            None => self.tr.t(&format!("kind.{}", r.kind)).to_owned(),
        };
        // A comment names the step it is about and the comment it corrects by their time.
        let by_seq: std::collections::HashMap<i64, &crate::store::audit::AuditRow> =
            history.iter().map(|h| (h.record.seq, h)).collect();
        let named =
            |seq: i64| by_seq.get(&seq).map(|h| format!("{} ({})", what(&h.record), fmt_time(h.at(), self.offset)));
        history
            .iter()
            .map(|h| {
                let r = &h.record;
                HistoryView {
                    when: fmt_time(h.at(), self.offset),
                    who: match h.data().get("substitution").and(h.data().get("for")).and_then(Value::as_str) {
                        // A step a substitute took: "B for A".
                        Some(absent) => self
                            .tr
                            .f("substitutes.history_for", &[("by", r.actor.clone()), ("absent", absent.to_owned())]),
                        None => r.actor.clone(),
                    },
                    what: what(r),
                    change: match (&r.from_state, &r.to_state) {
                        (Some(f), Some(t)) if f != t => {
                            format!("{} → {}", self.state_label(def, f), self.state_label(def, t))
                        }
                        (None, Some(t)) => format!("→ {}", self.state_label(def, t)),
                        _ => String::new(),
                    },
                    detail: if r.kind == crate::store::timers::DEADLINE_MOVED {
                        moved_deadline(&h.data())
                    } else if r.kind == crate::store::attachments::KIND {
                        let on = h.data().get("on_step").and_then(Value::as_i64).and_then(named);
                        on.map(|what| self.tr.f("attachment.on_step", &[("what", what)])).unwrap_or_default()
                    } else if r.kind == crate::store::comments::KIND {
                        let data = h.data();
                        let about = |key: &str, label: &str| {
                            let seq = data.get(key).and_then(Value::as_i64)?;
                            Some(self.tr.f(label, &[("what", named(seq)?)]))
                        };
                        let about = [about("on_step", "comment.on_step"), about("corrects", "comment.corrects")];
                        let text = data.get("text").and_then(Value::as_str).unwrap_or_default().to_owned();
                        about.into_iter().flatten().chain([text]).collect::<Vec<_>>().join(" · ")
                    } else {
                        let given = input_summary(&self.tr, def, h.data().get("input"), self.units);
                        let added = rows_added(&self.tr, def, h.data().get("rows_added"));
                        [given, added].into_iter().filter(|t| !t.is_empty()).collect::<Vec<_>>().join(" · ")
                    },
                    comment: r.kind == crate::store::comments::KIND,
                    files: files
                        .iter()
                        .filter(|f| f.event_seq == r.seq)
                        .map(|f| crate::web::attachments::FileLink::of(&self.tr, f))
                        .collect(),
                }
            })
            .collect()
    }

    /// The comment form: the steps a comment may be about, and the reader's own comments it may
    /// correct.
    fn comment_box(
        &self,
        history: &[crate::store::audit::AuditRow],
        reader: &str,
        typed: Option<(String, String)>,
    ) -> crate::web::comments::CommentBox {
        let mut steps = Vec::new();
        let mut own = Vec::new();
        for h in history {
            let r = &h.record;
            let when = fmt_time(h.at(), self.offset);
            if r.kind == crate::store::comments::KIND {
                if r.actor == reader {
                    let text: String =
                        h.data().get("text").and_then(Value::as_str).unwrap_or_default().chars().take(40).collect();
                    own.push((r.seq, format!("{when}: {text}")));
                }
            } else {
                let what = r.event.as_deref().map_or_else(
                    || self.tr.t(&format!("kind.{}", r.kind)).to_owned(),
                    |e| self.def.event_label(e, self.lang).to_owned(),
                );
                steps.push((r.seq, format!("{what} ({when})")));
            }
        }
        let (text, error) = typed.map_or((String::new(), None), |(t, e)| (t, Some(e)));
        crate::web::comments::CommentBox { steps, own, text, error }
    }

    /// The children of the latest fan-out counted, earlier ones shown as superseded.
    async fn children(
        &self,
        state: &AppState,
        row: &instances::InstanceRow,
        reader: &crate::engine::Actor,
    ) -> Result<(Vec<ChildView>, String), WebError> {
        let child_rows = state.rt.children(row.id).await?;
        let mut defs = Vec::with_capacity(child_rows.len());
        for c in &child_rows {
            defs.push(state.rt.registry().by_row(state.db(), c.definition_id).await.map_err(RuntimeError::from)?);
        }
        // The children name trainees of this instance's roster: read it once for them all.
        let roster = if defs.iter().any(|d| titled_by_trainee(d)) {
            Roster::of_cohort(state, row.id).await?
        } else {
            Roster::default()
        };
        let latest = child_rows.iter().map(|c| c.fanout).max().unwrap_or(0);
        let mut children = Vec::new();
        let (mut passed, mut failed, mut pending) = (0, 0, 0);
        for (c, cdef) in child_rows.iter().zip(&defs) {
            if c.fanout == latest {
                match c.outcome.as_deref() {
                    Some("passed") => passed += 1,
                    Some("failed") => failed += 1,
                    _ => pending += 1,
                }
            }
            children.push(ChildView {
                id: c.id,
                opens: reader.may_read_child(cdef, &c.data, self.def, &row.data),
                title: roster.title(&self.tr, cdef, &c.data, self.units),
                state: self.state_label(cdef, &c.state),
                summary: cdef
                    .state(&c.state)
                    .and_then(|s| s.summary.as_ref())
                    .and_then(|f| c.data.get(f).map(|v| display_value(&self.tr, cdef.field(f), v, self.units)))
                    .unwrap_or_default(),
                class: match (c.fanout == latest, c.outcome.as_deref()) {
                    (false, _) => "superseded",
                    (true, Some("passed")) => "passed",
                    (true, Some("failed")) => "failed",
                    _ => "pending",
                },
            });
        }
        let summary = self.tr.f(
            "instance.children.summary",
            &[
                ("decided", (passed + failed).to_string()),
                ("passed", passed.to_string()),
                ("failed", failed.to_string()),
                ("pending", pending.to_string()),
            ],
        );
        Ok((children, summary))
    }

    /// The instance's title, as its definition names it.
    async fn title(&self, state: &AppState, row: &instances::InstanceRow) -> Result<String, WebError> {
        let roster = match row.parent_id {
            Some(cohort) if titled_by_trainee(self.def) => Roster::of_one(state, self.def, cohort, &row.data).await?,
            _ => Roster::default(),
        };
        Ok(roster.title(&self.tr, self.def, &row.data, self.units))
    }
}

/// The titles of the parents of listed instances whose definition is titled with its parent's
/// (`title_from_parent`), each parent read once however many of its children are listed.
#[derive(Default)]
pub struct ParentTitles {
    read: std::collections::HashMap<i64, String>,
}

impl ParentTitles {
    /// The parent's title for an instance of `def` under `parent`, if its title takes it.
    pub async fn of(
        &mut self,
        state: &AppState,
        def: &Definition,
        parent: Option<i64>,
        lang: &str,
        units: &Directory,
    ) -> Result<Option<&str>, WebError> {
        let Some(p) = parent.filter(|_| def.title_from_parent) else { return Ok(None) };
        if let std::collections::hash_map::Entry::Vacant(slot) = self.read.entry(p) {
            let parent = state.rt.instance(p).await?;
            slot.insert(parent.definition.title_named(&parent.row.data, lang, namer(units, lang)));
        }
        Ok(self.read.get(&p).map(String::as_str))
    }
}

/// An instance's page, built section by section.
async fn render_instance(
    state: &AppState,
    signed: &Signed,
    inst: Instance,
    returned: Option<Returned<'_>>,
    status: StatusCode,
) -> Result<Response, WebError> {
    render_instance_with(state, signed, inst, returned, None, None, status).await
}

/// The instance's page with a comment sent back: what was typed, and what was wrong with it.
pub(crate) async fn render_with_comment(
    state: &AppState,
    signed: &Signed,
    inst: Instance,
    comment: (String, String),
    status: StatusCode,
) -> Result<Response, WebError> {
    render_instance_with(state, signed, inst, None, Some(comment), None, status).await
}

/// The instance's page with a file added from the history refused, and why.
pub(crate) async fn render_with_attach_error(
    state: &AppState,
    signed: &Signed,
    inst: Instance,
    error: String,
    status: StatusCode,
) -> Result<Response, WebError> {
    render_instance_with(state, signed, inst, None, None, Some(error), status).await
}

async fn render_instance_with(
    state: &AppState,
    signed: &Signed,
    inst: Instance,
    returned: Option<Returned<'_>>,
    comment: Option<(String, String)>,
    attach_error: Option<String>,
    status: StatusCode,
) -> Result<Response, WebError> {
    let (tr, def, row) = (signed.tr, inst.definition.clone(), &inst.row);
    let lang = tr.code();
    let roles = &state.rt.definitions().roles;
    let units = state.directory().await?;
    let at = Sections { tr, lang, def: &def, units: &units, offset: state.rt.offset() };
    let (stages, is_final) = at.stages(row);
    let people = state.rt.people_facts(&def).await?.map(|f| f.in_instance(row.id));
    let mut actions: Vec<ActionView> = Vec::new();
    let mut refused = Vec::new();
    // The person's own actions, then those of each absent person they stand in for: one form per
    // action, saying whom it is done as.
    for (i, actor) in signed.actors().iter().enumerate() {
        let actor = actor.in_instance(row.id);
        let (mine, not) = at.actions(row, &actor, people.as_ref(), state.rt.today(), roles, returned.as_ref());
        if i == 0 {
            refused = not;
        }
        let who = match &actor.substituting {
            None => (String::new(), tr.t("substitutes.acting.myself").to_owned()),
            Some(s) => {
                let name = units.people.get(&s.absent).cloned().unwrap_or_else(|| s.absent.clone());
                (s.absent.clone(), tr.f("substitutes.acting.for", &[("name", name)]))
            }
        };
        for mut a in mine {
            match actions.iter_mut().find(|x| x.event == a.event) {
                Some(x) => x.acting.push(who.clone()),
                None => {
                    a.acting.push(who.clone());
                    a.chosen = returned
                        .as_ref()
                        .filter(|r| r.event == a.event)
                        .map_or_else(String::new, |r| r.for_absent.to_owned());
                    actions.push(a);
                }
            }
        }
    }
    refused.retain(|(label, _)| !actions.iter().any(|a| &a.label == label));
    let holders = crate::people::standing_in::holders_now(state.db(), &def, &row.state, &row.data, state.rt.today())
        .await?
        .into_iter()
        .map(|h| {
            let name = |u: &str| units.people.get(u).cloned().unwrap_or_else(|| u.to_owned());
            match h.away {
                None => name(&h.username),
                Some(s) => tr.f(
                    "substitutes.holder_away",
                    &[("name", name(&h.username)), ("until", s.valid_until), ("substitute", name(&s.substitute_user))],
                ),
            }
        })
        .collect::<Vec<_>>();
    let history_rows = state.rt.history(row.id).await?;
    let visited: BTreeSet<String> = history_rows.iter().filter_map(|h| h.record.to_state.clone()).collect();
    let available: Vec<String> = actions.iter().map(|a| a.event.clone()).collect();
    let marks = Marks { current: Some(&row.state), available: &available, visited };
    let caption = format!("{} — {}", def.label.get(lang), at.state_label(&def, &row.state));
    let diagram = diagram::render(&def, &marks, lang, &caption);
    let (children, children_summary) = at.children(state, row, &signed.actor()).await?;
    let parent = match row.parent_id {
        Some(p) => {
            let parent = state.rt.instance(p).await?;
            let opens = may_read(state, signed, &parent).await?;
            Some((p, parent.definition.title_named(&parent.row.data, lang, namer(&units, lang)), opens))
        }
        None => None,
    };
    let title = def.title_beside_parent(at.title(state, row).await?, parent.as_ref().map(|(_, t, _)| t.as_str()));
    let unmatched =
        returned.as_ref().filter(|r| !actions.iter().any(|a| a.event == r.event)).and_then(|r| r.refusal.as_ref());
    let conflict = returned
        .as_ref()
        .and_then(|r| r.conflict)
        .map(|found| tr.f("instance.conflict", &[("found", found.to_string())]))
        .or_else(|| {
            let (r, given) = (unmatched?, returned.as_ref()?.given);
            Some(at.refused(roles, &row.data, given, r))
        });
    let documents = def.documents.iter().filter(|d| d.states.contains(&row.state));
    let page_view = InstancePage {
        chrome: Chrome::signed(signed, title.clone()),
        id: row.id,
        version: row.version,
        title,
        process_id: def.id.clone(),
        process_label: def.label.get(lang).to_owned(),
        state_label: at.state_label(&def, &row.state),
        is_final,
        outcome: row.outcome.as_ref().map(|o| tr.t(&format!("instance.outcome.{o}")).to_owned()),
        parent,
        conflict,
        escalations: at.escalations(row),
        banners: at.banners(row),
        stages,
        diagram,
        details: at.details(row),
        vote: at.vote(row),
        actions,
        refused,
        children,
        children_summary,
        records: at.tables(row).into_iter().chain(at.records(&history_rows)).collect(),
        pictures: map_charts(&tr, &def, &row.data),
        documents: documents.map(|d| (d.id.clone(), d.label.get(lang).to_owned())).collect(),
        timers: at.timers(state.rt.timers(row.id).await?, state.now()),
        history: at.history(&history_rows, &crate::store::attachments::of_instance(state.db(), row.id).await?),
        comment: at.comment_box(&history_rows, &signed.session.user.username, comment),
        holders: if is_final { Vec::new() } else { holders },
        attach_error,
        accept: crate::web::attachments::ACCEPT,
        attach_hint: crate::web::attachments::hint(&tr),
    };
    page(status, &page_view)
}

/// A deadline computed again on a changed calendar: its last day before and after.
fn moved_deadline(data: &Value) -> String {
    let day = |k: &str| data.get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
    format!("{} → {}", day("before"), day("after"))
}

/// The values given with a step, each as "label: value", every value cut to a table cell's
/// length so the history stays a list.
fn input_summary(tr: &Tr, def: &Definition, input: Option<&Value>, units: &Directory) -> String {
    let Some(Value::Object(given)) = input else { return String::new() };
    let lang = tr.code();
    def.fields
        .iter()
        .filter_map(|f| {
            let v = given.get(&f.id).filter(|v| !v.is_null())?;
            let mut text = display_value(tr, Some(f), v, units);
            if text.chars().count() > CELL_CHARS {
                text = format!("{}…", text.chars().take(CELL_CHARS).collect::<String>());
            }
            Some(format!("{}{}{text}", f.label.get(lang), tr.t("punct.colon")))
        })
        .collect::<Vec<_>>()
        .join(" · ")
}

/// The rows a step added to tables, as the history says it: "Measures: 1 row added".
fn rows_added(tr: &Tr, def: &Definition, added: Option<&Value>) -> String {
    let Some(Value::Object(tables)) = added else { return String::new() };
    tables
        .iter()
        .map(|(table, rows)| {
            let label = def.field(table).map_or(table.as_str(), |f| f.label.get(tr.code()));
            let n = rows.as_array().map_or(0, Vec::len);
            tr.f("history.rows_added", &[("table", label.to_owned()), ("n", n.to_string())])
        })
        .collect::<Vec<_>>()
        .join(" · ")
}

/// A map field's entries, each labelled by the field its keys come from (a choice's options in
/// their order, or "Phase 1", "Phase 2" in order), with the top of the values' scale: the field
/// the `keep` effect writes from, or the largest value.
fn map_entries(
    def: &Definition,
    map_field: &str,
    map: &serde_json::Map<String, Value>,
    lang: &str,
) -> (Vec<(String, i64)>, i64) {
    let kept = def.transitions.iter().flat_map(|t| &t.effects).find_map(|e| match e {
        Effect::Keep { map, key, value } if map == map_field => Some((key.as_str(), value.as_str())),
        _ => None,
    });
    let (key_field, value_field) = (kept.and_then(|(k, _)| def.field(k)), kept.and_then(|(_, v)| def.field(v)));
    let top = match value_field.map(|f| &f.kind) {
        Some(FieldKind::Int { max, .. }) if *max < i64::MAX => *max,
        _ => map.values().filter_map(Value::as_i64).max().unwrap_or(1),
    }
    .max(1);
    let mut entries: Vec<(usize, String, i64)> = map
        .iter()
        .filter_map(|(k, v)| {
            let v = v.as_i64()?;
            Some(match key_field.map(|f| &f.kind) {
                Some(FieldKind::Choice { options }) => {
                    let i = options.iter().position(|o| &o.id == k)?;
                    (i, options[i].label.get(lang).to_owned(), v)
                }
                _ => {
                    (k.parse().unwrap_or(usize::MAX), format!("{} {k}", key_field.map_or("", |f| f.label.get(lang))), v)
                }
            })
        })
        .collect();
    entries.sort();
    (entries.into_iter().map(|(_, label, v)| (label, v)).collect(), top)
}

/// A field's value as a page shows it: a map as its labelled entries, anything else as
/// `display_value` words it.
pub fn field_text(tr: &Tr, def: &Definition, field: &Field, value: &Value, directory: &Directory) -> String {
    match value {
        Value::Object(map) if matches!(field.kind, FieldKind::Map) => map_entries(def, &field.id, map, tr.code())
            .0
            .into_iter()
            .map(|(label, v)| format!("{label} {v}"))
            .collect::<Vec<_>>()
            .join(tr.t("punct.list")),
        _ => display_value(tr, Some(field), value, directory),
    }
}

/// One bar chart per map field the instance holds, its bars scaled to the values' scale.
fn map_charts(tr: &Tr, def: &Definition, data: &Data) -> Vec<(String, String)> {
    let lang = tr.code();
    let mut pictures = Vec::new();
    for field in def.fields.iter().filter(|f| matches!(f.kind, FieldKind::Map)) {
        let Some(Value::Object(map)) = data.get(&field.id) else { continue };
        let (entries, top) = map_entries(def, &field.id, map, lang);
        let bars: Vec<charts::Bar> = entries
            .into_iter()
            .map(|(label, v)| charts::Bar { label, share: v as f64 / top as f64, value: format!("{v} / {top}") })
            .collect();
        let title = field.label.get(lang).to_owned();
        let svg = charts::bars(&title, &format!("map-{}", field.id), &bars);
        pictures.push((title, svg));
    }
    pictures
}

pub async fn instance_page(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<i64>,
) -> Result<Response, WebError> {
    let inst = load_visible(&state, &signed, id).await?;
    // Opened: a mention of the reader here leaves their work.
    crate::store::comments::seen(state.db(), id, &signed.session.user.username, state.now()).await?;
    render_instance(&state, &signed, inst, None, StatusCode::OK).await
}

pub async fn fire(
    State(state): State<AppState>,
    Path((id, event)): Path<(i64, String)>,
    Posted { by: signed, fields }: Posted,
) -> Result<Response, WebError> {
    // Whom the person acts for: themselves, or someone they stand in for (checked by the runtime
    // against the substitutions in force, never taken on the form's word).
    let for_absent = fields.value("_for").trim().to_owned();
    let inst = match load_visible(&state, &signed, id).await {
        // Their standing-in is over, and the instance with it: they are told why.
        Err(WebError::Forbidden) if !for_absent.is_empty() => {
            return crate::web::substitutes::not_standing_in(&state, &signed, &for_absent).await;
        }
        other => other?,
    };
    let version = form_version(&fields)?;
    let (given, known) = step_input(&state, &inst, &event, &fields, signed.tr.code()).await?;
    let result = match known {
        Ok(()) => {
            let absent = (!for_absent.is_empty()).then_some(for_absent.as_str());
            state.rt.fire_as(id, version, &signed.actor(), absent, &event, &given).await
        }
        Err(e) => Err(e),
    };
    after_fire(&state, &signed, inst, &event, &for_absent, &given, result).await
}

/// The values a step's form sent for the event's fields, as the engine takes them, and the
/// refusal of any value the directories do not know.
pub(crate) async fn step_input(
    state: &AppState,
    inst: &Instance,
    event: &str,
    fields: &crate::web::extract::Fields,
    lang: &str,
) -> Result<(Data, Result<(), RuntimeError>), WebError> {
    let transition = inst.definition.transition(&inst.row.state, event);
    let names: Vec<String> = transition.map(|t| t.ask.iter().chain(&t.optional).cloned().collect()).unwrap_or_default();
    let units = state.directory().await?;
    let (mut given, known) = decode_form(&inst.definition, &fields.0, &names, &units, lang);
    if let Some(t) = transition {
        rollcall::decode(&inst.definition, t, &fields.0, &mut given);
    }
    Ok((given, known))
}

/// The step's form again, its file refused (`why`, in the reader's words), what was typed kept.
pub(crate) async fn file_refused(
    state: &AppState,
    signed: &Signed,
    inst: Instance,
    event: &str,
    given: &Data,
    why: String,
    status: StatusCode,
) -> Result<Response, WebError> {
    let returned = Returned { event, for_absent: "", given, refusal: None, conflict: None, file_error: Some(why) };
    render_instance(state, signed, inst, Some(returned), status).await
}

/// Where a step's form leads: to the instance when it went through, else back to its page with
/// what was typed and why not.
pub(crate) async fn after_fire(
    state: &AppState,
    signed: &Signed,
    inst: Instance,
    event: &str,
    for_absent: &str,
    given: &Data,
    result: Result<crate::runtime::Fired, RuntimeError>,
) -> Result<Response, WebError> {
    let id = inst.row.id;
    let (inst, returned, status) = match result {
        Ok(_) => return Ok(Redirect::to(&format!("/instances/{id}")).into_response()),
        Err(RuntimeError::Refused(r)) => {
            let returned = Returned { event, for_absent, given, refusal: Some(r), conflict: None, file_error: None };
            (inst, returned, StatusCode::UNPROCESSABLE_ENTITY)
        }
        // Shown as it is now, with what the person typed kept in the form.
        Err(RuntimeError::Conflict { found, .. }) => {
            let returned =
                Returned { event, for_absent, given, refusal: None, conflict: Some(found), file_error: None };
            (load_visible(state, signed, id).await?, returned, StatusCode::CONFLICT)
        }
        Err(e) => return Err(e.into()),
    };
    render_instance(state, signed, inst, Some(returned), status).await
}

/// The version the form was read at: a value that is not one is refused, never taken as "no
/// check" (which would apply a change made on a stale page).
pub(crate) fn form_version(fields: &crate::web::extract::Fields) -> Result<Option<i64>, WebError> {
    match fields.0.iter().find(|(k, _)| k == "_version") {
        None => Ok(None),
        Some((_, v)) => {
            let parsed = v.trim().parse::<i64>().ok().filter(|v| *v >= 1);
            parsed.map(Some).ok_or_else(|| WebError::BadRequest(format!("_version {v:?}")))
        }
    }
}

/// Whether a definition's title names a trainee of its cohort (`source = "trainees"`).
fn titled_by_trainee(def: &Definition) -> bool {
    def.title.iter().any(|f| def.field(f).and_then(|f| f.source) == Some(Source::Trainees))
}

/// The names of a cohort's trainees by code, for titles that name one.
#[derive(Default)]
struct Roster {
    names: std::collections::HashMap<String, String>,
}

impl Roster {
    async fn of_cohort(state: &AppState, cohort: i64) -> Result<Roster, WebError> {
        let trainees = crate::training::enrol::trainees(state.db(), cohort).await?;
        Ok(Roster { names: trainees.into_iter().map(|t| (t.code, t.name)).collect() })
    }

    /// The names of the trainees one instance's title names, read one by one.
    async fn of_one(state: &AppState, def: &Definition, cohort: i64, data: &Data) -> Result<Roster, WebError> {
        let mut names = std::collections::HashMap::new();
        let named = def.title.iter().filter(|f| def.field(f).and_then(|f| f.source) == Some(Source::Trainees));
        for code in named.filter_map(|f| data.get(f).and_then(Value::as_str)) {
            if let Some(name) = crate::training::enrol::name_of(state.db(), cohort, code).await? {
                names.insert(code.to_owned(), name);
            }
        }
        Ok(Roster { names })
    }

    /// An instance's title from its definition, every sourced value named: a trainee as
    /// "name (code)", a unit or a person by their name.
    fn title(&self, tr: &Tr, def: &Definition, data: &Data, directory: &Directory) -> String {
        let lang = tr.code();
        def.title_named(data, lang, |field, value| match field.source? {
            Source::Trainees => {
                let name = self.names.get(value)?;
                Some(tr.f("title.name_with_id", &[("name", name.clone()), ("id", value.to_owned())]))
            }
            source => directory.name(source, value, lang),
        })
    }
}
