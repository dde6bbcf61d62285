//! Values while an expression runs, and their passage to and from an instance's JSON data.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use rust_decimal::Decimal;
use serde_json::Value as Json;
use time::Date;

use crate::definition::calendar::{format_date, parse_date};
use crate::definition::money::money_json;
use crate::expr::types::Type;

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Bool(bool),
    Int(i64),
    Decimal(Decimal),
    Text(Arc<str>),
    Date(Date),
    List(Arc<Vec<Value>>),
    Row(Arc<BTreeMap<String, Value>>),
    Map(Arc<BTreeMap<String, Value>>),
}

/// A decimal from its text ("1180", "3500.50"); money is kept as text in the data so no binary
/// fraction ever touches it.
pub fn parse_decimal(s: &str) -> Option<Decimal> {
    Decimal::from_str_exact(s.trim()).ok()
}

impl Value {
    /// The value of a JSON datum read as `ty`; `None` when it does not hold one (unset, or a
    /// value of another shape, which the forms never store).
    pub fn from_json(json: &Json, ty: &Type) -> Option<Value> {
        Some(match (ty, json) {
            (_, Json::Null) => return None,
            (Type::Bool, Json::Bool(b)) => Value::Bool(*b),
            (Type::Int, Json::Number(n)) => Value::Int(n.as_i64()?),
            (Type::Decimal, Json::String(s)) => Value::Decimal(parse_decimal(s)?),
            (Type::Decimal, Json::Number(n)) => Value::Decimal(match n.as_i64() {
                Some(i) => Decimal::from(i),
                None => parse_decimal(&n.to_string())?,
            }),
            (Type::Text, Json::String(s)) => Value::Text(s.as_str().into()),
            (Type::Date, Json::String(s)) => Value::Date(parse_date(s)?),
            (Type::List(item), Json::Array(items)) => {
                Value::List(Arc::new(items.iter().filter_map(|i| Value::from_json(i, item)).collect()))
            }
            (Type::Row(cols), Json::Object(obj)) => Value::Row(Arc::new(
                cols.iter()
                    .filter_map(|(name, t)| Some((name.clone(), Value::from_json(obj.get(name)?, t)?)))
                    .collect(),
            )),
            (Type::Map(item), Json::Object(obj)) => Value::Map(Arc::new(
                obj.iter().filter_map(|(k, v)| Some((k.clone(), Value::from_json(v, item)?))).collect(),
            )),
            _ => return None,
        })
    }

    /// The value as the data keeps it: decimals as text with the two places of money, dates as
    /// YYYY-MM-DD.
    pub fn to_json(&self) -> Json {
        match self {
            Value::Bool(b) => Json::Bool(*b),
            Value::Int(i) => Json::from(*i),
            Value::Decimal(d) => money_json(*d),
            Value::Text(s) => Json::String(s.to_string()),
            Value::Date(d) => Json::String(format_date(*d)),
            Value::List(items) => Json::Array(items.iter().map(Value::to_json).collect()),
            Value::Row(cols) | Value::Map(cols) => {
                Json::Object(cols.iter().map(|(k, v)| (k.clone(), v.to_json())).collect())
            }
        }
    }

    /// The value as data, a decimal with all its places (what later computed fields read).
    pub fn to_exact_json(&self) -> Json {
        match self {
            Value::Decimal(d) => Json::String(d.normalize().to_string()),
            other => other.to_json(),
        }
    }

    /// An empty value of a collection type: an unset list, table or map reads as empty.
    pub fn empty_of(ty: &Type) -> Option<Value> {
        match ty {
            Type::List(_) => Some(Value::List(Arc::default())),
            Type::Map(_) => Some(Value::Map(Arc::default())),
            _ => None,
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Decimal(d) => write!(f, "{}", d.normalize()),
            Value::Text(s) => f.write_str(s),
            Value::Date(d) => f.write_str(&format_date(*d)),
            Value::List(items) => {
                let parts: Vec<String> = items.iter().map(Value::to_string).collect();
                write!(f, "[{}]", parts.join(", "))
            }
            Value::Row(cols) | Value::Map(cols) => {
                let parts: Vec<String> = cols.iter().map(|(k, v)| format!("{k}: {v}")).collect();
                write!(f, "{{{}}}", parts.join(", "))
            }
        }
    }
}

impl FromStr for Value {
    type Err = ();
    /// A literal decimal as written in an expression ("0.8"): never through a binary fraction.
    fn from_str(s: &str) -> Result<Self, ()> {
        parse_decimal(s).map(Value::Decimal).ok_or(())
    }
}
