//! The shape of a definition file as TOML gives it, with source spans kept on every name that
//! refers to something else, so the loader can point at the exact place of a problem.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

use crate::definition::model::Label;

pub type S = Spanned<String>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDefinition {
    pub id: S,
    pub label: Label,
    pub initial: S,
    #[serde(default)]
    pub title: Vec<S>,
    /// Whether an instance started by a parent is titled with the parent's title before its own.
    #[serde(default)]
    pub title_from_parent: bool,
    pub start: Option<RawStart>,
    #[serde(default)]
    pub scope: Vec<RawScope>,
    #[serde(default)]
    pub stage: Vec<RawStage>,
    #[serde(default)]
    pub state: Vec<RawState>,
    #[serde(default)]
    pub field: Vec<RawField>,
    #[serde(default)]
    pub vote_rule: BTreeMap<String, RawVoteRule>,
    #[serde(default)]
    pub transition: Vec<RawTransition>,
    #[serde(default)]
    pub document: Vec<RawDocument>,
    #[serde(default)]
    pub read_by: Vec<crate::definition::Reader>,
    #[serde(default)]
    pub unique: Vec<RawUnique>,
    #[serde(default)]
    pub banner: Vec<RawBanner>,
    #[serde(default)]
    pub report: Vec<crate::definition::report::RawReport>,
    #[serde(default)]
    pub reference: Vec<RawReference>,
}

/// A table of data in the definition: typed columns, a key, and rows written positionally in
/// the columns' order (`rows = [["江山市", 2026, "1180"]]`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawReference {
    pub id: S,
    pub label: Label,
    pub key: Vec<S>,
    pub columns: Vec<Spanned<RawColumn>>,
    #[serde(default)]
    pub rows: Vec<Spanned<Vec<Spanned<toml::Value>>>>,
}

/// A column of a table field or a reference table: `{ id = "amount", type = "money" }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawColumn {
    pub id: S,
    #[serde(rename = "type")]
    pub kind: S,
    pub label: Option<Label>,
    pub max_len: Option<usize>,
    pub min: Option<Spanned<RawNumber>>,
    pub max: Option<Spanned<RawNumber>>,
    pub options: Option<Vec<RawOption>>,
}

/// A bound as written: a whole number, or (for money) a decimal amount as a string ("1180.50").
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged, expecting = "expected a whole number, or an amount as a string such as \"1180.50\"")]
pub enum RawNumber {
    Int(i64),
    Text(String),
}

/// A notice at the top of an instance's page while it is in one of `states` and `when_set` holds
/// a value; its text names fields as `{field}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBanner {
    pub states: Vec<S>,
    pub when_set: Option<S>,
    pub text: Spanned<Label>,
}

/// Fields whose values at most one open instance may hold (one household, one open case).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawUnique {
    pub fields: Vec<S>,
}

/// A printable document the instance issues in some states: a letter or a contract whose text
/// names fields as `{field}`, with signature lines.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDocument {
    pub id: S,
    pub label: Label,
    pub states: Vec<S>,
    pub heading: Spanned<Label>,
    pub text: Spanned<Label>,
    #[serde(default)]
    pub signatures: Vec<RawSignature>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSignature {
    pub label: Label,
    /// The field naming who signs, if the document names them.
    pub by: Option<S>,
    /// The date field the engine stamped when they signed.
    pub on: S,
    /// Who signed, and the written delegation they signed under (see the `sign` effect).
    pub signer: Option<S>,
    pub delegation: Option<S>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStart {
    pub roles: Vec<S>,
    #[serde(default)]
    pub ask: Vec<S>,
    #[serde(default)]
    pub optional: Vec<S>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScope {
    pub role: S,
    pub field: S,
    pub matches: S,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStage {
    pub id: S,
    pub label: Label,
    #[serde(default)]
    pub term: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawState {
    pub id: S,
    pub stage: S,
    pub label: Label,
    #[serde(default, rename = "final")]
    pub is_final: bool,
    pub outcome: Option<S>,
    #[serde(default)]
    pub timer: Vec<RawTimer>,
    pub join: Option<RawJoin>,
    pub summary: Option<S>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTimer {
    pub id: S,
    pub fires: S,
    pub after: Option<S>,
    pub before: Option<S>,
    pub date: Option<S>,
    pub working_day: Option<bool>,
    /// Again and again: a period counted from the same base, once more each time.
    pub every: Option<S>,
    /// A recurring timer's last day: a date field; no occurrence falls after it.
    pub until: Option<S>,
    /// How many times at most a recurring timer falls due.
    pub count: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawJoin {
    pub pass: Spanned<RawQuota>,
    pub wait: Option<S>,
    pub on_pass: S,
    pub on_fail: S,
    pub collect: Option<RawCollect>,
}

/// Which children passed and which failed, kept in the parent when the join decides.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCollect {
    /// The children's field that names each of them (the fan-out's `as`).
    pub field: S,
    pub passed: Option<S>,
    pub failed: Option<S>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged, expecting = "expected \"all\", { at_least = N } or { share = \"2/3\" }")]
pub enum RawQuota {
    Word(String),
    AtLeast { at_least: u32 },
    Share { share: String },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawField {
    pub id: S,
    #[serde(rename = "type")]
    pub kind: S,
    pub label: Label,
    pub min: Option<Spanned<RawNumber>>,
    pub max: Option<Spanned<RawNumber>>,
    pub max_len: Option<usize>,
    /// A table field's columns, and the most rows it holds.
    pub columns: Option<Vec<Spanned<RawColumn>>>,
    pub max_rows: Option<Spanned<usize>>,
    pub min_items: Option<Spanned<usize>>,
    pub max_items: Option<usize>,
    pub options: Option<Vec<RawOption>>,
    pub source: Option<S>,
    pub pick_from: Option<S>,
    pub default: Option<Spanned<RawRecordDefault>>,
    pub change_reason: Option<S>,
    #[serde(default)]
    pub revise: bool,
    /// An expression over other fields: the field's value, recomputed whenever they change.
    pub compute: Option<S>,
}

/// `default = { record = "unit", take = "roster_size" }`: the field starts from what the record
/// that field `record` names holds.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRecordDefault {
    pub record: S,
    pub take: S,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOption {
    pub id: String,
    pub label: Label,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawVoteRule {
    pub label: Label,
    pub quorum: Spanned<RawThreshold>,
    pub pass: Spanned<RawThreshold>,
    pub wording: Option<Label>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawThreshold {
    pub at_least: Option<S>,
    pub more_than: Option<S>,
    pub of: S,
}

/// One name or a list of names. (Spans cannot pass through an untagged enum, so the whole value
/// carries one span.)
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged, expecting = "expected a state, or a list of states such as [\"open\", \"review\"]")]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTransition {
    pub event: S,
    pub from: Spanned<OneOrMany>,
    pub to: Option<S>,
    pub roles: Vec<S>,
    pub label: Label,
    #[serde(default)]
    pub ask: Vec<S>,
    #[serde(default)]
    pub optional: Vec<S>,
    #[serde(default)]
    pub guards: Vec<Spanned<RawGuardEntry>>,
    #[serde(default)]
    pub effects: Vec<Spanned<RawEffect>>,
    /// Whether the step is required of whoever may take it (shown in their work list); false for
    /// what may be done but need not be (withdraw, reassign, log a service).
    #[serde(default = "yes")]
    pub task: bool,
    /// A transition back into its own state keeps that state's timers running unless this is set.
    #[serde(default)]
    pub restart_timers: bool,
    /// A file the step carries: `attachment = { required = true, label = { zh = "…", en = "…" } }`.
    pub attachment: Option<Spanned<RawAttachment>>,
}

/// The file a step carries, as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAttachment {
    #[serde(default)]
    pub required: bool,
    pub label: Label,
}

fn yes() -> bool {
    true
}

/// A guard as written: its one rule, and optionally the words its refusal reads in
/// (`{ same_count = [...], message = { zh = "…", en = "…" } }`).
#[derive(Debug)]
pub struct RawGuardEntry {
    pub guard: RawGuard,
    pub message: Option<Label>,
}

impl<'de> Deserialize<'de> for RawGuardEntry {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(GuardEntryVisitor)
    }
}

/// The rule is read straight from its value in the file, so problems inside it keep their
/// place; beside it at most a `message`, and nothing else. (TOML gives a table's keys in no
/// particular order, so `message` may come first.)
struct GuardEntryVisitor;

impl<'de> serde::de::Visitor<'de> for GuardEntryVisitor {
    type Value = RawGuardEntry;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a guard such as { is_set = \"field\" }, optionally with a message")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        use serde::de::Error;
        let (mut guard, mut message) = (None, None);
        while let Some(key) = map.next_key::<String>()? {
            if key == "message" {
                message = Some(map.next_value::<Label>()?);
            } else if guard.is_some() {
                return Err(A::Error::custom(format!("a guard has one rule; {key:?} is a second")));
            } else {
                guard = Some(map.next_value_seed(RuleSeed(key))?);
            }
        }
        let guard = guard.ok_or_else(|| A::Error::custom("a guard needs a rule, such as { is_set = \"field\" }"))?;
        Ok(RawGuardEntry { guard, message })
    }
}

/// The rule named `.0`, from its value: the enum `RawGuard` read as if tagged by that key.
struct RuleSeed(String);

impl<'de> serde::de::DeserializeSeed<'de> for RuleSeed {
    type Value = RawGuard;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<RawGuard, D::Error> {
        RawGuard::deserialize(Tagged(self.0, d))
    }
}

struct Tagged<D>(String, D);

impl<'de, D: serde::Deserializer<'de>> serde::Deserializer<'de> for Tagged<D> {
    type Error = D::Error;

    fn deserialize_any<V: serde::de::Visitor<'de>>(self, v: V) -> Result<V::Value, D::Error> {
        v.visit_enum(self)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option unit
        unit_struct newtype_struct seq tuple tuple_struct map struct enum identifier ignored_any
    }
}

impl<'de, D: serde::Deserializer<'de>> serde::de::EnumAccess<'de> for Tagged<D> {
    type Error = D::Error;
    type Variant = RuleValue<D>;

    fn variant_seed<V: serde::de::DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, Self::Variant), D::Error> {
        use serde::de::IntoDeserializer;
        let variant = seed.deserialize(self.0.into_deserializer())?;
        Ok((variant, RuleValue(self.1)))
    }
}

/// A rule's value, read as its variant asks.
struct RuleValue<D>(D);

impl<'de, D: serde::Deserializer<'de>> serde::de::VariantAccess<'de> for RuleValue<D> {
    type Error = D::Error;

    fn unit_variant(self) -> Result<(), D::Error> {
        serde::de::IgnoredAny::deserialize(self.0).map(|_| ())
    }

    fn newtype_variant_seed<T: serde::de::DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, D::Error> {
        seed.deserialize(self.0)
    }

    fn tuple_variant<V: serde::de::Visitor<'de>>(self, len: usize, v: V) -> Result<V::Value, D::Error> {
        self.0.deserialize_tuple(len, v)
    }

    fn struct_variant<V: serde::de::Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_struct("guard", fields, v)
    }
}
#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum RawGuard {
    IsSet(String),
    IsUnset(String),
    IsTrue(String),
    Equals {
        field: String,
        value: toml::Value,
    },
    Compare {
        field: String,
        op: String,
        than: toml::Value,
    },
    SameCount([String; 2]),
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
    Disjoint([String; 2]),
    ShareAtMost {
        list: String,
        part: String,
        share: String,
    },
    ActorIs(String),
    ActorNotIn(String),
    RoleOrDelegate {
        field: String,
        role: String,
    },
    Vote(String),
    EachAtLeast {
        map: String,
        keys: String,
        min: i64,
    },
    /// A condition written as an expression.
    When(Spanned<String>),
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum RawEffect {
    Spawn {
        definition: String,
        for_each: String,
        #[serde(rename = "as")]
        as_field: String,
        #[serde(default)]
        copy: Vec<String>,
    },
    Tally(RawTally),
    RollCall(RawTally),
    Count {
        list: String,
        into: String,
    },
    Append {
        list: String,
        value: String,
    },
    Keep {
        map: String,
        key: String,
        value: String,
    },
    Set {
        field: String,
        value: toml::Value,
    },
    Clear(String),
    Stamp(String),
    Number {
        into: String,
        pattern: String,
    },
    Sign {
        #[serde(rename = "for")]
        for_field: String,
        on: String,
        signer: String,
        delegation: Option<String>,
    },
    AddYears {
        into: String,
        date: String,
        years: String,
        /// The last day of a term of that many years from `date`: the day before the anniversary.
        #[serde(default)]
        last_day: bool,
    },
    Increment(String),
    Escalate(String),
    CloseChildren(String),
    AddRow {
        table: String,
        /// Column id → the field of the transition its value comes from.
        from: BTreeMap<String, String>,
    },
}

/// The fields a vote reads: counts for a tally, lists of names for a roll call.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTally {
    pub rule: String,
    pub roster: String,
    pub present: String,
    pub yes: String,
    pub no: String,
    pub abstain: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRoles {
    pub role: BTreeMap<String, RawRole>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRole {
    pub label: Label,
}
