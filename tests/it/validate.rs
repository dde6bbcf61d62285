//! `unionflow validate`: every problem of every file, each at FILE:LINE:COL.

use std::path::Path;
use std::process::Command;

use crate::engine_store::{ROUND, VOTE};
use crate::support::{ROLES, unique_name};

fn validate(dir: &Path) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_unionflow"))
        .arg("validate")
        .arg(dir)
        .output()
        .expect("run unionflow validate");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned())
}

fn folder(files: &[(&str, &str)]) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(unique_name("unionflow_defs"));
    std::fs::create_dir_all(dir.join("calendars")).unwrap();
    std::fs::write(dir.join("roles.toml"), ROLES).unwrap();
    for (name, text) in files {
        std::fs::write(dir.join(name), text).unwrap();
    }
    dir
}

#[test]
fn the_built_in_definitions_are_valid() {
    let (code, out) = validate(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/workflows")));
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("definitions valid"), "{out}");
}

#[test]
fn a_valid_folder_gets_a_one_line_summary() {
    let dir = folder(&[("round.toml", ROUND), ("vote.toml", VOTE)]);
    let (code, out) = validate(&dir);
    assert_eq!(code, 0, "{out}");
    assert_eq!(out.lines().count(), 1);
    assert!(out.contains("2 definitions valid"), "{out}");
    std::fs::remove_dir_all(dir).unwrap();
}

/// Finds the 1-based line and column of the `nth` occurrence of `needle`.
fn position(text: &str, needle: &str, nth: usize) -> (usize, usize) {
    let offset = text.match_indices(needle).nth(nth).unwrap_or_else(|| panic!("{needle:?} not in text")).0;
    let line = text[..offset].matches('\n').count() + 1;
    let col = offset - text[..offset].rfind('\n').map_or(0, |i| i + 1) + 1;
    (line, col)
}

#[test]
fn every_problem_is_reported_at_its_place() {
    let broken = ROUND
        .replace("to = \"done\"", "to = \"finished\"")
        .replace("roles = [\"admin\", \"clerk\"]", "roles = [\"admin\", \"janitor\"]")
        .replace("after = \"20d\"", "after = \"20 days\"")
        .replace("definition = \"vote\"", "definition = \"ballot\"");
    let bad_vote = VOTE.replace("id = \"vote\"", "id = \"round\"");
    let dir = folder(&[("round.toml", &broken), ("vote.toml", &bad_vote), ("syntax.toml", "id = \"x\"\nlabel = {")]);
    let (code, out) = validate(&dir);
    assert_eq!(code, 1, "{out}");
    let file = |name: &str| format!("{}/{name}", dir.display());
    let expect = |name: &str, text: &str, needle: &str, message: &str| {
        let (line, col) = position(text, needle, 0);
        let wanted = format!("{}:{line}:{col}: {message}", file(name));
        assert!(out.lines().any(|l| l == wanted), "missing {wanted:?} in:\n{out}");
    };
    expect("round.toml", &broken, "\"finished\"", "unknown state \"finished\"");
    expect("round.toml", &broken, "\"janitor\"", "unknown role \"janitor\": roles.toml does not declare it");
    expect(
        "round.toml",
        &broken,
        "\"20 days\"",
        "malformed duration \"20 days\": write a whole number of days or months, such as \"20d\" or \"3m\"",
    );
    assert!(out.contains("fan-out to unknown definition \"ballot\""), "{out}");
    assert!(out.contains("duplicate definition id \"round\""), "{out}");
    assert!(
        out.lines().any(|l| l.starts_with(&format!("{}:2:", file("syntax.toml")))),
        "a TOML syntax error at its line: {out}"
    );
    assert!(out.contains("state \"done\" cannot be reached from the initial state"), "{out}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_state_that_cannot_finish_and_a_bad_fraction_are_reported() {
    let stuck = ROUND.replace(
        "event = \"rejected\"\nfrom = \"review\"\nto = \"open\"",
        "event = \"rejected\"\nfrom = \"review\"\nto = \"review\"",
    );
    let stuck = stuck.replace("from = [\"open\", \"review\"]", "from = [\"review\"]").replace(
        "[[transition]]\nevent = \"send\"",
        "[[state]]\nid = \"limbo\"\nstage = \"main\"\nlabel = { zh = \"无\", en = \"Limbo\" }\n\n[[transition]]\nevent = \"drift\"\nfrom = \"open\"\nto = \"limbo\"\nroles = [\"admin\"]\nlabel = { zh = \"漂\", en = \"Drift\" }\n\n[[transition]]\nevent = \"send\"",
    );
    let fraction = VOTE.replace("[[scope]]", "[vote_rule.bad]\nlabel = { zh = \"坏\", en = \"Bad\" }\nquorum = { at_least = \"3/2\", of = \"roster\" }\npass = { more_than = \"1/2\", of = \"present\" }\n\n[[scope]]");
    let dir = folder(&[("round.toml", &stuck), ("vote.toml", &fraction)]);
    let (code, out) = validate(&dir);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("no final state can be reached from state \"limbo\""), "{out}");
    assert!(out.contains("malformed fraction \"3/2\""), "{out}");
    std::fs::remove_dir_all(dir).unwrap();
}

/// A copy of the built-in folder with one file's text changed.
fn workflows_with(file: &str, change: impl Fn(&str) -> String) -> std::path::PathBuf {
    let source = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/workflows"));
    let dir = std::env::temp_dir().join(unique_name("unionflow_workflows"));
    std::fs::create_dir_all(dir.join("calendars")).unwrap();
    for sub in ["", "calendars"] {
        for entry in std::fs::read_dir(source.join(sub)).unwrap().map(Result::unwrap) {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "toml") {
                let text = std::fs::read_to_string(&path).unwrap();
                let name = path.file_name().unwrap().to_string_lossy().into_owned();
                let text = if name == file { change(&text) } else { text };
                std::fs::write(dir.join(sub).join(name), text).unwrap();
            }
        }
    }
    dir
}

#[test]
fn renaming_a_state_that_rust_relies_on_is_refused_naming_it() {
    // Renamed everywhere in its file, the definition is valid on its own: only the sector's code
    // still looks for "in_training" (graduation, the dashboard, "my trainees").
    let dir = workflows_with("trainee_track.toml", |t| t.replace("\"in_training\"", "\"learning\""));
    let (code, out) = validate(&dir);
    assert_eq!(code, 1, "{out}");
    let text = std::fs::read_to_string(dir.join("trainee_track.toml")).unwrap();
    let (line, col) = position(&text, "\"trainee_track\"", 0);
    let expected = format!(
        "trainee_track.toml:{line}:{col}: \"trainee_track\" must declare the state \"in_training\": the training pages rely on it by name (src/sector.rs)"
    );
    assert!(out.lines().any(|l| l.ends_with(&expected)), "{out}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_folder_without_a_sectors_processes_runs_without_that_sector() {
    let dir = workflows_with("trainee_track.toml", |t| t.to_owned());
    for file in ["trainee_track.toml", "training_cohort.toml"] {
        std::fs::remove_file(dir.join(file)).unwrap();
    }
    let (code, out) = validate(&dir);
    assert_eq!(code, 0, "{out}");
    std::fs::remove_dir_all(dir).unwrap();
}
