//! Parsing given values against their field's type and bounds. Forms send strings, the API and
//! tests may send typed JSON; both become the one canonical form kept in an instance's data.

use std::collections::BTreeSet;

use rust_decimal::Decimal;
use serde_json::Value;

use crate::definition::calendar::{format_date, parse_date};
use crate::definition::money::{MoneyError, money_json, parse_money};
use crate::definition::{Field, FieldKind};
use crate::engine::refusal::{FieldError, FieldProblem};

/// An instance's data: field id → canonical value.
pub type Data = serde_json::Map<String, Value>;

/// Separators accepted between the items of a list typed into one box.
const LIST_SEPARATORS: &[char] = &['\n', ',', '，', '、', ';', '；'];

/// The years a date field takes.
const DATE_MIN: i32 = 1900;
const DATE_MAX: i32 = 2199;

/// The longest item of a list (a topic, a unit, a name).
const LIST_ITEM_MAX: usize = 200;

/// Parses one given value; `Ok(None)` means "not given" (empty), which the caller judges.
pub fn parse_value(field: &Field, value: &Value) -> Result<Option<Value>, FieldProblem> {
    parse_kind(&field.kind, value)
}

/// Parses a value of a field type (or of a table's column, which has one): its canonical form,
/// or `Ok(None)` when it is empty.
pub fn parse_kind(kind: &FieldKind, value: &Value) -> Result<Option<Value>, FieldProblem> {
    let text = match value {
        Value::Null => return Ok(None),
        Value::String(s) if s.trim().is_empty() && !matches!(kind, FieldKind::Bool) => {
            return Ok(None);
        }
        Value::String(s) => Some(s.trim()),
        _ => None,
    };
    match kind {
        FieldKind::Text { max_len } => {
            let s = crate::text::line(text.ok_or(FieldProblem::NotText)?, *max_len)?;
            Ok(Some(Value::String(s.to_owned())))
        }
        FieldKind::LongText { max_len } => {
            let s = crate::text::lines(text.ok_or(FieldProblem::NotText)?, *max_len)?;
            Ok(Some(Value::String(s.to_owned())))
        }
        FieldKind::Int { min, max } => {
            let n = match (value, text) {
                (Value::Number(n), _) => n.as_i64().ok_or(FieldProblem::NotANumber)?,
                (_, Some(s)) => s.parse::<i64>().map_err(|_| FieldProblem::NotANumber)?,
                _ => return Err(FieldProblem::NotANumber),
            };
            if n < *min {
                return Err(FieldProblem::TooSmall { min: *min });
            }
            if n > *max {
                return Err(FieldProblem::TooLarge { max: *max });
            }
            Ok(Some(Value::from(n)))
        }
        FieldKind::Date => {
            let d = text.and_then(parse_date).ok_or(FieldProblem::NotADate)?;
            // Dates people's records hold; a year 9999 would only push deadlines off the calendar.
            if !(DATE_MIN..=DATE_MAX).contains(&d.year()) {
                return Err(FieldProblem::DateOutOfRange { min: "1900-01-01", max: "2199-12-31" });
            }
            Ok(Some(Value::String(format_date(d))))
        }
        FieldKind::Bool => match (value, text) {
            (Value::Bool(b), _) => Ok(Some(Value::Bool(*b))),
            (_, Some("true" | "on" | "yes" | "1")) => Ok(Some(Value::Bool(true))),
            (_, Some("false" | "off" | "no" | "0" | "")) => Ok(Some(Value::Bool(false))),
            _ => Err(FieldProblem::NotABool),
        },
        FieldKind::Choice { options } => {
            let s = text.ok_or(FieldProblem::NotAnOption)?;
            if options.iter().any(|o| o.id == s) {
                Ok(Some(Value::String(s.to_owned())))
            } else {
                Err(FieldProblem::NotAnOption)
            }
        }
        // Kept by the `keep` and `add_row` effects only: the loader refuses a definition that
        // asks for one.
        FieldKind::Map | FieldKind::Table { .. } => Err(FieldProblem::NotText),
        FieldKind::Money { min, max } => {
            // A whole number from the API is an amount of yuan; a fraction must come as text, so
            // no amount ever passes through binary floating point.
            let amount = match (value, text) {
                (Value::Number(n), _) => n.as_i64().map(Decimal::from).ok_or(FieldProblem::NotMoney)?,
                (_, Some(s)) => parse_money(s).map_err(|e| match e {
                    MoneyError::TooManyDecimals => FieldProblem::MoneyDecimals,
                    MoneyError::NotAnAmount => FieldProblem::NotMoney,
                })?,
                _ => return Err(FieldProblem::NotMoney),
            };
            if amount < *min {
                return Err(FieldProblem::MoneyTooSmall { min: *min });
            }
            if amount > *max {
                return Err(FieldProblem::MoneyTooLarge { max: *max });
            }
            Ok(Some(money_json(amount)))
        }
        FieldKind::List { min_items, max_items } => {
            let items: Vec<String> = match value {
                Value::Array(items) => items
                    .iter()
                    .map(|v| match v {
                        Value::String(s) => Ok(s.trim().to_owned()),
                        Value::Number(n) => Ok(n.to_string()),
                        _ => Err(FieldProblem::NotText),
                    })
                    .collect::<Result<_, _>>()?,
                Value::String(s) => s.split(LIST_SEPARATORS).map(|i| i.trim().to_owned()).collect(),
                _ => return Err(FieldProblem::NotText),
            };
            let items: Vec<String> = items.into_iter().filter(|i| !i.is_empty()).collect();
            if items.len() > *max_items {
                return Err(FieldProblem::TooManyItems { max: *max_items });
            }
            for item in &items {
                crate::text::line(item, LIST_ITEM_MAX)?;
            }
            let mut seen = BTreeSet::new();
            for item in &items {
                if !seen.insert(item) {
                    return Err(FieldProblem::Duplicate { item: item.clone() });
                }
            }
            if items.len() < *min_items {
                return Err(FieldProblem::TooFewItems { min: *min_items });
            }
            if items.len() > *max_items {
                return Err(FieldProblem::TooManyItems { max: *max_items });
            }
            if items.is_empty() {
                return Ok(None);
            }
            Ok(Some(Value::Array(items.into_iter().map(Value::String).collect())))
        }
    }
}

/// Parses the values given for a transition (or a start): every asked field must be there and
/// valid, optional ones valid if given, and nothing else may be given. All problems are reported.
pub fn parse_input<'d>(
    fields: impl Fn(&str) -> Option<&'d Field>,
    ask: &[String],
    optional: &[String],
    given: &Data,
) -> Result<Data, Vec<FieldError>> {
    let mut out = Data::new();
    let mut errors = Vec::new();
    for name in given.keys() {
        if !ask.contains(name) && !optional.contains(name) {
            errors.push(FieldError { field: name.clone(), problem: FieldProblem::NotAsked });
        }
    }
    for (name, required) in ask.iter().map(|n| (n, true)).chain(optional.iter().map(|n| (n, false))) {
        let Some(field) = fields(name) else { continue };
        match given.get(name).map(|v| parse_value(field, v)).unwrap_or(Ok(None)) {
            Ok(Some(v)) => {
                out.insert(name.clone(), v);
            }
            Ok(None) if required => errors.push(FieldError { field: name.clone(), problem: FieldProblem::Missing }),
            Ok(None) => {}
            Err(problem) => errors.push(FieldError { field: name.clone(), problem }),
        }
    }
    if errors.is_empty() { Ok(out) } else { Err(errors) }
}
