//! Loading definition files: TOML → raw shapes → checked, typed [`Definition`]s. Every problem of
//! every file is reported, each at its place, so one run of `validate` shows them all.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use crate::definition::calendar::{Calendar, RawCalendar, parse_date};
use crate::definition::model::*;
use crate::definition::money::parse_money;
use crate::definition::problem::{Problem, Problems, Reporter, line_col};
use crate::definition::raw::*;
use crate::definition::report::{Filter, GroupBy, Measure, Report, ReportKind};
use crate::definition::schema::{FieldSchema, table_type, type_of};
use crate::definition::values::{Fraction, Period};
use crate::expr::{Expression, TableType, Type};
use rust_decimal::Decimal;

/// One file of a definitions folder, by its path relative to the folder.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub path: String,
    pub text: String,
}

/// Everything a definitions folder declares, checked as a whole.
#[derive(Debug, Clone, Default)]
pub struct DefinitionSet {
    pub roles: Roles,
    pub definitions: BTreeMap<String, Arc<Definition>>,
    /// The exact text of each definition, by id: what the store versions.
    pub sources: BTreeMap<String, String>,
    /// Where each definition's id is written (`FILE:LINE:COL`), for problems found after loading.
    pub locations: BTreeMap<String, Problem>,
    pub calendar: Calendar,
}

impl DefinitionSet {
    pub fn get(&self, id: &str) -> Option<&Arc<Definition>> {
        self.definitions.get(id)
    }
}

pub const ROLES_FILE: &str = "roles.toml";
const CALENDARS_DIR: &str = "calendars/";

/// Reads every `*.toml` of a folder (and its `calendars/`), then loads them as one set.
pub fn load_dir(dir: &Path) -> Result<DefinitionSet, Problems> {
    let mut files = Vec::new();
    let mut problems = Vec::new();
    let mut read = |sub: &str| {
        let folder = dir.join(sub);
        let Ok(entries) = std::fs::read_dir(&folder) else {
            return;
        };
        let mut paths: Vec<_> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for path in paths.into_iter().filter(|p| p.extension().is_some_and(|e| e == "toml")) {
            let name = format!("{}/{}{}", dir.display(), sub, path.file_name().unwrap_or_default().to_string_lossy());
            match std::fs::read_to_string(&path) {
                Ok(text) => files.push(SourceFile { path: name, text }),
                Err(e) => {
                    let message = if e.kind() == std::io::ErrorKind::InvalidData {
                        "cannot read: the file is not UTF-8 text; save it as UTF-8".to_owned()
                    } else {
                        format!("cannot read: {e}")
                    };
                    problems.push(Problem { file: name, line: 1, col: 1, message })
                }
            }
        }
    };
    read("");
    read(CALENDARS_DIR);
    if !dir.is_dir() {
        return Err(Problems(vec![Problem {
            file: dir.display().to_string(),
            line: 1,
            col: 1,
            message: "no such folder of definitions".into(),
        }]));
    }
    match load(&files) {
        Ok(set) if problems.is_empty() => Ok(set),
        Ok(_) => Err(Problems(problems)),
        Err(Problems(more)) => {
            problems.extend(more);
            Err(Problems(problems))
        }
    }
}

/// Loads a set of files: `roles.toml`, calendars (paths under `calendars/`), and definitions.
pub fn load(files: &[SourceFile]) -> Result<DefinitionSet, Problems> {
    let mut problems = Vec::new();
    let is_roles = |f: &&SourceFile| f.path == ROLES_FILE || f.path.ends_with(&format!("/{ROLES_FILE}"));
    let is_calendar =
        |f: &&SourceFile| f.path.starts_with(CALENDARS_DIR) || f.path.contains(&format!("/{CALENDARS_DIR}"));

    // Without a readable roles.toml, roles are not checked: one problem, not one per role named.
    let roles = match files.iter().find(is_roles) {
        Some(f) => parse_roles(f, &mut problems),
        None => {
            problems.push(Problem {
                file: ROLES_FILE.into(),
                line: 1,
                col: 1,
                message: "missing roles.toml: definitions may only name the roles it declares".into(),
            });
            None
        }
    };

    let mut calendar = Calendar::default();
    for f in files.iter().filter(is_calendar) {
        parse_calendar(f, &mut calendar, &mut problems);
    }

    let mut set = DefinitionSet { roles: roles.clone().unwrap_or_default(), calendar, ..Default::default() };
    // Every definition that parsed, valid or not, so cross-file problems are found in one run.
    let mut parsed: BTreeMap<String, (Definition, bool)> = BTreeMap::new();
    let mut spawn_refs: Vec<(&SourceFile, Range<usize>, String, SpawnSpec)> = Vec::new();
    let mut id_files: BTreeMap<String, String> = BTreeMap::new();
    for f in files.iter().filter(|f| !is_roles(f) && !is_calendar(f)) {
        let mut rep = Reporter::new(&f.path, &f.text);
        if let Some((def, id_span, spawns)) = parse_definition(&f.text, roles.as_ref(), &mut rep) {
            if let Some(first) = id_files.get(&def.id) {
                rep.at(id_span, format!("duplicate definition id {:?}: {first} declares it too", def.id));
            } else {
                id_files.insert(def.id.clone(), f.path.clone());
                for (span, spec) in spawns {
                    spawn_refs.push((f, span, def.id.clone(), spec));
                }
                if rep.problems.is_empty() {
                    set.sources.insert(def.id.clone(), f.text.clone());
                    let (line, col) = line_col(&f.text, id_span.start);
                    let at = Problem { file: f.path.clone(), line, col, message: String::new() };
                    set.locations.insert(def.id.clone(), at);
                }
                parsed.insert(def.id.clone(), (def, rep.problems.is_empty()));
            }
        }
        problems.extend(rep.problems);
    }

    // Fan-outs must name a definition of the folder that has the fields they fill.
    for (f, span, parent, spec) in spawn_refs {
        let mut rep = Reporter::new(&f.path, &f.text);
        match parsed.get(&spec.definition) {
            None => rep.at(span, format!("fan-out to unknown definition {:?}", spec.definition)),
            Some((child, _)) => {
                for field in std::iter::once(&spec.as_field).chain(&spec.copy) {
                    if child.field(field).is_none() {
                        rep.at(
                            span.clone(),
                            format!(
                                "fan-out from {parent:?} fills field {field:?}, which {:?} does not declare",
                                child.id
                            ),
                        );
                    }
                }
            }
        }
        problems.extend(rep.problems);
    }
    set.definitions = parsed.into_iter().filter(|(_, (_, ok))| *ok).map(|(id, (def, _))| (id, Arc::new(def))).collect();

    if problems.is_empty() { Ok(set) } else { Err(Problems(problems)) }
}

fn parse_roles(f: &SourceFile, problems: &mut Vec<Problem>) -> Option<Roles> {
    let mut rep = Reporter::new(&f.path, &f.text);
    let roles = match toml::from_str::<RawRoles>(&f.text) {
        Ok(raw) => Some(Roles { roles: raw.role.into_iter().map(|(id, r)| (id, r.label)).collect() }),
        Err(e) => {
            toml_problem(&mut rep, &f.text, &e);
            None
        }
    };
    problems.extend(rep.problems);
    roles
}

fn parse_calendar(f: &SourceFile, calendar: &mut Calendar, problems: &mut Vec<Problem>) {
    let mut rep = Reporter::new(&f.path, &f.text);
    match toml::from_str::<RawCalendar>(&f.text) {
        Ok(raw) => {
            let year = *raw.year.get_ref();
            if !calendar.declare_year(year, raw.provisional) {
                rep.at(raw.year.span(), format!("another calendar file already describes the year {year}"));
            }
            let mut take = |days: &[toml::Spanned<String>], rest: bool| {
                for d in days {
                    match parse_date(d.get_ref()) {
                        Some(date) if date.year() == year => {
                            if rest {
                                calendar.add_rest_day(date)
                            } else {
                                calendar.add_working_day(date)
                            }
                        }
                        Some(_) => rep.at(d.span(), format!("{:?} is not in the calendar's year {year}", d.get_ref())),
                        None => rep.at(d.span(), format!("malformed date {:?}: write YYYY-MM-DD", d.get_ref())),
                    }
                }
            };
            take(&raw.rest_days, true);
            take(&raw.working_days, false);
        }
        Err(e) => toml_problem(&mut rep, &f.text, &e),
    }
    problems.extend(rep.problems);
}

/// Reports a file that is not the shape it should be, in the words of a definition file: serde
/// says "field" for a TOML key (and the checker says it for an instance's data), and names Rust
/// types.
fn toml_problem(rep: &mut Reporter<'_>, text: &str, e: &toml::de::Error) {
    let span = e.span().unwrap_or(0..0);
    let mut message = e.message().trim().to_owned();
    if message == "duplicate key"
        && let Some(key) = text.get(span.clone()).filter(|k| !k.is_empty())
    {
        message = format!("duplicate key `{key}`");
    }
    for (serde_says, we_say) in [
        ("unknown field `", "unknown key `"),
        ("missing field `", "missing key `"),
        ("expected i32", "expected a whole number"),
        ("expected i64", "expected a whole number"),
        ("expected u32", "expected a whole number of at least 0"),
        ("expected usize", "expected a whole number of at least 0"),
        ("expected a sequence", "expected a list"),
        ("expected struct Label", "expected a label such as { zh = \"…\", en = \"…\" }"),
    ] {
        message = message.replace(serde_says, we_say);
    }
    rep.at(span, message);
}

type SpawnRefs = Vec<(Range<usize>, SpawnSpec)>;

/// Parses and checks one definition, reporting its problems; `None` when the file is not even the
/// shape of a definition. `roles: None` skips the role check, for re-reading a stored version whose
/// roles may since have changed. Gives the definition, where its id is written, and its fan-outs.
pub fn parse_definition(
    text: &str,
    roles: Option<&Roles>,
    rep: &mut Reporter<'_>,
) -> Option<(Definition, Range<usize>, SpawnRefs)> {
    let raw: RawDefinition = match toml::from_str(text) {
        Ok(raw) => raw,
        Err(e) => {
            toml_problem(rep, text, &e);
            return None;
        }
    };
    let id_span = raw.id.span();
    let checker = Checker {
        rep,
        roles,
        declared_fields: raw.field.iter().map(|f| f.id.get_ref().clone()).collect(),
        declared_rules: raw.vote_rule.keys().cloned().collect(),
        tables: BTreeMap::new(),
    };
    let (def, spawns) = checker.check(raw);
    Some((def, id_span, spawns))
}

/// Parses one stored definition text, for running an instance on the version it started on.
pub fn parse_stored(name: &str, text: &str) -> Result<Definition, Problems> {
    let mut rep = Reporter::new(name, text);
    match parse_definition(text, None, &mut rep) {
        Some((def, _, _)) if rep.problems.is_empty() => Ok(def),
        _ => Err(Problems(rep.problems)),
    }
}

struct Checker<'r, 'a> {
    rep: &'r mut Reporter<'a>,
    roles: Option<&'r Roles>,
    /// Every field and vote rule the file declares, valid or not: one reported problem with a
    /// declaration is not reported again at each use of it.
    declared_fields: BTreeSet<String>,
    declared_rules: BTreeSet<String>,
    /// The reference tables, as expressions look rows up in them.
    tables: BTreeMap<String, TableType>,
}

fn ids_unique<'x>(rep: &mut Reporter<'_>, what: &str, ids: impl Iterator<Item = &'x S>) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    for id in ids {
        if !seen.insert(id.get_ref().clone()) {
            rep.at(id.span(), format!("duplicate {what} id {:?}", id.get_ref()));
        }
    }
    seen
}

impl Checker<'_, '_> {
    fn check(mut self, raw: RawDefinition) -> (Definition, SpawnRefs) {
        let stage_ids = ids_unique(self.rep, "stage", raw.stage.iter().map(|s| &s.id));
        let state_ids = ids_unique(self.rep, "state", raw.state.iter().map(|s| &s.id));
        let field_ids = ids_unique(self.rep, "field", raw.field.iter().map(|f| &f.id));
        let events: BTreeSet<String> = raw.transition.iter().map(|t| t.event.get_ref().clone()).collect();

        if !state_ids.contains(raw.initial.get_ref()) {
            self.rep.at(raw.initial.span(), format!("unknown initial state {:?}", raw.initial.get_ref()));
        }
        for f in &raw.title {
            self.field_ref(&field_ids, f);
        }

        // Reference tables first: every expression below may look rows up in them.
        ids_unique(self.rep, "reference", raw.reference.iter().map(|r| &r.id));
        let references: Vec<ReferenceTable> = raw.reference.iter().filter_map(|r| self.reference(r)).collect();
        self.tables = references.iter().map(|r| (r.id.clone(), table_type(r))).collect();
        let fields: Vec<Field> = raw.field.iter().filter_map(|f| self.field(f)).collect();
        let field_kinds: BTreeMap<&str, &FieldKind> = fields.iter().map(|f| (f.id.as_str(), &f.kind)).collect();
        for raw_field in &raw.field {
            if let Some(from) = &raw_field.pick_from {
                self.need(&from.span(), &field_kinds, from.get_ref(), Need::List);
            }
            if let Some(reason) = &raw_field.change_reason {
                self.field_ref(&field_ids, reason);
            }
            if let Some(d) = &raw_field.default {
                let record = &d.get_ref().record;
                let units = fields.iter().any(|f| &f.id == record.get_ref() && f.source == Some(Source::Units));
                if !units {
                    self.rep.at(
                        record.span(),
                        format!("default: {:?} is not a field with source = \"units\"", record.get_ref()),
                    );
                }
            }
        }

        let start = raw.start.as_ref().map(|s| {
            for r in &s.roles {
                self.role_ref(r, false);
            }
            for f in s.ask.iter().chain(&s.optional) {
                self.field_ref(&field_ids, f);
            }
            StartRule {
                roles: s.roles.iter().map(|r| r.get_ref().clone()).collect(),
                ask: s.ask.iter().map(|r| r.get_ref().clone()).collect(),
                optional: s.optional.iter().map(|r| r.get_ref().clone()).collect(),
            }
        });

        let scopes = raw
            .scope
            .iter()
            .filter_map(|s| {
                self.role_ref(&s.role, false);
                self.field_ref(&field_ids, &s.field);
                let matches = match s.matches.get_ref().as_str() {
                    "unit" => ScopeMatch::Unit,
                    "person" => ScopeMatch::Person,
                    other => {
                        self.rep
                            .at(s.matches.span(), format!("unknown scope match {other:?}: use \"unit\" or \"person\""));
                        return None;
                    }
                };
                Some(Scope { role: s.role.get_ref().clone(), field: s.field.get_ref().clone(), matches })
            })
            .collect();

        let stages = raw
            .stage
            .iter()
            .map(|s| Stage { id: s.id.get_ref().clone(), label: s.label.clone(), term: s.term })
            .collect();

        let mut vote_rules = BTreeMap::new();
        for (id, rule) in &raw.vote_rule {
            let quorum = self.threshold(&rule.quorum, "quorum");
            let pass = self.threshold(&rule.pass, "pass threshold");
            if let (Some(quorum), Some(pass)) = (quorum, pass) {
                vote_rules.insert(
                    id.clone(),
                    VoteRule { label: rule.label.clone(), quorum, pass, wording: rule.wording.clone() },
                );
            }
        }

        let states: Vec<State> = raw.state.iter().map(|s| self.state(s, &stage_ids, &events, &field_kinds)).collect();

        let mut spawns = Vec::new();
        // Each event's declarations from each state, to check them as a choice below.
        let mut declared: BTreeMap<(String, String), Vec<&RawTransition>> = BTreeMap::new();
        let transitions: Vec<Transition> = raw
            .transition
            .iter()
            .map(|t| {
                let tr = self.transition(t, &state_ids, &field_ids, &field_kinds, &mut spawns);
                // A field whose change needs a reason is asked only where the reason can be given.
                let asked: Vec<&S> = t.ask.iter().chain(&t.optional).collect();
                for f in &asked {
                    let reason = fields.iter().find(|x| &x.id == f.get_ref()).and_then(|x| x.change_reason.as_ref());
                    if let Some(reason) = reason.filter(|r| !asked.iter().any(|a| a.get_ref() == *r)) {
                        self.rep.at(
                            f.span(),
                            format!(
                                "field {:?} needs its change_reason {reason:?} asked or optional here",
                                f.get_ref()
                            ),
                        );
                    }
                }
                for from in &t.sources() {
                    declared.entry((from.get_ref().clone(), t.event.get_ref().clone())).or_default().push(t);
                }
                tr
            })
            .collect();

        for ((from, event), ts) in &declared {
            self.choice(from, event, ts);
        }

        let documents = raw
            .document
            .iter()
            .filter_map(|d| self.document(d, &state_ids, &field_kinds, !vote_rules.is_empty()))
            .collect();
        let unique = raw.unique.iter().map(|u| self.unique(u, &raw, &field_kinds)).collect();
        let banners = raw.banner.iter().map(|b| self.banner(b, &state_ids, &field_kinds)).collect();
        let reports = self.reports(&raw, &fields, &transitions);
        let mut computes = self.computes(&raw, &field_kinds);
        let mut fields = fields;
        for f in &mut fields {
            f.compute = computes.remove(&f.id);
        }
        let def = Definition {
            id: raw.id.get_ref().clone(),
            label: raw.label.clone(),
            initial: raw.initial.get_ref().clone(),
            title: raw.title.iter().map(|t| t.get_ref().clone()).collect(),
            title_from_parent: raw.title_from_parent,
            start,
            scopes,
            stages,
            states,
            fields,
            vote_rules,
            transitions,
            documents,
            read_by: raw.read_by.clone(),
            unique,
            banners,
            reports,
            references,
        };
        self.system_events(&raw, &def);
        self.collects(&raw, &def);
        self.reachability(&raw, &def);
        (def, spawns)
    }

    /// A banner: its states exist, its condition and its text name fields of the definition.
    fn banner(
        &mut self,
        b: &crate::definition::raw::RawBanner,
        states: &BTreeSet<String>,
        fields: &BTreeMap<&str, &FieldKind>,
    ) -> crate::definition::Banner {
        for s in &b.states {
            if !states.contains(s.get_ref()) {
                self.rep.at(s.span(), format!("unknown state {:?}", s.get_ref()));
            }
        }
        if let Some(f) = &b.when_set {
            self.need(&f.span(), fields, f.get_ref(), Need::Any);
        }
        let label = b.text.get_ref();
        for name in placeholders(&label.zh).chain(placeholders(&label.en)) {
            if !fields.contains_key(name) {
                self.rep.at(b.text.span(), format!("banner names unknown field {{{name}}}"));
            }
        }
        crate::definition::Banner {
            states: b.states.iter().map(|s| s.get_ref().clone()).collect(),
            when_set: b.when_set.as_ref().map(|f| f.get_ref().clone()),
            text: label.clone(),
        }
    }

    fn document(
        &mut self,
        d: &RawDocument,
        states: &BTreeSet<String>,
        fields: &BTreeMap<&str, &FieldKind>,
        has_votes: bool,
    ) -> Option<Document> {
        for s in &d.states {
            if !states.contains(s.get_ref()) {
                self.rep.at(s.span(), format!("unknown state {:?}", s.get_ref()));
            }
        }
        for text in [&d.heading, &d.text] {
            let label = text.get_ref();
            for name in placeholders(&label.zh).chain(placeholders(&label.en)) {
                if name == VOTE_WORDING {
                    if !has_votes {
                        self.rep.at(
                            text.span(),
                            format!(
                                "document {:?} names {{{name}}}, but the definition has no vote rule",
                                d.id.get_ref()
                            ),
                        );
                    }
                } else if !fields.contains_key(name) && !self.declared_fields.contains(name) {
                    self.rep.at(text.span(), format!("document {:?} names unknown field {{{name}}}", d.id.get_ref()));
                }
            }
        }
        for sig in &d.signatures {
            self.need(&sig.on.span(), fields, sig.on.get_ref(), Need::Date);
            for by in sig.by.iter().chain(&sig.signer) {
                self.need(&by.span(), fields, by.get_ref(), Need::Any);
            }
            if let Some(d) = &sig.delegation {
                self.need(&d.span(), fields, d.get_ref(), Need::Int);
            }
        }
        Some(Document {
            id: d.id.get_ref().clone(),
            label: d.label.clone(),
            states: d.states.iter().map(|s| s.get_ref().clone()).collect(),
            heading: d.heading.get_ref().clone(),
            text: d.text.get_ref().clone(),
            signatures: d
                .signatures
                .iter()
                .map(|s| Signature {
                    label: s.label.clone(),
                    by: s.by.as_ref().map(|b| b.get_ref().clone()),
                    on: s.on.get_ref().clone(),
                    signer: s.signer.as_ref().map(|b| b.get_ref().clone()),
                    delegation: s.delegation.as_ref().map(|b| b.get_ref().clone()),
                })
                .collect(),
        })
    }

    fn role_ref(&mut self, role: &S, system_allowed: bool) {
        let name = role.get_ref();
        if name == SYSTEM_ROLE {
            if !system_allowed {
                self.rep.at(role.span(), "the role \"system\" may only be named in a transition's roles");
            }
            return;
        }
        if let Some(roles) = self.roles
            && !roles.roles.contains_key(name)
        {
            self.rep.at(role.span(), format!("unknown role {name:?}: roles.toml does not declare it"));
        }
    }

    fn field_ref(&mut self, fields: &BTreeSet<String>, f: &S) {
        if !fields.contains(f.get_ref()) {
            self.rep.at(f.span(), format!("unknown field {:?}", f.get_ref()));
        }
    }

    fn field(&mut self, f: &RawField) -> Option<Field> {
        let span = f.kind.span();
        let kind = match f.kind.get_ref().as_str() {
            "text" => FieldKind::Text { max_len: f.max_len.unwrap_or(200) },
            "long_text" => FieldKind::LongText { max_len: f.max_len.unwrap_or(20_000) },
            "int" => {
                let (min, max) = (self.int_bound(f.min.as_ref(), i64::MIN), self.int_bound(f.max.as_ref(), i64::MAX));
                if let Some(at) = f.min.as_ref().filter(|_| min > max) {
                    self.rep.at(at.span(), format!("field {:?}: min {min} is above max {max}", f.id.get_ref()));
                }
                FieldKind::Int { min, max }
            }
            "money" => {
                let min = self.money_bound(f.min.as_ref(), MONEY_MIN);
                let max = self.money_bound(f.max.as_ref(), MONEY_MAX);
                if let Some(at) = f.min.as_ref().filter(|_| min > max) {
                    self.rep.at(at.span(), format!("field {:?}: min {min} is above max {max}", f.id.get_ref()));
                }
                FieldKind::Money { min, max }
            }
            "table" => {
                let columns = self.columns(
                    f.columns.as_deref().unwrap_or_default(),
                    &format!("table field {:?}", f.id.get_ref()),
                    span.clone(),
                )?;
                let max_rows = f.max_rows.as_ref().map_or(DEFAULT_MAX_ROWS, |m| *m.get_ref());
                if let Some(at) = f.max_rows.as_ref().filter(|_| max_rows == 0 || max_rows > MAX_TABLE_ROWS) {
                    self.rep
                        .at(at.span(), format!("field {:?}: max_rows is from 1 to {MAX_TABLE_ROWS}", f.id.get_ref()));
                }
                FieldKind::Table { columns, max_rows }
            }
            "date" => FieldKind::Date,
            "bool" => FieldKind::Bool,
            "choice" => match &f.options {
                Some(options) if !options.is_empty() => FieldKind::Choice {
                    options: options
                        .iter()
                        .map(|o| ChoiceOption { id: o.id.clone(), label: o.label.clone() })
                        .collect(),
                },
                _ => {
                    self.rep.at(span, format!("choice field {:?} needs options", f.id.get_ref()));
                    return None;
                }
            },
            "list" => {
                let min_items = f.min_items.as_ref().map_or(0, |m| *m.get_ref());
                let max_items = f.max_items.unwrap_or(10_000);
                if let Some(at) = f.min_items.as_ref().filter(|_| min_items > max_items) {
                    self.rep.at(
                        at.span(),
                        format!("field {:?}: min_items {min_items} is above max_items {max_items}", f.id.get_ref()),
                    );
                }
                FieldKind::List { min_items, max_items }
            }
            "map" => FieldKind::Map,
            other => {
                self.rep.at(
                    span,
                    format!(
                        "unknown field type {other:?}: use text, long_text, int, money, date, bool, choice, list, map or table"
                    ),
                );
                return None;
            }
        };
        let source = match f.source.as_ref().map(|s| (s.get_ref().as_str(), s.span())) {
            None => None,
            Some((name, span)) => {
                let source = match name {
                    "units" => Some(Source::Units),
                    "people" => Some(Source::People),
                    "trainees" => Some(Source::Trainees),
                    other => {
                        let known = "use \"units\", \"people\" or \"trainees\"";
                        self.rep.at(span.clone(), format!("unknown source {other:?}: {known}"));
                        None
                    }
                };
                if source.is_some() && !matches!(kind, FieldKind::Text { .. } | FieldKind::List { .. }) {
                    self.rep.at(span, format!("field {:?}: a source needs a text or list field", f.id.get_ref()));
                }
                source
            }
        };
        let default = f.default.as_ref().and_then(|d| {
            let d = d.get_ref();
            let (take, fits) = match d.take.get_ref().as_str() {
                "roster_size" => (RecordValue::RosterSize, matches!(kind, FieldKind::Int { .. })),
                "roster" => (RecordValue::Roster, matches!(kind, FieldKind::List { .. })),
                other => {
                    self.rep.at(
                        d.take.span(),
                        format!("default: unknown take {other:?}: use \"roster_size\" or \"roster\""),
                    );
                    return None;
                }
            };
            if !fits {
                let need = if take == RecordValue::RosterSize { "an int" } else { "a list" };
                self.rep.at(
                    d.take.span(),
                    format!("field {:?}: take {:?} needs {need} field", f.id.get_ref(), d.take.get_ref()),
                );
            }
            Some(RecordDefault { record: d.record.get_ref().clone(), take })
        });
        Some(Field {
            id: f.id.get_ref().clone(),
            label: f.label.clone(),
            kind,
            source,
            pick_from: f.pick_from.as_ref().map(|p| p.get_ref().clone()),
            default,
            change_reason: f.change_reason.as_ref().map(|r| r.get_ref().clone()),
            revise: f.revise,
            compute: None,
        })
    }

    /// The computed fields' expressions, each checked against the fields declared before it and
    /// giving its field's type; a computed field is never asked.
    fn computes(&mut self, raw: &RawDefinition, fields: &BTreeMap<&str, &FieldKind>) -> BTreeMap<String, Expression> {
        let mut out = BTreeMap::new();
        let mut hidden: BTreeSet<&str> = raw.field.iter().map(|f| f.id.get_ref().as_str()).collect();
        for f in &raw.field {
            hidden.remove(f.id.get_ref().as_str());
            let (Some(source), Some(kind)) = (&f.compute, fields.get(f.id.get_ref().as_str())) else { continue };
            // The field itself and those after it are not there to read yet.
            let mut unseen = hidden.clone();
            unseen.insert(f.id.get_ref().as_str());
            let schema = FieldSchema { fields, hidden: unseen, tables: &self.tables };
            if matches!(kind, FieldKind::Map) {
                self.rep.at(source.span(), format!("field {:?}: a map field cannot be computed", f.id.get_ref()));
                continue;
            }
            match Expression::compile_as(source.get_ref(), &schema, &type_of(kind)) {
                Ok(e) => {
                    out.insert(f.id.get_ref().clone(), e);
                }
                Err(e) => {
                    self.rep.at_in_string(source.span(), e.offset, format!("compute of {:?}: {e}", f.id.get_ref()))
                }
            }
        }
        let asked = raw.start.iter().flat_map(|s| s.ask.iter().chain(&s.optional));
        for a in asked.chain(raw.transition.iter().flat_map(|t| t.ask.iter().chain(&t.optional))) {
            if out.contains_key(a.get_ref()) {
                self.rep.at(a.span(), format!("field {:?} is computed: it is never asked", a.get_ref()));
            }
        }
        out
    }

    /// A whole-number bound (`min`, `max`) of an int field or column.
    fn int_bound(&mut self, bound: Option<&toml::Spanned<RawNumber>>, default: i64) -> i64 {
        match bound.map(|b| (b.get_ref(), b.span())) {
            None => default,
            Some((RawNumber::Int(n), _)) => *n,
            Some((RawNumber::Text(t), span)) => {
                self.rep.at(span, format!("invalid type: string {t:?}, expected a whole number"));
                default
            }
        }
    }

    /// A bound of a money field or column: whole yuan (`1000`) or an amount as text ("1180.50").
    fn money_bound(&mut self, bound: Option<&toml::Spanned<RawNumber>>, default: Decimal) -> Decimal {
        match bound.map(|b| (b.get_ref(), b.span())) {
            None => default,
            Some((RawNumber::Int(n), _)) => Decimal::from(*n),
            Some((RawNumber::Text(t), span)) => match parse_money(t) {
                Ok(amount) => amount,
                Err(e) => {
                    self.rep.at(span, format!("malformed amount {t:?}: {e}"));
                    default
                }
            },
        }
    }

    /// The typed columns of a table field or a reference table, with unique ids; `None` (with
    /// the problem reported at `at`) when there are none.
    fn columns(&mut self, raw: &[toml::Spanned<RawColumn>], what: &str, at: Range<usize>) -> Option<Vec<Column>> {
        if raw.is_empty() {
            self.rep.at(at, format!("{what} needs columns, such as [{{ id = \"amount\", type = \"money\" }}]"));
            return None;
        }
        ids_unique(self.rep, "column", raw.iter().map(|c| &c.get_ref().id));
        let columns: Vec<Column> = raw.iter().filter_map(|c| self.column(c)).collect();
        (columns.len() == raw.len()).then_some(columns)
    }

    fn column(&mut self, c: &toml::Spanned<RawColumn>) -> Option<Column> {
        let (span, c) = (c.span(), c.get_ref());
        let id = c.id.get_ref();
        let kind = match c.kind.get_ref().as_str() {
            "text" => ColumnKind::Text { max_len: c.max_len.unwrap_or(200) },
            "int" => {
                let (min, max) = (self.int_bound(c.min.as_ref(), i64::MIN), self.int_bound(c.max.as_ref(), i64::MAX));
                if min > max {
                    self.rep.at(span.clone(), format!("column {id:?}: min {min} is above max {max}"));
                }
                ColumnKind::Int { min, max }
            }
            "money" => {
                let (min, max) =
                    (self.money_bound(c.min.as_ref(), MONEY_MIN), self.money_bound(c.max.as_ref(), MONEY_MAX));
                if min > max {
                    self.rep.at(span.clone(), format!("column {id:?}: min {min} is above max {max}"));
                }
                ColumnKind::Money { min, max }
            }
            "date" => ColumnKind::Date,
            "choice" => match &c.options {
                Some(options) if !options.is_empty() => ColumnKind::Choice {
                    options: options
                        .iter()
                        .map(|o| ChoiceOption { id: o.id.clone(), label: o.label.clone() })
                        .collect(),
                },
                _ => {
                    self.rep.at(c.kind.span(), format!("choice column {id:?} needs options"));
                    return None;
                }
            },
            other => {
                self.rep
                    .at(c.kind.span(), format!("unknown column type {other:?}: use text, int, money, date or choice"));
                return None;
            }
        };
        if c.options.is_some() && !matches!(kind, ColumnKind::Choice { .. }) {
            self.rep.at(span.clone(), format!("column {id:?}: only a choice column has options"));
        }
        let label = c.label.clone().unwrap_or_else(|| Label { zh: id.clone(), en: id.clone() });
        Some(Column { id: id.clone(), label, kind })
    }

    /// A reference table: its key names its columns, every row has a cell per column, each of
    /// its column's type, and no two rows share a key.
    fn reference(&mut self, r: &RawReference) -> Option<ReferenceTable> {
        let id = r.id.get_ref();
        let columns = self.columns(&r.columns, &format!("reference {id:?}"), r.id.span())?;
        if r.key.is_empty() {
            self.rep.at(r.id.span(), format!("reference {id:?} needs a key: the columns that find a row"));
        }
        let mut key_ok = true;
        for k in &r.key {
            if !columns.iter().any(|c| &c.id == k.get_ref()) {
                self.rep.at(k.span(), format!("reference {id:?}: the key names unknown column {:?}", k.get_ref()));
                key_ok = false;
            }
        }
        if r.rows.len() > MAX_REFERENCE_ROWS {
            self.rep.at(
                r.rows[MAX_REFERENCE_ROWS].span(),
                format!("reference {id:?} has {} rows: at most {MAX_REFERENCE_ROWS}", r.rows.len()),
            );
            return None;
        }
        let mut rows = Vec::with_capacity(r.rows.len());
        let mut keys: BTreeMap<String, usize> = BTreeMap::new();
        for (n, raw_row) in r.rows.iter().enumerate() {
            let cells = raw_row.get_ref();
            if cells.len() != columns.len() {
                self.rep.at(
                    raw_row.span(),
                    format!(
                        "reference {id:?}, row {}: {} cells for {} columns ({})",
                        n + 1,
                        cells.len(),
                        columns.len(),
                        columns.iter().map(|c| c.id.as_str()).collect::<Vec<_>>().join(", ")
                    ),
                );
                continue;
            }
            let mut row = serde_json::Map::new();
            for (column, cell) in columns.iter().zip(cells) {
                match column.kind.parse(&toml_to_json(cell.get_ref())) {
                    Ok(v) => {
                        row.insert(column.id.clone(), v);
                    }
                    Err(e) => self
                        .rep
                        .at(cell.span(), format!("reference {id:?}, row {}, column {:?}: {e}", n + 1, column.id)),
                }
            }
            if row.len() != columns.len() {
                continue;
            }
            if key_ok {
                let key: Vec<serde_json::Value> = r.key.iter().filter_map(|k| row.get(k.get_ref()).cloned()).collect();
                let text = serde_json::Value::from(key.clone()).to_string();
                if let Some(first) = keys.get(&text) {
                    self.rep.at(
                        raw_row.span(),
                        format!("reference {id:?}, row {}: the same key as row {first} ({})", n + 1, key_text(&key)),
                    );
                } else {
                    keys.insert(text, n + 1);
                }
            }
            rows.push(row);
        }
        Some(ReferenceTable {
            id: id.clone(),
            label: r.label.clone(),
            key: r.key.iter().map(|k| k.get_ref().clone()).collect(),
            columns,
            rows,
        })
    }

    fn fraction(&mut self, s: &S) -> Option<Fraction> {
        match s.get_ref().parse::<Fraction>() {
            Ok(f) => Some(f),
            Err(e) => {
                self.rep.at(s.span(), e.to_string());
                None
            }
        }
    }

    fn period(&mut self, s: &S) -> Option<Period> {
        match s.get_ref().parse::<Period>() {
            Ok(p) => Some(p),
            Err(e) => {
                self.rep.at(s.span(), e.to_string());
                None
            }
        }
    }

    fn threshold(&mut self, t: &toml::Spanned<RawThreshold>, which: &str) -> Option<Threshold> {
        let span = t.span();
        let t = t.get_ref();
        let (strict, share) = match (&t.at_least, &t.more_than) {
            (Some(s), None) => (false, s),
            (None, Some(s)) => (true, s),
            _ => {
                self.rep.at(span, format!("the {which} needs exactly one of at_least or more_than"));
                return None;
            }
        };
        let share = self.fraction(share)?;
        let of = match t.of.get_ref().as_str() {
            "roster" => VoteBase::Roster,
            "present" => VoteBase::Present,
            other => {
                self.rep.at(t.of.span(), format!("unknown vote base {other:?}: use \"roster\" or \"present\""));
                return None;
            }
        };
        Some(Threshold { strict, share, of })
    }

    fn state(
        &mut self,
        s: &RawState,
        stages: &BTreeSet<String>,
        events: &BTreeSet<String>,
        fields: &BTreeMap<&str, &FieldKind>,
    ) -> State {
        if !stages.contains(s.stage.get_ref()) {
            self.rep.at(s.stage.span(), format!("unknown stage {:?}", s.stage.get_ref()));
        }
        let outcome = s.outcome.as_ref().and_then(|o| match Outcome::parse(o.get_ref()) {
            Some(o) => Some(o),
            None => {
                self.rep.at(o.span(), format!("unknown outcome {:?}: use \"passed\" or \"failed\"", o.get_ref()));
                None
            }
        });
        if s.is_final && s.outcome.is_none() {
            self.rep.at(s.id.span(), format!("final state {:?} needs an outcome (passed or failed)", s.id.get_ref()));
        }
        if !s.is_final && s.outcome.is_some() {
            self.rep.at(s.id.span(), format!("state {:?} has an outcome but is not final", s.id.get_ref()));
        }
        let mut timers = Vec::new();
        ids_unique(self.rep, "timer", s.timer.iter().map(|t| &t.id));
        for t in &s.timer {
            if !events.contains(t.fires.get_ref()) {
                self.rep.at(t.fires.span(), format!("timer fires unknown event {:?}", t.fires.get_ref()));
            }
            let after = match (&t.after, &t.every) {
                (Some(after), Some(every)) => {
                    self.rep.at(every.span(), "a timer has `after` or `every`, not both");
                    Some(after)
                }
                (after, every) => after.as_ref().or(every.as_ref()),
            };
            if t.every.is_none() && (t.until.is_some() || t.count.is_some()) {
                self.rep.at(t.id.span(), "`until` and `count` belong to a recurring timer (`every`)");
            }
            if let Some(until) = &t.until {
                self.timer_date(until, "until", fields);
            }
            if t.count == Some(0) {
                self.rep.at(t.id.span(), "a recurring timer's `count` is at least 1");
            }
            let repeat = t
                .every
                .as_ref()
                .map(|_| Repeat { until: t.until.as_ref().map(|u| u.get_ref().clone()), count: t.count });
            let when = match (&t.date, after, &t.before) {
                (None, Some(after), None) => self.period(after).map(TimerWhen::AfterEntry),
                (Some(date), after, before) if after.is_some() != before.is_some() => {
                    let offset = after.or(before.as_ref()).and_then(|p| self.period(p));
                    let before = before.is_some();
                    // A field's name, or an expression giving a date.
                    let name = date.get_ref();
                    if fields.contains_key(name.as_str()) || self.declared_fields.contains(name) {
                        self.timer_date(date, "date", fields);
                        offset.map(|offset| TimerWhen::FromField { field: name.clone(), offset, before })
                    } else {
                        let no_tables = BTreeMap::new();
                        let schema = FieldSchema { fields, hidden: BTreeSet::new(), tables: &no_tables };
                        match Expression::compile_as(name, &schema, &Type::Date) {
                            Ok(date) => offset.map(|offset| TimerWhen::FromExpr { date, offset, before }),
                            Err(e) => {
                                self.rep.at_in_string(date.span(), e.offset, format!("timer date: {e}"));
                                None
                            }
                        }
                    }
                }
                _ => {
                    self.rep.at(
                        t.id.span(),
                        "a timer needs `after` alone, or a `date` field with one of `after` or `before`",
                    );
                    None
                }
            };
            if let Some(when) = when {
                timers.push(TimerSpec {
                    id: t.id.get_ref().clone(),
                    fires: t.fires.get_ref().clone(),
                    when,
                    working_day: t.working_day.unwrap_or(true),
                    repeat,
                });
            }
        }
        let join = s.join.as_ref().and_then(|j| {
            for e in [&j.on_pass, &j.on_fail] {
                if !events.contains(e.get_ref()) {
                    self.rep.at(e.span(), format!("join fires unknown event {:?}", e.get_ref()));
                }
            }
            let pass = match j.pass.get_ref() {
                RawQuota::Word(w) if w == "all" => Quota::All,
                RawQuota::AtLeast { at_least } => Quota::AtLeast(*at_least),
                RawQuota::Share { share } => {
                    let spanned = S::new(j.pass.span(), share.clone());
                    Quota::Share(self.fraction(&spanned)?)
                }
                RawQuota::Word(w) => {
                    self.rep.at(
                        j.pass.span(),
                        format!("unknown join rule {w:?}: use \"all\", {{ at_least = N }} or {{ share = \"2/3\" }}"),
                    );
                    return None;
                }
            };
            let wait = match &j.wait {
                None => JoinWait::AllDecided,
                Some(w) => match w.get_ref().as_str() {
                    "all_decided" => JoinWait::AllDecided,
                    "determined" => JoinWait::Determined,
                    other => {
                        self.rep.at(
                            w.span(),
                            format!("unknown join wait {other:?}: use \"all_decided\" or \"determined\""),
                        );
                        return None;
                    }
                },
            };
            let collect = j.collect.as_ref().map(|c| {
                for list in c.passed.iter().chain(&c.failed) {
                    self.need(&list.span(), fields, list.get_ref(), Need::List);
                }
                JoinCollect {
                    field: c.field.get_ref().clone(),
                    passed: c.passed.as_ref().map(|f| f.get_ref().clone()),
                    failed: c.failed.as_ref().map(|f| f.get_ref().clone()),
                }
            });
            Some(JoinSpec {
                pass,
                wait,
                on_pass: j.on_pass.get_ref().clone(),
                on_fail: j.on_fail.get_ref().clone(),
                collect,
            })
        });
        if let Some(f) = &s.summary {
            self.need(&f.span(), fields, f.get_ref(), Need::Any);
        }
        State {
            id: s.id.get_ref().clone(),
            stage: s.stage.get_ref().clone(),
            label: s.label.clone(),
            is_final: s.is_final,
            outcome,
            timers,
            join,
            summary: s.summary.as_ref().map(|f| f.get_ref().clone()),
        }
    }

    fn transition(
        &mut self,
        t: &RawTransition,
        states: &BTreeSet<String>,
        field_ids: &BTreeSet<String>,
        fields: &BTreeMap<&str, &FieldKind>,
        spawns: &mut SpawnRefs,
    ) -> Transition {
        let from = t.sources();
        for s in from.iter().chain(&t.to) {
            if !states.contains(s.get_ref()) {
                self.rep.at(s.span(), format!("unknown state {:?}", s.get_ref()));
            }
        }
        if t.roles.is_empty() {
            self.rep.at(t.event.span(), format!("transition {:?} names no role that may fire it", t.event.get_ref()));
        }
        for r in &t.roles {
            self.role_ref(r, true);
        }
        for f in t.ask.iter().chain(&t.optional) {
            self.field_ref(field_ids, f);
            match fields.get(f.get_ref().as_str()) {
                Some(FieldKind::Map) => {
                    self.rep.at(f.span(), format!("map field {:?} is kept by a `keep` effect, not asked", f.get_ref()))
                }
                Some(FieldKind::Table { .. }) => self.rep.at(
                    f.span(),
                    format!("table field {:?} is added to by an `add_row` effect, not asked", f.get_ref()),
                ),
                _ => {}
            }
        }
        let mut guards = Vec::new();
        for g in &t.guards {
            let message = g.get_ref().message.clone();
            if let Some(m) = &message {
                self.message(&g.span(), t.event.get_ref(), m, fields);
            }
            if let Some(guard) = self.guard(g, fields) {
                guards.push(GuardRule { guard, message });
            }
        }
        let mut effects = Vec::new();
        for raw_effect in &t.effects {
            if let Some(effect) = self.effect(raw_effect, fields) {
                if let Effect::Spawn(spec) = &effect {
                    spawns.push((raw_effect.span(), spec.clone()));
                }
                if let Effect::AddRow { from, .. } = &effect {
                    for (_, field) in from {
                        if !t.ask.iter().chain(&t.optional).any(|a| a.get_ref() == field) {
                            self.rep.at(
                                raw_effect.span(),
                                format!("add_row takes field {field:?}, which this transition does not ask"),
                            );
                        }
                    }
                }
                effects.push(effect);
            }
        }
        Transition {
            event: t.event.get_ref().clone(),
            from: from.iter().map(|s| s.get_ref().clone()).collect(),
            to: t.to.as_ref().map(|s| s.get_ref().clone()),
            roles: t.roles.iter().map(|s| s.get_ref().clone()).collect(),
            label: t.label.clone(),
            ask: t.ask.iter().map(|s| s.get_ref().clone()).collect(),
            optional: t.optional.iter().map(|s| s.get_ref().clone()).collect(),
            guards,
            effects,
            task: t.task,
            restart_timers: t.restart_timers,
            attachment: self.attachment(t),
        }
    }

    /// The file a step carries: named in both languages, and never required of a step the
    /// system takes (a timer or a join has no file to give).
    fn attachment(&mut self, t: &RawTransition) -> Option<AttachmentSpec> {
        let raw = t.attachment.as_ref()?;
        let a = raw.get_ref();
        if a.label.zh.trim().is_empty() || a.label.en.trim().is_empty() {
            self.rep.at(raw.span(), "an attachment's label needs both zh and en".to_owned());
        }
        if t.roles.iter().all(|r| r.get_ref() == SYSTEM_ROLE) {
            self.rep
                .at(raw.span(), format!("{:?} is taken by the system only, which attaches no file", t.event.get_ref()));
        }
        Some(AttachmentSpec { required: a.required, label: a.label.clone() })
    }
}

impl RawTransition {
    fn sources(&self) -> Vec<S> {
        let span = self.from.span();
        match self.from.get_ref() {
            OneOrMany::One(s) => vec![S::new(span, s.clone())],
            OneOrMany::Many(v) => v.iter().map(|s| S::new(span.clone(), s.clone())).collect(),
        }
    }
}

/// A key's values as a reader would write them: "江山市, 2026".
fn key_text(key: &[serde_json::Value]) -> String {
    key.iter().map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned)).collect::<Vec<_>>().join(", ")
}

/// The most rows a table field may be declared to hold.
const MAX_TABLE_ROWS: usize = 10_000;

fn toml_to_json(v: &toml::Value) -> serde_json::Value {
    match v {
        toml::Value::String(s) => serde_json::Value::String(s.clone()),
        toml::Value::Integer(i) => serde_json::Value::from(*i),
        toml::Value::Float(f) => serde_json::Value::from(*f),
        toml::Value::Boolean(b) => serde_json::Value::Bool(*b),
        toml::Value::Datetime(d) => serde_json::Value::String(d.to_string()),
        toml::Value::Array(a) => serde_json::Value::Array(a.iter().map(toml_to_json).collect()),
        toml::Value::Table(t) => {
            serde_json::Value::Object(t.iter().map(|(k, v)| (k.clone(), toml_to_json(v))).collect())
        }
    }
}

/// What a guard or effect needs of a field it names.
#[derive(Clone, Copy)]
enum Need {
    Any,
    Text,
    Int,
    Date,
    List,
    Bool,
    Map,
    Table,
}

impl Checker<'_, '_> {
    fn need(&mut self, span: &Range<usize>, fields: &BTreeMap<&str, &FieldKind>, field: &str, need: Need) {
        let Some(kind) = fields.get(field) else {
            if !self.declared_fields.contains(field) {
                self.rep.at(span.clone(), format!("unknown field {field:?}"));
            }
            return;
        };
        let (fits, what) = match need {
            Need::Any => return,
            Need::Text => (matches!(kind, FieldKind::Text { .. }), "a text"),
            Need::Int => (matches!(kind, FieldKind::Int { .. }), "an int"),
            Need::Date => (matches!(kind, FieldKind::Date), "a date"),
            Need::List => (matches!(kind, FieldKind::List { .. }), "a list"),
            Need::Bool => (matches!(kind, FieldKind::Bool), "a bool"),
            Need::Map => (matches!(kind, FieldKind::Map), "a map"),
            Need::Table => (matches!(kind, FieldKind::Table { .. }), "a table"),
        };
        if !fits {
            self.rep.at(span.clone(), format!("field {field:?} is not {what} field"));
        }
    }

    /// A guard's own refusal: words in both languages, naming only fields the definition has.
    fn message(&mut self, span: &Range<usize>, event: &str, m: &Label, fields: &BTreeMap<&str, &FieldKind>) {
        for (lang, text) in [("zh", &m.zh), ("en", &m.en)] {
            if text.trim().is_empty() {
                self.rep.at(span.clone(), format!("a guard of {event:?} has an empty `message.{lang}`"));
            }
            for name in placeholders(text) {
                if !fields.contains_key(name) && !self.declared_fields.contains(name) {
                    self.rep.at(span.clone(), format!("a guard message of {event:?} names unknown field {{{name}}}"));
                }
            }
        }
    }

    fn guard(&mut self, g: &toml::Spanned<RawGuardEntry>, fields: &BTreeMap<&str, &FieldKind>) -> Option<Guard> {
        let span = g.span();
        let need = |c: &mut Self, f: &str, n: Need| c.need(&span, fields, f, n);
        Some(match &g.get_ref().guard {
            RawGuard::When(source) => {
                let schema = FieldSchema { fields, hidden: BTreeSet::new(), tables: &self.tables };
                match Expression::compile_as(source.get_ref(), &schema, &Type::Bool) {
                    Ok(e) => Guard::When(e),
                    Err(e) => {
                        self.rep.at_in_string(source.span(), e.offset, e.to_string());
                        return None;
                    }
                }
            }
            RawGuard::IsSet(f) => {
                need(self, f, Need::Any);
                Guard::IsSet(f.clone())
            }
            RawGuard::IsUnset(f) => {
                need(self, f, Need::Any);
                Guard::IsUnset(f.clone())
            }
            RawGuard::IsTrue(f) => {
                need(self, f, Need::Bool);
                Guard::IsTrue(f.clone())
            }
            RawGuard::Equals { field, value } => {
                need(self, field, Need::Any);
                Guard::Equals { field: field.clone(), value: toml_to_json(value) }
            }
            RawGuard::Compare { field, op, than } => {
                // Whole numbers, or two dates (a phase ends after it starts).
                let dates = matches!(fields.get(field.as_str()), Some(FieldKind::Date));
                let kind = if dates { Need::Date } else { Need::Int };
                need(self, field, kind);
                let op = match op.as_str() {
                    "<" => CompareOp::Lt,
                    "<=" => CompareOp::Le,
                    ">" => CompareOp::Gt,
                    ">=" => CompareOp::Ge,
                    "=" | "==" => CompareOp::Eq,
                    "!=" => CompareOp::Ne,
                    other => {
                        self.rep.at(span, format!("unknown comparison {other:?}: use < <= > >= = !="));
                        return None;
                    }
                };
                let than = match than {
                    toml::Value::Integer(n) if !dates => Operand::Number(*n),
                    toml::Value::String(f) => {
                        need(self, f, kind);
                        Operand::Field(f.clone())
                    }
                    _ => {
                        self.rep.at(span, "`than` must be a field name, or a whole number for an int field");
                        return None;
                    }
                };
                Guard::Compare { field: field.clone(), op, than }
            }
            RawGuard::SameCount([a, b]) => {
                need(self, a, Need::List);
                need(self, b, Need::List);
                Guard::SameCount(a.clone(), b.clone())
            }
            RawGuard::MinCount { field, min } => {
                need(self, field, Need::List);
                Guard::MinCount { field: field.clone(), min: *min }
            }
            RawGuard::MemberOf { field, list } => {
                need(self, field, Need::Any);
                need(self, list, Need::List);
                Guard::MemberOf { field: field.clone(), list: list.clone() }
            }
            RawGuard::Disjoint([a, b]) => {
                need(self, a, Need::List);
                need(self, b, Need::List);
                Guard::Disjoint(a.clone(), b.clone())
            }
            RawGuard::NotMemberOf { field, list } => {
                need(self, field, Need::Any);
                need(self, list, Need::List);
                Guard::NotMemberOf { field: field.clone(), list: list.clone() }
            }
            RawGuard::ShareAtMost { list, part, share } => {
                need(self, list, Need::List);
                need(self, part, Need::List);
                let share = self.fraction(&S::new(span.clone(), share.clone()))?;
                Guard::ShareAtMost { list: list.clone(), part: part.clone(), share }
            }
            RawGuard::ActorIs(f) => {
                need(self, f, Need::Any);
                Guard::ActorIs(f.clone())
            }
            RawGuard::ActorNotIn(list) => {
                need(self, list, Need::List);
                Guard::ActorNotIn(list.clone())
            }
            RawGuard::RoleOrDelegate { field, role } => {
                need(self, field, Need::Any);
                self.role_ref(&S::new(span.clone(), role.clone()), false);
                Guard::RoleOrDelegate { field: field.clone(), role: role.clone() }
            }
            RawGuard::EachAtLeast { map, keys, min } => {
                need(self, map, Need::Map);
                let keys = match fields.get(keys.as_str()) {
                    Some(FieldKind::Choice { options }) => {
                        MapKeys::Options { field: keys.clone(), ids: options.iter().map(|o| o.id.clone()).collect() }
                    }
                    Some(FieldKind::Int { .. }) => MapKeys::UpTo(keys.clone()),
                    Some(_) => {
                        self.rep.at(span, format!("`keys` {keys:?} must be a choice field or an int field"));
                        return None;
                    }
                    None => {
                        if !self.declared_fields.contains(keys) {
                            self.rep.at(span, format!("unknown field {keys:?}"));
                        }
                        return None;
                    }
                };
                Guard::EachAtLeast { map: map.clone(), keys, min: *min }
            }
            RawGuard::Vote(o) => match VoteCheck::parse(o) {
                Some(o) => Guard::Vote(o),
                None => {
                    self.rep
                        .at(span, format!("unknown vote outcome {o:?}: use \"passed\", \"failed\" or \"no_quorum\""));
                    return None;
                }
            },
        })
    }

    fn effect(&mut self, e: &toml::Spanned<RawEffect>, fields: &BTreeMap<&str, &FieldKind>) -> Option<Effect> {
        let span = e.span();
        let need = |c: &mut Self, f: &str, n: Need| c.need(&span, fields, f, n);
        Some(match e.get_ref() {
            RawEffect::Spawn { definition, for_each, as_field, copy } => {
                need(self, for_each, Need::List);
                for f in copy {
                    need(self, f, Need::Any);
                }
                Effect::Spawn(SpawnSpec {
                    definition: definition.clone(),
                    for_each: for_each.clone(),
                    as_field: as_field.clone(),
                    copy: copy.clone(),
                })
            }
            RawEffect::Tally(t) => Effect::Tally(self.tally(t, &span, fields, Need::Int)),
            RawEffect::RollCall(t) => Effect::RollCall(self.tally(t, &span, fields, Need::List)),
            RawEffect::Append { list, value } => {
                need(self, list, Need::List);
                need(self, value, Need::Any);
                Effect::Append { list: list.clone(), value: value.clone() }
            }
            RawEffect::Keep { map, key, value } => {
                need(self, map, Need::Map);
                need(self, key, Need::Any);
                need(self, value, Need::Int);
                Effect::Keep { map: map.clone(), key: key.clone(), value: value.clone() }
            }
            RawEffect::Count { list, into } => {
                need(self, list, Need::List);
                need(self, into, Need::Int);
                Effect::Count { list: list.clone(), into: into.clone() }
            }
            RawEffect::Set { field, value } => {
                need(self, field, Need::Any);
                Effect::Set { field: field.clone(), value: toml_to_json(value) }
            }
            RawEffect::Clear(f) => {
                need(self, f, Need::Any);
                Effect::Clear(f.clone())
            }
            RawEffect::Stamp(f) => {
                need(self, f, Need::Date);
                Effect::Stamp(f.clone())
            }
            RawEffect::Number { into, pattern } => {
                need(self, into, Need::Text);
                match NumberPattern::parse(pattern) {
                    Ok(pattern) => Effect::Number { into: into.clone(), pattern },
                    Err(problem) => {
                        self.rep.at(span.clone(), format!("number pattern {pattern:?}: {problem}"));
                        return None;
                    }
                }
            }
            RawEffect::Sign { for_field, on, signer, delegation } => {
                need(self, for_field, Need::Any);
                need(self, on, Need::Date);
                need(self, signer, Need::Any);
                if let Some(d) = delegation {
                    need(self, d, Need::Int);
                }
                Effect::Sign {
                    for_field: for_field.clone(),
                    on: on.clone(),
                    signer: signer.clone(),
                    delegation: delegation.clone(),
                }
            }
            RawEffect::AddYears { into, date, years, last_day } => {
                need(self, into, Need::Date);
                need(self, date, Need::Date);
                need(self, years, Need::Int);
                Effect::AddYears { into: into.clone(), date: date.clone(), years: years.clone(), last_day: *last_day }
            }
            RawEffect::Increment(f) => {
                need(self, f, Need::Int);
                Effect::Increment(f.clone())
            }
            RawEffect::Escalate(role) => {
                self.role_ref(&S::new(span.clone(), role.clone()), false);
                Effect::Escalate(role.clone())
            }
            RawEffect::CloseChildren(event) => Effect::CloseChildren(event.clone()),
            RawEffect::AddRow { table, from } => {
                let Some(FieldKind::Table { columns, .. }) = fields.get(table.as_str()) else {
                    need(self, table, Need::Table);
                    return None;
                };
                for column in from.keys().filter(|c| !columns.iter().any(|col| &col.id == *c)) {
                    self.rep.at(span.clone(), format!("add_row: table {table:?} has no column {column:?}"));
                }
                let mut taken = Vec::new();
                for column in columns.iter() {
                    let Some(field) = from.get(&column.id) else {
                        self.rep.at(
                            span.clone(),
                            format!("add_row: column {:?} of table {table:?} is given no field in `from`", column.id),
                        );
                        continue;
                    };
                    self.column_from(&span, fields, table, column, field);
                    taken.push((column.id.clone(), field.clone()));
                }
                Effect::AddRow { table: table.clone(), from: taken }
            }
        })
    }

    /// A field whose value becomes a table's column: of the column's type (for a choice, with
    /// only options the column has).
    fn column_from(
        &mut self,
        span: &Range<usize>,
        fields: &BTreeMap<&str, &FieldKind>,
        table: &str,
        column: &Column,
        field: &str,
    ) {
        let Some(kind) = fields.get(field) else {
            if !self.declared_fields.contains(field) {
                self.rep.at(span.clone(), format!("unknown field {field:?}"));
            }
            return;
        };
        let fits = match (&column.kind, kind) {
            (ColumnKind::Text { .. }, FieldKind::Text { .. })
            | (ColumnKind::Int { .. }, FieldKind::Int { .. })
            | (ColumnKind::Money { .. }, FieldKind::Money { .. })
            | (ColumnKind::Date, FieldKind::Date) => true,
            (ColumnKind::Choice { options: column_options }, FieldKind::Choice { options }) => {
                for o in options.iter().filter(|o| !column_options.iter().any(|c| c.id == o.id)) {
                    self.rep.at(
                        span.clone(),
                        format!(
                            "add_row: field {field:?} offers {:?}, which column {:?} of table {table:?} does not",
                            o.id, column.id
                        ),
                    );
                }
                true
            }
            _ => false,
        };
        if !fits {
            self.rep.at(
                span.clone(),
                format!(
                    "add_row: column {:?} of table {table:?} is {}, but field {field:?} is not a {} field",
                    column.id,
                    column.kind.name(),
                    column.kind.name()
                ),
            );
        }
    }

    /// A vote's fields: ints for a tally, lists of names for a roll call.
    fn tally(
        &mut self,
        t: &RawTally,
        span: &Range<usize>,
        fields: &BTreeMap<&str, &FieldKind>,
        kind: Need,
    ) -> TallySpec {
        if !self.declared_rules.contains(&t.rule) {
            self.rep.at(span.clone(), format!("unknown vote rule {:?}", t.rule));
        }
        for f in [&t.roster, &t.present, &t.yes, &t.no, &t.abstain] {
            self.need(span, fields, f, kind);
        }
        TallySpec {
            rule: t.rule.clone(),
            roster: t.roster.clone(),
            present: t.present.clone(),
            yes: t.yes.clone(),
            no: t.no.clone(),
            abstain: t.abstain.clone(),
        }
    }

    /// A timer's `date` or `until`: a date field of the definition.
    fn timer_date(&mut self, f: &S, key: &str, fields: &BTreeMap<&str, &FieldKind>) {
        match fields.get(f.get_ref().as_str()) {
            Some(FieldKind::Date) => {}
            Some(_) => self.rep.at(f.span(), format!("timer {key} {:?} is not a date field", f.get_ref())),
            None if self.declared_fields.contains(f.get_ref()) => {}
            None => self.rep.at(f.span(), format!("unknown field {:?}", f.get_ref())),
        }
    }

    /// An event declared more than once from one state is a choice, taken in file order: every
    /// declaration but the last needs a guard (else the later ones could never be taken), and all
    /// ask the same fields (the form is one form whichever is taken) and name the same roles and
    /// `task` (who is offered it, and whether it waits in their work, do not depend on which).
    fn choice(&mut self, from: &str, event: &str, ts: &[&RawTransition]) {
        let Some((last, earlier)) = ts.split_last() else { return };
        let fields = |t: &RawTransition| {
            let names = |l: &[S]| l.iter().map(|f| f.get_ref().clone()).collect::<BTreeSet<String>>();
            (names(&t.ask), names(&t.optional))
        };
        for t in earlier.iter().filter(|t| t.guards.is_empty()) {
            self.rep.at(
                t.event.span(),
                format!(
                    "event {event:?} is declared again from state {from:?} after this one, which has no guards: \
                     the first declaration whose guards hold is taken, so give this one a guard or remove the later one"
                ),
            );
        }
        let roles = |t: &RawTransition| t.roles.iter().map(|r| r.get_ref().clone()).collect::<BTreeSet<String>>();
        for t in earlier.iter().chain([last]).skip(1) {
            if fields(t) != fields(ts[0]) {
                self.rep.at(
                    t.event.span(),
                    format!(
                        "event {event:?} is declared more than once from state {from:?}: each must ask the same fields"
                    ),
                );
            }
            if roles(t) != roles(ts[0]) || t.task != ts[0].task {
                self.rep.at(
                    t.event.span(),
                    format!(
                        "event {event:?} is declared more than once from state {from:?}: each must name the same roles and \
                         the same `task`"
                    ),
                );
            }
        }
    }

    /// A unique key: fields with one value each, given when the instance starts (so the key is
    /// claimed as it begins).
    fn unique(&mut self, u: &RawUnique, raw: &RawDefinition, fields: &BTreeMap<&str, &FieldKind>) -> UniqueKey {
        if u.fields.is_empty() {
            self.rep.at(raw.id.span(), "a [[unique]] key needs at least one field");
        }
        for f in &u.fields {
            match fields.get(f.get_ref().as_str()) {
                None => self.rep.at(f.span(), format!("unknown field {:?}", f.get_ref())),
                Some(FieldKind::List { .. } | FieldKind::Map | FieldKind::Table { .. }) => {
                    self.rep.at(f.span(), format!("field {:?} holds many values: a key takes one", f.get_ref()))
                }
                Some(_) => {}
            }
            if let Some(start) = &raw.start
                && !start.ask.iter().any(|a| a.get_ref() == f.get_ref())
            {
                self.rep
                    .at(f.span(), format!("a key's field {:?} must be asked when the instance starts", f.get_ref()));
            }
        }
        UniqueKey { fields: u.fields.iter().map(|f| f.get_ref().clone()).collect() }
    }

    /// A join's `collect` names children by the field their fan-out fills (its `as`), and needs
    /// every child decided to say which passed and which failed.
    fn collects(&mut self, raw: &RawDefinition, def: &Definition) {
        let filled: BTreeSet<&str> = def
            .transitions
            .iter()
            .flat_map(|t| &t.effects)
            .filter_map(|e| match e {
                Effect::Spawn(s) => Some(s.as_field.as_str()),
                _ => None,
            })
            .collect();
        for (raw_state, state) in raw.state.iter().zip(&def.states) {
            let (Some(raw_join), Some(join)) = (&raw_state.join, &state.join) else { continue };
            let Some(c) = &raw_join.collect else { continue };
            if !filled.contains(c.field.get_ref().as_str()) {
                self.rep.at(
                    c.field.span(),
                    format!(
                        "collect names children by {:?}, but no fan-out of this definition fills it (its `as`)",
                        c.field.get_ref()
                    ),
                );
            }
            if join.wait == JoinWait::Determined {
                self.rep.at(
                    c.field.span(),
                    "collect needs wait = \"all_decided\": a join decided early leaves children undecided",
                );
            }
        }
    }

    /// Timers and joins fire their events as `system`: from their own state, the event must exist
    /// and let the system fire it, or the timer would fire into nothing.
    fn system_events(&mut self, raw: &RawDefinition, def: &Definition) {
        for (raw_state, state) in raw.state.iter().zip(&def.states) {
            let check = |c: &mut Self, event: &S, what: &str| match def.transition(&state.id, event.get_ref()) {
                // An event no transition declares is reported as unknown where the state names it.
                None if !def.transitions.iter().any(|t| &t.event == event.get_ref()) => {}
                None => c.rep.at(
                    event.span(),
                    format!("{what} fires {:?}, but no transition takes it from state {:?}", event.get_ref(), state.id),
                ),
                Some(t) if !t.roles.iter().any(|r| r == SYSTEM_ROLE) => c.rep.at(
                    event.span(),
                    format!("{what} fires {:?}, whose transition does not list the role \"system\"", event.get_ref()),
                ),
                Some(_) => {}
            };
            for t in &raw_state.timer {
                check(self, &t.fires, "a timer");
            }
            if let Some(j) = &raw_state.join {
                check(self, &j.on_pass, "a join");
                check(self, &j.on_fail, "a join");
            }
        }
    }

    /// Every state must be reachable from the initial one, and every state must be able to reach
    /// a final one: otherwise instances could get stuck forever.
    fn reachability(&mut self, raw: &RawDefinition, def: &Definition) {
        let mut edges: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        let mut back: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for t in &def.transitions {
            let Some(to) = &t.to else { continue };
            for from in &t.from {
                edges.entry(from.as_str()).or_default().push(to.as_str());
                back.entry(to.as_str()).or_default().push(from.as_str());
            }
        }
        let walk = |starts: Vec<&str>, graph: &BTreeMap<&str, Vec<&str>>| -> BTreeSet<String> {
            let mut seen: BTreeSet<String> = starts.iter().map(|s| (*s).to_owned()).collect();
            let mut queue: VecDeque<&str> = starts.into_iter().collect();
            while let Some(s) = queue.pop_front() {
                for next in graph.get(s).into_iter().flatten() {
                    if seen.insert((*next).to_owned()) {
                        queue.push_back(next);
                    }
                }
            }
            seen
        };
        let reachable = walk(vec![def.initial.as_str()], &edges);
        let finals: Vec<&str> = def.states.iter().filter(|s| s.is_final).map(|s| s.id.as_str()).collect();
        if finals.is_empty() {
            self.rep.at(raw.id.span(), "the definition has no final state");
        }
        // An unknown initial state (reported) or no final state would report every state again.
        let initial_known = raw.state.iter().any(|s| s.id.get_ref() == &def.initial);
        let has_finals = !finals.is_empty();
        let can_finish = walk(finals, &back);
        for s in &raw.state {
            let id = s.id.get_ref();
            if initial_known && !reachable.contains(id) {
                self.rep.at(s.id.span(), format!("state {id:?} cannot be reached from the initial state"));
            } else if has_finals && !can_finish.contains(id) {
                self.rep.at(s.id.span(), format!("no final state can be reached from state {id:?}"));
            }
            if s.is_final {
                let out: Vec<String> = def.transitions_from(id).map(|t| format!("{:?}", t.event)).collect();
                if !out.is_empty() {
                    self.rep
                        .at(s.id.span(), format!("final state {id:?} has transitions out of it: {}", out.join(", ")));
                }
            }
        }
    }
}

/// The words a `[[report]]` may use, named in its problems.
const REPORT_KINDS: &str = "\"count\", \"sum\", \"average\", \"rate\" or \"days_in_stage\"";

impl Checker<'_, '_> {
    /// The definition's reports: each id once, a known kind with what it needs, and every state,
    /// field and period it names known and of a kind it can use.
    fn reports(&mut self, raw: &RawDefinition, fields: &[Field], transitions: &[Transition]) -> Vec<Report> {
        ids_unique(self.rep, "report", raw.report.iter().map(|r| &r.id));
        raw.report.iter().filter_map(|r| self.report(r, raw, fields, transitions)).collect()
    }

    fn report(
        &mut self,
        r: &crate::definition::report::RawReport,
        raw: &RawDefinition,
        fields: &[Field],
        transitions: &[Transition],
    ) -> Option<Report> {
        // Over a table's rows, its columns read like fields (and stand before any of the same name).
        let with_columns: Vec<Field>;
        let fields = match &r.rows {
            None => fields,
            Some(table) => match fields.iter().find(|f| &f.id == table.get_ref()).map(|f| &f.kind) {
                Some(FieldKind::Table { columns, .. }) => {
                    let own = fields.iter().filter(|f| !columns.iter().any(|c| c.id == f.id)).cloned();
                    with_columns = columns.iter().map(column_field).chain(own).collect();
                    &with_columns
                }
                _ => {
                    self.rep.at(table.span(), format!("`rows`: {:?} is not a table field", table.get_ref()));
                    return None;
                }
            },
        };
        let kind_of = |name: &str| fields.iter().find(|f| f.id == name).map(|f| &f.kind);
        let by = self.report_groups(r, raw, fields, transitions);
        let filter = self.report_filter(raw, fields, &r.states, r.outcome.as_ref(), r.set.as_ref());
        let map_in_by = by.iter().find_map(|g| match g {
            GroupBy::MapKeys { map, .. } => Some(map.clone()),
            _ => None,
        });
        let number = |me: &mut Self, of: Option<&S>| -> Option<String> {
            let Some(of) = of else {
                me.rep.at(
                    r.kind.span(),
                    format!("a {:?} report needs `of`, the number field it reads", r.kind.get_ref()),
                );
                return None;
            };
            match kind_of(of.get_ref()) {
                None => me.rep.at(of.span(), format!("unknown field {:?}", of.get_ref())),
                Some(FieldKind::Int { .. }) => return Some(of.get_ref().clone()),
                Some(FieldKind::Map) if map_in_by.as_deref() == Some(of.get_ref().as_str()) => {
                    return Some(of.get_ref().clone());
                }
                Some(FieldKind::Map) => me.rep.at(
                    of.span(),
                    format!(
                        "map field {:?} is summed per key: group by it too (`by = {:?}`)",
                        of.get_ref(),
                        of.get_ref()
                    ),
                ),
                Some(_) if summable_kind(kind_of(of.get_ref())) => return Some(of.get_ref().clone()),
                Some(_) => me.rep.at(
                    of.span(),
                    format!("field {:?} is not a number (int or money) field: it cannot be summed", of.get_ref()),
                ),
            }
            None
        };
        let stray = |me: &mut Self, what: &str, span: Option<std::ops::Range<usize>>| {
            if let Some(span) = span {
                me.rep.at(span, format!("`{what}` is not used by a {:?} report", r.kind.get_ref()));
            }
        };
        let kind = match r.kind.get_ref().as_str() {
            "count" => {
                stray(self, "numerator", r.numerator.as_ref().map(toml::Spanned::span));
                stray(self, "denominator", r.denominator.as_ref().map(toml::Spanned::span));
                let of = r.of.as_ref().map(|of| {
                    self.need(&of.span(), &field_map(fields), of.get_ref(), Need::List);
                    of.get_ref().clone()
                });
                ReportKind::Count(Measure { filter: Filter::default(), of })
            }
            "sum" | "average" => {
                stray(self, "numerator", r.numerator.as_ref().map(toml::Spanned::span));
                stray(self, "denominator", r.denominator.as_ref().map(toml::Spanned::span));
                let of = number(self, r.of.as_ref())?;
                if r.kind.get_ref() == "sum" { ReportKind::Sum(of) } else { ReportKind::Average(of) }
            }
            "rate" => {
                stray(self, "of", r.of.as_ref().map(toml::Spanned::span));
                let side =
                    |me: &mut Self, m: Option<&toml::Spanned<crate::definition::report::RawMeasure>>, what: &str| {
                        let Some(m) = m else {
                            me.rep.at(r.kind.span(), format!("a \"rate\" report needs `{what}`"));
                            return None;
                        };
                        let m = m.get_ref();
                        let filter = me.report_filter(raw, fields, &m.states, m.outcome.as_ref(), m.set.as_ref());
                        let of = m.of.as_ref().map(|of| {
                            me.need(&of.span(), &field_map(fields), of.get_ref(), Need::List);
                            of.get_ref().clone()
                        });
                        Some(Measure { filter, of })
                    };
                let numerator = side(self, r.numerator.as_ref(), "numerator");
                let denominator = side(self, r.denominator.as_ref(), "denominator");
                ReportKind::Rate { numerator: numerator?, denominator: denominator? }
            }
            "days_in_stage" if !raw.stage.is_empty() => {
                stray(self, "of", r.of.as_ref().map(toml::Spanned::span));
                stray(self, "numerator", r.numerator.as_ref().map(toml::Spanned::span));
                stray(self, "denominator", r.denominator.as_ref().map(toml::Spanned::span));
                ReportKind::DaysInStage
            }
            "days_in_stage" => {
                self.rep.at(r.kind.span(), "a \"days_in_stage\" report needs the definition's stages");
                return None;
            }
            other => {
                self.rep.at(r.kind.span(), format!("unknown report kind {other:?}: use {REPORT_KINDS}"));
                return None;
            }
        };
        // Days in stage are given per stage: the stage is its last group.
        let mut by = by;
        if kind == ReportKind::DaysInStage && !by.contains(&GroupBy::Stage) {
            by.push(GroupBy::Stage);
        }
        let rows = r.rows.as_ref().map(|t| t.get_ref().clone());
        Some(Report { id: r.id.get_ref().clone(), label: r.label.clone(), kind, by, filter, rows })
    }

    /// `by` (fields, `state`, `stage`, at most one map), then `by_period` of `date`.
    fn report_groups(
        &mut self,
        r: &crate::definition::report::RawReport,
        raw: &RawDefinition,
        fields: &[Field],
        transitions: &[Transition],
    ) -> Vec<GroupBy> {
        use crate::definition::report::{BY_STAGE, BY_STATE};
        let mut by = Vec::new();
        if let Some(value) = &r.by {
            let names: Option<Vec<&str>> = match value.get_ref() {
                toml::Value::String(s) => Some(vec![s.as_str()]),
                toml::Value::Array(items) => items.iter().map(toml::Value::as_str).collect(),
                _ => None,
            };
            let Some(names) = names else {
                self.rep.at(value.span(), "`by` names a field, or a list of fields: `by = \"sector\"`");
                return by;
            };
            for name in names {
                let group = match (name, fields.iter().find(|f| f.id == name)) {
                    (BY_STATE, _) => GroupBy::State,
                    (BY_STAGE, _) if !raw.stage.is_empty() => GroupBy::Stage,
                    (_, None) => {
                        self.rep.at(value.span(), format!("`by` names unknown field {name:?}"));
                        continue;
                    }
                    (_, Some(f)) => match &f.kind {
                        FieldKind::Choice { .. } | FieldKind::Text { .. } | FieldKind::Int { .. } => {
                            GroupBy::Field(name.to_owned())
                        }
                        FieldKind::Map => {
                            let key = transitions.iter().flat_map(|t| &t.effects).find_map(|e| match e {
                                Effect::Keep { map, key, .. } if map == name => Some(key.clone()),
                                _ => None,
                            });
                            GroupBy::MapKeys { map: name.to_owned(), key }
                        }
                        _ => {
                            self.rep.at(
                                value.span(),
                                format!("`by` field {name:?} is not a choice, text, int or map field: it cannot group"),
                            );
                            continue;
                        }
                    },
                };
                if matches!(group, GroupBy::MapKeys { .. }) && by.iter().any(|g| matches!(g, GroupBy::MapKeys { .. })) {
                    self.rep.at(value.span(), "`by` may name at most one map field");
                    continue;
                }
                by.push(group);
            }
        }
        match (&r.by_period, &r.date) {
            (Some(p), date) => {
                if let Some(d) = date {
                    self.need(&d.span(), &field_map(fields), d.get_ref(), Need::Date);
                }
                match crate::definition::report::Period::parse(p.get_ref()) {
                    Some(period) => {
                        by.push(GroupBy::Period { period, date: date.as_ref().map(|d| d.get_ref().clone()) })
                    }
                    None => self.rep.at(
                        p.span(),
                        format!("unknown period {:?}: use \"month\", \"quarter\" or \"year\"", p.get_ref()),
                    ),
                }
            }
            (None, Some(d)) => self.rep.at(d.span(), "`date` is the date of `by_period`: give `by_period` too"),
            (None, None) => {}
        }
        by
    }

    /// `states`, `outcome` and `set`, checked against the definition.
    fn report_filter(
        &mut self,
        raw: &RawDefinition,
        fields: &[Field],
        states: &[S],
        outcome: Option<&S>,
        set: Option<&S>,
    ) -> Filter {
        for s in states {
            if !raw.state.iter().any(|x| x.id.get_ref() == s.get_ref()) {
                self.rep.at(s.span(), format!("unknown state {:?}", s.get_ref()));
            }
        }
        if let Some(o) = outcome
            && !matches!(o.get_ref().as_str(), "passed" | "failed")
        {
            self.rep.at(o.span(), format!("unknown outcome {:?}: use \"passed\" or \"failed\"", o.get_ref()));
        }
        if let Some(f) = set {
            self.need(&f.span(), &field_map(fields), f.get_ref(), Need::Any);
        }
        Filter {
            states: states.iter().map(|s| s.get_ref().clone()).collect(),
            outcome: outcome.map(|o| o.get_ref().clone()),
            set: set.map(|f| f.get_ref().clone()),
        }
    }
}

fn field_map(fields: &[Field]) -> BTreeMap<&str, &FieldKind> {
    fields.iter().map(|f| (f.id.as_str(), &f.kind)).collect()
}

/// Whether a report may sum a field of this kind besides int: money, once that kind exists.
fn summable_kind(kind: Option<&FieldKind>) -> bool {
    matches!(kind, Some(FieldKind::Int { .. } | FieldKind::Money { .. }))
}

/// A table's column as a report reads it: a field of its type.
fn column_field(c: &Column) -> Field {
    Field {
        id: c.id.clone(),
        label: c.label.clone(),
        kind: c.kind.field_kind(),
        source: None,
        pick_from: None,
        default: None,
        change_reason: None,
        revise: false,
        compute: None,
    }
}
