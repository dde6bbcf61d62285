//! A definition's fields and reference tables as the expression language sees them.

use std::collections::{BTreeMap, BTreeSet};

use std::sync::Arc;

use crate::definition::{Column, FieldKind, ReferenceTable};
use crate::expr::{Schema, TableType, Type};

/// The type an expression reads a field's value as.
pub fn type_of(kind: &FieldKind) -> Type {
    match kind {
        FieldKind::Text { .. } | FieldKind::LongText { .. } | FieldKind::Choice { .. } => Type::Text,
        FieldKind::Int { .. } => Type::Int,
        FieldKind::Date => Type::Date,
        FieldKind::Bool => Type::Bool,
        FieldKind::List { .. } => Type::List(Box::new(Type::Text)),
        FieldKind::Map => Type::Map(Box::new(Type::Int)),
        FieldKind::Money { .. } => Type::Decimal,
        FieldKind::Table { columns, .. } => Type::List(Box::new(Type::Row(row_type(columns)))),
    }
}

fn row_type(columns: &[Column]) -> Arc<BTreeMap<String, Type>> {
    Arc::new(columns.iter().map(|c| (c.id.clone(), type_of(&c.kind.field_kind()))).collect())
}

/// A reference table as `lookup` reads it: its key columns' types, in order, and a row's.
pub fn table_type(t: &ReferenceTable) -> TableType {
    let column = |id: &String| t.column(id).map_or(Type::Text, |c| type_of(&c.kind.field_kind()));
    TableType { key: t.key.iter().map(column).collect(), row: row_type(&t.columns) }
}

/// The fields of a definition being loaded; `hidden` are those an expression may not read yet
/// (a computed field reads only those declared before it).
pub struct FieldSchema<'a> {
    pub fields: &'a BTreeMap<&'a str, &'a FieldKind>,
    pub hidden: BTreeSet<&'a str>,
    pub tables: &'a BTreeMap<String, TableType>,
}

impl Schema for FieldSchema<'_> {
    fn field(&self, name: &str) -> Option<Type> {
        if self.hidden.contains(name) {
            return None;
        }
        self.fields.get(name).map(|k| type_of(k))
    }
    fn table(&self, name: &str) -> Option<TableType> {
        self.tables.get(name).cloned()
    }
}
