//! Why the engine refuses an event. Every refusal names its cause in words a user can act on.

use crate::definition::{Label, Outcome};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("there is no event {event:?} in this process")]
    UnknownEvent { event: String },
    #[error("{event:?} cannot be done in state {state:?}")]
    NotFromState { event: String, state: String },
    #[error("the process has ended (state {state:?})")]
    Finished { state: String },
    #[error("only {} may do this", roles.join(", "))]
    RoleNotAllowed { roles: Vec<String> },
    #[error("you may act here only where {field:?} is yours")]
    OutOfScope { field: String },
    #[error("{event:?} is done by the system (a timer or a join), not by a person")]
    SystemOnly { event: String },
    /// A guard that does not hold, with the words the definition gives its refusal, if any.
    #[error("{0}")]
    Guard(GuardFailure, Option<Box<Label>>),
    #[error("{}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "))]
    Input(Vec<FieldError>),
    #[error("{0}")]
    Tally(TallyError),
    /// Names of a roll call that do not add up, every one of them.
    #[error("{}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "))]
    Ballots(Vec<TallyError>),
    #[error("timer {timer:?} needs the date in field {field:?}")]
    TimerNeedsDate { timer: String, field: String },
    /// A deadline past the dates the calendar counts (a date field in the year 9999).
    #[error("the deadline of {event:?} falls outside the dates a calendar can count")]
    DeadlineOutOfRange { event: String },
    #[error("this process cannot be started by hand")]
    NotStartable,
    #[error("instance #{open} is open with the same {fields:?}")]
    Duplicate { fields: Vec<String>, open: i64 },
    /// A row beyond a table field's stated limit.
    #[error("{table:?} holds at most {max} rows")]
    TableFull { table: String, max: usize },
    /// The actor asked to act for someone they do not stand in for today.
    #[error("you are not {absent}'s substitute today: {gap}")]
    NotSubstitute { absent: String, gap: SubstituteGap },
    /// The step must carry a file (the definition's `attachment = { required = true, .. }`).
    #[error("this step needs an attachment: {}", .0.en)]
    AttachmentRequired(Box<Label>),
    /// A file came with a step whose definition takes none.
    #[error("this step takes no attachment")]
    AttachmentNotTaken,
}

/// Why a substitution is not in force today, as the refusal says it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubstituteGap {
    #[error("no substitution names you")]
    None,
    #[error("it begins on {from}")]
    NotYet { from: String },
    #[error("it ended on {until}")]
    Over { until: String },
    #[error("it was ended early on {on}")]
    Ended { on: String },
}

/// A guard that does not hold, with what it asked for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GuardFailure {
    #[error("{field:?} must be given first")]
    NotSet { field: String },
    #[error("{field:?} is already set")]
    AlreadySet { field: String },
    #[error("{field:?} must be yes")]
    NotTrue { field: String },
    #[error("{field:?} must be {expected}")]
    NotEqual { field: String, expected: String },
    #[error("{field:?} ({value}) must be {op} {than}")]
    Compare { field: String, value: String, op: &'static str, than: String, than_field: Option<String> },
    #[error("{a:?} has {a_count} and {b:?} has {b_count}: they must be equal")]
    CountsDiffer { a: String, a_count: usize, b: String, b_count: usize },
    #[error("{field:?} has {count}; at least {min} are needed")]
    TooFew { field: String, count: usize, min: usize },
    #[error("{value:?} ({field:?}) must be one of {list:?}")]
    NotMember { field: String, list: String, value: String },
    #[error("{value:?} ({field:?}) must not be one of {list:?}")]
    Member { field: String, list: String, value: String },
    #[error("{item:?} cannot be in both {a:?} and {b:?}")]
    InBoth { a: String, b: String, item: String },
    #[error("{part_count} of the {total} in {list:?} are in {part:?}; at most {share} may be")]
    ShareTooLarge { list: String, part: String, part_count: usize, total: usize, share: String },
    #[error("whoever is in {list:?} may not do this")]
    ActorIn { list: String },
    #[error("the person named in {field:?} must hold the role {role:?} or its written delegation")]
    NotRoleOrDelegate { field: String, role: String },
    #[error("only the person named in {field:?} may do this")]
    NotTheActor { field: String },
    #[error("the vote must have {expected}")]
    Vote { expected: &'static str },
    /// A condition written as an expression that does not hold, with the values it read.
    #[error("the condition {} does not hold", condition.source())]
    Condition { condition: crate::expr::Expression, values: Vec<(String, serde_json::Value)> },
    /// A computed field that cannot be computed: a reference table without the row, a division
    /// by zero.
    #[error("field {field:?} cannot be computed: {why}")]
    NotComputed { field: String, why: crate::expr::EvalError },
    /// A condition that cannot be judged: a reference table without the row, a division by zero.
    #[error("the condition {} cannot be judged: {why}", condition.source())]
    Uncomputable { condition: crate::expr::Expression, why: crate::expr::EvalError },
    #[error("{map:?} for {key:?} is {found:?}; at least {min} is needed")]
    BelowInMap { map: String, keys_field: String, key: String, found: Option<i64>, min: i64 },
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct FieldError {
    pub field: String,
    pub problem: FieldProblem,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FieldProblem {
    #[error("is required")]
    Missing,
    #[error("is not asked for here")]
    NotAsked,
    #[error("must be a whole number")]
    NotANumber,
    #[error("must be at least {min}")]
    TooSmall { min: i64 },
    #[error("must be at most {max}")]
    TooLarge { max: i64 },
    #[error("must be at most {max} characters")]
    TooLong { max: usize },
    #[error("must be a date (YYYY-MM-DD)")]
    NotADate,
    #[error("must be a date from {min} to {max}")]
    DateOutOfRange { min: &'static str, max: &'static str },
    #[error("must be yes or no")]
    NotABool,
    #[error("must be one of the options")]
    NotAnOption,
    #[error("needs at least {min} items")]
    TooFewItems { min: usize },
    #[error("may have at most {max} items")]
    TooManyItems { max: usize },
    #[error("lists {item:?} twice")]
    Duplicate { item: String },
    #[error("must be text")]
    NotText,
    #[error("must be an amount, such as 3500 or 3,500.50")]
    NotMoney,
    #[error("has at most two decimals")]
    MoneyDecimals,
    #[error("must be at least {min}")]
    MoneyTooSmall { min: rust_decimal::Decimal },
    #[error("must be at most {max}")]
    MoneyTooLarge { max: rust_decimal::Decimal },
    #[error("{item:?} is not in the directory")]
    NotInDirectory { item: String },
    #[error("is needed to change {field:?} from the value it holds")]
    ReasonNeeded { field: String },
    #[error("takes one value, not several ({given})")]
    OnlyOne { given: String },
    #[error("{item:?} is not one of {from:?}")]
    NotOffered { item: String, from: String },
    #[error("contains a control character (U+{0:04X})")]
    ControlCharacter(u32),
    #[error("contains an invisible or direction-changing character (U+{0:04X})")]
    Deceptive(u32),
}

impl From<crate::text::TextProblem> for FieldProblem {
    fn from(p: crate::text::TextProblem) -> Self {
        match p {
            crate::text::TextProblem::Control(c) => FieldProblem::ControlCharacter(c),
            crate::text::TextProblem::Deceptive(c) => FieldProblem::Deceptive(c),
            crate::text::TextProblem::TooLong(max) => FieldProblem::TooLong { max },
        }
    }
}

/// Counts of a vote that cannot all be true.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TallyError {
    #[error("present ({present}) cannot exceed the roster ({roster})")]
    PresentAboveRoster { present: u64, roster: u64 },
    #[error("yes + no + abstain ({cast}) cannot exceed those present ({present})")]
    VotesAbovePresent { cast: u64, present: u64 },
    #[error("the vote needs {field:?} as a number of at least 0")]
    MissingCount { field: String },
    #[error("{name} is not on the roster")]
    NotOnRoster { name: String },
    #[error("{name} voted but is not recorded as present")]
    VotedButAbsent { name: String },
    #[error("{name} is recorded with more than one vote")]
    VotedTwice { name: String },
}
