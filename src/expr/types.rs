//! The types of the expression language, and what an expression may name.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

/// A value's type, known before anything runs: the checker gives every expression one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Type {
    Bool,
    Int,
    /// An exact decimal number: money, and any arithmetic that mixes money with whole numbers.
    Decimal,
    Text,
    Date,
    List(Box<Type>),
    /// A record with named columns: a row of a table field or of a reference table.
    Row(Arc<BTreeMap<String, Type>>),
    /// Whole numbers (or another type) under text keys: a level per competence.
    Map(Box<Type>),
    /// The element of an empty list literal: fits any type.
    Any,
}

impl Type {
    pub fn is_numeric(&self) -> bool {
        matches!(self, Type::Int | Type::Decimal | Type::Any)
    }

    /// The type both fit, if any: whole numbers widen to decimals, `Any` takes the other's type.
    pub fn unify(&self, other: &Type) -> Option<Type> {
        match (self, other) {
            (Type::Any, t) | (t, Type::Any) => Some(t.clone()),
            (a, b) if a == b => Some(a.clone()),
            (Type::Int, Type::Decimal) | (Type::Decimal, Type::Int) => Some(Type::Decimal),
            (Type::List(a), Type::List(b)) => a.unify(b).map(|t| Type::List(Box::new(t))),
            (Type::Map(a), Type::Map(b)) => a.unify(b).map(|t| Type::Map(Box::new(t))),
            _ => None,
        }
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::Bool => f.write_str("bool"),
            Type::Int => f.write_str("int"),
            Type::Decimal => f.write_str("decimal"),
            Type::Text => f.write_str("text"),
            Type::Date => f.write_str("date"),
            Type::List(t) => write!(f, "list of {t}"),
            Type::Row(cols) => {
                let names: Vec<&str> = cols.keys().map(String::as_str).collect();
                write!(f, "row ({})", names.join(", "))
            }
            Type::Map(t) => write!(f, "map of {t}"),
            Type::Any => f.write_str("any"),
        }
    }
}

/// A reference table as expressions see it: the types of its key columns, in order, and of a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableType {
    pub key: Vec<Type>,
    pub row: Arc<BTreeMap<String, Type>>,
}

/// What an expression may name: the definition's fields and reference tables.
pub trait Schema {
    fn field(&self, name: &str) -> Option<Type>;
    fn table(&self, name: &str) -> Option<TableType>;
}

/// A schema from plain maps: for tests and for definitions built in code.
#[derive(Debug, Clone, Default)]
pub struct MapSchema {
    pub fields: BTreeMap<String, Type>,
    pub tables: BTreeMap<String, TableType>,
}

impl Schema for MapSchema {
    fn field(&self, name: &str) -> Option<Type> {
        self.fields.get(name).cloned()
    }
    fn table(&self, name: &str) -> Option<TableType> {
        self.tables.get(name).cloned()
    }
}
