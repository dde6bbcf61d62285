//! `unionflow bench`'s second floor on SQLite: the sea-orm floor's rows and statements written
//! through SQLite's C API directly (rusqlite, on the same libsqlite3 sqlx links), with no ORM, no
//! async driver and no engine. Beside the sea-orm floor it shows what the driver costs.

use std::time::Duration;

use rusqlite::{Connection, params};

/// The file of a `sqlite://FILE?…` (or `sqlite:FILE`) URL; `None` for an in-memory database,
/// which a second connection could not share.
pub fn sqlite_path(url: &str) -> Option<&str> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && path != ":memory:").then_some(path)
}

/// Opens `path` with the pragmas of the app's own connection (`store::db::connect`): WAL,
/// `synchronous=FULL`, foreign keys, a 30 s busy timeout.
pub fn open(path: &str) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.busy_timeout(Duration::from_secs(30))?;
    Ok(conn)
}

/// The floor: `n` instances of a create and `transitions` transitions, every step its own
/// transaction, the same statements as the sea-orm floor, each prepared once.
pub fn floor(path: &str, schema: &str, tables: &[&str], n: usize, transitions: usize) -> anyhow::Result<usize> {
    let mut conn = open(path)?;
    for t in tables {
        conn.execute_batch(&format!("DROP TABLE IF EXISTS {t}"))?;
    }
    conn.execute_batch(schema)?;
    conn.execute(
        "INSERT INTO bench_floor_definitions (process, version, sha256, source, loaded_at) VALUES ('p', 1, 'x', 'x', 0)",
        [],
    )?;
    let (data, event, hash) = (crate::bench::FLOOR_DATA, crate::bench::FLOOR_EVENT, crate::audit::GENESIS);
    let audit = "INSERT INTO bench_floor_audit (stream, seq, at, actor, kind, process, instance_id, event, from_state, to_state, data, prev_hash, hash)
                 VALUES (?1, ?2, 0, 'bench', 'transition', 'p', ?3, 'e', 'a', 'b', ?4, ?5, ?5)";
    for i in 0..n {
        let stream = format!("floor:{i}");
        let txn = conn.transaction()?;
        let id: i64 = txn
            .prepare_cached(
                "INSERT INTO bench_floor_instances (definition_id, process, state, data, version, created_by, created_at, updated_at)
                 VALUES (1, 'p', 'start', ?1, 1, 'bench', 0, 0) RETURNING id",
            )?
            .query_row([data], |r| r.get(0))?;
        txn.prepare_cached("UPDATE bench_floor_instances SET audit_seq = 0, audit_hash = ?1 WHERE id = ?2")?
            .execute(params![hash, id])?;
        txn.prepare_cached(audit)?.execute(params![stream, 0i64, id, event, hash])?;
        txn.commit()?;
        for seq in 1..=transitions as i64 {
            let txn = conn.transaction()?;
            txn.prepare_cached(
                "UPDATE bench_floor_instances SET state = 'next', data = ?1, version = version + 1, updated_at = 1, audit_seq = ?2, audit_hash = ?3
                 WHERE id = ?4 AND version = ?2",
            )?
            .execute(params![data, seq, hash, id])?;
            txn.prepare_cached(audit)?.execute(params![stream, seq, id, event, hash])?;
            txn.commit()?;
        }
    }
    for t in tables {
        conn.execute_batch(&format!("DROP TABLE {t}"))?;
    }
    Ok(n * (transitions + 1))
}

#[cfg(test)]
mod tests {
    use super::sqlite_path;

    #[test]
    fn the_file_of_a_sqlite_url() {
        assert_eq!(sqlite_path("sqlite:///tmp/b.db?mode=rwc"), Some("/tmp/b.db"));
        assert_eq!(sqlite_path("sqlite://unionflow.db?mode=rwc"), Some("unionflow.db"));
        assert_eq!(sqlite_path("sqlite:x.db"), Some("x.db"));
        assert_eq!(sqlite_path("sqlite::memory:"), None);
        assert_eq!(sqlite_path("postgres://postgres@127.0.0.1/test"), None);
    }
}
