#!/usr/bin/env python3
"""Sign-in under attack: bounded, loopback only, stops by itself (issue 9).

    cargo build --release && python3 benches/attack.py
    python3 benches/attack.py --binary PATH --port 3989
    python3 benches/attack.py --database postgres://postgres@127.0.0.1/attack   # an empty database

It creates a user `victim` (an admin) in a new SQLite file in a temporary folder, or in the
PostgreSQL database given with --database (give it an empty one: failures from an earlier run
would still count), starts `unionflow serve` on 127.0.0.1:PORT and fires four phases at it.
Every attempt is what a browser does: GET /signin (a `uf_pre` cookie and the form's `_csrf`),
then POST /signin with the cookie. All GETs of a phase are made first, then every POST is
released at once (one thread and one connection per attempt).

  A  500 sign-ins with random user names and random passwords, each from its own address
     (127.1.0.1 ..): no per-address limit applies, so only the bounded pool of password checks
     stands between them and the server's memory;
  B  500 sign-ins with random user names from one address (127.0.0.1): the per-address limit;
  C  100 sign-ins at `victim` with wrong passwords, from one address (127.0.0.2): the lock of a
     name from one address, counted before any check;
  D  phase C again, each attempt from its own address 127.0.1.2 .. 127.0.1.101: what the
     per-(name, address) lock allows a guesser with many addresses.

What the figures mean:
  303  signed in: must never happen, every password here is wrong;
  401  the password was checked, and was wrong;
  429  refused before any password check (throttled, locked, or the checker was busy);
  403  the CSRF check failed: a bug of this script;
  5xx  a server failure;  "no answer": the connection failed or timed out (60 s).
  "guesses checked" = 401s + 303s: the passwords the server actually tried.
  memory: the server's VmRSS sampled every 20 ms (peak) and the kernel's VmHWM at the end.

Exit code 1 if any answer was not 401 or 429 (a 303, 403, 5xx, no answer), if peak memory
>= 200 MB, if phase B checked more than 30 guesses or phase C more than 5; 0 otherwise. The last line printed is a
row for the README's table. To guard the machine, the server is killed (and the run fails) if
its available memory falls below --min-available-mb.
"""

import argparse
import http.client
import os
import re
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PASSWORD = "attack-bench-password"
TIMEOUT = 60.0
CSRF_INPUT = re.compile(r'name="_csrf"\s+value="([^"]*)"')
MAX_PEAK_MB = 200
MAX_GUESSES_AT_ONE_NAME = 5
MAX_GUESSES_FROM_ONE_ADDRESS = 30


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--binary", default=str(REPO / "target/release/unionflow"), help="the unionflow binary")
    p.add_argument("--port", type=int, default=3989, help="port on 127.0.0.1 (default 3989)")
    p.add_argument("--database", help="a PostgreSQL URL instead of a new SQLite file")
    p.add_argument("--min-available-mb", type=int, default=2048,
                   help="kill the server if the machine's available memory falls below this")
    return p.parse_args()


def create_victim(binary, database):
    env = {**os.environ, "UNIONFLOW_PASSWORD": PASSWORD}
    done = subprocess.run([binary, "--database", database, "user", "add", "victim", "--role", "admin"],
                          env=env, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        sys.exit(f"`unionflow user add victim` failed:\n{done.stdout}{done.stderr}")


def port_is_taken(port):
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def wait_for_health(server, port, log_path, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            break
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/health")
            if conn.getresponse().read().strip() == b"ok":
                return
        except OSError:
            pass
        time.sleep(0.1)
    sys.exit("the server did not answer /health:\n" + Path(log_path).read_text(errors="replace")[-3000:])


def mb_of(status_text, field):
    """A field of /proc/PID/status or /proc/meminfo in MB; None when absent (a dead process has none)."""
    match = re.search(rf"^{field}:\s+(\d+) kB", status_text, re.M)
    return int(match.group(1)) / 1024 if match else None


class MemorySampler(threading.Thread):
    """Reads the server's VmRSS every 20 ms; kills it if the machine runs short of memory."""

    def __init__(self, pid, min_available_mb):
        super().__init__(daemon=True)
        self.pid, self.min_available_mb = pid, min_available_mb
        self.peak_mb = self.idle_mb = 0.0
        self.killed_at_mb = None
        self.stopped = threading.Event()

    def run(self):
        while not self.stopped.wait(0.02):
            try:
                rss = mb_of(Path(f"/proc/{self.pid}/status").read_text(), "VmRSS")
            except OSError:
                rss = None
            if rss is None:
                return  # the server is gone
            self.idle_mb = self.idle_mb or rss  # the first sample, before phase A
            self.peak_mb = max(self.peak_mb, rss)
            if mb_of(Path("/proc/meminfo").read_text(), "MemAvailable") < self.min_available_mb:
                self.killed_at_mb = rss
                os.kill(self.pid, signal.SIGKILL)
                return

    def high_water_mb(self):
        try:
            return mb_of(Path(f"/proc/{self.pid}/status").read_text(), "VmHWM")
        except OSError:
            return None


def fetch_form(conn, username, password):
    """GET /signin; returns the cookie and the filled-in form to post, or None and why not."""
    conn.request("GET", "/signin")
    resp = conn.getresponse()
    page = resp.read().decode(errors="replace")
    cookies = [c.split(";")[0] for c in resp.msg.get_all("Set-Cookie") or []]
    pre = next((c for c in cookies if c.startswith("uf_pre=")), None)
    csrf = CSRF_INPUT.search(page)
    if resp.status != 200 or not pre or not csrf:
        return None, f"GET {resp.status}"
    fields = {"_csrf": csrf.group(1), "username": username, "password": password, "next": "/"}
    return (pre, urllib.parse.urlencode(fields)), None


def post_form(conn, cookie, body):
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie}
    conn.request("POST", "/signin", body=body, headers=headers)
    resp = conn.getresponse()
    resp.read()
    return resp.status


def attempt(port, source_ip, username, password, barrier, results):
    """One browser-like sign-in: GET the form, wait for the release, POST it on the same connection."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT, source_address=(source_ip, 0))
    try:
        form, outcome = fetch_form(conn, username, password)
    except OSError:
        form, outcome = None, "no answer"
    try:
        barrier.wait(timeout=TIMEOUT)  # every thread waits once, whatever its GET gave
        if form:
            outcome = post_form(conn, *form)
    except (OSError, threading.BrokenBarrierError):
        outcome = outcome or "no answer"
    finally:
        conn.close()
    results.append(outcome)


def run_phase(port, attempts):
    """attempts: (source_ip, username, password) per attempt. Returns (Counter, seconds)."""
    results = []
    barrier = threading.Barrier(len(attempts) + 1)
    threads = [threading.Thread(target=attempt, args=(port, ip, user, pw, barrier, results))
               for ip, user, pw in attempts]
    for t in threads:
        t.start()
    try:
        barrier.wait(timeout=TIMEOUT)
    except threading.BrokenBarrierError:
        pass
    started = time.monotonic()
    for t in threads:
        t.join()
    return Counter(results), time.monotonic() - started


def guesses_checked(counts):
    return counts[401] + counts[303]


def failures_in(counts):
    """Everything but a checked wrong password (401) or a refusal (429)."""
    return sum(n for k, n in counts.items() if k not in (401, 429))


def server_errors_in(counts):
    return sum(n for k, n in counts.items() if isinstance(k, int) and k >= 500)


def print_phase(name, title, counts, seconds):
    shown = ", ".join(f"{k}: {n}" for k, n in sorted(counts.items(), key=lambda kv: str(kv[0])))
    print(f"phase {name}  {title}")
    print(f"  responses        {shown}")
    print(f"  guesses checked  {guesses_checked(counts)}")
    print(f"  took             {seconds:.1f} s")


def random_word():
    return secrets.token_urlsafe(9)


def attack_phases():
    """(name, title, attempts), each attempt (source address, user name, password)."""
    many = [f"127.1.{i // 250}.{i % 250 + 1}" for i in range(500)]
    return [
        ("A", "500 random names, random passwords, each from its own address",
         [(ip, random_word(), random_word()) for ip in many]),
        ("B", "500 random names, random passwords, from 127.0.0.1",
         [("127.0.0.1", random_word(), random_word()) for _ in range(500)]),
        ("C", "100 wrong passwords at `victim`, from 127.0.0.2",
         [("127.0.0.2", "victim", random_word()) for _ in range(100)]),
        ("D", "100 wrong passwords at `victim`, from 127.0.1.2 .. 127.0.1.101",
         [(f"127.0.1.{x}", "victim", random_word()) for x in range(2, 102)]),
    ]


def start_server(binary, database, port, work):
    log_path = work / "serve.log"
    with open(log_path, "w") as log:
        server = subprocess.Popen([binary, "serve", "--database", database, "--listen", f"127.0.0.1:{port}"],
                                  stdout=log, stderr=log)
    return server, log_path


def stop_server(server):
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def report(database, outcome, sampler, high_water):
    """Prints memory, the verdict and the README row; returns the exit code."""
    peak = max(sampler.peak_mb, high_water or 0.0)
    hwm = f"{high_water:.0f} MB" if high_water is not None else "not read (the server was gone)"
    print(f"memory   idle {sampler.idle_mb:.0f} MB, peak {sampler.peak_mb:.0f} MB sampled, VmHWM {hwm}")
    if sampler.killed_at_mb is not None:
        print(f"  the server was killed at {sampler.killed_at_mb:.0f} MB: the machine ran short of memory")
    problems = []
    if any(failures_in(c) for c in outcome.values()):
        problems.append("answers other than 401 or 429")
    if peak >= MAX_PEAK_MB or sampler.killed_at_mb is not None:
        problems.append(f"peak memory {peak:.0f} MB >= {MAX_PEAK_MB} MB")
    if guesses_checked(outcome["B"]) > MAX_GUESSES_FROM_ONE_ADDRESS:
        problems.append(f"phase B checked {guesses_checked(outcome['B'])} guesses > {MAX_GUESSES_FROM_ONE_ADDRESS}")
    if guesses_checked(outcome["C"]) > MAX_GUESSES_AT_ONE_NAME:
        problems.append(f"phase C checked {guesses_checked(outcome['C'])} guesses > {MAX_GUESSES_AT_ONE_NAME}")
    print("FAIL: " + "; ".join(problems) if problems else "PASS")
    kind = "PostgreSQL" if database.startswith("postgres") else "SQLite"
    checked = {name: guesses_checked(c) for name, c in outcome.items()}
    print(f"| {kind} | peak {peak:.0f} MB | A: {checked['A']} of 500 checked | B: {checked['B']} of 500 "
          f"| C: {checked['C']} of 100 | D: {checked['D']} of 100 "
          f"| {sum(server_errors_in(c) for c in outcome.values())} × 5xx, "
          f"{sum(c['no answer'] for c in outcome.values())} unanswered |")
    return 1 if problems else 0


def main():
    args = parse_args()
    if not os.access(args.binary, os.X_OK):
        sys.exit(f"no unionflow binary at {args.binary}: run `cargo build --release` or pass --binary")
    if port_is_taken(args.port):
        sys.exit(f"127.0.0.1:{args.port} is already in use: pass --port")
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # 700 sockets; the server inherits it
    work = Path(tempfile.mkdtemp(prefix="unionflow-attack-"))
    database = args.database or f"sqlite://{work}/attack.db?mode=rwc"
    server = None
    try:
        create_victim(args.binary, database)
        server, log_path = start_server(args.binary, database, args.port, work)
        wait_for_health(server, args.port, log_path)
        sampler = MemorySampler(server.pid, args.min_available_mb)
        sampler.start()
        outcome = {}
        for name, title, attempts in attack_phases():
            outcome[name], seconds = run_phase(args.port, attempts)
            print_phase(name, title, outcome[name], seconds)
        high_water = sampler.high_water_mb()
        if server.poll() is not None:
            print(f"the server ended during the run (exit status {server.returncode})")
        sampler.stopped.set()
        sampler.join()
        return report(database, outcome, sampler, high_water)
    finally:
        if server is not None:
            stop_server(server)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
