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
//! Tables of single-line examples are checked too: in every table whose first column is headed
//! `guard` or `effect`, each backticked inline table of the first column (`{ is_set = "f" }`) is
//! spliced into a transition of the base as `guards = [ … ]` or `effects = [ … ]`. Their field
//! names are placeholders (`f`, `g`, `a`, `l`, `m` …): the base declares them, `f` and `g` once
//! as text, int, bool, date or a person, and the example must load with one of these typings
//! ([`PLACEHOLDERS`]). The example's transition offers the fields an `add_row` takes its columns
//! from. An inline table elsewhere in the prose (`{ number = … }`, a span that may run over a line
//! break) is checked the same way, as a guard or as an effect, unless the loader knows its key as
//! neither (a join's `{ at_least = 3 }`); a span that is not TOML (a `{field}` placeholder) is no
//! example.
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
id = "published_units"
type = "list"
label = { zh = "已公布单位", en = "Units published" }
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

[[field]]
id = "city"
type = "text"
label = { zh = "市县", en = "City" }

[[field]]
id = "measures"
type = "table"
label = { zh = "帮扶措施", en = "Assistance given" }
columns = [
  { id = "date", type = "date", label = { zh = "日期", en = "Date" } },
  { id = "kind", type = "choice", label = { zh = "类别", en = "Kind" }, options = [
    { id = "cash", label = { zh = "生活救助金", en = "Living allowance" } },
  ] },
  { id = "amount", type = "money", label = { zh = "金额", en = "Amount" } },
  { id = "note", type = "text", max_len = 200, label = { zh = "说明", en = "Note" } },
]

[[field]]
id = "negotiators"
type = "list"
source = "people"
label = { zh = "协商代表", en = "Negotiators" }

[[field]]
id = "measure_date"
type = "date"
label = { zh = "措施日期", en = "Date of the measure" }

[[field]]
id = "measure_kind"
type = "choice"
label = { zh = "措施类别", en = "Kind" }
options = [
  { id = "cash", label = { zh = "生活救助金", en = "Living allowance" } },
]

[[field]]
id = "measure_amount"
type = "money"
label = { zh = "措施金额", en = "Amount of the measure" }

[[field]]
id = "measure_note"
type = "text"
label = { zh = "措施说明", en = "Note on the measure" }

[[reference]]
id = "dibao"
label = { zh = "最低生活保障标准", en = "Minimum living standard (dibao)" }
key = ["city", "year"]
columns = [
  { id = "city", type = "text", label = { zh = "市县", en = "City" } },
  { id = "year", type = "int", label = { zh = "年度", en = "Year" } },
  { id = "monthly", type = "money", label = { zh = "每人每月", en = "Per person per month" } },
]
rows = [
  ["江山市", 2026, "1180"],
]

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

/// The placeholder fields of the guard and effect tables, beside the base's own: `f` and `g` in
/// each typing of [`TYPINGS`], the rest always the same.
const PLACEHOLDERS: &str = r#"
[[field]]
id = "a"
type = "list"
label = { zh = "甲", en = "A" }

[[field]]
id = "b"
type = "list"
label = { zh = "乙", en = "B" }

[[field]]
id = "l"
type = "list"
label = { zh = "名单", en = "L" }
source = "people"

[[field]]
id = "m"
type = "map"
label = { zh = "映射", en = "M" }

[[field]]
id = "k"
type = "choice"
label = { zh = "键", en = "K" }
options = [
  { id = "one", label = { zh = "一", en = "One" } },
  { id = "two", label = { zh = "二", en = "Two" } },
]

[[field]]
id = "n"
type = "int"
label = { zh = "数", en = "N" }

[[field]]
id = "v"
type = "int"
label = { zh = "值", en = "V" }

[[field]]
id = "d"
type = "date"
label = { zh = "日期", en = "D" }

[[field]]
id = "chief"
type = "text"
label = { zh = "首席代表", en = "Chief" }
source = "people"

[[field]]
id = "signed_on"
type = "date"
label = { zh = "签字日期", en = "Signed on" }

[[field]]
id = "signer"
type = "text"
label = { zh = "签字人", en = "Signer" }
source = "people"

[[field]]
id = "letter"
type = "int"
label = { zh = "委托书", en = "Letter" }

[[field]]
id = "t"
type = "table"
label = { zh = "表", en = "T" }
columns = [
  { id = "date", type = "date", label = { zh = "日期", en = "Date" } },
  { id = "note", type = "text", label = { zh = "说明", en = "Note" } },
]

[vote_rule.r]
label = { zh = "规则", en = "Rule" }
quorum = { at_least = "1/2", of = "roster" }
pass = { more_than = "1/2", of = "present" }
"#;

/// The typings of the placeholder fields `f` and `g`: a table example must load with one.
const TYPINGS: [&str; 5] =
    ["type = \"text\"", "type = \"int\"", "type = \"bool\"", "type = \"date\"", "type = \"text\"\nsource = \"people\""];

/// Whether a single-line example is a guard or an effect.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Guard,
    Effect,
}

/// One single-line example: an inline table in backticks.
struct Inline {
    line: usize,
    /// `None`: found in the prose, a guard or an effect.
    kind: Option<Kind>,
    text: String,
}

/// The backticked spans of a line.
fn code_spans(line: &str) -> Vec<&str> {
    line.split('`').skip(1).step_by(2).collect()
}

/// The first cell of a table row.
fn first_cell(row: &str) -> &str {
    row.trim().trim_start_matches('|').split(" |").next().unwrap_or("")
}

/// The inline tables of the guard and effect tables, then those of the prose that parse as TOML.
fn inlines(readme: &str) -> Vec<Inline> {
    let mut out = Vec::new();
    let mut kind: Option<Kind> = None;
    let mut in_code = false;
    let mut prose = Vec::new();
    // The lines of the paragraph being read: a code span may run over a line break.
    let mut paragraph: Vec<(usize, &str)> = Vec::new();
    for (i, line) in readme.lines().enumerate() {
        let line_no = i + 1;
        let trimmed = line.trim();
        let fence = trimmed.starts_with("```");
        if in_code || fence || trimmed.is_empty() || trimmed.starts_with('|') || trimmed.starts_with('#') {
            prose.extend(prose_spans(&paragraph));
            paragraph.clear();
        }
        if fence {
            in_code = !in_code;
            continue;
        }
        if in_code {
            continue;
        }
        if !trimmed.starts_with('|') {
            kind = None;
            if !trimmed.is_empty() {
                paragraph.push((line_no, line));
            }
            continue;
        }
        let cell = first_cell(trimmed).trim();
        match cell {
            "guard" => kind = Some(Kind::Guard),
            "effect" => kind = Some(Kind::Effect),
            _ => {
                if let Some(k) = kind {
                    for span in code_spans(cell).into_iter().filter(|s| s.starts_with('{')) {
                        out.push(Inline { line: line_no, kind: Some(k), text: span.to_owned() });
                    }
                }
            }
        }
    }
    prose.extend(prose_spans(&paragraph));
    out.extend(prose.into_iter().filter(|i| key_of(&i.text).is_some()));
    out
}

/// The backticked inline tables of a paragraph of prose, each at the line it starts on; a span that
/// runs over a line break reads it as a space, as Markdown does.
fn prose_spans(paragraph: &[(usize, &str)]) -> Vec<Inline> {
    let mut out = Vec::new();
    let mut open: Option<(usize, String)> = None;
    for &(line_no, line) in paragraph {
        for (n, piece) in line.split('`').enumerate() {
            if n > 0 {
                // A backtick: a span opens or closes here.
                match open.take() {
                    Some((at, text)) => {
                        if text.starts_with('{') {
                            out.push(Inline { line: at, kind: None, text });
                        }
                    }
                    None => open = Some((line_no, String::new())),
                }
            }
            if let Some((_, text)) = open.as_mut() {
                text.push_str(piece);
            }
        }
        if let Some((_, text)) = open.as_mut() {
            text.push(' ');
        }
    }
    out
}

/// The key of an inline table other than `message`.
fn key_of(inline: &str) -> Option<String> {
    let table: toml::Table = toml::from_str(&format!("x = {inline}")).ok()?;
    let inner = table.get("x")?.as_table()?;
    inner.keys().find(|k| *k != "message").cloned()
}

/// The fields an `add_row` example takes its columns from (`from = { column = "field", … }`).
fn offered_fields(inline: &str) -> Vec<String> {
    let Ok(table) = toml::from_str::<toml::Table>(&format!("x = {inline}")) else { return Vec::new() };
    let from = table.get("x").and_then(|x| x.get("add_row")).and_then(|a| a.get("from")).and_then(|f| f.as_table());
    from.map(|f| f.values().filter_map(|v| v.as_str().map(str::to_owned)).collect()).unwrap_or_default()
}

/// The files a single-line example is loaded as, with `f` and `g` typed as `typing` says.
fn with_inline(kind: Kind, inline: &str, typing: &str) -> Vec<SourceFile> {
    let mut text = BASE.to_owned();
    text.push_str(PLACEHOLDERS);
    for (id, label) in [("f", "F"), ("g", "G")] {
        text.push_str(&format!(
            "\n[[field]]\nid = \"{id}\"\n{typing}\nlabel = {{ zh = \"{label}\", en = \"{label}\" }}\n"
        ));
    }
    let list = if kind == Kind::Guard { "guards" } else { "effects" };
    // An `add_row` takes its values from fields the step is given: the transition offers them.
    let offered: Vec<String> = offered_fields(inline).iter().map(|f| format!("{f:?}")).collect();
    text.push_str(&format!(
        "\n[[transition]]\nevent = \"example\"\nfrom = \"waiting\"\nroles = [\"admin\"]\nlabel = {{ zh = \"示例\", en = \"Example\" }}\noptional = [{}]\n{list} = [{inline}]\n",
        offered.join(", ")
    ));
    // The child `d` a fan-out example starts, which takes the event `e` of `close_children`.
    let child = MEMBER.replace("id = \"member\"", "id = \"d\"")
        + "\n[[transition]]\nevent = \"e\"\nfrom = \"voting\"\nto = \"passed\"\nroles = [\"system\"]\nlabel = { zh = \"撤回\", en = \"Withdraw\" }\n";
    vec![file("roles.toml", ROLES), file("base.toml", &text), file("member.toml", MEMBER), file("d.toml", &child)]
}

/// Loads a single-line example in every typing (and as a guard and an effect when it comes from the
/// prose): `Ok` when one loads, else the problems of each attempt.
fn check_inline(inline: &Inline) -> Result<(), String> {
    let kinds = match inline.kind {
        Some(k) => vec![k],
        None => vec![Kind::Guard, Kind::Effect],
    };
    let mut tries = Vec::new();
    for kind in kinds {
        for typing in TYPINGS {
            match load(&with_inline(kind, &inline.text, typing)) {
                Ok(_) => return Ok(()),
                Err(problems) => tries.push(format!(
                    "  as {kind:?} with f, g: {}\n{}",
                    typing.replace('\n', ", "),
                    problems.0.iter().map(|p| format!("    {p}")).collect::<Vec<_>>().join("\n")
                )),
            }
        }
    }
    // From the prose, a key that is neither a guard nor an effect is another kind of value.
    let key = key_of(&inline.text).unwrap_or_default();
    let neither =
        |t: &String| t.contains(&format!("unknown variant `{key}`")) || t.contains("wanted exactly 1 element");
    if inline.kind.is_none() && tries.iter().all(neither) {
        return Ok(());
    }
    Err(tries.join("\n"))
}

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
    // A fragment that declares a field, state, reference … the base has replaces the base's.
    for (table, value) in parsed {
        if value.is_array() {
            for id in declared(parsed, table) {
                base = without(&base, table, &id);
            }
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

/// What is wrong with the ```toml blocks of a README, each naming its line.
fn block_failures(readme: &str) -> Vec<String> {
    let mut failures = Vec::new();
    for block in &blocks(readme) {
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
    failures
}

/// What is wrong with the single-line guards and effects of a README, each naming its line.
fn inline_failures(readme: &str) -> Vec<String> {
    let mut failures = Vec::new();
    for inline in &inlines(readme) {
        if let Err(problems) = check_inline(inline) {
            failures.push(format!("workflows/README.md:{}: `{}` does not load:\n{problems}", inline.line, inline.text));
        }
    }
    failures
}

#[test]
fn every_toml_block_of_the_workflows_readme_loads() {
    let found = blocks(README).len();
    assert!(found >= 10, "only {found} ```toml blocks found in workflows/README.md");
    let failures = block_failures(README);
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn every_guard_and_effect_of_the_workflows_readme_loads() {
    let tabled = inlines(README).iter().filter(|i| i.kind.is_some()).count();
    assert!(tabled >= 25, "only {tabled} guards and effects found in the tables of workflows/README.md");
    let failures = inline_failures(README);
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// The checks themselves: a wrong example fails at its line, a marked invalid one must fail with its
/// message, a marked one that loads fails, prose that is no guard or effect is left alone, and a
/// span that runs over a line break is read whole, at the line it starts on.
#[test]
fn a_wrong_example_is_reported_at_its_line() {
    let readme = r#"# Title

```toml
[[state.timer]]
id = "t"
fires = "due"
after = "20 days"
```

<!-- example: invalid: malformed duration "20 days" -->

```toml
[[state.timer]]
id = "t"
fires = "due"
after = "20 days"
```

<!-- example: invalid -->
```toml
[[unique]]
fields = ["id_number"]
```

| guard | holds when |
|---|---|
| `{ is_true = "f" }` / `{ is_true = "nowhere" }` | … |

A join's `{ at_least = 3 }`, and `{ increment = "a" }` (a list).

A span may run over a line: `{ add_row = { table = "t", from = { date =
"d", note = "f" } } }` adds a row, `{ add_row = { table = "t", from = {
date = "d" } } }` gives no note.
"#;
    let blocks = block_failures(readme);
    assert_eq!(blocks.len(), 2, "{blocks:#?}");
    assert!(blocks[0].starts_with("workflows/README.md:4: the example does not load:"), "{}", blocks[0]);
    assert!(blocks[0].contains("malformed duration \"20 days\""), "{}", blocks[0]);
    assert!(blocks[1].starts_with("workflows/README.md:21: the example is marked invalid but loads"), "{}", blocks[1]);
    let inlines = inline_failures(readme);
    assert_eq!(inlines.len(), 3, "{inlines:#?}");
    assert!(
        inlines[0].starts_with("workflows/README.md:27: `{ is_true = \"nowhere\" }` does not load"),
        "{}",
        inlines[0]
    );
    assert!(inlines[1].starts_with("workflows/README.md:29: `{ increment = \"a\" }` does not load"), "{}", inlines[1]);
    assert!(
        inlines[2].starts_with("workflows/README.md:32: `{ add_row = { table = \"t\", from = { date = \"d\" } } }`"),
        "{}",
        inlines[2]
    );
    assert!(inlines[2].contains("column \"note\" of table \"t\" is given no field"), "{}", inlines[2]);
}
