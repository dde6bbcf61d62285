//! The checker: every name resolved, every operator and function given operands of types it
//! takes, before a definition is accepted. What it resolves (fields read, functions, literals)
//! is kept, so evaluation never looks anything up by name again.

use std::collections::BTreeMap;
use std::sync::Arc;

use cel::common::ast::{CallExpr, Expr, IdedExpr, LiteralValue, SourceInfo, operators};

use crate::definition::calendar::parse_date;
use crate::expr::ExprError;
use crate::expr::types::{Schema, TableType, Type};
use crate::expr::value::{Value, parse_decimal};

/// A function or operator, resolved once by the checker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Builtin {
    And,
    Or,
    Not,
    NotStrictlyFalse,
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    Neg,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Cond,
    In,
    Index,
    Size,
    Sum,
    Min,
    Max,
    Round,
    ToInt,
    ToDecimal,
    ToText,
    Today,
    DateOf,
    DaysBetween,
    AddDays,
    AddMonths,
    AddYears,
    Year,
    Month,
    Day,
    Contains,
    StartsWith,
    EndsWith,
    Lookup,
    IsSet,
}

/// What the checker learnt of an expression.
#[derive(Debug, Clone, Default)]
pub struct Checked {
    pub ty: Option<Type>,
    /// The fields it reads, with their types.
    pub reads: BTreeMap<String, Type>,
    /// The same, in the order they first appear.
    pub read_order: Vec<String>,
    /// The reference tables it looks up.
    pub tables: BTreeMap<String, TableType>,
    pub calls: ById<Builtin>,
    /// Literals that are not CEL's own: decimals from their exact text, dates.
    pub literals: ById<Value>,
}

/// Something known of some of an expression's nodes, by node id: the parser numbers them from 1,
/// so a vector indexed by id finds it without hashing (evaluation asks at every node).
#[derive(Debug, Clone)]
pub struct ById<T>(Vec<Option<T>>);

impl<T> Default for ById<T> {
    fn default() -> Self {
        ById(Vec::new())
    }
}

impl<T> ById<T> {
    pub fn insert(&mut self, id: u64, value: T) {
        let Ok(i) = usize::try_from(id) else { return };
        if self.0.len() <= i {
            self.0.resize_with(i + 1, || None);
        }
        self.0[i] = Some(value);
    }

    #[inline]
    pub fn get(&self, id: u64) -> Option<&T> {
        self.0.get(usize::try_from(id).ok()?)?.as_ref()
    }
}

pub struct Checker<'a> {
    schema: &'a dyn Schema,
    info: &'a SourceInfo,
    /// How deep the node being checked is, and how many comprehensions enclose it.
    depth: usize,
    comprehensions: usize,
    /// Comprehension variables in scope, innermost last.
    vars: Vec<(String, Type)>,
    pub out: Checked,
}

type R = Result<Type, ExprError>;

const MAX_LOOKUP_KEYS: usize = 8;
/// How deep an expression's tree may be.
const MAX_TREE_DEPTH: usize = 100;
/// How many comprehensions (`all`, `map`, …) may nest in each other.
const MAX_COMPREHENSIONS: usize = 4;

impl<'a> Checker<'a> {
    pub fn new(schema: &'a dyn Schema, info: &'a SourceInfo) -> Self {
        Checker { schema, info, depth: 0, comprehensions: 0, vars: Vec::new(), out: Checked::default() }
    }

    fn err(&self, e: &IdedExpr, message: String) -> ExprError {
        ExprError { offset: self.info.offset_for(e.id).map(|(s, _)| s as usize), message }
    }

    fn source_of(&self, e: &IdedExpr) -> Option<&'a str> {
        let (start, stop) = self.info.offset_for(e.id)?;
        self.info.source.get(start as usize..=stop as usize)
    }

    pub fn check(&mut self, e: &IdedExpr) -> R {
        // A chain of 999 additions is a tree 999 deep: everything that walks it recurses.
        if self.depth >= MAX_TREE_DEPTH {
            return Err(self.err(e, format!("an expression nests at most {MAX_TREE_DEPTH} deep")));
        }
        self.depth += 1;
        let t = self.node(e);
        self.depth -= 1;
        t
    }

    fn node(&mut self, e: &IdedExpr) -> R {
        match &e.expr {
            Expr::Literal(lit) => self.literal(e, lit),
            Expr::Ident(name) => self.ident(e, name),
            Expr::Select(sel) => {
                if sel.test {
                    return Err(self.err(e, "has() is not supported: use is_set(field)".into()));
                }
                let operand = self.check(&sel.operand)?;
                self.member(e, &operand, &sel.field)
            }
            Expr::Call(call) => self.call(e, call),
            Expr::List(list) => {
                let mut ty = Type::Any;
                for item in &list.elements {
                    let t = self.check(item)?;
                    ty =
                        ty.unify(&t).ok_or_else(|| self.err(item, format!("a list holds one type: {t} among {ty}")))?;
                }
                Ok(Type::List(Box::new(ty)))
            }
            Expr::Comprehension(c) => {
                if self.comprehensions >= MAX_COMPREHENSIONS {
                    return Err(self.err(e, format!("comprehensions nest at most {MAX_COMPREHENSIONS} deep")));
                }
                self.comprehensions += 1;
                let t = self.comprehension(e, c);
                self.comprehensions -= 1;
                t
            }
            Expr::Map(_) | Expr::Struct(_) => Err(self.err(e, "map and message literals are not supported".into())),
            Expr::Unspecified => Err(self.err(e, "an expression is missing here".into())),
        }
    }

    fn comprehension(&mut self, e: &IdedExpr, c: &cel::common::ast::ComprehensionExpr) -> R {
        let range = self.check(&c.iter_range)?;
        let item = match &range {
            Type::List(t) => (**t).clone(),
            Type::Map(_) => Type::Text,
            other => return Err(self.err(&c.iter_range, format!("expected a list, found {other}"))),
        };
        if c.iter_var2.is_some() {
            return Err(self.err(e, "two-variable comprehensions are not supported".into()));
        }
        let init = self.check(&c.accu_init)?;
        // The accumulator's type may only be known from the step (an empty list that a map
        // fills): check the step to learn it, and again only if it was not known.
        let mut accu = init.clone();
        for _ in 0..2 {
            self.vars.push((c.accu_var.clone(), accu.clone()));
            self.vars.push((c.iter_var.clone(), item.clone()));
            let cond = self.check(&c.loop_cond);
            let step = self.check(&c.loop_step);
            self.vars.truncate(self.vars.len() - 2);
            if cond? != Type::Bool {
                return Err(self.err(&c.loop_cond, "a condition must be true or false".into()));
            }
            let step = step?;
            let learnt =
                init.unify(&step).ok_or_else(|| self.err(&c.loop_step, format!("expected {init}, found {step}")))?;
            if learnt == accu {
                break;
            }
            accu = learnt;
        }
        self.vars.push((c.accu_var.clone(), accu));
        let result = self.check(&c.result);
        self.vars.pop();
        result
    }

    fn literal(&mut self, e: &IdedExpr, lit: &LiteralValue) -> R {
        match lit {
            LiteralValue::Boolean(_) => Ok(Type::Bool),
            LiteralValue::Int(_) | LiteralValue::UInt(_) => Ok(Type::Int),
            LiteralValue::String(_) => Ok(Type::Text),
            LiteralValue::Double(_) => {
                // The literal's own text, never its binary approximation.
                let text = self.source_of(e).map(|s| s.trim_end_matches(['d', 'D']));
                let value = text.and_then(parse_decimal).ok_or_else(|| self.err(e, "not a decimal number".into()))?;
                self.out.literals.insert(e.id, Value::Decimal(value));
                Ok(Type::Decimal)
            }
            LiteralValue::Null => Err(self.err(e, "null is not a value here: use is_set(field)".into())),
            LiteralValue::Bytes(_) => Err(self.err(e, "bytes are not supported".into())),
        }
    }

    fn ident(&mut self, e: &IdedExpr, name: &str) -> R {
        if let Some((_, t)) = self.vars.iter().rev().find(|(v, _)| v == name) {
            return Ok(t.clone());
        }
        match self.schema.field(name) {
            Some(t) => {
                self.read(name, &t);
                Ok(t)
            }
            None => Err(self.err(e, format!("unknown field `{name}`"))),
        }
    }

    fn member(&self, e: &IdedExpr, operand: &Type, field: &str) -> R {
        match operand {
            Type::Row(cols) => cols.get(field).cloned().ok_or_else(|| {
                let names: Vec<&str> = cols.keys().map(String::as_str).collect();
                self.err(e, format!("no column `{field}`: the columns are {}", names.join(", ")))
            }),
            Type::Map(t) => Ok((**t).clone()),
            other => Err(self.err(e, format!("{other} has no field `{field}`"))),
        }
    }

    fn read(&mut self, name: &str, t: &Type) {
        if self.out.reads.insert(name.to_owned(), t.clone()).is_none() {
            self.out.read_order.push(name.to_owned());
        }
    }

    fn resolve(&mut self, e: &IdedExpr, b: Builtin) {
        self.out.calls.insert(e.id, b);
    }

    fn call(&mut self, e: &IdedExpr, call: &CallExpr) -> R {
        use Builtin as B;
        let name = call.func_name.as_str();
        let method = call.target.is_some();
        let builtin = match (name, method) {
            (operators::LOGICAL_AND, false) => B::And,
            (operators::LOGICAL_OR, false) => B::Or,
            (operators::LOGICAL_NOT, false) => B::Not,
            (operators::NOT_STRICTLY_FALSE, false) => B::NotStrictlyFalse,
            (operators::ADD, false) => B::Add,
            (operators::SUBSTRACT, false) => B::Sub,
            (operators::MULTIPLY, false) => B::Mul,
            (operators::DIVIDE, false) => B::Div,
            (operators::MODULO, false) => B::Rem,
            (operators::NEGATE, false) => B::Neg,
            (operators::EQUALS, false) => B::Eq,
            (operators::NOT_EQUALS, false) => B::Ne,
            (operators::LESS, false) => B::Lt,
            (operators::LESS_EQUALS, false) => B::Le,
            (operators::GREATER, false) => B::Gt,
            (operators::GREATER_EQUALS, false) => B::Ge,
            (operators::CONDITIONAL, false) => B::Cond,
            (operators::IN, false) => B::In,
            (operators::INDEX, false) => B::Index,
            ("size", _) => B::Size,
            ("sum", _) => B::Sum,
            ("min", false) => B::Min,
            ("max", false) => B::Max,
            ("round", false) => B::Round,
            ("int", false) => B::ToInt,
            ("decimal", false) => B::ToDecimal,
            ("string", false) => B::ToText,
            ("today", false) => B::Today,
            ("date", false) => B::DateOf,
            ("days_between", false) => B::DaysBetween,
            ("add_days", true) => B::AddDays,
            ("add_months", true) => B::AddMonths,
            ("add_years", true) => B::AddYears,
            ("year", true) => B::Year,
            ("month", true) => B::Month,
            ("day", true) => B::Day,
            ("contains", true) => B::Contains,
            ("startsWith", true) => B::StartsWith,
            ("endsWith", true) => B::EndsWith,
            ("lookup", false) => B::Lookup,
            ("is_set", false) => B::IsSet,
            _ => return Err(self.err(e, format!("unknown function `{name}`"))),
        };
        self.resolve(e, builtin);
        if builtin == B::IsSet {
            return self.is_set(e, call);
        }
        if builtin == B::Lookup {
            return self.lookup(e, call);
        }
        let mut args: Vec<&IdedExpr> = call.target.iter().map(|t| &**t).collect();
        args.extend(call.args.iter());
        let mut types = Vec::with_capacity(args.len());
        for a in &args {
            types.push(self.check(a)?);
        }
        if builtin == B::DateOf
            && let Some(Expr::Literal(LiteralValue::String(s))) = args.first().map(|a| &a.expr)
        {
            let d = parse_date(s).ok_or_else(|| self.err(e, format!("not a date (YYYY-MM-DD): {}", s.inner())))?;
            self.out.literals.insert(e.id, Value::Date(d));
        }
        self.signature(e, builtin, name, &types)
    }

    fn signature(&self, e: &IdedExpr, b: Builtin, name: &str, args: &[Type]) -> R {
        use Builtin as B;
        use Type as T;
        let mismatch = || {
            let got: Vec<String> = args.iter().map(Type::to_string).collect();
            self.err(e, format!("`{}` does not take ({})", display_name(b, name), got.join(", ")))
        };
        let numeric = |a: &T, b: &T| if a.is_numeric() && b.is_numeric() { a.unify(b) } else { None };
        let t = match (b, args) {
            (B::And | B::Or, [T::Bool, T::Bool]) | (B::Not | B::NotStrictlyFalse, [T::Bool]) => T::Bool,
            (B::Add, [T::Text, T::Text]) => T::Text,
            (B::Add, [a @ T::List(_), b @ T::List(_)]) => a.unify(b).ok_or_else(mismatch)?,
            (B::Add | B::Sub | B::Mul | B::Div | B::Min | B::Max, [a, b]) => numeric(a, b).ok_or_else(mismatch)?,
            (B::Rem, [T::Int, T::Int]) => T::Int,
            (B::Neg, [a]) if a.is_numeric() => a.clone(),
            (B::Eq | B::Ne, [a, b]) if a.unify(b).is_some() => T::Bool,
            (B::Lt | B::Le | B::Gt | B::Ge, [a, b])
                if numeric(a, b).is_some() || (a == b && matches!(a, T::Text | T::Date)) =>
            {
                T::Bool
            }
            (B::Cond, [T::Bool, a, b]) => a.unify(b).ok_or_else(mismatch)?,
            (B::In, [item, T::List(of)]) if item.unify(of).is_some() => T::Bool,
            (B::In, [T::Text, T::Map(_)]) => T::Bool,
            (B::Index, [T::List(of), T::Int]) => (**of).clone(),
            (B::Index, [T::Map(of), T::Text]) => (**of).clone(),
            (B::Size, [T::List(_) | T::Text | T::Map(_)]) => T::Int,
            (B::Sum, [T::List(of)]) if of.is_numeric() => match **of {
                T::Any => T::Int,
                ref t => t.clone(),
            },
            (B::Round, [a, T::Int]) if a.is_numeric() => T::Decimal,
            (B::ToInt, [a]) if a.is_numeric() => T::Int,
            (B::ToDecimal, [T::Int | T::Decimal | T::Text]) => T::Decimal,
            (B::ToText, [_]) => T::Text,
            (B::Today, []) => T::Date,
            (B::DateOf, [T::Text]) => T::Date,
            (B::DaysBetween, [T::Date, T::Date]) => T::Int,
            (B::AddDays | B::AddMonths | B::AddYears, [T::Date, T::Int]) => T::Date,
            (B::Year | B::Month | B::Day, [T::Date]) => T::Int,
            (B::Contains | B::StartsWith | B::EndsWith, [T::Text, T::Text]) => T::Bool,
            _ => return Err(mismatch()),
        };
        Ok(t)
    }

    /// `is_set(field)`: whether the field holds a value; the one place an unset field may be read.
    fn is_set(&mut self, e: &IdedExpr, call: &CallExpr) -> R {
        match call.args.as_slice() {
            [IdedExpr { expr: Expr::Ident(name), .. }] if call.target.is_none() => match self.schema.field(name) {
                Some(t) => {
                    self.read(name, &t);
                    Ok(Type::Bool)
                }
                None => Err(self.err(&call.args[0], format!("unknown field `{name}`"))),
            },
            _ => Err(self.err(e, "is_set takes one field's name: is_set(income)".into())),
        }
    }

    /// `lookup("table", key, ...)`: the row of a reference table with that key.
    fn lookup(&mut self, e: &IdedExpr, call: &CallExpr) -> R {
        let Some((first, keys)) = call.args.split_first() else {
            return Err(self.err(e, "lookup takes a table's name and its key: lookup(\"dibao\", city, year)".into()));
        };
        let Expr::Literal(LiteralValue::String(table)) = &first.expr else {
            return Err(self.err(first, "the table's name must be written as text: lookup(\"dibao\", …)".into()));
        };
        let table_name = table.inner().to_owned();
        let t =
            self.schema.table(&table_name).ok_or_else(|| self.err(first, format!("unknown table `{table_name}`")))?;
        if keys.len() != t.key.len() || keys.len() > MAX_LOOKUP_KEYS {
            return Err(self.err(e, format!("table `{table_name}` is looked up by {} key value(s)", t.key.len())));
        }
        for (k, want) in keys.iter().zip(&t.key) {
            let got = self.check(k)?;
            if got.unify(want).is_none() {
                return Err(self.err(k, format!("expected {want}, found {got}")));
            }
        }
        let row = Type::Row(Arc::clone(&t.row));
        self.out.tables.insert(table_name, t);
        Ok(row)
    }
}

fn display_name(b: Builtin, name: &str) -> &str {
    match b {
        Builtin::And => "&&",
        Builtin::Or => "||",
        Builtin::Not => "!",
        Builtin::Add => "+",
        Builtin::Sub => "-",
        Builtin::Mul => "*",
        Builtin::Div => "/",
        Builtin::Rem => "%",
        Builtin::Neg => "-",
        Builtin::Eq => "==",
        Builtin::Ne => "!=",
        Builtin::Lt => "<",
        Builtin::Le => "<=",
        Builtin::Gt => ">",
        Builtin::Ge => ">=",
        Builtin::Cond => "? :",
        Builtin::In => "in",
        Builtin::Index => "[]",
        _ => name,
    }
}
