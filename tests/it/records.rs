//! Records with columns and reference data (issue 13, items 5 and 6): a table field keeps every
//! row up to its stated limit, a reference table is checked row by row at FILE:LINE:COL, and a
//! changed reference table is a new version of its definition.

use std::sync::Arc;

use serde_json::json;

use unionflow::clock::ManualClock;
use unionflow::definition::{SourceFile, load};
use unionflow::engine::Refusal;
use unionflow::runtime::{Runtime, RuntimeError};

use crate::on_both_backends;
use crate::support::{Backend, Harness, ROLES, START, TestDb, admin, data, defs};

const LEDGER: &str = r#"
id = "ledger"
label = { zh = "台账", en = "Ledger" }
initial = "open"

[start]
roles = ["admin"]
ask = ["city"]

[[stage]]
id = "main"
label = { zh = "主", en = "Main" }

[[state]]
id = "open"
stage = "main"
label = { zh = "开", en = "Open" }

[[state]]
id = "closed"
stage = "main"
final = true
outcome = "passed"
label = { zh = "关", en = "Closed" }

[[reference]]
id = "standard"
label = { zh = "标准", en = "Standard" }
key = ["city"]
columns = [
  { id = "city", type = "text", label = { zh = "市", en = "City" } },
  { id = "monthly", type = "money", label = { zh = "每月", en = "Monthly" } },
]
rows = [
  ["江山市", "1180"],
  ["衢州市", "1,130.50"],
]

[[field]]
id = "city"
type = "text"
label = { zh = "市", en = "City" }

[[field]]
id = "standard"
type = "money"
label = { zh = "标准", en = "Standard" }
compute = 'lookup("standard", city).monthly'

[[field]]
id = "entries"
type = "table"
max_rows = 3
label = { zh = "记录", en = "Entries" }
columns = [
  { id = "amount", type = "money", label = { zh = "金额", en = "Amount" } },
  { id = "on", type = "date", label = { zh = "日期", en = "Date" } },
]

[[field]]
id = "amount"
type = "money"
label = { zh = "金额", en = "Amount" }

[[field]]
id = "on"
type = "date"
label = { zh = "日期", en = "Date" }

[[transition]]
event = "enter"
from = "open"
roles = ["admin"]
label = { zh = "记", en = "Enter" }
ask = ["amount", "on"]
effects = [{ add_row = { table = "entries", from = { amount = "amount", on = "on" } } }]

[[transition]]
event = "close"
from = "open"
to = "closed"
roles = ["admin"]
label = { zh = "关", en = "Close" }
"#;

async fn a_table_keeps_every_row_up_to_its_limit(backend: Backend) {
    let h = Harness::new(backend, defs(&[("ledger.toml", LEDGER)])).await;
    let id = h.rt.start("ledger", &admin(), &data(json!({ "city": "衢州市" }))).await.unwrap();
    assert_eq!(h.data(id).await["standard"], json!("1130.50"), "looked up by key, kept as money");
    let entry = data(json!({ "amount": "1,000", "on": "2026-03-02" }));
    for _ in 0..3 {
        h.rt.fire(id, None, &admin(), "enter", &entry).await.unwrap();
    }
    let rows = h.data(id).await["entries"].clone();
    assert_eq!(rows, json!(vec![json!({ "amount": "1000.00", "on": "2026-03-02" }); 3]), "three alike, all kept");
    match h.rt.fire(id, None, &admin(), "enter", &entry).await {
        Err(RuntimeError::Refused(Refusal::TableFull { table, max })) => {
            assert_eq!((table.as_str(), max), ("entries", 3))
        }
        other => panic!("a fourth row is beyond max_rows: {other:?}"),
    }
    assert_eq!(h.data(id).await["entries"].as_array().map(Vec::len), Some(3), "nothing of the refused step kept");
}

async fn a_changed_reference_table_is_a_new_version(backend: Backend) {
    let db = TestDb::new(backend).await;
    let clock = Arc::new(ManualClock::new(START));
    let first =
        Runtime::new(db.db.clone(), defs(&[("ledger.toml", LEDGER)]), clock.clone(), START.offset()).await.unwrap();
    let old = first.start("ledger", &admin(), &data(json!({ "city": "江山市" }))).await.unwrap();
    let v1 = first.registry().current_version("ledger");
    let raised = LEDGER.replace(r#"["江山市", "1180"]"#, r#"["江山市", "1250"]"#);
    let second = Runtime::new(db.db.clone(), defs(&[("ledger.toml", &raised)]), clock, START.offset()).await.unwrap();
    let v2 = second.registry().current_version("ledger");
    assert!(v2 > v1, "a new row value is a new version: {v1:?} → {v2:?}");
    let new = second.start("ledger", &admin(), &data(json!({ "city": "江山市" }))).await.unwrap();
    assert_eq!(second.instance(new).await.unwrap().row.data["standard"], json!("1250.00"));
    // The open instance runs on its own version, with the standard it was started under.
    second.fire(old, None, &admin(), "enter", &data(json!({ "amount": "1", "on": "2026-03-03" }))).await.unwrap();
    assert_eq!(second.instance(old).await.unwrap().row.data["standard"], json!("1180.00"));
}

on_both_backends! {
    table_rows => a_table_keeps_every_row_up_to_its_limit;
    reference_versions => a_changed_reference_table_is_a_new_version;
}

fn problems(text: &str) -> String {
    let files = [
        SourceFile { path: "roles.toml".into(), text: ROLES.into() },
        SourceFile { path: "ledger.toml".into(), text: text.into() },
    ];
    load(&files).err().map(|p| p.to_string()).unwrap_or_default()
}

fn place(text: &str, needle: &str) -> String {
    let at = text.find(needle).unwrap_or_else(|| panic!("{needle:?} not in text"));
    let line = text[..at].matches('\n').count() + 1;
    let col = text[text[..at].rfind('\n').map_or(0, |i| i + 1)..at].chars().count() + 1;
    format!("ledger.toml:{line}:{col}:")
}

#[test]
fn reference_tables_and_rows_are_checked_at_their_place() {
    assert_eq!(problems(LEDGER), "", "the ledger is valid");
    let bad_cell = LEDGER.replace(r#"["衢州市", "1,130.50"]"#, r#"["衢州市", "一千"]"#);
    let found = problems(&bad_cell);
    assert!(found.starts_with(&place(&bad_cell, "\"一千\"")), "the cell itself: {found}");
    assert!(found.contains("row 2, column \"monthly\""), "{found}");
    let twice = LEDGER.replace(r#"["衢州市", "1,130.50"]"#, r#"["江山市", "1200"]"#);
    assert!(problems(&twice).contains("江山市"), "two rows with one key: {}", problems(&twice));
    let short = LEDGER.replace(r#"["衢州市", "1,130.50"]"#, r#"["衢州市"]"#);
    assert!(!problems(&short).is_empty(), "a row short of a cell");
    let unknown_key = LEDGER.replace(r#"key = ["city"]"#, r#"key = ["town"]"#);
    assert!(problems(&unknown_key).contains("town"), "{}", problems(&unknown_key));
    let bad_lookup = LEDGER.replace(r#"lookup("standard", city)"#, r#"lookup("standard", 2026)"#);
    assert!(problems(&bad_lookup).contains("expected text, found int"), "{}", problems(&bad_lookup));
    let unmapped =
        LEDGER.replace(r#"from = { amount = "amount", on = "on" }"#, r#"from = { amount = "on", on = "on" }"#);
    assert!(!problems(&unmapped).is_empty(), "a date into a money column is refused");
}
