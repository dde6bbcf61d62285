//! The definition checker's messages, as a union officer reads them: one small bad definition per
//! problem the checker reports, its exact `FILE:LINE:COL: message` output kept as a snapshot.
//!
//! Each case is a small valid folder (`roles.toml`, `base.toml`, `child.toml`, a calendar) with one
//! thing wrong. A changed message fails `cargo test`; to accept one, run with
//! `INSTA_UPDATE=always` (or `cargo insta review`) and read the diff before committing it.

use std::fmt::Write;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use unionflow::definition::{Problems, SourceFile, load, load_dir};

use crate::support::unique_name;

const ROLES: &str = r#"[role.admin]
label = { zh = "管理员", en = "Admin" }

[role.clerk]
label = { zh = "办事员", en = "Clerk" }
"#;

const CALENDAR: &str = r#"year = 2026
rest_days = ["2026-01-01"]
working_days = ["2026-01-04"]
"#;

/// A round that sends a draft to units (fan-out and join), records a vote, and closes.
const BASE: &str = r#"id = "base"
label = { zh = "基础流程", en = "Base" }
initial = "open"
title = ["name"]

[start]
roles = ["admin"]
ask = ["name"]

[[scope]]
role = "clerk"
field = "unit"
matches = "unit"

[[stage]]
id = "main"
label = { zh = "主要", en = "Main" }

[[state]]
id = "open"
stage = "main"
label = { zh = "开放", en = "Open" }
[[state.timer]]
id = "reminder"
fires = "remind"
after = "20d"

[[state]]
id = "waiting"
stage = "main"
label = { zh = "等待", en = "Waiting" }
[[state.timer]]
id = "deadline"
fires = "expire"
date = "due"
before = "3m"
[state.join]
pass = "all"
wait = "all_decided"
on_pass = "all_passed"
on_fail = "some_failed"

[[state]]
id = "done"
stage = "main"
final = true
outcome = "passed"
label = { zh = "完成", en = "Done" }

[[state]]
id = "failed"
stage = "main"
final = true
outcome = "failed"
label = { zh = "失败", en = "Failed" }
summary = "reason"

[[field]]
id = "name"
type = "text"
label = { zh = "名称", en = "Name" }
max_len = 60

[[field]]
id = "unit"
type = "text"
label = { zh = "单位", en = "Unit" }
source = "units"

[[field]]
id = "units"
type = "list"
label = { zh = "各单位", en = "Units" }
min_items = 1
max_items = 50

[[field]]
id = "due"
type = "date"
label = { zh = "期限", en = "Due" }

[[field]]
id = "signed_on"
type = "date"
label = { zh = "签字日期", en = "Signed on" }

[[field]]
id = "urgent"
type = "bool"
label = { zh = "紧急", en = "Urgent" }

[[field]]
id = "kind"
type = "choice"
label = { zh = "形式", en = "Kind" }
options = [{ id = "a", label = { zh = "甲", en = "A" } }, { id = "b", label = { zh = "乙", en = "B" } }]

[[field]]
id = "attendance"
type = "map"
label = { zh = "出勤", en = "Attendance" }

[[field]]
id = "reason"
type = "long_text"
label = { zh = "原因", en = "Reason" }

[[field]]
id = "roster"
type = "int"
label = { zh = "应到", en = "Roster" }
min = 0
max = 10000

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

[vote_rule.contract]
label = { zh = "合同表决", en = "Contract vote" }
quorum = { at_least = "2/3", of = "roster" }
pass = { more_than = "1/2", of = "present" }

[[transition]]
event = "send"
from = "open"
to = "waiting"
roles = ["admin"]
label = { zh = "发送", en = "Send" }
ask = ["units", "due"]
guards = [{ min_count = { field = "units", min = 1 } }]
effects = [{ spawn = { definition = "child", for_each = "units", as = "unit", copy = ["name"] } }]

[[transition]]
event = "remind"
from = "open"
roles = ["system"]
label = { zh = "提醒", en = "Remind" }
effects = [{ escalate = "admin" }]

[[transition]]
event = "record_vote"
from = "open"
roles = ["clerk"]
label = { zh = "录入表决", en = "Record the vote" }
ask = ["roster", "present", "yes", "no", "abstain"]
optional = ["urgent"]
guards = [{ compare = { field = "present", op = "<=", than = "roster" } }]
effects = [{ tally = { rule = "contract", roster = "roster", present = "present", yes = "yes", no = "no", abstain = "abstain" } }]

[[transition]]
event = "close"
from = "open"
to = "done"
roles = ["admin"]
label = { zh = "结束", en = "Close" }
guards = [{ vote = "passed" }]
effects = [{ stamp = "signed_on" }]

[[transition]]
event = "all_passed"
from = "waiting"
to = "done"
roles = ["system"]
label = { zh = "全部通过", en = "All passed" }

[[transition]]
event = "some_failed"
from = "waiting"
to = "failed"
roles = ["system"]
label = { zh = "有未通过", en = "Some failed" }

[[transition]]
event = "expire"
from = "waiting"
to = "failed"
roles = ["system"]
label = { zh = "逾期", en = "Expired" }

[[transition]]
event = "abandon"
from = ["open", "waiting"]
to = "failed"
roles = ["admin"]
label = { zh = "放弃", en = "Abandon" }
ask = ["reason"]

[[document]]
id = "letter"
label = { zh = "确认函", en = "Letter" }
states = ["done"]
heading = { zh = "{name}确认函", en = "Confirmation: {name}" }
text = { zh = "{unit}已通过。", en = "{unit} passed." }
signatures = [{ label = { zh = "签字", en = "Signed" }, by = "name", on = "signed_on" }]
"#;

/// One unit's answer: what `base` fans out to.
const CHILD: &str = r#"id = "child"
label = { zh = "单位答复", en = "Unit reply" }
initial = "pending"

[[stage]]
id = "main"
label = { zh = "主要", en = "Main" }

[[state]]
id = "pending"
stage = "main"
label = { zh = "待定", en = "Pending" }

[[state]]
id = "yes"
stage = "main"
final = true
outcome = "passed"
label = { zh = "同意", en = "Yes" }

[[state]]
id = "no"
stage = "main"
final = true
outcome = "failed"
label = { zh = "反对", en = "No" }

[[field]]
id = "unit"
type = "text"
label = { zh = "单位", en = "Unit" }

[[field]]
id = "name"
type = "text"
label = { zh = "名称", en = "Name" }

[[transition]]
event = "accept"
from = "pending"
to = "yes"
roles = ["clerk"]
label = { zh = "同意", en = "Accept" }

[[transition]]
event = "reject"
from = "pending"
to = "no"
roles = ["clerk"]
label = { zh = "反对", en = "Reject" }
"#;

/// A state added to the base: nothing leads to it.
const STATE: &str = r#"
[[state]]
id = "limbo"
stage = "main"
label = { zh = "搁置", en = "Limbo" }
"#;

/// A transition added to the base: into that state, which has no way out.
const TRANSITION: &str = r#"
[[transition]]
event = "suspend"
from = "open"
to = "limbo"
roles = ["admin"]
label = { zh = "搁置", en = "Suspend" }
"#;

/// A definitions folder, as `load` takes it: (path, text) in order.
type Folder = Vec<(&'static str, String)>;

fn valid() -> Folder {
    vec![
        ("roles.toml", ROLES.to_owned()),
        ("calendars/2026.toml", CALENDAR.to_owned()),
        ("base.toml", BASE.to_owned()),
        ("child.toml", CHILD.to_owned()),
    ]
}

/// The valid folder with `old` (which must occur exactly once in `file`) replaced by `new`.
fn with(file: &str, old: &str, new: &str) -> Folder {
    let mut folder = valid();
    let (_, text) = folder.iter_mut().find(|(path, _)| *path == file).unwrap_or_else(|| panic!("no {file}"));
    assert_eq!(text.matches(old).count(), 1, "{old:?} must occur exactly once in {file}");
    *text = text.replacen(old, new, 1);
    folder
}

/// The base definition with `old` (once in it) replaced by `new`; `new` empty removes it.
fn base(old: &str, new: &str) -> Folder {
    with("base.toml", old, new)
}

/// The base definition with `line` added after the line `after` (once in it).
fn base_add(after: &str, line: &str) -> Folder {
    with("base.toml", &format!("{after}\n"), &format!("{after}\n{line}\n"))
}

/// The base definition with every occurrence of each `old` replaced by its `new`.
fn base_every(changes: &[(&str, &str)]) -> Folder {
    let mut folder = valid();
    for (old, new) in changes {
        assert!(folder[2].1.contains(old), "{old:?} is not in base.toml");
        folder[2].1 = folder[2].1.replace(old, new);
    }
    folder
}

/// The base definition with `block` added at its end.
fn base_plus(block: &str) -> Folder {
    let mut folder = valid();
    folder[2].1.push_str(block);
    folder
}

/// Every case: its name (the snapshot's) and its folder, the valid one with one thing wrong.
fn cases() -> Vec<(&'static str, Folder)> {
    let without = |file: &str| valid().into_iter().filter(|(path, _)| *path != file).collect::<Folder>();
    vec![
        // The folder as a whole.
        ("roles_file_missing", without("roles.toml")),
        ("roles_file_unknown_key", with("roles.toml", r#"label = { zh = "办事员""#, r#"lable = { zh = "办事员""#)),
        ("roles_file_without_roles", with("roles.toml", ROLES, "# no roles yet")),
        ("calendar_date_outside_its_year", with("calendars/2026.toml", r#""2026-01-01""#, r#""2025-01-01""#)),
        ("calendar_malformed_date", with("calendars/2026.toml", r#""2026-01-04""#, r#""2026-1-4""#)),
        ("calendar_year_not_a_number", with("calendars/2026.toml", "year = 2026", r#"year = "2026""#)),
        ("definition_id_twice", [valid(), vec![("copy.toml", CHILD.to_owned())]].concat()),
        ("fan_out_to_unknown_definition", base(r#"definition = "child""#, r#"definition = "chlid""#)),
        ("fan_out_fills_a_field_the_child_lacks", base(r#"as = "unit""#, r#"as = "unit_id""#)),
        // TOML, and the shape of a definition.
        ("toml_syntax_error", base(r#"en = "Base" }"#, r#"en = "Base""#)),
        ("toml_duplicate_key", base_add(r#"initial = "open""#, r#"initial = "done""#)),
        ("toml_unknown_key", base("max_len = 60", "max_length = 60")),
        ("toml_missing_key", base("id = \"done\"\nstage = \"main\"", r#"id = "done""#)),
        ("toml_missing_label_language", base(r#"zh = "完成", en = "Done" }"#, r#"zh = "完成" }"#)),
        ("toml_wrong_type", base("min = 0", r#"min = "0""#)),
        ("toml_negative_count", base("min_items = 1", "min_items = -1")),
        ("toml_list_expected", base(r#"ask = ["name"]"#, r#"ask = "name""#)),
        ("toml_label_expected", base(r#"label = { zh = "完成", en = "Done" }"#, r#"label = "Done""#)),
        ("toml_bool_expected", base_add(r#"after = "20d""#, r#"working_day = "yes""#)),
        ("toml_unknown_guard", base(r#"{ vote = "passed" }"#, r#"{ voted = "passed" }"#)),
        ("toml_unknown_effect", base(r#"{ stamp = "signed_on" }"#, r#"{ date = "signed_on" }"#)),
        ("toml_effect_missing_key", base(r#"roster = "roster", "#, "")),
        ("toml_from_not_a_state_or_list", base(r#"from = ["open", "waiting"]"#, r#"from = ["open", 2]"#)),
        ("toml_join_pass_bad_shape", base(r#"pass = "all""#, r#"pass = { at_least = "3" }"#)),
        // Ids.
        ("duplicate_stage_id", base_plus("\n[[stage]]\nid = \"main\"\nlabel = { zh = \"又一\", en = \"Again\" }\n")),
        ("duplicate_state_id", base_plus(&STATE.replace("limbo", "open"))),
        (
            "duplicate_field_id",
            base_plus("\n[[field]]\nid = \"name\"\ntype = \"text\"\nlabel = { zh = \"又一\", en = \"Again\" }\n"),
        ),
        (
            "duplicate_timer_id",
            base_add(r#"after = "20d""#, "[[state.timer]]\nid = \"reminder\"\nfires = \"remind\"\nafter = \"30d\""),
        ),
        // An event declared again from a state is a choice: the earlier declarations need guards,
        // and all ask the same fields.
        (
            "event_again_after_an_unguarded_one",
            base_plus(
                &TRANSITION
                    .replace("suspend", "all_passed")
                    .replace(r#""open""#, r#""waiting""#)
                    .replace("limbo", "done")
                    .replace(r#"roles = ["admin"]"#, r#"roles = ["system"]"#),
            ),
        ),
        (
            "event_again_for_other_roles",
            base_plus(
                &TRANSITION
                    .replace("suspend", "close")
                    .replace("limbo", "failed")
                    .replace(r#"["admin"]"#, r#"["clerk"]"#),
            ),
        ),
        ("timer_after_and_every", base_add(r#"after = "20d""#, r#"every = "1m""#)),
        ("timer_count_without_every", base_add(r#"after = "20d""#, "count = 3")),
        (
            "join_collects_by_no_fanout_field",
            base(r#"on_fail = "some_failed""#, "on_fail = \"some_failed\"\ncollect = { field = \"name\" }"),
        ),
        ("unique_key_not_asked_at_start", base("[start]", "[[unique]]\nfields = [\"due\"]\n\n[start]")),
        (
            "number_pattern_without_seq",
            base(
                r#"{ stamp = "signed_on" }"#,
                r#"{ stamp = "signed_on" }, { number = { into = "name", pattern = "JS-{year}" } }"#,
            ),
        ),
        (
            "event_again_asking_other_fields",
            base_plus(
                &TRANSITION
                    .replace("suspend", "close")
                    .replace("limbo", "failed")
                    .replace("roles", "ask = [\"name\"]\nroles"),
            ),
        ),
        (
            "join_collects_into_no_list",
            base(
                r#"on_fail = "some_failed""#,
                "on_fail = \"some_failed\"\ncollect = { field = \"unit\", passed = \"name\" }",
            ),
        ),
        // References to states, stages, roles and fields.
        ("unknown_initial_state", base(r#"initial = "open""#, r#"initial = "opened""#)),
        ("unknown_stage", base("id = \"done\"\nstage = \"main\"", "id = \"done\"\nstage = \"mian\"")),
        ("unknown_state_in_to", base(r#"to = "waiting""#, r#"to = "wait""#)),
        ("unknown_state_in_from_list", base(r#"from = ["open", "waiting"]"#, r#"from = ["open", "wating"]"#)),
        ("unknown_role", base(r#"roles = ["clerk"]"#, r#"roles = ["clark"]"#)),
        ("unknown_role_in_scope", base(r#"role = "clerk""#, r#"role = "secretary""#)),
        ("unknown_role_escalated_to", base(r#"escalate = "admin""#, r#"escalate = "chair""#)),
        ("system_role_may_not_start", base("[start]\nroles = [\"admin\"]", "[start]\nroles = [\"system\"]")),
        ("transition_without_roles", base(r#"roles = ["clerk"]"#, "roles = []")),
        ("unknown_field_in_title", base(r#"title = ["name"]"#, r#"title = ["title"]"#)),
        ("unknown_field_asked", base(r#"ask = ["units", "due"]"#, r#"ask = ["units", "deadline"]"#)),
        ("unknown_field_in_scope", base(r#"field = "unit""#, r#"field = "department""#)),
        ("unknown_field_in_summary", base(r#"summary = "reason""#, r#"summary = "reasons""#)),
        ("map_field_asked", base(r#"optional = ["urgent"]"#, r#"optional = ["attendance"]"#)),
        (
            "field_default_from_no_unit",
            base("max_len = 60", "max_len = 60\ndefault = { record = \"name\", take = \"roster\" }"),
        ),
        ("field_change_reason_not_offered", base("id = \"due\"", "id = \"due\"\nchange_reason = \"reason\"")),
        ("unknown_scope_match", base(r#"matches = "unit""#, r#"matches = "units""#)),
        // Fields.
        ("unknown_field_type", base(r#"type = "long_text""#, r#"type = "textarea""#)),
        ("int_min_above_max", base("min = 0", "min = 10001")),
        ("list_min_items_above_max_items", base("min_items = 1", "min_items = 51")),
        (
            "choice_without_options",
            base(
                r#"options = [{ id = "a", label = { zh = "甲", en = "A" } }, { id = "b", label = { zh = "乙", en = "B" } }]"#,
                "options = []",
            ),
        ),
        ("unknown_source", base(r#"source = "units""#, r#"source = "unit_directory""#)),
        ("source_on_an_int_field", base_add("max = 10000", r#"source = "people""#)),
        ("pick_from_not_a_list", base_add("max_items = 50", r#"pick_from = "name""#)),
        // Votes.
        ("malformed_fraction", base(r#"at_least = "2/3""#, r#"at_least = "66%""#)),
        ("fraction_above_one", base(r#"at_least = "2/3""#, r#"at_least = "3/2""#)),
        ("threshold_with_both_at_least_and_more_than", base(r#""2/3", of"#, r#""2/3", more_than = "1/2", of"#)),
        ("unknown_vote_base", base(r#"of = "roster""#, r#"of = "members""#)),
        ("unknown_vote_rule", base(r#"rule = "contract""#, r#"rule = "contracts""#)),
        ("tally_field_not_an_int", base(r#"yes = "yes""#, r#"yes = "name""#)),
        // States.
        ("unknown_outcome", base(r#"outcome = "passed""#, r#"outcome = "approved""#)),
        ("final_state_without_outcome", base(r#"outcome = "passed""#, "")),
        ("outcome_on_a_state_that_is_not_final", base_add(r#"id = "waiting""#, r#"outcome = "failed""#)),
        (
            "no_final_state",
            base_every(&[("final = true", ""), (r#"outcome = "passed""#, ""), (r#"outcome = "failed""#, "")]),
        ),
        ("state_cannot_be_reached", base_plus(STATE)),
        ("state_cannot_finish", base_plus(&[STATE, TRANSITION].concat())),
        ("final_state_with_a_way_out", base(r#"from = ["open", "waiting"]"#, r#"from = ["open", "waiting", "done"]"#)),
        // Timers and joins.
        ("malformed_duration", base(r#"after = "20d""#, r#"after = "20 days""#)),
        ("timer_without_when", base(r#"after = "20d""#, "")),
        ("timer_date_not_a_date_field", base(r#"date = "due""#, r#"date = "name""#)),
        ("timer_date_unknown_field", base(r#"date = "due""#, r#"date = "due_on""#)),
        ("timer_fires_unknown_event", base(r#"fires = "remind""#, r#"fires = "reminder""#)),
        ("timer_fires_an_event_of_another_state", base(r#"fires = "remind""#, r#"fires = "expire""#)),
        ("timer_fires_an_event_system_may_not_fire", base(r#"fires = "remind""#, r#"fires = "close""#)),
        ("join_fires_unknown_event", base(r#"on_pass = "all_passed""#, r#"on_pass = "passed""#)),
        ("join_fires_an_event_system_may_not_fire", base(r#"on_fail = "some_failed""#, r#"on_fail = "abandon""#)),
        ("unknown_join_rule", base(r#"pass = "all""#, r#"pass = "most""#)),
        ("join_share_malformed", base(r#"pass = "all""#, r#"pass = { share = "most" }"#)),
        ("unknown_join_wait", base(r#"wait = "all_decided""#, r#"wait = "all""#)),
        // Guards.
        ("guard_unknown_field", base(r#"field = "units", min = 1"#, r#"field = "unit_list", min = 1"#)),
        ("guard_field_of_the_wrong_type", base(r#"field = "units", min = 1"#, r#"field = "name", min = 1"#)),
        ("guard_unknown_comparison", base(r#"op = "<=""#, r#"op = "=<""#)),
        ("guard_compare_than_not_a_field_or_number", base(r#"than = "roster""#, "than = 0.5")),
        ("guard_unknown_vote_outcome", base(r#"vote = "passed""#, r#"vote = "pass""#)),
        (
            "guard_each_at_least_keys_of_the_wrong_type",
            base(r#"{ vote = "passed" }"#, r#"{ each_at_least = { map = "attendance", keys = "name", min = 75 } }"#),
        ),
        (
            "guard_each_at_least_unknown_keys",
            base(r#"{ vote = "passed" }"#, r#"{ each_at_least = { map = "attendance", keys = "phases", min = 75 } }"#),
        ),
        (
            "guard_share_malformed",
            base(
                r#"{ vote = "passed" }"#,
                r#"{ share_at_most = { list = "units", part = "units", share = "a third" } }"#,
            ),
        ),
        (
            "guard_message_names_unknown_field",
            base(
                r#"{ vote = "passed" }"#,
                r#"{ vote = "passed", message = { zh = "{nobody}未通过", en = "Not passed" } }"#,
            ),
        ),
        (
            "guard_message_without_english",
            base(r#"{ vote = "passed" }"#, r#"{ vote = "passed", message = { zh = "未通过" } }"#),
        ),
        (
            "guard_message_empty",
            base(r#"{ vote = "passed" }"#, r#"{ vote = "passed", message = { zh = " ", en = "Not passed" } }"#),
        ),
        // Effects.
        ("effect_unknown_field", base(r#"stamp = "signed_on""#, r#"stamp = "signed""#)),
        ("effect_field_of_the_wrong_type", base(r#"stamp = "signed_on""#, r#"stamp = "name""#)),
        // Documents.
        ("document_unknown_state", base(r#"states = ["done"]"#, r#"states = ["closed"]"#)),
        ("document_unknown_field", base(r#"en = "Confirmation: {name}""#, r#"en = "Confirmation: {title}""#)),
        ("document_signature_date_not_a_date", base(r#"on = "signed_on""#, r#"on = "name""#)),
        ("document_signature_by_unknown_field", base(r#"by = "name""#, r#"by = "chief""#)),
    ]
}

fn files(folder: &Folder) -> Vec<SourceFile> {
    folder.iter().map(|(path, text)| SourceFile { path: (*path).into(), text: text.clone() }).collect()
}

/// The checker's output, each problem line as `validate` prints it, followed by the line of the
/// file it points at with a caret under the column: the snapshot shows the place, not just numbers.
fn render(folder: &Folder, problems: &Problems) -> String {
    let mut out = String::new();
    for p in &problems.0 {
        writeln!(out, "{p}").unwrap();
        let text = folder.iter().find(|(path, _)| *path == p.file).map(|(_, text)| text);
        if let Some(line) = text.and_then(|text| text.lines().nth(p.line - 1)) {
            // Chinese characters take two columns on a terminal.
            let width: usize = line.chars().take(p.col - 1).map(|c| if c >= '\u{2e80}' { 2 } else { 1 }).sum();
            writeln!(out, "    | {line}\n    | {}^", " ".repeat(width)).unwrap();
        }
    }
    out
}

#[test]
fn the_base_folder_is_valid() {
    if let Err(problems) = load(&files(&valid())) {
        panic!("the base of every case must be valid:\n{problems}");
    }
}

#[test]
fn every_checker_message_is_kept_as_a_snapshot() {
    let cases = cases();
    let mut names: Vec<_> = cases.iter().map(|(name, _)| *name).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), cases.len(), "case names must be unique: each names a snapshot");

    // Every case runs, so one changed message shows every snapshot it changes, not just the first.
    let (mut found_nothing, mut failed) = (Vec::new(), Vec::new());
    for (name, folder) in &cases {
        match load(&files(folder)) {
            Ok(_) => found_nothing.push(*name),
            Err(problems) => {
                let output = render(folder, &problems);
                if catch_unwind(AssertUnwindSafe(|| insta::assert_snapshot!(*name, output))).is_err() {
                    failed.push(*name);
                }
            }
        }
    }
    assert!(found_nothing.is_empty(), "these cases find no problem: {found_nothing:?}");
    assert!(failed.is_empty(), "snapshots differ: {failed:?}");
}

/// `load_dir`'s problems, with the (temporary) folder written as `DIR`.
fn problems_in(dir: &Path) -> String {
    let problems = load_dir(dir).expect_err("problems");
    problems.to_string().replace(&dir.display().to_string(), "DIR")
}

/// What only reading a folder from disk can find.
#[test]
fn folder_problems_are_kept_as_snapshots() {
    insta::assert_snapshot!("folder_missing", problems_in(&std::env::temp_dir().join(unique_name("no_such_folder"))));

    let dir = std::env::temp_dir().join(unique_name("unionflow_defs"));
    std::fs::create_dir_all(dir.join("calendars")).unwrap();
    for (path, text) in valid() {
        std::fs::write(dir.join(path), text).unwrap();
    }
    // Saved by an editor on Chinese Windows, in GBK: "基础流程" is BB F9 B4 A1 C1 F7 B3 CC.
    let (head, tail) = BASE.split_once("基础流程").unwrap();
    let gbk = [head.as_bytes(), &[0xbb, 0xf9, 0xb4, 0xa1, 0xc1, 0xf7, 0xb3, 0xcc], tail.as_bytes()].concat();
    std::fs::write(dir.join("base.toml"), gbk).unwrap();
    insta::assert_snapshot!("file_not_utf8", problems_in(&dir));

    // Any other reason a file cannot be read is reported in the system's words.
    std::fs::write(dir.join("base.toml"), BASE).unwrap();
    std::fs::create_dir(dir.join("drafts.toml")).unwrap();
    insta::assert_snapshot!("file_unreadable", problems_in(&dir));
    std::fs::remove_dir_all(dir).unwrap();
}
