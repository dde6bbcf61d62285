//! Every example of `workflows/README.md` is a test (issue 13, item 10): each ```toml block, and
//! each backticked TOML value in the first column of the guard and effect tables, is loaded with
//! the real `roles.toml` and must have no problems.
//!
//! How a block is checked:
//! - a whole definition (top-level `id` and `initial`) is loaded as it is, with the definitions of
//!   `workflows/` it spawns (`definition = "X"`);
//! - a calendar (top-level `year`) is loaded as `calendars/YEAR.toml`;
//! - anything else is a fragment, spliced at the end of [`BASE`], a small definition that declares
//!   the fields, states and events the examples name. Keys before the fragment's first table header
//!   (`guards = …`, `effects = …`) belong to a transition of the base; `[[state.timer]]` and
//!   `[state.join]` belong to its state `waiting`, and the events they fire are added to the base
//!   as `system` transitions from it.
//!
//! An HTML comment right before a block changes that:
//! - `<!-- example: invalid -->`: the block must fail to load; `<!-- example: invalid: MESSAGE -->`:
//!   with a problem whose message contains MESSAGE;
//! - `<!-- example: fragment -->`: splice it into the base even though it has `id` and `initial`.
//!
//! A failing example names its README line.

use std::collections::BTreeSet;

use unionflow::definition::{SourceFile, load};

const README: &str = include_str!("../../workflows/README.md");
const ROLES: &str = include_str!("../../workflows/roles.toml");

/// The definition fragments are spliced into. Its last `[[state]]` is `waiting` (where timers and
/// joins land), and its last table a transition from `waiting` (where bare keys land).
const BASE: &str = r#"
id = "base"
label = { zh = "示例", en = "Example" }
initial = "open"
title = ["unit"]

[start]
roles = ["admin"]
ask = ["unit", "id_number"]

[[stage]]
id = "main"
label = { zh = "主", en = "Main" }

[[field]]
id = "unit"
type = "text"
label = { zh = "单位", en = "Unit" }
source = "units"

[[field]]
id = "units"
type = "list"
label = { zh = "单位", en = "Units" }
source = "units"

[[field]]
id = "covered_units"
type = "list"
label = { zh = "覆盖单位", en = "Covered units" }
source = "units"

[[field]]
id = "left_out_units"
type = "list"
label = { zh = "未覆盖单位", en = "Units left out" }
source = "units"

[[field]]
id = "id_number"
type = "text"
label = { zh = "身份证号", en = "ID number" }

[[field]]
id = "register_no"
type = "text"
label = { zh = "登记号", en = "Register number" }

[[field]]
id = "draft_version"
type = "int"
label = { zh = "草案版本", en = "Draft version" }

[[field]]
id = "roster_size"
type = "int"
label = { zh = "应到人数", en = "Roster size" }

[[field]]
id = "present"
type = "int"
label = { zh = "实到", en = "Present" }

[[field]]
id = "yes"
type = "int"
label = { zh = "赞成", en = "Yes" }

[[field]]
id = "no"
type = "int"
label = { zh = "反对", en = "No" }

[[field]]
id = "abstain"
type = "int"
label = { zh = "弃权", en = "Abstain" }

[[field]]
id = "kind"
type = "choice"
label = { zh = "会议形式", en = "Kind of assembly" }
options = [
  { id = "representatives", label = { zh = "职工代表大会", en = "Representatives' assembly" } },
  { id = "all_workers", label = { zh = "职工大会", en = "All workers' assembly" } },
]

[[field]]
id = "assembly_date"
type = "date"
label = { zh = "会议日期", en = "Assembly date" }

[[field]]
id = "worker_chief"
type = "text"
label = { zh = "职工方首席代表", en = "Worker-side chief" }
source = "people"

[[field]]
id = "worker_signed_on"
type = "date"
label = { zh = "职工方签字日期", en = "Worker side signed on" }

[[field]]
id = "objection"
type = "long_text"
label = { zh = "审查异议", en = "Objection" }

[[field]]
id = "sector"
type = "choice"
label = { zh = "行业", en = "Sector" }
options = [
  { id = "education", label = { zh = "教育", en = "Education" } },
  { id = "care", label = { zh = "托育", en = "Care" } },
]

[[field]]
id = "year"
type = "int"
label = { zh = "年度", en = "Year" }

[[field]]
id = "effective_on"
type = "date"
label = { zh = "生效日期", en = "Effective on" }

[[field]]
id = "term_end"
type = "date"
label = { zh = "期满日期", en = "Term end" }

[[field]]
id = "exit_planned_on"
type = "date"
label = { zh = "计划退出日期", en = "Exit planned on" }

[[field]]
id = "registered_on"
type = "date"
label = { zh = "建档日期", en = "Registered on" }

[[field]]
id = "last_review"
type = "date"
label = { zh = "上次复核", en = "Last review" }

[[field]]
id = "paid_on"
type = "date"
label = { zh = "发放日期", en = "Paid on" }

[[field]]
id = "amount"
type = "money"
label = { zh = "金额", en = "Amount" }

[[field]]
id = "attendance_by_phase"
type = "map"
label = { zh = "各期出勤率", en = "Attendance by phase" }

[[field]]
id = "tier"
type = "choice"
label = { zh = "困难类别", en = "Tier" }
options = [
  { id = "none", label = { zh = "无", en = "None" } },
  { id = "deep", label = { zh = "深度困难", en = "Deep hardship" } },
]

[[field]]
id = "disabled"
type = "bool"
label = { zh = "有残疾", en = "Disabled" }

[[field]]
id = "monthly_income"
type = "int"
label = { zh = "家庭月收入", en = "Monthly income" }

[[field]]
id = "rigid_expenses"
type = "int"
label = { zh = "刚性支出", en = "Rigid expenses" }

[[field]]
id = "household_size"
type = "int"
label = { zh = "家庭人口", en = "Household size" }
min = 1

[vote_rule.majority]
label = { zh = "过半数", en = "Majority" }
quorum = { at_least = "2/3", of = "roster" }
pass = { more_than = "1/2", of = "present" }

[[state]]
id = "open"
stage = "main"
label = { zh = "受理", en = "Open" }

[[state]]
id = "negotiating"
stage = "main"
label = { zh = "协商", en = "Negotiating" }

[[state]]
id = "unit_review"
stage = "main"
label = { zh = "单位审议", en = "Unit review" }

[[state]]
id = "passed"
stage = "main"
final = true
outcome = "passed"
label = { zh = "已通过", en = "Passed" }

[[state]]
id = "closed"
stage = "main"
final = true
outcome = "failed"
label = { zh = "已结束", en = "Closed" }

[[transition]]
event = "negotiate"
from = "open"
to = "negotiating"
roles = ["admin"]
label = { zh = "协商", en = "Negotiate" }

[[transition]]
event = "review"
from = "negotiating"
to = "unit_review"
roles = ["admin"]
label = { zh = "审议", en = "Review" }

[[transition]]
event = "send"
from = "unit_review"
to = "waiting"
roles = ["admin"]
label = { zh = "下发", en = "Send" }
ask = ["units"]
effects = [{ spawn = { definition = "member", for_each = "units", as = "unit", copy = ["draft_version"] } }]

[[transition]]
event = "pass"
from = "waiting"
to = "passed"
roles = ["admin"]
label = { zh = "通过", en = "Pass" }

[[transition]]
event = "close"
from = ["open", "negotiating", "unit_review", "waiting"]
to = "closed"
roles = ["admin"]
label = { zh = "结束", en = "Close" }

[[state]]
id = "waiting"
stage = "main"
label = { zh = "等待", en = "Waiting" }

[[transition]]
event = "record"
from = "waiting"
roles = ["admin"]
label = { zh = "登记", en = "Record" }
"#;

/// The child the base fans out to.
const MEMBER: &str = r#"
id = "member"
label = { zh = "单位", en = "Unit" }
initial = "voting"
title = ["unit"]

[[stage]]
id = "main"
label = { zh = "主", en = "Main" }

[[field]]
id = "unit"
type = "text"
label = { zh = "单位", en = "Unit" }
source = "units"

[[field]]
id = "draft_version"
type = "int"
label = { zh = "草案版本", en = "Draft version" }

[[state]]
id = "voting"
stage = "main"
label = { zh = "表决中", en = "Voting" }

[[state]]
id = "passed"
stage = "main"
final = true
outcome = "passed"
label = { zh = "已通过", en = "Passed" }

[[transition]]
event = "pass"
from = "voting"
to = "passed"
roles = ["unit_secretary"]
label = { zh = "通过", en = "Pass" }
"#;

/// One ```toml block of the README.
struct Block {
    /// The README line of its first line of TOML.
    line: usize,
    /// What the `<!-- example: … -->` comment right before it says, if there is one.
    marker: Option<String>,
    text: String,
}

/// The marker of an HTML comment line `<!-- example: WHAT -->`.
fn marker(line: &str) -> Option<String> {
    let inner = line.trim().strip_prefix("<!--")?.strip_suffix("-->")?.trim();
    Some(inner.strip_prefix("example:")?.trim().to_owned())
}

fn blocks(readme: &str) -> Vec<Block> {
    let lines: Vec<&str> = readme.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if lines[i].trim() == "```toml" {
            let before = lines[..i].iter().rev().find(|l| !l.trim().is_empty());
            let marker = before.and_then(|l| marker(l));
            let start = i + 1;
            let mut end = start;
            while end < lines.len() && lines[end].trim() != "```" {
                end += 1;
            }
            assert!(end < lines.len(), "workflows/README.md:{}: a ```toml block is not closed", i + 1);
            out.push(Block { line: start + 1, marker, text: lines[start..end].join("\n") });
            i = end;
        }
        i += 1;
    }
    out
}

fn file(path: &str, text: &str) -> SourceFile {
    SourceFile { path: path.to_owned(), text: text.to_owned() }
}

/// The `workflows/` files whose definition ids a text names with `definition = "X"`.
fn spawned(text: &str) -> Vec<SourceFile> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/workflows");
    let mut out = Vec::new();
    for part in text.split("definition = \"").skip(1) {
        let Some(id) = part.split('"').next() else { continue };
        let path = format!("{dir}/{id}.toml");
        if let Ok(text) = std::fs::read_to_string(&path) {
            out.push(file(&format!("{id}.toml"), &text));
        }
    }
    out
}

/// The names of the events a fragment's timers and joins fire.
fn fired_events(fragment: &toml::Table) -> BTreeSet<String> {
    let mut events = BTreeSet::new();
    // `[[state.timer]]` without a `[[state]]` before it parses as a table `state`, not an array.
    let states: Vec<&toml::Value> = match fragment.get("state") {
        Some(toml::Value::Array(states)) => states.iter().collect(),
        Some(state) => vec![state],
        None => return events,
    };
    for state in states {
        if let Some(timers) = state.get("timer").and_then(|t| t.as_array()) {
            for t in timers {
                events.extend(t.get("fires").and_then(|f| f.as_str()).map(str::to_owned));
            }
        }
        if let Some(join) = state.get("join") {
            for key in ["on_pass", "on_fail"] {
                events.extend(join.get(key).and_then(|e| e.as_str()).map(str::to_owned));
            }
        }
    }
    events
}

/// The files a fragment is loaded as: the base with the fragment spliced in, the base's child and
/// the roles.
fn spliced(fragment: &str, parsed: &toml::Table) -> Vec<SourceFile> {
    let mut base = BASE.to_owned();
    // A fragment that declares a field or state the base has replaces the base's.
    for (table, ids) in [("field", declared(parsed, "field")), ("state", declared(parsed, "state"))] {
        for id in ids {
            base = without(&base, table, &id);
        }
    }
    let mut text = base;
    text.push_str("\n# ---- the example ----\n");
    text.push_str(fragment);
    text.push('\n');
    for event in fired_events(parsed) {
        text.push_str(&format!(
            "\n[[transition]]\nevent = \"{event}\"\nfrom = \"waiting\"\nroles = [\"system\"]\nlabel = {{ zh = \"{event}\", en = \"{event}\" }}\n"
        ));
    }
    vec![file("roles.toml", ROLES), file("base.toml", &text), file("member.toml", MEMBER)]
}

/// The ids of a fragment's `[[table]]`s.
fn declared(parsed: &toml::Table, table: &str) -> Vec<String> {
    let Some(items) = parsed.get(table).and_then(|t| t.as_array()) else { return Vec::new() };
    items.iter().filter_map(|i| i.get("id").and_then(|id| id.as_str()).map(str::to_owned)).collect()
}

/// The base without its `[[table]]` of that id (it runs to the next blank line).
fn without(base: &str, table: &str, id: &str) -> String {
    let header = format!("[[{table}]]\nid = \"{id}\"\n");
    let Some(start) = base.find(&header) else { return base.to_owned() };
    let end = base[start..].find("\n\n").map_or(base.len(), |e| start + e + 1);
    format!("{}{}", &base[..start], &base[end..])
}

/// What loading a block gives: `Ok` or the problems, one a line.
fn check(block: &Block) -> Result<(), String> {
    let parsed: toml::Table = toml::from_str(&block.text).map_err(|e| format!("not TOML: {e}"))?;
    let fragment = block.marker.as_deref().is_some_and(|m| m.starts_with("fragment"));
    let files = if !fragment && parsed.contains_key("id") && parsed.contains_key("initial") {
        let mut files = vec![file("roles.toml", ROLES), file("example.toml", &block.text)];
        files.extend(spawned(&block.text));
        files
    } else if !fragment && parsed.contains_key("year") {
        let year = parsed["year"].to_string();
        vec![file("roles.toml", ROLES), file(&format!("calendars/{year}.toml"), &block.text)]
    } else {
        spliced(&block.text, &parsed)
    };
    match load(&files) {
        Ok(_) => Ok(()),
        Err(problems) => Err(problems.0.iter().map(|p| format!("  {p}")).collect::<Vec<_>>().join("\n")),
    }
}

#[test]
fn the_base_loads_without_examples() {
    let files = spliced("", &toml::Table::new());
    if let Err(problems) = load(&files) {
        panic!("the base of the README's fragments does not load:\n{problems:?}");
    }
}

#[test]
fn every_toml_block_of_the_workflows_readme_loads() {
    let blocks = blocks(README);
    assert!(blocks.len() >= 10, "only {} ```toml blocks found in workflows/README.md", blocks.len());
    let mut failures = Vec::new();
    for block in &blocks {
        let result = check(block);
        let invalid = block.marker.as_deref().and_then(|m| m.strip_prefix("invalid"));
        match (invalid, result) {
            (None, Ok(())) => {}
            (None, Err(problems)) => {
                failures.push(format!("workflows/README.md:{}: the example does not load:\n{problems}", block.line))
            }
            (Some(_), Ok(())) => {
                failures.push(format!("workflows/README.md:{}: the example is marked invalid but loads", block.line))
            }
            (Some(expected), Err(problems)) => {
                let expected = expected.trim_start_matches(':').trim();
                if !problems.contains(expected) {
                    failures.push(format!(
                        "workflows/README.md:{}: the invalid example fails, but not with {expected:?}:\n{problems}",
                        block.line
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
