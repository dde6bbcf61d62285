//! Group commit: fires made at once share commits on SQLite (one writer), and each is still its
//! own step — checked against its own version, chained in order, acknowledged only once on disk,
//! and refused, conflicting or failing alone. On PostgreSQL the same fires take today's path; the
//! behaviour a caller sees is the same on both.

use sea_orm::ConnectionTrait;
use unionflow::runtime::RuntimeError;

use crate::on_both_backends;
use crate::support::{Backend, Harness, admin, defs};

const TALLY: &str = r#"
id = "tally"
label = { zh = "计数", en = "Tally" }
initial = "open"

[start]
roles = ["admin"]
ask = []

[[stage]]
id = "main"
label = { zh = "主", en = "Main" }

[[state]]
id = "open"
stage = "main"
label = { zh = "在用", en = "Open" }

[[state]]
id = "closed"
stage = "main"
final = true
outcome = "passed"
label = { zh = "关闭", en = "Closed" }

[[transition]]
event = "count"
from = "open"
roles = ["admin"]
label = { zh = "记一次", en = "Count" }
task = false

[[transition]]
event = "close"
from = "open"
to = "closed"
roles = ["admin"]
label = { zh = "关闭", en = "Close" }
"#;

async fn harness(backend: Backend) -> Harness {
    Harness::new(backend, defs(&[("tally.toml", TALLY)])).await
}

async fn open(h: &Harness, n: usize) -> Vec<i64> {
    let (actor, nothing) = (admin(), Default::default());
    let starts = (0..n).map(|_| h.rt.start("tally", &actor, &nothing));
    futures_util::future::join_all(starts).await.into_iter().map(|r| r.expect("a start is kept")).collect()
}

async fn version(h: &Harness, id: i64) -> i64 {
    h.rt.instance(id).await.expect("instance").row.version
}

async fn chain_verifies(h: &Harness) {
    let verified = unionflow::store::audit::verify(&h.db.db).await.expect("verify");
    assert_eq!(verified.broken, None, "the audit chain verifies after {} events", verified.checked);
}

async fn many_fires_at_once_are_each_kept_and_chained_in_order(backend: Backend) {
    let h = harness(backend).await;
    // Starts made at once are kept too.
    let ids = open(&h, 8).await;
    let actor = admin();
    let nothing = Default::default();
    // Five fires on each of eight instances, all at once: same instances and distinct ones.
    let fires = (0..40).map(|i| h.rt.fire(ids[i % ids.len()], None, &actor, "count", &nothing));
    let results = futures_util::future::join_all(fires).await;
    assert!(results.iter().all(Result::is_ok), "every fire is acknowledged: {results:?}");
    for &id in &ids {
        assert_eq!(version(&h, id).await, 6, "instance {id}: its five acknowledged steps are all in the database");
        let events = h
            .count(&format!("SELECT COUNT(*) AS n FROM audit_events WHERE instance_id = {id} AND kind = 'transition'"))
            .await;
        assert_eq!(events, 5, "instance {id}: one audit event per step");
    }
    chain_verifies(&h).await;
}

async fn a_conflicting_or_refused_fire_among_many_fails_alone(backend: Backend) {
    let h = harness(backend).await;
    let ids = open(&h, 6).await;
    let contested = ids[0];
    let read_at = version(&h, contested).await;
    let actor = admin();
    let nothing = Default::default();
    // Four fires on what each read as the same version of one instance; a fire of an event the
    // instance does not have; and a fire on every other instance.
    let contest = (0..4).map(|_| h.rt.fire(contested, Some(read_at), &actor, "count", &nothing));
    let results = futures_util::future::join_all(
        contest
            .chain(std::iter::once(h.rt.fire(ids[1], None, &actor, "no_such_event", &nothing)))
            .chain(ids[2..].iter().map(|&id| h.rt.fire(id, None, &actor, "count", &nothing))),
    )
    .await;
    let (contest, rest) = results.split_at(4);
    assert_eq!(contest.iter().filter(|r| r.is_ok()).count(), 1, "one fire on the version read wins: {contest:?}");
    assert!(
        contest.iter().filter(|r| r.is_err()).all(|r| matches!(r, Err(RuntimeError::Conflict { .. }))),
        "the others are told of the conflict: {contest:?}"
    );
    assert!(matches!(rest[0], Err(RuntimeError::Refused(_))), "the unknown event is refused: {:?}", rest[0]);
    assert!(rest[1..].iter().all(Result::is_ok), "the fires beside them are kept: {rest:?}");
    assert_eq!(version(&h, contested).await, read_at + 1);
    assert_eq!(version(&h, ids[1]).await, 1, "the refused fire changed nothing");
    for &id in &ids[2..] {
        assert_eq!(version(&h, id).await, 2);
    }
    chain_verifies(&h).await;
}

async fn a_fire_whose_writes_fail_is_not_acknowledged_and_the_others_are_kept(backend: Backend) {
    let h = harness(backend).await;
    let ids = open(&h, 5).await;
    let doomed = ids[2];
    // The database refuses the audit event of one instance's steps, as a full disk or a broken
    // constraint would.
    let refuse = match backend {
        Backend::Sqlite => vec![format!(
            "CREATE TRIGGER refuse_one BEFORE INSERT ON audit_events
             WHEN NEW.instance_id = {doomed} AND NEW.kind = 'transition'
             BEGIN SELECT RAISE(ABORT, 'the test refuses this write'); END"
        )],
        Backend::Postgres => vec![
            "CREATE FUNCTION refuse_one() RETURNS trigger AS $$
             BEGIN RAISE EXCEPTION 'the test refuses this write'; END $$ LANGUAGE plpgsql"
                .to_owned(),
            format!(
                "CREATE TRIGGER refuse_one BEFORE INSERT ON audit_events FOR EACH ROW
                 WHEN (NEW.instance_id = {doomed} AND NEW.kind = 'transition') EXECUTE FUNCTION refuse_one()"
            ),
        ],
    };
    for sql in refuse {
        h.db.db.execute_unprepared(&sql).await.expect("install the refusing trigger");
    }
    let actor = admin();
    let nothing = Default::default();
    let fires = ids.iter().flat_map(|&id| [id, id]).map(|id| h.rt.fire(id, None, &actor, "count", &nothing));
    let results: Vec<_> = futures_util::future::join_all(fires).await;
    for (i, result) in results.iter().enumerate() {
        let id = ids[i / 2];
        if id == doomed {
            assert!(matches!(result, Err(RuntimeError::Db(_))), "the failing fire is not acknowledged: {result:?}");
        } else {
            assert!(result.is_ok(), "instance {id}'s fire is kept beside the failing one: {result:?}");
        }
    }
    assert_eq!(version(&h, doomed).await, 1, "nothing of the failing fires is in the database");
    for &id in ids.iter().filter(|&&id| id != doomed) {
        assert_eq!(version(&h, id).await, 3, "instance {id}: both its steps are in the database");
    }
    chain_verifies(&h).await;
}

/// Polls `fire` once: it starts (queues its step, or takes the write turn) and is left where it is.
async fn poll_once<F: std::future::Future + Unpin>(fire: &mut F) -> std::task::Poll<F::Output> {
    std::future::poll_fn(|cx| std::task::Poll::Ready(std::pin::Pin::new(&mut *fire).poll(cx))).await
}

/// A caller that goes away (a browser closed mid-request drops its handler) takes nothing of
/// anyone else's with it: the fires that shared its commit are still made and acknowledged.
async fn a_caller_gone_mid_commit_loses_no_one_elses_fire(backend: Backend) {
    let h = harness(backend).await;
    let ids = open(&h, 5).await;
    let (actor, nothing) = (admin(), Default::default());
    let mut fires: Vec<_> = ids.iter().map(|&id| Box::pin(h.rt.fire(id, None, &actor, "count", &nothing))).collect();
    // The first fire takes the write turn; the others queue behind it while it writes.
    for fire in &mut fires {
        assert!(poll_once(fire).await.is_pending(), "a fire waits at least for its commit");
    }
    let mut rest = fires.split_off(1);
    fires.remove(0).await.expect("the first fire is kept");
    // The second now writes every fire waiting, and its caller goes away before the commit.
    let mut gone = rest.remove(0);
    let _ = poll_once(&mut gone).await;
    drop(gone);
    for (fire, id) in rest.into_iter().zip(&ids[2..]) {
        assert!(fire.await.is_ok(), "instance {id}'s fire is kept though the caller it was written with left");
    }
    for &id in &ids[2..] {
        assert_eq!(version(&h, id).await, 2, "instance {id}: its step is in the database");
    }
    chain_verifies(&h).await;
}

on_both_backends! {
    group_commit_many => many_fires_at_once_are_each_kept_and_chained_in_order;
    group_commit_conflict => a_conflicting_or_refused_fire_among_many_fails_alone;
    group_commit_failure => a_fire_whose_writes_fail_is_not_acknowledged_and_the_others_are_kept;
    group_commit_caller_gone => a_caller_gone_mid_commit_loses_no_one_elses_fire;
}
