use std::collections::BTreeMap;
use std::sync::Arc;

use rust_decimal::Decimal;
use serde_json::{Map, Value as Json, json};
use time::macros::date;

use super::*;

fn schema() -> MapSchema {
    let mut s = MapSchema::default();
    for (name, ty) in [
        ("income", Type::Decimal),
        ("expenses", Type::Decimal),
        ("household", Type::Int),
        ("crisis_costs", Type::Decimal),
        ("city", Type::Text),
        ("year", Type::Int),
        ("migrant", Type::Bool),
        ("employed_since", Type::Date),
        ("topics", Type::List(Box::new(Type::Text))),
    ] {
        s.fields.insert(name.into(), ty);
    }
    let measure: BTreeMap<String, Type> =
        [("amount".to_owned(), Type::Decimal), ("kind".to_owned(), Type::Text), ("on".to_owned(), Type::Date)].into();
    s.fields.insert("measures".into(), Type::List(Box::new(Type::Row(Arc::new(measure)))));
    let dibao: BTreeMap<String, Type> =
        [("city".to_owned(), Type::Text), ("year".to_owned(), Type::Int), ("monthly".to_owned(), Type::Decimal)].into();
    s.tables.insert("dibao".into(), TableType { key: vec![Type::Text, Type::Int], row: Arc::new(dibao) });
    s
}

struct Dibao(Vec<Map<String, Json>>);

impl Tables for Dibao {
    fn row(&self, table: &str, key: &[Json]) -> Option<&Map<String, Json>> {
        (table == "dibao").then_some(())?;
        self.0.iter().find(|r| r.get("city") == key.first() && r.get("year") == key.get(1))
    }
}

fn dibao() -> Dibao {
    let row = |city: &str, year: i64, monthly: &str| {
        json!({ "city": city, "year": year, "monthly": monthly }).as_object().cloned().unwrap()
    };
    Dibao(vec![row("江山市", 2026, "1180"), row("江山市", 2025, "1130")])
}

fn eval_with(source: &str, data: Json) -> Result<Value, EvalError> {
    let e = Expression::compile(source, &schema()).unwrap_or_else(|err| panic!("{source}: {err}"));
    let data = data.as_object().cloned().unwrap_or_default();
    let tables = dibao();
    e.eval(&Env { data: &data, today: date!(2026 - 12 - 03), tables: &tables })
}

fn error_of(source: &str) -> ExprError {
    Expression::compile(source, &schema()).expect_err(source)
}

fn dec(s: &str) -> Value {
    Value::Decimal(s.parse::<Decimal>().unwrap())
}

const PER_PERSON: &str = "(income - expenses) / household";
const DEEP: &str = "(income - expenses) / household < lookup(\"dibao\", city, year).monthly";
const RELATIVE: &str = "(income - expenses) / household < 2 * lookup(\"dibao\", city, year).monthly";
const ACCIDENT: &str = "crisis_costs > income * 12 * 0.8";

fn household(income: &str, expenses: &str, size: i64) -> Json {
    json!({ "income": income, "expenses": expenses, "household": size, "city": "江山市", "year": 2026 })
}

#[test]
fn money_is_exact_decimal_arithmetic() {
    assert_eq!(eval_with(PER_PERSON, household("3500", "200", 3)).unwrap(), dec("1100"));
    // 0.1 + 0.2 is 0.3 here, as it is on paper.
    assert_eq!(eval_with("income + 0.2 == 0.3", json!({"income": "0.1"})).unwrap(), Value::Bool(true));
    assert_eq!(eval_with(PER_PERSON, household("1000", "0", 3)).unwrap().to_json(), json!("333.33"));
}

#[test]
fn deep_hardship_is_below_dibao_and_exactly_dibao_is_not() {
    // Exactly 低保 per person: 3 × 1180 = 3540 after expenses.
    assert_eq!(eval_with(DEEP, household("3740", "200", 3)).unwrap(), Value::Bool(false));
    // One fen less in the household's month.
    assert_eq!(eval_with(DEEP, household("3739.99", "200", 3)).unwrap(), Value::Bool(true));
}

#[test]
fn relative_hardship_is_below_twice_dibao_and_exactly_twice_is_not() {
    assert_eq!(eval_with(RELATIVE, household("7080", "0", 3)).unwrap(), Value::Bool(false));
    assert_eq!(eval_with(RELATIVE, household("7079.99", "0", 3)).unwrap(), Value::Bool(true));
}

#[test]
fn accident_is_above_eighty_percent_and_exactly_eighty_is_not() {
    // 80 % of a year of 2,500 a month is exactly 24,000.
    assert_eq!(eval_with(ACCIDENT, json!({"income": "2500", "crisis_costs": "24000"})).unwrap(), Value::Bool(false));
    assert_eq!(eval_with(ACCIDENT, json!({"income": "2500", "crisis_costs": "24000.01"})).unwrap(), Value::Bool(true));
}

#[test]
fn a_missing_reference_row_and_an_unset_field_are_named() {
    let mut data = household("3500", "0", 3);
    data["year"] = json!(2031);
    assert_eq!(
        eval_with(DEEP, data).unwrap_err(),
        EvalError::NoRow { table: "dibao".into(), key: vec!["江山市".into(), "2031".into()] }
    );
    assert_eq!(eval_with(PER_PERSON, json!({"income": "1"})).unwrap_err(), EvalError::Unset("expenses".into()));
    assert_eq!(eval_with(PER_PERSON, household("1", "0", 0)).unwrap_err(), EvalError::Arithmetic("division by zero"));
}

#[test]
fn or_and_not_and_membership() {
    let e = "migrant && days_between(employed_since, today()) < 365 || !(\"wage\" in topics)";
    let data = json!({"migrant": true, "employed_since": "2026-06-01", "topics": ["wage"]});
    assert_eq!(eval_with(e, data).unwrap(), Value::Bool(true));
    let data = json!({"migrant": true, "employed_since": "2025-06-01", "topics": ["wage"]});
    assert_eq!(eval_with(e, data).unwrap(), Value::Bool(false));
    // An unset list reads as empty.
    assert_eq!(eval_with("size(topics) == 0", json!({})).unwrap(), Value::Bool(true));
    assert_eq!(eval_with("is_set(income) ? income : 0", json!({})).unwrap(), Value::Int(0));
}

#[test]
fn dates_add_months_to_the_month_end_and_count_days() {
    let data = json!({"employed_since": "2026-01-31"});
    assert_eq!(eval_with("employed_since.add_months(1)", data.clone()).unwrap(), Value::Date(date!(2026 - 02 - 28)));
    assert_eq!(eval_with("employed_since.add_years(1).year()", data.clone()).unwrap(), Value::Int(2027));
    assert_eq!(eval_with("days_between(employed_since, date(\"2026-03-02\"))", data).unwrap(), Value::Int(30));
    assert_eq!(eval_with("today()", json!({})).unwrap(), Value::Date(date!(2026 - 12 - 03)));
}

#[test]
fn tables_are_summed_and_filtered_and_keep_every_row() {
    let data = json!({"measures": [
        {"amount": "800.00", "kind": "cash", "on": "2026-03-01"},
        {"amount": "800.00", "kind": "cash", "on": "2026-03-01"},
        {"amount": "1200.50", "kind": "medical", "on": "2026-04-02"},
    ]});
    assert_eq!(eval_with("measures.map(m, m.amount).sum()", data.clone()).unwrap(), dec("2800.50"));
    assert_eq!(eval_with("size(measures.filter(m, m.kind == \"cash\"))", data.clone()).unwrap(), Value::Int(2));
    assert_eq!(eval_with("measures.exists(m, m.amount > 1000)", data.clone()).unwrap(), Value::Bool(true));
    assert_eq!(eval_with("measures.all(m, m.on.year() == 2026)", data).unwrap(), Value::Bool(true));
    assert_eq!(eval_with("measures.map(m, m.amount).sum()", json!({})).unwrap(), Value::Int(0));
}

#[test]
fn unknown_names_and_type_errors_are_refused_where_they_are() {
    let e = error_of("incme > 1");
    assert_eq!((e.offset, e.message.as_str()), (Some(0), "unknown field `incme`"));
    let e = error_of("income > 1 && city + 1 > 0");
    assert_eq!(e.offset, Some("income > 1 && city ".len()), "at the operator");
    assert!(e.message.contains("`+` does not take (text, int)"), "{}", e.message);
    let e = error_of("measures.map(m, m.amout).sum()");
    assert!(e.message.contains("no column `amout`"), "{}", e.message);
    assert_eq!(e.offset, Some("measures.map(m, m".len()), "at the selection");
    let e = error_of("lookup(\"dibao\", city)");
    assert!(e.message.contains("2 key value(s)"), "{}", e.message);
    let e = error_of("income >");
    assert!(e.offset.is_some(), "a syntax error has a place");
    assert!(error_of("bogus(1)").message.contains("unknown function `bogus`"));
    assert!(error_of(&"1 + ".repeat(1000)).message.contains("at most"));
}

#[test]
fn a_condition_must_be_true_or_false() {
    let err = Expression::compile_as("income - expenses", &schema(), &Type::Bool).unwrap_err();
    assert!(err.message.contains("expected bool"), "{}", err.message);
    assert!(Expression::compile_as("household * 2", &schema(), &Type::Decimal).is_ok());
}

const ZH: Connectives<'static> = Connectives { and: " 且 ", or: " 或 ", not: "非 " };
const EN: Connectives<'static> = Connectives { and: " and ", or: " or ", not: "not " };

#[test]
fn in_words_names_fields_by_label() {
    let e = Expression::compile("income - expenses < 2 * 1180 && !migrant || city == \"江山市\"", &schema()).unwrap();
    let label = |f: &str| Some(format!("「{f}」"));
    assert_eq!(
        e.in_words(label, ZH),
        "「income」 - 「expenses」 < 2 * 1180 且 非 「migrant」 或 「city」 = \"江山市\""
    );
    let after_text = Expression::compile("city == \"江山市\" && income > 1", &schema()).unwrap();
    assert_eq!(after_text.in_words(label, ZH), "「city」 = \"江山市\" 且 「income」 > 1");
    let e2 = error_of("city == \"江山市\" && incme > 1");
    assert_eq!(e2.offset, Some("city == \"江山市\" && ".len()), "offsets are bytes after wide text");
    assert_eq!(
        e.in_words(|f: &str| Some(f.to_uppercase()), EN),
        "INCOME - EXPENSES < 2 * 1180 and not MIGRANT or CITY = \"江山市\""
    );
}

#[test]
fn runaway_comprehensions_stop() {
    let many: Vec<String> = (0..400).map(|i| i.to_string()).collect();
    let e = "topics.all(a, topics.all(b, topics.all(c, a + b + c != \"\")))";
    assert_eq!(eval_with(e, json!({"topics": many})).unwrap_err(), EvalError::TooCostly);
}

// ---- what a hostile definition or value must not do (a review's findings) --------------------

fn eval_plain(source: &str, data: Json) -> Result<Value, EvalError> {
    let e = Expression::compile(source, &schema()).unwrap_or_else(|err| panic!("{source}: {err}"));
    let data = data.as_object().cloned().unwrap_or_default();
    e.eval(&Env { data: &data, today: date!(2026 - 12 - 03), tables: &NoTables })
}

#[test]
fn huge_date_moves_are_out_of_range_not_a_panic() {
    let huge = json!({ "household": i64::MAX, "year": i64::MIN });
    for source in [
        "today().add_days(household)",
        "today().add_months(household)",
        "today().add_years(household / 12)",
        "today().add_months(year)",
    ] {
        assert_eq!(eval_plain(source, huge.clone()), Err(EvalError::Arithmetic("date out of range")), "{source}");
    }
}

#[test]
fn text_and_lists_built_by_plus_are_bounded() {
    // Each level makes its text eight times longer: 8^8 × 8 bytes in a few dozen steps.
    let src = r#"["aaaaaaaa"].map(a, [a+a+a+a+a+a+a+a].map(b, [b+b+b+b+b+b+b+b].map(c, [c+c+c+c+c+c+c+c].map(d, size(d+d+d+d+d+d+d+d + d+d+d+d+d+d+d+d + d+d+d+d+d+d+d+d + d+d+d+d+d+d+d+d + d+d+d+d+d+d+d+d + d+d+d+d+d+d+d+d + d+d+d+d+d+d+d+d + d+d+d+d+d+d+d+d)))))"#;
    assert_eq!(eval_plain(src, json!({})), Err(EvalError::TooCostly));
    // A map over a long list appends in place: 10,000 items are cheap.
    let many: Vec<String> = (0..10_000).map(|i| i.to_string()).collect();
    assert_eq!(eval_plain("size(topics.map(t, t + \"!\"))", json!({ "topics": many })), Ok(Value::Int(10_000)));
}

#[test]
fn deep_trees_and_nested_comprehensions_are_refused_when_checked() {
    let chain = vec!["1"; 999].join("+");
    assert!(error_of(&chain).message.contains("nests at most 100 deep"));
    let mut nested = "a != \"\"".to_owned();
    for v in ["b", "c", "d", "e", "f"] {
        nested = format!("topics.all({v}, {nested})");
    }
    let nested = nested.replacen("topics.all(b,", "topics.all(a, topics.all(b,", 1) + ")";
    assert!(error_of(&nested).message.contains("comprehensions nest at most 4 deep"), "{}", error_of(&nested).message);
    // Four deep is checked quickly, each body once when its type is known from the start.
    let four = "topics.all(a, topics.all(b, topics.all(c, topics.all(d, a + b + c + d != \"\"))))";
    assert!(Expression::compile(four, &schema()).is_ok());
}

#[test]
fn the_deepest_chain_evaluates_on_a_worker_stack() {
    let e = Expression::compile(&vec!["1"; 99].join("+"), &schema()).unwrap();
    let sum = std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024) // a tokio worker's
        .spawn(move || e.eval(&Env { data: &Map::new(), today: date!(2026 - 12 - 03), tables: &NoTables }))
        .unwrap()
        .join()
        .expect("no stack overflow");
    assert_eq!(sum, Ok(Value::Int(99)));
}

#[test]
fn in_words_reads_past_an_escaped_quote() {
    let e = Expression::compile(r#"city == "a\"b" && migrant"#, &schema()).unwrap();
    assert_eq!(e.in_words(|f: &str| Some(format!("「{f}」")), ZH), r#"「city」 = "a\"b" 且 「migrant」"#);
}
