//! The typed form of a process definition: what the engine runs on. Built only by the loader, so
//! every reference in it (state, event, field, role, vote rule) is known to resolve.

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use crate::definition::values::{Fraction, Period};

/// A user-facing text in both languages of the UI.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
pub struct Label {
    pub zh: String,
    pub en: String,
}

impl Label {
    /// The text for a language tag ("zh-CN", "en", ...); Chinese unless English is asked for.
    pub fn get(&self, lang: &str) -> &str {
        if lang.starts_with("en") { &self.en } else { &self.zh }
    }
}

#[derive(Debug, Clone)]
pub struct Definition {
    pub id: String,
    pub label: Label,
    pub initial: String,
    /// Fields whose values name an instance in lists ("sector", "year").
    pub title: Vec<String>,
    /// An instance with a parent is titled with the parent's title before its own, wherever it
    /// is shown apart from the parent (a unit's assembly with its round).
    pub title_from_parent: bool,
    pub start: Option<StartRule>,
    pub scopes: Vec<Scope>,
    pub stages: Vec<Stage>,
    pub states: Vec<State>,
    pub fields: Vec<Field>,
    pub vote_rules: BTreeMap<String, VoteRule>,
    pub transitions: Vec<Transition>,
    pub documents: Vec<Document>,
    /// Who may read an instance besides those who act in it.
    pub read_by: Vec<Reader>,
    /// Keys at most one open instance holds at a time.
    pub unique: Vec<UniqueKey>,
    /// Notices its page shows in some states (the bureau's objection on a round).
    pub banners: Vec<Banner>,
    /// The figures its instances are summed into (`[[report]]`).
    pub reports: Vec<crate::definition::report::Report>,
    /// Rows of data the definition carries (the minimum living standard per city and year).
    pub references: Vec<ReferenceTable>,
}

/// The most rows a reference table may hold: it is read whole with its definition.
pub const MAX_REFERENCE_ROWS: usize = 10_000;

/// The most rows a table field holds when its definition does not say (`max_rows`).
pub const DEFAULT_MAX_ROWS: usize = 500;

/// The bounds of a money field when its definition does not say: from 0 to a thousand million
/// yuan.
pub const MONEY_MIN: Decimal = Decimal::ZERO;
pub const MONEY_MAX: Decimal = Decimal::from_parts(1_000_000_000, 0, 0, false, 0);

/// Data a definition carries as rows with typed columns, looked up by a key of some of its
/// columns: the minimum living standard (低保) per city and year. Changing it changes the file,
/// so it is a new version of the definition like any other change.
#[derive(Debug, Clone)]
pub struct ReferenceTable {
    pub id: String,
    pub label: Label,
    /// The columns whose values find a row; no two rows share them.
    pub key: Vec<String>,
    pub columns: Vec<Column>,
    /// Each row's values by column id, in the canonical forms of instance data.
    pub rows: Vec<serde_json::Map<String, serde_json::Value>>,
}

impl ReferenceTable {
    /// The row whose key columns hold these values, in the key's order. Values are compared in
    /// their canonical form: 2026 and "2026" find the same year, "1180" and "1,180.00" the same
    /// amount.
    pub fn find(&self, key: &[serde_json::Value]) -> Option<&serde_json::Map<String, serde_json::Value>> {
        if key.len() != self.key.len() {
            return None;
        }
        let wanted: Option<Vec<serde_json::Value>> =
            self.key.iter().zip(key).map(|(c, v)| self.column(c).and_then(|col| col.kind.canonical(v))).collect();
        let wanted = wanted?;
        self.rows.iter().find(|row| self.key.iter().zip(&wanted).all(|(c, v)| row.get(c) == Some(v)))
    }

    pub fn column(&self, id: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.id == id)
    }
}

/// A typed column of a table field or a reference table.
#[derive(Debug, Clone)]
pub struct Column {
    pub id: String,
    pub label: Label,
    pub kind: ColumnKind,
}

#[derive(Debug, Clone)]
pub enum ColumnKind {
    Text { max_len: usize },
    Int { min: i64, max: i64 },
    Money { min: Decimal, max: Decimal },
    Date,
    Choice { options: Vec<ChoiceOption> },
}

impl ColumnKind {
    /// The field type that holds the same values: a column is parsed and shown as it is.
    pub fn field_kind(&self) -> FieldKind {
        match self {
            ColumnKind::Text { max_len } => FieldKind::Text { max_len: *max_len },
            ColumnKind::Int { min, max } => FieldKind::Int { min: *min, max: *max },
            ColumnKind::Money { min, max } => FieldKind::Money { min: *min, max: *max },
            ColumnKind::Date => FieldKind::Date,
            ColumnKind::Choice { options } => FieldKind::Choice { options: options.clone() },
        }
    }

    /// The value in its canonical form, if it is one of this column's values.
    pub fn canonical(&self, value: &serde_json::Value) -> Option<serde_json::Value> {
        self.parse(value).ok()
    }

    /// A value written in a definition file (a reference table's cell, a key looked up) in the
    /// canonical form instance data keeps, or what is wrong with it.
    pub fn parse(&self, value: &serde_json::Value) -> Result<serde_json::Value, String> {
        use serde_json::Value;
        let text = value.as_str().map(str::trim);
        match self {
            ColumnKind::Text { max_len } => {
                let s = text.ok_or("expected text")?;
                crate::text::line(s, *max_len)
                    .map(|s| Value::String(s.to_owned()))
                    .map_err(|_| format!("expected one line of text of at most {max_len} characters"))
            }
            ColumnKind::Int { min, max } => {
                let n = match (value, text) {
                    (Value::Number(n), _) => n.as_i64(),
                    (_, Some(s)) => s.parse::<i64>().ok(),
                    _ => None,
                }
                .ok_or("expected a whole number")?;
                if n < *min || n > *max {
                    return Err(format!("{n} is outside {min}..={max}"));
                }
                Ok(Value::from(n))
            }
            ColumnKind::Money { min, max } => {
                let amount = match (value, text) {
                    (Value::Number(n), _) => {
                        n.as_i64().map(Decimal::from).ok_or("expected an amount such as \"1180.50\"")?
                    }
                    (_, Some(s)) => crate::definition::money::parse_money(s).map_err(|e| e.to_string())?,
                    _ => return Err("expected an amount such as \"1180.50\"".into()),
                };
                if amount < *min || amount > *max {
                    return Err(format!("{amount} is outside {min}..={max}"));
                }
                Ok(crate::definition::money::money_json(amount))
            }
            ColumnKind::Date => text
                .and_then(crate::definition::calendar::parse_date)
                .map(|d| Value::String(crate::definition::calendar::format_date(d)))
                .ok_or_else(|| "expected a date written YYYY-MM-DD".to_owned()),
            ColumnKind::Choice { options } => match text {
                Some(s) if options.iter().any(|o| o.id == s) => Ok(Value::String(s.to_owned())),
                _ => Err(format!(
                    "expected one of {}",
                    options.iter().map(|o| format!("{:?}", o.id)).collect::<Vec<_>>().join(", ")
                )),
            },
        }
    }

    /// The type's name as a definition file writes it.
    pub fn name(&self) -> &'static str {
        match self {
            ColumnKind::Text { .. } => "text",
            ColumnKind::Int { .. } => "int",
            ColumnKind::Money { .. } => "money",
            ColumnKind::Date => "date",
            ColumnKind::Choice { .. } => "choice",
        }
    }
}

/// A notice at the top of an instance's page while it is in one of `states` and, if given,
/// `when_set` holds a value. Its text holds `{field}` placeholders, filled with the values.
#[derive(Debug, Clone)]
pub struct Banner {
    pub states: Vec<String>,
    pub when_set: Option<String>,
    pub text: Label,
}

impl Banner {
    /// Whether the banner shows for an instance in `state` holding `data`.
    pub fn shows(&self, state: &str, data: &serde_json::Map<String, serde_json::Value>) -> bool {
        let set = |f: &String| {
            data.get(f)
                .is_some_and(|v| !v.is_null() && v.as_str() != Some("") && v.as_array().is_none_or(|a| !a.is_empty()))
        };
        self.states.iter().any(|s| s == state) && self.when_set.as_ref().is_none_or(set)
    }
}

/// The fields whose values at most one open instance holds: a second is refused, naming the
/// first. Claimed when the instance starts, freed when it finishes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UniqueKey {
    pub fields: Vec<String>,
}

impl UniqueKey {
    /// The key's text for these values (a JSON array, so "a","b" and "a,b" differ); none while
    /// any of its fields has no value.
    pub fn of(&self, data: &serde_json::Map<String, serde_json::Value>) -> Option<String> {
        let values: Option<Vec<&serde_json::Value>> =
            self.fields.iter().map(|f| data.get(f).filter(|v| !v.is_null())).collect();
        values.map(|v| serde_json::Value::from(v.into_iter().cloned().collect::<Vec<_>>()).to_string())
    }
}

/// How an instance is numbered: literal text, `{year}` and one `{seq}` or `{seq:0N}` (a sequence
/// counted per year where the pattern has `{year}`, else for ever; `0N` pads it to N digits).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumberPattern {
    pattern: String,
    width: usize,
}

impl NumberPattern {
    /// The pattern, or what is wrong with it.
    pub fn parse(pattern: &str) -> Result<NumberPattern, String> {
        let mut width = None;
        for name in placeholders(pattern) {
            match name {
                "year" => {}
                "seq" if width.is_none() => width = Some(0),
                seq if width.is_none()
                    && seq
                        .strip_prefix("seq:0")
                        .is_some_and(|n| matches!(n, "1" | "2" | "3" | "4" | "5" | "6" | "7" | "8" | "9")) =>
                {
                    width = seq.strip_prefix("seq:0").and_then(|n| n.parse().ok());
                }
                "seq" => return Err("a pattern has one {seq}".into()),
                other => return Err(format!("unknown placeholder {{{other}}}: use {{year}}, {{seq}} or {{seq:04}}")),
            }
        }
        let width = width.ok_or_else(|| "a pattern needs {seq} (or {seq:04})".to_owned())?;
        Ok(NumberPattern { pattern: pattern.to_owned(), width })
    }

    /// The counter a number is drawn from: the process's pattern, in the year if it has one.
    pub fn scope(&self, process: &str, year: i32) -> String {
        format!("{process}:{}", self.with_year(year))
    }

    fn with_year(&self, year: i32) -> String {
        self.pattern.replace("{year}", &year.to_string())
    }

    /// The number as written: "JS-2026-0007".
    pub fn format(&self, year: i32, seq: i64) -> String {
        let seq = format!("{seq:0width$}", width = self.width);
        fill_placeholders(&self.with_year(year), |name| name.starts_with("seq").then(|| seq.clone()))
    }
}

/// Those who may read an instance without acting in it: whoever acts in its parent (the
/// negotiators read a unit's assembly and its letter), or in one of its children (a unit's
/// secretary reads the round her assembly votes on).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reader {
    Parent,
    Children,
}

/// A printable document (a confirmation letter, the signed contract), issued in the listed
/// states. Its heading and text hold `{field}` placeholders, filled with the instance's values.
#[derive(Debug, Clone)]
pub struct Document {
    pub id: String,
    pub label: Label,
    pub states: Vec<String>,
    pub heading: Label,
    pub text: Label,
    pub signatures: Vec<Signature>,
}

#[derive(Debug, Clone)]
pub struct Signature {
    pub label: Label,
    pub by: Option<String>,
    pub on: String,
    /// Who really signed, and under which written delegation (a `sign` effect's fields).
    pub signer: Option<String>,
    pub delegation: Option<String>,
}

/// The `{field}` placeholders of a document's text, in order.
pub fn placeholders(text: &str) -> impl Iterator<Item = &str> {
    text.split('{').skip(1).filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
}

/// The text with each `{name}` that `value` knows replaced; anything else is kept as written.
pub fn fill_placeholders(text: &str, value: impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        match rest[open + 1..].split_once('}').and_then(|(name, after)| Some((value(name)?, after))) {
            Some((filled, after)) => {
                out.push_str(&filled);
                rest = after;
            }
            None => {
                out.push('{');
                rest = &rest[open + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Reference tables, as expressions look rows up in them.
impl crate::expr::Tables for Definition {
    fn row(&self, table: &str, key: &[serde_json::Value]) -> Option<&serde_json::Map<String, serde_json::Value>> {
        self.reference(table)?.find(key)
    }
}

impl Definition {
    /// The label of an event in `lang`, or its id when no transition takes it.
    pub fn event_label<'a>(&'a self, event: &'a str, lang: &str) -> &'a str {
        self.transitions.iter().find(|t| t.event == event).map_or(event, |t| t.label.get(lang))
    }

    pub fn state(&self, id: &str) -> Option<&State> {
        self.states.iter().find(|s| s.id == id)
    }
    pub fn field(&self, id: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.id == id)
    }
    /// The options of a choice field; none for any other field.
    pub fn choice_options(&self, id: &str) -> &[ChoiceOption] {
        match self.field(id).map(|f| &f.kind) {
            Some(FieldKind::Choice { options }) => options,
            _ => &[],
        }
    }
    /// The columns and row limit of a table field; none for any other field.
    pub fn table(&self, id: &str) -> Option<(&[Column], usize)> {
        match self.field(id).map(|f| &f.kind) {
            Some(FieldKind::Table { columns, max_rows }) => Some((columns, *max_rows)),
            _ => None,
        }
    }
    pub fn reference(&self, id: &str) -> Option<&ReferenceTable> {
        self.references.iter().find(|r| r.id == id)
    }
    pub fn document(&self, id: &str) -> Option<&Document> {
        self.documents.iter().find(|d| d.id == id)
    }
    pub fn stage(&self, id: &str) -> Option<&Stage> {
        self.stages.iter().find(|s| s.id == id)
    }
    /// The transitions that may leave (or stay in) `state`, in file order.
    pub fn transitions_from<'a, 's>(&'a self, state: &'s str) -> impl Iterator<Item = &'a Transition> + use<'a, 's> {
        self.transitions.iter().filter(move |t| t.from.iter().any(|f| f == state))
    }
    /// The first declaration of `event` from `state`: the one whose fields the form asks (every
    /// declaration of an event from one state asks the same fields).
    pub fn transition(&self, state: &str, event: &str) -> Option<&Transition> {
        self.transitions_from(state).find(|t| t.event == event)
    }
    /// Every declaration of `event` from `state`, in file order. An event declared more than once
    /// from a state is a choice: the first whose guards hold is taken (the checker makes every
    /// declaration but the last carry a guard).
    pub fn transitions_for<'a, 'b>(
        &'a self,
        state: &'b str,
        event: &'b str,
    ) -> impl Iterator<Item = &'a Transition> + use<'a, 'b> {
        self.transitions_from(state).filter(move |t| t.event == event)
    }
    /// Whether a decision may turn on who the actor acts for, or who holds a role: the runtime
    /// then reads written delegations (and role holders) before deciding.
    pub fn judges_people(&self) -> bool {
        self.transitions
            .iter()
            .flat_map(|t| &t.guards)
            .any(|g| matches!(g.guard, Guard::ActorIs(_) | Guard::RoleOrDelegate { .. }))
    }
    /// The roles `role_or_delegate` guards name: whose holders (and delegates) a decision must know.
    pub fn roles_judged(&self) -> Vec<&str> {
        let mut roles: Vec<&str> = self
            .transitions
            .iter()
            .flat_map(|t| &t.guards)
            .filter_map(|g| match &g.guard {
                Guard::RoleOrDelegate { role, .. } => Some(role.as_str()),
                _ => None,
            })
            .collect();
        roles.sort_unstable();
        roles.dedup();
        roles
    }
    pub fn has_event(&self, event: &str) -> bool {
        self.transitions.iter().any(|t| t.event == event)
    }
    /// The instance's display title from its data, or the definition's label when it has none.
    pub fn title_of(&self, data: &serde_json::Map<String, serde_json::Value>, lang: &str) -> String {
        self.title_named(data, lang, |_, _| None)
    }

    /// The title shown apart from the parent: with `title_from_parent`, the parent's title (as
    /// its own definition makes it) before the instance's own.
    pub fn title_beside_parent(&self, own: String, parent: Option<&str>) -> String {
        match parent.filter(|p| self.title_from_parent && !p.is_empty()) {
            Some(p) => format!("{p} · {own}"),
            None => own,
        }
    }

    /// The title, with values a field's source can name (a unit id → the unit's name) named.
    pub fn title_named(
        &self,
        data: &serde_json::Map<String, serde_json::Value>,
        lang: &str,
        name: impl Fn(&Field, &str) -> Option<String>,
    ) -> String {
        let parts: Vec<String> = self
            .title
            .iter()
            .filter_map(|f| data.get(f).map(|v| (f, v)))
            .map(|(f, v)| match v {
                serde_json::Value::String(s) => {
                    self.field(f).and_then(|field| name(field, s)).unwrap_or_else(|| s.clone())
                }
                other => other.to_string(),
            })
            .collect();
        if parts.is_empty() { self.label.get(lang).to_owned() } else { parts.join(" ") }
    }
}

#[derive(Debug, Clone)]
pub struct StartRule {
    pub roles: Vec<String>,
    pub ask: Vec<String>,
    pub optional: Vec<String>,
}

/// A role that acts only on instances whose `field` matches the actor.
#[derive(Debug, Clone)]
pub struct Scope {
    pub role: String,
    pub field: String,
    pub matches: ScopeMatch,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScopeMatch {
    /// The field holds a unit id, which must be one of the actor's units.
    Unit,
    /// The field holds a person's username, which must be the actor's.
    Person,
}

#[derive(Debug, Clone)]
pub struct Stage {
    pub id: String,
    pub label: Label,
    /// The stage the process rests in for its term once it has done its work (a contract in
    /// effect): its length is the term, not the work, so figures chart it apart.
    pub term: bool,
}

#[derive(Debug, Clone)]
pub struct State {
    pub id: String,
    pub stage: String,
    pub label: Label,
    pub is_final: bool,
    pub outcome: Option<Outcome>,
    pub timers: Vec<TimerSpec>,
    pub join: Option<JoinSpec>,
    /// A field that says why an instance is in this state (an assembly's objections); a parent
    /// shows it beside the child, so the reasons are gathered where the round is decided.
    pub summary: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Passed,
    Failed,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Passed => "passed",
            Outcome::Failed => "failed",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "passed" => Some(Outcome::Passed),
            "failed" => Some(Outcome::Failed),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct TimerSpec {
    pub id: String,
    pub fires: String,
    pub when: TimerWhen,
    /// A deadline on a rest day moves to the next working day.
    pub working_day: bool,
    /// Falls due again and again, a period more each time (`every`), until it is told to stop.
    pub repeat: Option<Repeat>,
}

/// How long a recurring timer keeps falling due: until the date in a field, and at most so many
/// times (either, both, or neither: for as long as its state lasts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repeat {
    pub until: Option<String>,
    pub count: Option<u32>,
}

#[derive(Debug, Clone)]
pub enum TimerWhen {
    /// A period counted from the day the state was entered.
    AfterEntry(Period),
    /// A period before or after a date held in a field.
    FromField { field: String, offset: Period, before: bool },
    /// A period before or after a date an expression gives (a year after the last visit, the
    /// later of two dates).
    FromExpr { date: crate::expr::Expression, offset: Period, before: bool },
}

#[derive(Debug, Clone)]
pub struct JoinSpec {
    pub pass: Quota,
    pub wait: JoinWait,
    pub on_pass: String,
    pub on_fail: String,
    pub collect: Option<JoinCollect>,
}

/// When a join decides, the parent keeps which children passed and which failed, each named by
/// the value of the children's `field` (a unit), in its own list fields: the units a contract
/// covers, and those left out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinCollect {
    pub field: String,
    pub passed: Option<String>,
    pub failed: Option<String>,
}

/// How many children must pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quota {
    All,
    AtLeast(u32),
    Share(Fraction),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinWait {
    /// Decide only when every child has decided.
    AllDecided,
    /// Decide as soon as the outcome can no longer change.
    Determined,
}

#[derive(Debug, Clone)]
pub struct Field {
    pub id: String,
    pub label: Label,
    pub kind: FieldKind,
    /// Where the values come from, when they name records kept outside the engine.
    pub source: Option<Source>,
    /// A list field of the same instance whose items are the only values allowed (the topics
    /// that go to the table are picked from those raised).
    pub pick_from: Option<String>,
    /// The value an instance starts with, from the record another of its fields names (the
    /// roster of the unit an assembly is for).
    pub default: Option<RecordDefault>,
    /// A field that must be given when this one is changed from the value it holds (a roster
    /// other than the unit's register needs its reason, kept in the data and the audit trail).
    pub change_reason: Option<String>,
    /// Asked again, the form starts from the value the instance holds (a new draft version
    /// starts from the last one), so nobody types it twice.
    pub revise: bool,
    /// The field's value is this expression over other fields, recomputed after every step (a
    /// household's figure per person, its tier); never asked in a form.
    pub compute: Option<crate::expr::Expression>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordDefault {
    /// The field holding the record's id (a field with a source).
    pub record: String,
    pub take: RecordValue,
}

/// What a field can take from a unit's record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordValue {
    /// The unit's roster size (an int field).
    RosterSize,
    /// The unit's roster by name (a list field); a unit without names gives nothing.
    Roster,
}

/// A directory whose ids a field holds: the web offers its entries and refuses unknown ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The unit directory (schools, kindergartens, enterprises).
    Units,
    /// The people who have an account: values are usernames, so a guard like `actor_is` can
    /// match the person signed in.
    People,
    /// The trainees of the cohort the instance belongs to (its parent), by their code in the
    /// cohort's roster: shown by name, never asked in a form (the cohort spawns them).
    Trainees,
}

#[derive(Debug, Clone)]
pub enum FieldKind {
    Text {
        max_len: usize,
    },
    LongText {
        max_len: usize,
    },
    Int {
        min: i64,
        max: i64,
    },
    Date,
    Bool,
    Choice {
        options: Vec<ChoiceOption>,
    },
    List {
        min_items: usize,
        max_items: usize,
    },
    /// A whole number per key (a level per competence, attendance per phase), written only by the
    /// `keep` effect, never asked for in a form.
    Map,
    /// An amount of yuan, exact to the fen, kept as a string with two decimals ("3500.00").
    Money {
        min: Decimal,
        max: Decimal,
    },
    /// Rows with typed columns (a measure's date, kind, amount and note), kept as a list of
    /// objects by column id; written only by the `add_row` effect, never asked for in a form.
    /// Every row is kept, two alike included.
    Table {
        columns: Vec<Column>,
        max_rows: usize,
    },
}

#[derive(Debug, Clone)]
pub struct ChoiceOption {
    pub id: String,
    pub label: Label,
}

#[derive(Debug, Clone)]
pub struct VoteRule {
    pub label: Label,
    pub quorum: Threshold,
    pub pass: Threshold,
    /// How a document says a vote passed under this rule ("经全体代表半数以上同意").
    pub wording: Option<Label>,
}

/// The placeholder of a document that prints how its vote passed, in the words of the rule the
/// vote was decided by.
pub const VOTE_WORDING: &str = "rule.wording";

/// "At least 2/3 of the roster", "more than 1/2 of those present".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Threshold {
    pub strict: bool,
    pub share: Fraction,
    pub of: VoteBase,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VoteBase {
    Roster,
    Present,
}

#[derive(Debug, Clone)]
pub struct Transition {
    pub event: String,
    pub from: Vec<String>,
    /// `None`: the instance stays in its state and its timers keep running.
    pub to: Option<String>,
    pub roles: Vec<String>,
    pub label: Label,
    pub ask: Vec<String>,
    pub optional: Vec<String>,
    pub guards: Vec<GuardRule>,
    pub effects: Vec<Effect>,
    /// Required of whoever may take it: "my work" lists instances where a task waits.
    pub task: bool,
    /// Back into its own state, the state's timers start again (by default they keep running:
    /// a call recorded each month does not put off the quarterly visit).
    pub restart_timers: bool,
    /// The file the step carries (its form has a file input), required or not.
    pub attachment: Option<AttachmentSpec>,
}

/// The file a step carries: what it is (the form's label) and whether the step needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentSpec {
    pub required: bool,
    pub label: Label,
}

impl Transition {
    pub fn is_system_only(&self) -> bool {
        self.roles.iter().all(|r| r == SYSTEM_ROLE)
    }
}

/// The role of the engine itself: timers and joins fire with it.
pub const SYSTEM_ROLE: &str = "system";

/// A guard of a transition, with the words its refusal reads in when the definition gives them
/// (`{field}` placeholders filled with the instance's values); else the built-in words.
#[derive(Debug, Clone, PartialEq)]
pub struct GuardRule {
    pub guard: Guard,
    pub message: Option<Label>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Guard {
    IsSet(String),
    IsUnset(String),
    IsTrue(String),
    Equals {
        field: String,
        value: serde_json::Value,
    },
    Compare {
        field: String,
        op: CompareOp,
        than: Operand,
    },
    SameCount(String, String),
    MinCount {
        field: String,
        min: usize,
    },
    MemberOf {
        field: String,
        list: String,
    },
    NotMemberOf {
        field: String,
        list: String,
    },
    /// No item of one list is an item of the other (nobody on both sides).
    Disjoint(String, String),
    ShareAtMost {
        list: String,
        part: String,
        share: Fraction,
    },
    ActorIs(String),
    /// The actor is not one of the people of this list (nobody signs for the other side).
    ActorNotIn(String),
    /// The person named in `field` holds `role` (the union chair), or a written delegation from
    /// someone who does.
    RoleOrDelegate {
        field: String,
        role: String,
    },
    Vote(VoteCheck),
    /// Every key has a value of at least `min` in the map.
    EachAtLeast {
        map: String,
        keys: MapKeys,
        min: i64,
    },
    /// A condition written as an expression over the fields.
    When(crate::expr::Expression),
}

/// The keys a map guard requires, resolved when the definition is loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MapKeys {
    /// The options of a choice field (every competence).
    Options { field: String, ids: Vec<String> },
    /// 1 up to the value of an int field (every phase).
    UpTo(String),
}

/// What a guard asks of the last vote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VoteCheck {
    Passed,
    Failed,
    /// Failed for want of a quorum: the vote did not count, and the assembly may meet again.
    NoQuorum,
}

impl VoteCheck {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "passed" => Some(VoteCheck::Passed),
            "failed" => Some(VoteCheck::Failed),
            "no_quorum" => Some(VoteCheck::NoQuorum),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            VoteCheck::Passed => "passed",
            VoteCheck::Failed => "failed",
            VoteCheck::NoQuorum => "no_quorum",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

impl CompareOp {
    pub fn symbol(self) -> &'static str {
        match self {
            CompareOp::Lt => "<",
            CompareOp::Le => "<=",
            CompareOp::Gt => ">",
            CompareOp::Ge => ">=",
            CompareOp::Eq => "=",
            CompareOp::Ne => "!=",
        }
    }
    pub fn holds(self, a: i64, b: i64) -> bool {
        match self {
            CompareOp::Lt => a < b,
            CompareOp::Le => a <= b,
            CompareOp::Gt => a > b,
            CompareOp::Ge => a >= b,
            CompareOp::Eq => a == b,
            CompareOp::Ne => a != b,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operand {
    Field(String),
    Number(i64),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    Spawn(SpawnSpec),
    Tally(TallySpec),
    /// A vote by name: the spec's fields are lists of people (roster, present, yes, no, abstain).
    RollCall(TallySpec),
    Count {
        list: String,
        into: String,
    },
    /// Adds the value of field `value` to list `list`, once.
    Append {
        list: String,
        value: String,
    },
    /// Writes the value of field `value` into map `map` under the value of field `key`.
    Keep {
        map: String,
        key: String,
        value: String,
    },
    Set {
        field: String,
        value: serde_json::Value,
    },
    Clear(String),
    Stamp(String),
    /// The next number of the pattern, written into `into` (a text field) by the store, in the
    /// step's transaction: gap-free, never two alike.
    Number {
        into: String,
        pattern: NumberPattern,
    },
    /// A signature: the date stamped into `on`, who signed into `signer`, and, when they signed
    /// under a written delegation from the person named in `for_field`, its number into
    /// `delegation`.
    Sign {
        for_field: String,
        on: String,
        signer: String,
        delegation: Option<String>,
    },
    AddYears {
        into: String,
        date: String,
        years: String,
        /// The result is the last day of the term (the day before the anniversary).
        last_day: bool,
    },
    Increment(String),
    Escalate(String),
    /// Fires this event (as the engine) on every child still open: a round withdrawn withdraws
    /// the units' votes it started.
    CloseChildren(String),
    /// Adds a row to table field `table`, each column (first) taken from a field the transition
    /// asks (second), in the table's column order. Never deduplicated.
    AddRow {
        table: String,
        from: Vec<(String, String)>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpawnSpec {
    pub definition: String,
    pub for_each: String,
    pub as_field: String,
    pub copy: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TallySpec {
    pub rule: String,
    pub roster: String,
    pub present: String,
    pub yes: String,
    pub no: String,
    pub abstain: String,
}

/// The roles of the organisation, from `roles.toml`.
#[derive(Debug, Clone, Default)]
pub struct Roles {
    pub roles: BTreeMap<String, Label>,
}
