//! The engine: pure, synchronous decisions. Given a definition, an instance's state and data, an
//! actor and an event, it says whether the event is allowed (and why not), and what it does: the
//! new state and data, the timers to start, the children to spawn. It does no I/O; the store
//! applies what it decides.

mod actor;
mod decide;
mod guards;
mod input;
mod join;
pub mod migrate;
mod refusal;
pub mod report;
mod timers;
mod vote;

pub use actor::{Actor, Delegated, PeopleFacts, Substituting};
pub use decide::{
    Attached, Context, Decision, EventOption, NumberOrder, SpawnOrder, Started, decide, decide_attached, options,
    spawned, start,
};
pub use input::{Data, parse_kind, parse_value};
pub use join::{ChildTally, JoinStatus, evaluate_join};
pub use refusal::{FieldError, FieldProblem, GuardFailure, Refusal, SubstituteGap, TallyError};
pub use timers::{Deadline, TimerStart, base_of, deadline, deadline_of, next_occurrence, shift, timers_for_state};
pub use vote::{VoteCounts, VoteResult, count_vote};

/// The key under which the last tally's result is kept in an instance's data.
pub const VOTE_KEY: &str = "vote";
/// The key under which escalations (roles asked to look at an instance) are kept.
pub const ESCALATIONS_KEY: &str = "escalations";
