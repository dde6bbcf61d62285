#!/usr/bin/env python3
"""Growth: the pages and the API at a sector's full size, against their time on the demo (issue 16,
item 4). PostgreSQL only; python3 stdlib and psql, nothing else.

    benches/growth.py postgres://postgres@127.0.0.1/test?options=-csearch_path%3Dbench_growth
    benches/growth.py URL --scale 0.1        # a tenth of the years, events and households

1. The schema named in search_path is dropped and made anew; `unionflow serve --demo` seeds the
   demo, and every page is timed on it (sequential requests, median and 90th percentile).
2. With the server stopped, psql generates in bulk (INSERT ... SELECT generate_series) a sector of
   1,000 units with ten years of bargaining rounds (one round a year, one assembly per unit: the
   last year's round and assemblies still open), a hardship register of 10,000 households, and
   about 10 million audit events. Rows are copies of the demo's own rows of each kind (a finished
   round, a passed and an open assembly, a registered household) with their unit, year and dates
   changed, and each generated instance gets its template's history.
   GENERATED HISTORY IS NOT CHAINED: computing each event's SHA-256 over its predecessor one by
   one would take hours at this size, so generated events carry the hash "generated:<md5>" and
   `unionflow audit verify` reports them; the events beyond the instances' histories are sign-ins
   in a stream of their own ("generated:auth"). Generated instances are created by
   "growth.generator"; they have no pending timers and claim no unique keys.
3. The server starts again (summing the summaries of the generated children) and every page is
   timed again; a table gives each page's time on the demo, at size, and the ratio (goal: 1.2).
"""

import argparse
import http.cookiejar
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BINARY = os.path.join(ROOT, "target", "release", "unionflow")
PASSWORD = "unionflow-demo"


def psql(url, sql, quiet=True):
    base = url.split("?")[0]
    options = urllib.parse.parse_qs(urllib.parse.urlparse(url).query).get("options", [""])[0]
    env = dict(os.environ, PGOPTIONS=f"{options} --client-min-messages=warning")
    args = ["psql", base, "-v", "ON_ERROR_STOP=1", "-X", "-A", "-t"] + (["-q"] if quiet else [])
    out = subprocess.run(args, input=sql, text=True, capture_output=True, env=env)
    if out.returncode != 0:
        sys.exit(f"psql failed:\n{out.stderr}")
    return out.stdout.strip()


class Server:
    def __init__(self, url, port, demo):
        self.base = f"http://127.0.0.1:{port}"
        self.log = tempfile.NamedTemporaryFile(prefix="growth-serve-", suffix=".log", delete=False)
        args = [BINARY, "serve", "--database", url, "--listen", f"127.0.0.1:{port}"] + (["--demo"] if demo else [])
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT)
        for _ in range(3000):
            try:
                urllib.request.urlopen(self.base + "/health", timeout=1).read()
                return
            except OSError:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.1)
        self.stop()
        sys.exit(f"the server did not start; see {self.log.name}")

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


class Client:
    """A signed-in person: a cookie jar, the way a browser keeps it."""

    def __init__(self, base, username):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        page = self.get("/signin")
        csrf = re.search(r'name="_csrf" value="([^"]*)"', page).group(1)
        form = urllib.parse.urlencode({"_csrf": csrf, "username": username, "password": PASSWORD, "next": "/"})
        self.opener.open(self.base + "/signin", data=form.encode()).read()

    def get(self, path, headers=None):
        request = urllib.request.Request(self.base + path, headers=headers or {})
        with self.opener.open(request, timeout=120) as response:
            return response.read().decode()


def timed(client, path, n, headers=None):
    """Median and 90th percentile of n sequential requests (after two to warm), in ms."""
    for _ in range(2):
        client.get(path, headers)
    runs = []
    for _ in range(n):
        start = time.perf_counter()
        client.get(path, headers)
        runs.append((time.perf_counter() - start) * 1e3)
    runs.sort()
    return statistics.median(runs), runs[int(len(runs) * 0.9) - 1]


def pages(server, url, n):
    """Every page the issue names, each timed: {name: (median, p90)}."""
    admin = Client(server.base, "admin")
    coordinator = Client(server.base, "gao.hong")
    secretary = Client(server.base, "chen.jing")
    mentor = Client(server.base, "xu.ming")
    rounds = re.findall(r'href="/instances/(\d+)"', admin.get("/processes/bargaining_round"))
    round_id = max(map(int, rounds))
    cohorts = re.findall(r'href="/instances/(\d+)"', coordinator.get("/processes/training_cohort"))
    cohort = max(map(int, cohorts))
    token = subprocess.run(
        [BINARY, "token", "add", f"growth_{int(time.time())}", "--role", "admin", "--per-minute", "60000",
         "--database", url],
        capture_output=True, text=True, check=True,
    ).stdout.strip()
    bearer = {"Authorization": f"Bearer {token}"}
    api = Client.__new__(Client)
    api.base, api.opener = server.base, urllib.request.build_opener()
    runs = [
        ("the newest bargaining round", admin, f"/instances/{round_id}", None),
        ("the process list", admin, "/processes", None),
        ("assemblies (a process's instances)", admin, "/processes/assembly_approval", None),
        ("hardship cases (a process's instances)", admin, "/processes/hardship_case", None),
        ("the audit trail", admin, "/audit", None),
        ("figures", admin, "/figures", None),
        ("my work: a unit secretary", secretary, "/", None),
        ("my work: a mentor", mentor, "/", None),
        ("my trainees: a mentor", mentor, "/my-trainees", None),
        ("trainees of the demo cohort", coordinator, f"/cohorts/{cohort}/trainees", None),
        ("API: GET the newest round", api, f"/api/v1/instances/{round_id}", bearer),
        ("API: search assemblies", api, "/api/v1/instances?process=assembly_approval", bearer),
        ("API: the audit feed", api, "/api/v1/audit", bearer),
    ]
    out = {}
    for name, client, path, headers in runs:
        try:
            out[name] = timed(client, path, n, headers)
        except OSError as e:
            out[name] = None
            print(f"  {name}: {path} failed: {e}", file=sys.stderr)
    return out


GENERATE = """
BEGIN;
CREATE TEMP TABLE tpl AS SELECT
  (SELECT id FROM instances WHERE process = 'bargaining_round' ORDER BY (outcome IS NULL), id LIMIT 1) AS round_done,
  (SELECT id FROM instances WHERE process = 'bargaining_round' ORDER BY (outcome IS NOT NULL), id LIMIT 1) AS round_open,
  (SELECT id FROM instances WHERE process = 'assembly_approval' ORDER BY (outcome IS DISTINCT FROM 'passed'), id LIMIT 1) AS asm_done,
  (SELECT id FROM instances WHERE process = 'assembly_approval' ORDER BY (outcome IS NOT NULL), id LIMIT 1) AS asm_open,
  (SELECT id FROM instances WHERE process = 'hardship_case' ORDER BY (state <> 'registered'), id LIMIT 1) AS household,
  (SELECT max(id) + 1000 FROM instances) AS base,
  (SELECT sector FROM units ORDER BY id LIMIT 1) AS sector,
  (SELECT kind FROM units ORDER BY id LIMIT 1) AS kind,
  (SELECT max(created_at) FROM instances) AS now;
INSERT INTO units (id, name_zh, name_en, sector, kind, roster_size, created_at)
  SELECT 'g' || lpad(u::text, 4, '0'), '增长学校' || u, 'Growth school ' || u, tpl.sector, tpl.kind, 40, tpl.now
  FROM tpl, generate_series(1, :units) u;
-- Which generated instance copies which template, under which parent, for which unit, how long ago.
CREATE TEMP TABLE gen (id BIGINT, template BIGINT, parent BIGINT, unit TEXT, year INT, ago BIGINT);
INSERT INTO gen SELECT tpl.base + y, CASE WHEN y = :years THEN tpl.round_open ELSE tpl.round_done END, NULL, NULL,
    2026 - :years + y, (:years - y)::BIGINT * 365 * 86400000000
  FROM tpl, generate_series(1, :years) y;
INSERT INTO gen SELECT tpl.base + :years + (y - 1) * :units + u,
    CASE WHEN y = :years THEN tpl.asm_open ELSE tpl.asm_done END, tpl.base + y, 'g' || lpad(u::text, 4, '0'),
    2026 - :years + y, (:years - y)::BIGINT * 365 * 86400000000
  FROM tpl, generate_series(1, :years) y, generate_series(1, :units) u;
INSERT INTO gen SELECT tpl.base + :years + :years * :units + h, tpl.household, NULL, NULL, NULL,
    (h % 3650)::BIGINT * 86400000000
  FROM tpl, generate_series(1, :households) h WHERE tpl.household IS NOT NULL;
INSERT INTO instances (id, definition_id, process, state, data, version, parent_id, fanout, fanouts, outcome,
    audit_seq, audit_hash, created_by, created_at, updated_at)
  SELECT g.id, t.definition_id, t.process, t.state,
    (CASE WHEN g.unit IS NOT NULL THEN jsonb_set(t.data::jsonb, '{unit}', to_jsonb(g.unit))
          WHEN g.year IS NOT NULL AND t.data::jsonb ? 'year' THEN jsonb_set(t.data::jsonb, '{year}', to_jsonb(g.year))
          ELSE t.data::jsonb END)::text,
    t.version, COALESCE(g.parent, t.parent_id), t.fanout, t.fanouts, t.outcome,
    t.audit_seq, 'generated:' || md5(g.id || ':' || t.audit_seq), 'growth.generator', t.created_at - g.ago,
    t.updated_at - g.ago
  FROM gen g JOIN instances t ON t.id = g.template;
SELECT setval(pg_get_serial_sequence('instances', 'id'), (SELECT max(id) FROM instances));
INSERT INTO audit_events (stream, seq, at, actor, kind, process, instance_id, event, from_state, to_state, data,
    prev_hash, hash)
  SELECT 'instance:' || g.id, e.seq, e.at - g.ago, e.actor, e.kind, e.process, g.id, e.event, e.from_state,
    e.to_state, e.data, 'generated', 'generated:' || md5(g.id || ':' || e.seq)
  FROM gen g JOIN audit_events e ON e.instance_id = g.template AND e.stream = 'instance:' || g.template;
-- The rest of the events: sign-ins, in a stream of their own, spread over the years.
INSERT INTO audit_events (stream, seq, at, actor, kind, process, instance_id, event, from_state, to_state, data,
    prev_hash, hash)
  SELECT 'generated:auth', s, tpl.now - (:years::BIGINT * 365 * 86400000000) + s * ((:years::BIGINT * 365 * 86400000000) / GREATEST(:filler, 1)),
    'growth.secretary' || (s % :units), 'sign_in', NULL, NULL, NULL, NULL, NULL, '{"client":"generated"}',
    'generated', 'generated:' || md5(s::text)
  FROM tpl, generate_series(0, GREATEST(:filler - (SELECT count(*) FROM audit_events), 0) - 1) s;
INSERT INTO summary_fills (what) VALUES ('child_report_lines') ON CONFLICT DO NOTHING;
COMMIT;
ANALYZE;
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("database", help="postgres://…?options=-csearch_path%%3DSCHEMA (the schema is made anew)")
    ap.add_argument("--scale", type=float, default=1.0, help="of the years, households and events (units stay)")
    ap.add_argument("--units", type=int, default=1000)
    ap.add_argument("--requests", type=int, default=30, help="timed requests per page")
    ap.add_argument("--port", type=int, default=int(os.environ.get("UNIONFLOW_BENCH_PORT", "3988")))
    args = ap.parse_args()
    url = args.database
    schema = re.search(r"search_path%3D([a-z_0-9]+)", url)
    if not url.startswith("postgres") or not schema:
        sys.exit("growth.py needs a PostgreSQL URL naming its schema: …?options=-csearch_path%3Dbench_growth")
    years = max(1, round(10 * args.scale))
    households = round(10_000 * args.scale)
    events = round(10_000_000 * args.scale)
    subprocess.run(["cargo", "build", "--release", "-q"], cwd=ROOT, check=True)
    psql(url.split("?")[0] + "?", f"DROP SCHEMA IF EXISTS {schema.group(1)} CASCADE; CREATE SCHEMA {schema.group(1)};")

    server = Server(url, args.port, demo=True)
    try:
        print("timing the pages on the demo…")
        demo = pages(server, url, args.requests)
    finally:
        server.stop()

    print(f"generating {args.units} units × {years} years of rounds, {households} households, "
          f"about {events:,} audit events…")
    start = time.perf_counter()
    filled = GENERATE
    for name, value in [("households", households), ("filler", events), ("units", args.units), ("years", years)]:
        filled = filled.replace(f":{name}", str(value))
    psql(url, filled)
    built = time.perf_counter() - start
    counts = psql(url, "SELECT (SELECT count(*) FROM instances) || ' ' || (SELECT count(*) FROM audit_events) "
                       "|| ' ' || (SELECT count(*) FROM units) || ' ' || pg_size_pretty(pg_database_size(current_database()));")
    n_instances, n_events, n_units, size = counts.split(" ", 3)
    print(f"built in {built:.0f} s: {n_instances} instances, {n_events} audit events, {n_units} units, database {size}")

    start = time.perf_counter()
    server = Server(url, args.port, demo=False)
    print(f"the server started in {time.perf_counter() - start:.1f} s (summing the generated children's summaries)")
    try:
        print("timing the pages at size…")
        grown = pages(server, url, args.requests)
    finally:
        server.stop()

    print()
    print(f"unionflow growth on PostgreSQL, {time.strftime('%Y-%m-%d')}: {n_units} units, {years} years of rounds, "
          f"{households} households, {int(n_events):,} audit events; {args.requests} sequential requests a page")
    print(f"{'page':<42} {'demo ms':>15} {'at size ms':>15} {'ratio':>6}")
    print(f"{'':<42} {'p50 / p90':>15} {'p50 / p90':>15} {'p50':>6}")
    for name in demo:
        a, b = demo[name], grown.get(name)
        if a is None or b is None:
            print(f"{name:<42} {'failed':>15}")
            continue
        ratio = b[0] / a[0] if a[0] > 0 else float("inf")
        mark = "" if ratio <= 1.2 else "  over 1.2"
        print(f"{name:<42} {a[0]:>7.1f} /{a[1]:>6.1f} {b[0]:>7.1f} /{b[1]:>6.1f} {ratio:>6.2f}{mark}")


if __name__ == "__main__":
    main()
