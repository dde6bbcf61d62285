//! The audit chain: intact, tampered in each way, and guarded by PostgreSQL itself.

use std::process::Command;

use sea_orm::ConnectionTrait;
use serde_json::json;

use crate::engine_store::{ROUND, VOTE};
use crate::on_both_backends;
use crate::support::{Backend, Harness, admin, data, defs};

async fn busy_history(backend: Backend) -> Harness {
    let h = Harness::new(backend, defs(&[("round.toml", ROUND), ("vote.toml", VOTE)])).await;
    for _ in 0..3 {
        let round = h.rt.start("round", &admin(), &data(json!({ "units": ["u1", "u2"] }))).await.unwrap();
        h.rt.fire(round, None, &admin(), "send", &data(json!({ "draft": 1 }))).await.unwrap();
    }
    h
}

fn verify_cli(h: &Harness) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_unionflow"))
        .args(["audit", "verify"])
        .env("DATABASE_URL", &h.db.url)
        .output()
        .expect("run unionflow audit verify");
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Lets the test play the attacker on PostgreSQL, where the table refuses changes.
async fn unguard(h: &Harness) {
    if h.db.backend == Backend::Postgres {
        h.db.db.execute_unprepared("ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_change").await.unwrap();
    }
}

async fn an_intact_chain_verifies_with_its_count(backend: Backend) {
    let h = busy_history(backend).await;
    let total = h.count("SELECT COUNT(*) AS n FROM audit_events").await;
    assert_eq!(total, 3 * (1 + 1 + 2), "start, send and two spawned children per round");
    let report = unionflow::store::audit::verify(&h.db.db).await.unwrap();
    assert_eq!((report.checked, report.broken), (total as u64, None));
    let (ok, out) = verify_cli(&h);
    assert!(ok, "{out}");
    assert!(out.contains(&format!("{total} events verified")), "{out}");
}

async fn an_edited_row_is_named(backend: Backend) {
    let h = busy_history(backend).await;
    unguard(&h).await;
    let victim = h.count("SELECT MIN(id) + 4 AS n FROM audit_events").await;
    h.db.db
        .execute_unprepared(&format!("UPDATE audit_events SET actor = 'mallory' WHERE id = {victim}"))
        .await
        .unwrap();
    let report = unionflow::store::audit::verify(&h.db.db).await.unwrap();
    let broken = report.broken.expect("the edit is detected");
    assert_eq!(broken.id, Some(victim));
    let (ok, out) = verify_cli(&h);
    assert!(!ok);
    assert!(out.contains(&format!("event {victim} ")), "names the event: {out}");
}

async fn a_deleted_row_breaks_the_chain_after_it(backend: Backend) {
    let h = busy_history(backend).await;
    unguard(&h).await;
    let stream_of_first_round = "instance:1";
    let first =
        h.count(&format!("SELECT MIN(id) AS n FROM audit_events WHERE stream = '{stream_of_first_round}'")).await;
    h.db.db.execute_unprepared(&format!("DELETE FROM audit_events WHERE id = {first}")).await.unwrap();
    let broken = unionflow::store::audit::verify(&h.db.db).await.unwrap().broken.expect("detected");
    assert_eq!(broken.stream, stream_of_first_round);
    assert!(matches!(broken.reason, unionflow::audit::ChainBreak::SeqGap { expected: 0, found: 1 }), "{broken}");
}

async fn a_deleted_last_row_is_detected_from_the_head(backend: Backend) {
    let h = busy_history(backend).await;
    unguard(&h).await;
    let last = h.count("SELECT MAX(id) AS n FROM audit_events").await;
    h.db.db.execute_unprepared(&format!("DELETE FROM audit_events WHERE id = {last}")).await.unwrap();
    let broken = unionflow::store::audit::verify(&h.db.db).await.unwrap().broken.expect("detected");
    assert!(matches!(broken.reason, unionflow::audit::ChainBreak::Truncated { .. }), "{broken}");
}

async fn swapped_rows_are_detected(backend: Backend) {
    let h = busy_history(backend).await;
    unguard(&h).await;
    // Swap the data of the first two events of one stream.
    let a = h.count("SELECT MIN(id) AS n FROM audit_events WHERE stream = 'instance:1'").await;
    let b = h.count(&format!("SELECT MIN(id) AS n FROM audit_events WHERE stream = 'instance:1' AND id > {a}")).await;
    h.db.db.execute_unprepared(&format!("UPDATE audit_events SET seq = -1 WHERE id = {a}")).await.unwrap();
    h.db.db.execute_unprepared(&format!("UPDATE audit_events SET seq = 0 WHERE id = {b}")).await.unwrap();
    h.db.db.execute_unprepared(&format!("UPDATE audit_events SET seq = 1 WHERE id = {a}")).await.unwrap();
    let broken = unionflow::store::audit::verify(&h.db.db).await.unwrap().broken.expect("detected");
    assert_eq!(broken.id, Some(b));
}

on_both_backends! {
    intact => an_intact_chain_verifies_with_its_count;
    edited => an_edited_row_is_named;
    deleted => a_deleted_row_breaks_the_chain_after_it;
    truncated => a_deleted_last_row_is_detected_from_the_head;
    swapped => swapped_rows_are_detected;
}

#[tokio::test]
#[ignore = "needs PostgreSQL: set UNIONFLOW_TEST_PG and run with --include-ignored"]
async fn postgres_refuses_to_change_or_delete_audit_events() {
    let h = busy_history(Backend::Postgres).await;
    for sql in ["UPDATE audit_events SET actor = 'mallory'", "DELETE FROM audit_events", "TRUNCATE audit_events"] {
        let err = h.db.db.execute_unprepared(sql).await.expect_err("refused");
        assert!(err.to_string().contains("append-only"), "{sql}: {err}");
    }
    assert!(unionflow::store::audit::verify(&h.db.db).await.unwrap().broken.is_none());
}
