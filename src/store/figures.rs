//! What the bargaining figures read beyond the rounds themselves: the states a round passed
//! through, and when, from its audit stream.

use sea_orm::{ConnectionTrait, DbErr, FromQueryResult};

use crate::store::db::rows;

/// One step of an instance's history: when it happened, and the state it led to (none for
/// events that changed no state).
#[derive(Debug, Clone, PartialEq, Eq, FromQueryResult)]
pub struct StateEntered {
    pub at: i64,
    pub to_state: Option<String>,
}

/// The steps of an instance's audit stream, in order.
pub async fn history<C: ConnectionTrait>(c: &C, instance: i64) -> Result<Vec<StateEntered>, DbErr> {
    rows(
        c,
        "SELECT at, to_state FROM audit_events WHERE stream = $1 ORDER BY seq",
        vec![crate::store::audit::instance_stream(instance).into()],
    )
    .await
}
