//! `benches/jiangshan_push.py` against the real binary: `unionflow serve --demo` over a fresh
//! SQLite file, a department's token made by `unionflow token add`, and the script's month of
//! signals played twice. Every row gets a result, no household has two open cases, and the second
//! run opens nothing (each row's Idempotency-Key answers it with the case the first run opened).
//!
//! Needs `python3` (standard library only); `.ci/run` installs it.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_unionflow");
const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/jiangshan_push.py");
const ROWS: usize = 40;
/// How long the server may take to migrate, seed the demo and listen.
const START: Duration = Duration::from_secs(120);

/// `serve --demo` as a child process, killed (and its files removed) however the test ends.
struct Server {
    child: Child,
    dir: PathBuf,
    addr: SocketAddr,
    database: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Server {
    /// Starts the server on a free port and waits for `/health`; a port taken between picking it
    /// and the server binding it is tried again with another.
    fn start() -> Server {
        let dir = std::env::temp_dir().join(crate::support::unique_name("unionflow_push"));
        std::fs::create_dir_all(&dir).expect("a temporary folder");
        let database = format!("sqlite://{}?mode=rwc", dir.join("push.db").display());
        let mut last_log = String::new();
        for attempt in 0..3 {
            let addr = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port");
            let log = dir.join(format!("serve-{attempt}.log"));
            let log_file = std::fs::File::create(&log).expect("the server's log");
            let child = Command::new(BIN)
                .args(["serve", "--demo", "--database", &database, "--listen", &addr.to_string()])
                .stdin(Stdio::null())
                .stdout(log_file.try_clone().expect("the log again"))
                .stderr(log_file)
                .spawn()
                .expect("start unionflow serve");
            let mut server = Server { child, dir: dir.clone(), addr, database: database.clone() };
            let deadline = Instant::now() + START;
            while Instant::now() < deadline {
                if get(addr, "/health", None).is_some_and(|(status, _)| status == 200) {
                    return server;
                }
                if server.child.try_wait().expect("the server's status").is_some() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            last_log = std::fs::read_to_string(&log).unwrap_or_default();
            // Keep the folder for the next attempt: this guard only stops its own child.
            let _ = server.child.kill();
            let _ = server.child.wait();
            server.dir = PathBuf::new();
        }
        let _ = std::fs::remove_dir_all(&dir);
        panic!("unionflow serve --demo did not answer /health within {START:?}:\n{last_log}");
    }

    fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `unionflow token add NAME --role department` on the server's database: the token it prints.
    fn department_token(&self, name: &str) -> String {
        let out = Command::new(BIN)
            .args(["token", "add", name, "--role", "department", "--database", &self.database])
            .output()
            .expect("run unionflow token add");
        assert!(out.status.success(), "token add: {}", String::from_utf8_lossy(&out.stderr));
        let token = String::from_utf8(out.stdout).expect("UTF-8").trim().to_owned();
        assert!(token.starts_with("uft_") && !token.contains(char::is_whitespace), "one token printed: {token:?}");
        token
    }

    /// A GET of the API as the token's account: status and JSON body.
    fn api(&self, path: &str, token: &str) -> (u16, Value) {
        get(self.addr, path, Some(token)).unwrap_or_else(|| panic!("no answer to GET {path}"))
    }

    /// Every hardship case the token may read, by keyset pages.
    fn hardship_cases(&self, token: &str) -> Vec<Value> {
        let (mut all, mut after) = (Vec::new(), 0);
        loop {
            let (status, page) =
                self.api(&format!("/api/v1/instances?process=hardship_case&limit=200&after={after}"), token);
            assert_eq!(status, 200, "{page}");
            all.extend(page["items"].as_array().cloned().unwrap_or_default());
            match page["next"].as_i64() {
                Some(next) => after = next,
                None => return all,
            }
        }
    }
}

/// One HTTP/1.1 GET (the connection closed after it), or None when nothing answers.
fn get(addr: SocketAddr, path: &str, token: Option<&str>) -> Option<(u16, Value)> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_millis(500)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(30))).ok()?;
    let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Connection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).ok()?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).ok()?;
    let response = String::from_utf8_lossy(&response);
    let (head, body) = response.split_once("\r\n\r\n")?;
    assert!(!head.to_ascii_lowercase().contains("transfer-encoding: chunked"), "a body with its length: {head}");
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    Some((status, serde_json::from_str(body).unwrap_or(Value::Null)))
}

/// Runs the script for a month of ROWS rows; its record, one map per row.
fn push(server: &Server, token: &str, out: &Path) -> (Vec<BTreeMap<String, String>>, String) {
    let result: Output = Command::new("python3")
        .arg(SCRIPT)
        .args(["--base", &server.base(), "--month", "2026-03", "--rows", &ROWS.to_string()])
        .arg("--out")
        .arg(out)
        .env("UNIONFLOW_TOKEN", token)
        .output()
        .expect("run python3 benches/jiangshan_push.py (python3 is needed: .ci/run installs it)");
    let stderr = String::from_utf8_lossy(&result.stderr).into_owned();
    assert!(result.status.success(), "the script failed: {stderr}");
    let mut reader = csv::Reader::from_path(out).expect("the record");
    let records = reader.deserialize().collect::<Result<Vec<BTreeMap<String, String>>, _>>().expect("CSV rows");
    (records, stderr)
}

#[test]
fn the_push_script_opens_each_household_once_and_a_rerun_opens_nothing() {
    let server = Server::start();
    let token = server.department_token("pusher");
    let before = server.hardship_cases(&token).len();
    assert!(before > 0, "the demo's year of cases");
    let out = server.dir.join("march.csv");

    let (first, summary) = push(&server, &token, &out);
    assert!(summary.contains("opened") && summary.contains("rows/s"), "a summary on stderr: {summary}");

    // Every row has a result, and the one its figures call for.
    let rows: Vec<usize> = first.iter().map(|r| r["row"].parse().expect("a row number")).collect();
    assert_eq!(rows, (1..=ROWS).collect::<Vec<_>>(), "one record per row, in order");
    let mut opened_in_record = 0;
    for r in &first {
        let malformed = r["intended"].starts_with("malformed");
        match r["result"].as_str() {
            "opened" | "added" => {
                assert!(!malformed, "a malformed row is refused: {r:?}");
                assert!(r["instance"].parse::<i64>().is_ok(), "the case it went to: {r:?}");
                assert!(["deep", "relative", "accident", "none"].contains(&r["tier"].as_str()), "its tier: {r:?}");
                let status = if r["result"] == "opened" { "201" } else { "200" };
                assert_eq!(r["status"], status, "{r:?}");
                opened_in_record += usize::from(r["result"] == "opened");
            }
            "refused" => {
                assert!(malformed, "only malformed rows are refused: {r:?}");
                assert!(r["status"].starts_with('4') && !r["reason"].is_empty() && !r["detail"].is_empty(), "{r:?}");
            }
            other => panic!("row {} has no result ({other}): {r:?}", r["row"]),
        }
    }
    // The seed's first 40 rows hold each kind of answer.
    let results: BTreeSet<&str> = first.iter().map(|r| r["result"].as_str()).collect();
    assert_eq!(results, BTreeSet::from(["added", "opened", "refused"]), "{first:?}");
    let tiers: BTreeSet<&str> = first.iter().filter(|r| r["result"] == "opened").map(|r| r["tier"].as_str()).collect();
    assert!(tiers.contains("none") && tiers.len() > 1, "rows that qualify and rows that do not: {tiers:?}");

    // Per household: the first row opened its case and the later ones were added to it.
    let mut households: BTreeMap<&str, Vec<&BTreeMap<String, String>>> = BTreeMap::new();
    for r in first.iter().filter(|r| r["result"] != "refused") {
        households.entry(r["id_number"].as_str()).or_default().push(r);
    }
    for (id_number, rows) in &households {
        let results: Vec<&str> = rows.iter().map(|r| r["result"].as_str()).collect();
        assert_eq!(results[0], "opened", "{id_number}: {rows:?}");
        assert!(results[1..].iter().all(|r| *r == "added"), "{id_number}: {rows:?}");
        assert!(rows.iter().all(|r| r["instance"] == rows[0]["instance"]), "one case: {rows:?}");
        // And from the API: one open case holds the ID number, the one the record names.
        let (status, found) = server
            .api(&format!("/api/v1/instances?process=hardship_case&field.id_number={id_number}&limit=200"), &token);
        assert_eq!(status, 200, "{found}");
        let open: Vec<&Value> =
            found["items"].as_array().expect("items").iter().filter(|i| i["outcome"].is_null()).collect();
        assert_eq!(open.len(), 1, "{id_number} has one open case: {found}");
        assert_eq!(open[0]["id"].to_string(), rows[0]["instance"], "{id_number}");
    }
    let after_first = server.hardship_cases(&token).len();
    assert_eq!(after_first, before + opened_in_record, "a case for each row the record says opened one");

    // A second department's signal went into the household's case, under the account's name.
    let added = first.iter().find(|r| r["result"] == "added").expect("an added row");
    let (_, history) = server.api(&format!("/api/v1/instances/{}/history", added["instance"]), &token);
    let signals = history["items"].as_array().expect("events").iter();
    assert!(
        signals.filter(|e| e["event"] == "add_signal" && e["actor"] == "pusher").count() >= 1,
        "the signal is in the case's history: {history}"
    );

    // Played again: the same answer for every row, replayed, and no new case.
    let (second, summary) = push(&server, &token, &out);
    assert!(summary.contains("replayed"), "{summary}");
    assert_eq!(server.hardship_cases(&token).len(), after_first, "the second run opens nothing");
    for (a, b) in first.iter().zip(&second) {
        assert_eq!((&a["result"], &a["instance"], &a["status"]), (&b["result"], &b["instance"], &b["status"]), "{b:?}");
        let answered = b["result"] != "refused";
        assert_eq!(b["replayed"] == "true", answered, "answered rows are replayed, refused ones refused again: {b:?}");
    }
}
