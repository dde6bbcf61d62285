#!/usr/bin/env python3
"""The Python stdlib floor for `unionflow bench` on SQLite: the rows and statements of the bench's
floors (an instance row, its audit-chain head and an audit event per create; the row and an audit
event per transition), every step its own transaction, in tables of the engine's exact shape (read
from the engine's migration), with the app's pragmas (WAL, synchronous=FULL, foreign keys).

    python3 benches/floor_sqlite.py [--instances 300] [--rounds 3] [FILE]

Prints the median round's instances/s, steps/s and CPU s per N instances (this process, user +
system), to set beside `unionflow bench`'s table.
"""
import argparse
import os
import pathlib
import re
import sqlite3
import statistics
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
MIGRATION = ROOT / "migrations/src/m20261128_000001_engine.rs"
RENAMES = [
    ("audit_heads", "bench_floor_heads"),
    ("audit_events", "bench_floor_audit"),
    ("timers", "bench_floor_timers"),
    ("instances", "bench_floor_instances"),
    ("definitions", "bench_floor_definitions"),
]
TABLES = [new for _, new in RENAMES]
TRANSITIONS = 4
DATA = '{"abstain":0,"assembly_date":"2026-12-01","draft_version":1,"kind":"representatives","roster_size":25,"unit":"bench"}'
EVENT = '{"input":{"present":20,"yes":15},"spawned":0,"vote":null}'
GENESIS = "0" * 64
AUDIT = (
    "INSERT INTO bench_floor_audit (stream, seq, at, actor, kind, process, instance_id, event, from_state, to_state, data, prev_hash, hash) "
    "VALUES (?1, ?2, 0, 'bench', 'transition', 'p', ?3, 'e', 'a', 'b', ?4, ?5, ?5)"
)


def schema():
    text = MIGRATION.read_text()
    script = re.search(r'pub const SCHEMA: &str = r#"(.*?)"#;', text, re.S).group(1)
    script = script.replace("{pk}", "INTEGER PRIMARY KEY AUTOINCREMENT")
    for old, new in RENAMES:
        script = script.replace(old, new)
    return script


def connect(path):
    # Autocommit mode: the transactions are the script's own BEGIN/COMMIT, as the Rust floors'.
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA busy_timeout=30000")
    return conn


def floor(conn, n):
    for t in TABLES:
        conn.execute(f"DROP TABLE IF EXISTS {t}")
    conn.executescript(schema())
    conn.execute(
        "INSERT INTO bench_floor_definitions (process, version, sha256, source, loaded_at) VALUES ('p', 1, 'x', 'x', 0)"
    )
    for i in range(n):
        stream = f"floor:{i}"
        conn.execute("BEGIN")
        (iid,) = conn.execute(
            "INSERT INTO bench_floor_instances (definition_id, process, state, data, version, created_by, created_at, updated_at) "
            "VALUES (1, 'p', 'start', ?1, 1, 'bench', 0, 0) RETURNING id",
            (DATA,),
        ).fetchone()
        conn.execute("UPDATE bench_floor_instances SET audit_seq = 0, audit_hash = ?1 WHERE id = ?2", (GENESIS, iid))
        conn.execute(AUDIT, (stream, 0, iid, EVENT, GENESIS))
        conn.execute("COMMIT")
        for seq in range(1, TRANSITIONS + 1):
            conn.execute("BEGIN")
            conn.execute(
                "UPDATE bench_floor_instances SET state = 'next', data = ?1, version = version + 1, updated_at = 1, "
                "audit_seq = ?2, audit_hash = ?3 WHERE id = ?4 AND version = ?2",
                (DATA, seq, GENESIS, iid),
            )
            conn.execute(AUDIT, (stream, seq, iid, EVENT, GENESIS))
            conn.execute("COMMIT")
    for t in TABLES:
        conn.execute(f"DROP TABLE {t}")
    return n * (TRANSITIONS + 1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--instances", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("file", nargs="?", help="the SQLite file (default: a fresh one in a temporary directory)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as work:
        conn = connect(args.file or os.path.join(work, "floor.db"))
        floor(conn, max(args.instances // 10, 10))  # warm
        runs = []
        for _ in range(max(args.rounds, 1)):
            c0, t0 = time.process_time(), time.perf_counter()
            steps = floor(conn, args.instances)
            runs.append((steps / (time.perf_counter() - t0), time.process_time() - c0))
        conn.close()
    per_sec = statistics.median(r[0] for r in runs)
    cpu = statistics.median(r[1] for r in runs)
    n = args.instances
    print(f"sqlite {sqlite3.sqlite_version}, journal_mode=WAL, synchronous=FULL, {args.rounds} rounds, medians")
    print("| side | instances/s | steps/s | CPU s per %d instances | CPU µs per step |" % n)
    print("|---|---|---|---|---|")
    print(
        f"| floor: Python stdlib sqlite3 | {per_sec / (TRANSITIONS + 1):.0f} | {per_sec:.0f} | {cpu:.2f} | "
        f"{cpu * 1e6 / (n * (TRANSITIONS + 1)):.0f} |"
    )


if __name__ == "__main__":
    main()
