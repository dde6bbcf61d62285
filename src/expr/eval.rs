//! Evaluation of a checked expression against an instance's data: pure, bounded, and exact.

use std::cmp::Ordering;
use std::sync::Arc;

use cel::common::ast::{CallExpr, ComprehensionExpr, Expr, IdedExpr, LiteralValue};
use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::{Map, Value as Json};
use time::Date;

use crate::definition::calendar::{add_months, parse_date};
use crate::expr::check::{Builtin, Checked};
use crate::expr::value::{Value, parse_decimal};

/// The most steps one evaluation may take: comprehensions over long lists nested in each other
/// stop here rather than hold a worker.
pub const MAX_STEPS: u32 = 200_000;

/// The most text (bytes) and list items one evaluation may build by `+`: a few nested maps of
/// `s + s + …` would otherwise build gigabytes in a handful of steps.
pub const MAX_BUILT: usize = 1_000_000;

/// Why an expression has no value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvalError {
    #[error("field `{0}` has no value")]
    Unset(String),
    #[error("table `{table}` has no row for {}", .key.join(", "))]
    NoRow { table: String, key: Vec<String> },
    #[error("{0}")]
    Arithmetic(&'static str),
    #[error("index {0} is out of range")]
    Index(String),
    /// A computed choice whose value is none of its field's options.
    #[error("{0} is not one of the options")]
    NotAnOption(String),
    #[error("the expression takes more than {MAX_STEPS} steps")]
    TooCostly,
    #[error("{0}")]
    Invalid(String),
}

/// Reference tables, as an evaluation reads them.
pub trait Tables {
    fn row(&self, table: &str, key: &[Json]) -> Option<&Map<String, Json>>;
}

/// No reference tables at all.
pub struct NoTables;

impl Tables for NoTables {
    fn row(&self, _: &str, _: &[Json]) -> Option<&Map<String, Json>> {
        None
    }
}

/// What an expression is evaluated against.
pub struct Env<'a> {
    pub data: &'a Map<String, Json>,
    /// Today in the configured offset.
    pub today: Date,
    pub tables: &'a dyn Tables,
}

pub struct Evaluator<'a> {
    env: &'a Env<'a>,
    checked: &'a Checked,
    vars: Vec<(String, Value)>,
    steps: u32,
    built: usize,
    /// While a comprehension's step runs, the index of its accumulator in `vars`: the step reads
    /// it once on any path, so it is moved out rather than copied (a `map` appends in place, not
    /// by copying the list at every item).
    moving: Option<usize>,
}

type R = Result<Value, EvalError>;

impl<'a> Evaluator<'a> {
    pub fn new(env: &'a Env<'a>, checked: &'a Checked) -> Self {
        Evaluator { env, checked, vars: Vec::new(), steps: 0, built: 0, moving: None }
    }

    pub fn eval(&mut self, e: &IdedExpr) -> R {
        self.steps += 1;
        if self.steps > MAX_STEPS {
            return Err(EvalError::TooCostly);
        }
        if let Some(v) = self.checked.literals.get(e.id) {
            return Ok(v.clone());
        }
        match &e.expr {
            Expr::Literal(lit) => Ok(match lit {
                LiteralValue::Boolean(b) => Value::Bool(*b.inner()),
                LiteralValue::Int(i) => Value::Int(*i.inner()),
                LiteralValue::UInt(u) => {
                    Value::Int(i64::try_from(*u.inner()).map_err(|_| EvalError::Arithmetic("number too large"))?)
                }
                LiteralValue::String(s) => Value::Text(s.inner().into()),
                _ => return Err(EvalError::Invalid("unchecked literal".into())),
            }),
            Expr::Ident(name) => self.ident(name),
            Expr::Select(sel) => {
                let operand = self.eval(&sel.operand)?;
                match operand {
                    Value::Row(cols) | Value::Map(cols) => {
                        cols.get(&sel.field).cloned().ok_or_else(|| EvalError::Unset(sel.field.clone()))
                    }
                    _ => Err(EvalError::Invalid(format!("no field {}", sel.field))),
                }
            }
            Expr::List(list) => {
                let items = list.elements.iter().map(|i| self.eval(i)).collect::<Result<Vec<_>, _>>()?;
                Ok(Value::List(Arc::new(items)))
            }
            Expr::Comprehension(c) => self.comprehension(c),
            Expr::Call(call) => match self.checked.calls.get(e.id) {
                Some(b) => self.call(*b, call),
                None => Err(EvalError::Invalid(format!("unchecked call {}", call.func_name))),
            },
            _ => Err(EvalError::Invalid("unsupported expression".into())),
        }
    }

    fn ident(&mut self, name: &str) -> R {
        if let Some(i) = self.vars.iter().rposition(|(n, _)| n == name) {
            if self.moving == Some(i) {
                self.moving = None;
                return Ok(std::mem::replace(&mut self.vars[i].1, Value::Bool(false)));
            }
            return Ok(self.vars[i].1.clone());
        }
        let ty = self.checked.reads.get(name).ok_or_else(|| EvalError::Invalid(format!("unknown field {name}")))?;
        self.env
            .data
            .get(name)
            .and_then(|j| Value::from_json(j, ty))
            .or_else(|| Value::empty_of(ty))
            .ok_or_else(|| EvalError::Unset(name.to_owned()))
    }

    fn comprehension(&mut self, c: &ComprehensionExpr) -> R {
        let range = match self.eval(&c.iter_range)? {
            Value::List(items) => items,
            Value::Map(m) => Arc::new(m.keys().map(|k| Value::Text(k.as_str().into())).collect()),
            _ => return Err(EvalError::Invalid("not a list".into())),
        };
        let mut accu = self.eval(&c.accu_init)?;
        for item in range.iter() {
            self.vars.push((c.accu_var.clone(), accu));
            let go_on = self.eval(&c.loop_cond);
            let go_on = match go_on {
                Ok(Value::Bool(b)) => b,
                Ok(_) => true,
                Err(e) => {
                    self.vars.pop();
                    return Err(e);
                }
            };
            if !go_on {
                accu = self.vars.pop().map(|(_, v)| v).ok_or(EvalError::Invalid("scope".into()))?;
                break;
            }
            self.vars.push((c.iter_var.clone(), item.clone()));
            let outer = self.moving.replace(self.vars.len() - 2);
            let step = self.eval(&c.loop_step);
            self.moving = outer;
            self.vars.truncate(self.vars.len() - 2);
            accu = step?;
        }
        self.vars.push((c.accu_var.clone(), accu));
        let result = self.eval(&c.result);
        self.vars.pop();
        result
    }

    fn args(&mut self, call: &CallExpr) -> Result<Vec<Value>, EvalError> {
        let mut out = Vec::with_capacity(call.args.len() + 1);
        if let Some(t) = &call.target {
            out.push(self.eval(t)?);
        }
        for a in &call.args {
            out.push(self.eval(a)?);
        }
        Ok(out)
    }

    fn call(&mut self, b: Builtin, call: &CallExpr) -> R {
        use Builtin as B;
        // Those that do not evaluate every operand first.
        match b {
            B::And | B::Or => {
                let stop_at = b == B::Or;
                let left = truth(self.eval(&call.args[0])?)?;
                if left == stop_at {
                    return Ok(Value::Bool(left));
                }
                return Ok(Value::Bool(truth(self.eval(&call.args[1])?)?));
            }
            B::Cond => {
                let pick = if truth(self.eval(&call.args[0])?)? { &call.args[1] } else { &call.args[2] };
                return self.eval(pick);
            }
            B::IsSet => {
                let Expr::Ident(name) = &call.args[0].expr else {
                    return Err(EvalError::Invalid("is_set".into()));
                };
                let set = self.env.data.get(name).is_some_and(|v| !v.is_null() && v.as_str() != Some(""));
                return Ok(Value::Bool(set));
            }
            B::Lookup => return self.lookup(call),
            _ => {}
        }
        // Operators take their operands on the stack; functions with more collect them.
        if let (None, [x, y]) = (&call.target, call.args.as_slice()) {
            let (x, y) = (self.eval(x)?, self.eval(y)?);
            return match (b, x, y) {
                (B::Add, Value::List(mut a), Value::List(more)) => {
                    self.build(more.len())?;
                    Arc::make_mut(&mut a).extend(more.iter().cloned());
                    Ok(Value::List(a))
                }
                (B::Add, Value::Text(a), Value::Text(more)) => {
                    self.build(a.len() + more.len())?;
                    Ok(Value::Text(format!("{a}{more}").into()))
                }
                (b, x, y) => apply(b, &[x, y], self.env.today),
            };
        }
        let args = self.args(call)?;
        apply(b, &args, self.env.today)
    }

    /// Counts what `+` builds against [`MAX_BUILT`].
    fn build(&mut self, size: usize) -> Result<(), EvalError> {
        self.built = self.built.saturating_add(size);
        if self.built > MAX_BUILT { Err(EvalError::TooCostly) } else { Ok(()) }
    }

    fn lookup(&mut self, call: &CallExpr) -> R {
        let Some(Expr::Literal(LiteralValue::String(table))) = call.args.first().map(|a| &a.expr) else {
            return Err(EvalError::Invalid("lookup".into()));
        };
        let table = table.inner();
        let key: Vec<Value> = call.args[1..].iter().map(|a| self.eval(a)).collect::<Result<_, _>>()?;
        let t = self.checked.tables.get(table).ok_or_else(|| EvalError::Invalid(format!("unknown table {table}")))?;
        let key_json: Vec<Json> = key.iter().map(Value::to_json).collect();
        let row = self.env.tables.row(table, &key_json).ok_or_else(|| EvalError::NoRow {
            table: table.to_owned(),
            key: key.iter().map(Value::to_string).collect(),
        })?;
        Ok(Value::Row(Arc::new(
            t.row.iter().filter_map(|(name, ty)| Some((name.clone(), Value::from_json(row.get(name)?, ty)?))).collect(),
        )))
    }
}

fn truth(v: Value) -> Result<bool, EvalError> {
    match v {
        Value::Bool(b) => Ok(b),
        _ => Err(EvalError::Invalid("not true or false".into())),
    }
}

fn dec(v: &Value) -> Option<Decimal> {
    match v {
        Value::Int(i) => Some(Decimal::from(*i)),
        Value::Decimal(d) => Some(*d),
        _ => None,
    }
}

const OVERFLOW: EvalError = EvalError::Arithmetic("the number is too large");
const BY_ZERO: EvalError = EvalError::Arithmetic("division by zero");

/// Whole numbers stay whole; anything with a decimal in it is done in decimals.
fn arith(
    a: &Value,
    b: &Value,
    int: fn(i64, i64) -> Option<i64>,
    decimal: fn(Decimal, Decimal) -> Option<Decimal>,
) -> R {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => int(*x, *y).map(Value::Int).ok_or(OVERFLOW),
        _ => match (dec(a), dec(b)) {
            (Some(x), Some(y)) => decimal(x, y).map(Value::Decimal).ok_or(OVERFLOW),
            _ => Err(EvalError::Invalid("not numbers".into())),
        },
    }
}

fn compare(a: &Value, b: &Value) -> Result<Ordering, EvalError> {
    match (a, b) {
        (Value::Text(x), Value::Text(y)) => Ok(x.cmp(y)),
        (Value::Date(x), Value::Date(y)) => Ok(x.cmp(y)),
        (Value::Int(x), Value::Int(y)) => Ok(x.cmp(y)),
        _ => match (dec(a), dec(b)) {
            (Some(x), Some(y)) => Ok(x.cmp(&y)),
            _ => Err(EvalError::Invalid("not comparable".into())),
        },
    }
}

fn equal(a: &Value, b: &Value) -> bool {
    match (dec(a), dec(b)) {
        (Some(x), Some(y)) => x == y,
        _ => match (a, b) {
            (Value::List(x), Value::List(y)) => x.len() == y.len() && x.iter().zip(y.iter()).all(|(p, q)| equal(p, q)),
            _ => a == b,
        },
    }
}

fn apply(b: Builtin, args: &[Value], today: Date) -> R {
    use Builtin as B;
    use Value as V;
    let bad = || EvalError::Invalid("operands of the wrong type".into());
    Ok(match (b, args) {
        (B::Not, [V::Bool(x)]) => V::Bool(!x),
        (B::NotStrictlyFalse, [V::Bool(x)]) => V::Bool(*x),
        (B::Add, [V::Text(x), V::Text(y)]) => V::Text(format!("{x}{y}").into()),
        (B::Add, [V::List(x), V::List(y)]) => V::List(Arc::new(x.iter().chain(y.iter()).cloned().collect())),
        (B::Add, [x, y]) => arith(x, y, i64::checked_add, Decimal::checked_add)?,
        (B::Sub, [x, y]) => arith(x, y, i64::checked_sub, Decimal::checked_sub)?,
        (B::Mul, [x, y]) => arith(x, y, i64::checked_mul, Decimal::checked_mul)?,
        (B::Div | B::Rem, [_, y]) if dec(y) == Some(Decimal::ZERO) => return Err(BY_ZERO),
        (B::Div, [x, y]) => arith(x, y, i64::checked_div, Decimal::checked_div)?,
        (B::Rem, [x, y]) => arith(x, y, i64::checked_rem, Decimal::checked_rem)?,
        (B::Neg, [V::Int(x)]) => V::Int(x.checked_neg().ok_or(OVERFLOW)?),
        (B::Neg, [V::Decimal(x)]) => V::Decimal(-*x),
        (B::Min, [x, y]) => {
            if compare(x, y)? == Ordering::Greater {
                y.clone()
            } else {
                x.clone()
            }
        }
        (B::Max, [x, y]) => {
            if compare(x, y)? == Ordering::Less {
                y.clone()
            } else {
                x.clone()
            }
        }
        (B::Eq, [x, y]) => V::Bool(equal(x, y)),
        (B::Ne, [x, y]) => V::Bool(!equal(x, y)),
        (B::Lt, [x, y]) => V::Bool(compare(x, y)? == Ordering::Less),
        (B::Le, [x, y]) => V::Bool(compare(x, y)? != Ordering::Greater),
        (B::Gt, [x, y]) => V::Bool(compare(x, y)? == Ordering::Greater),
        (B::Ge, [x, y]) => V::Bool(compare(x, y)? != Ordering::Less),
        (B::In, [x, V::List(items)]) => V::Bool(items.iter().any(|i| equal(x, i))),
        (B::In, [V::Text(k), V::Map(m)]) => V::Bool(m.contains_key(&**k)),
        (B::Index, [V::List(items), V::Int(i)]) => usize::try_from(*i)
            .ok()
            .and_then(|i| items.get(i))
            .cloned()
            .ok_or_else(|| EvalError::Index(i.to_string()))?,
        (B::Index, [V::Map(m), V::Text(k)]) => m.get(&**k).cloned().ok_or_else(|| EvalError::Index(k.to_string()))?,
        (B::Size, [V::List(items)]) => V::Int(items.len() as i64),
        (B::Size, [V::Map(m)]) => V::Int(m.len() as i64),
        (B::Size, [V::Text(s)]) => V::Int(s.chars().count() as i64),
        (B::Sum, [V::List(items)]) => {
            let mut total = V::Int(0);
            for i in items.iter() {
                total = arith(&total, i, i64::checked_add, Decimal::checked_add)?;
            }
            total
        }
        (B::Round, [x, V::Int(places)]) => {
            let places = u32::try_from(*places)
                .ok()
                .filter(|p| *p <= 10)
                .ok_or(EvalError::Invalid("round to 0–10 places".into()))?;
            V::Decimal(dec(x).ok_or_else(bad)?.round_dp_with_strategy(places, RoundingStrategy::MidpointAwayFromZero))
        }
        (B::ToInt, [V::Int(x)]) => V::Int(*x),
        (B::ToInt, [V::Decimal(x)]) => V::Int(i64::try_from(x.trunc()).map_err(|_| OVERFLOW)?),
        (B::ToDecimal, [V::Text(s)]) => {
            V::Decimal(parse_decimal(s).ok_or_else(|| EvalError::Invalid(format!("not a number: {s}")))?)
        }
        (B::ToDecimal, [x]) => V::Decimal(dec(x).ok_or_else(bad)?),
        (B::ToText, [x]) => V::Text(x.to_string().into()),
        (B::Today, []) => V::Date(today),
        (B::DateOf, [V::Text(s)]) => {
            V::Date(parse_date(s).ok_or_else(|| EvalError::Invalid(format!("not a date: {s}")))?)
        }
        (B::DaysBetween, [V::Date(a), V::Date(b)]) => V::Int((*b - *a).whole_days()),
        (B::AddDays, [V::Date(d), V::Int(n)]) => {
            let days = n.checked_mul(86_400).map(time::Duration::seconds);
            V::Date(days.and_then(|n| d.checked_add(n)).ok_or(EvalError::Arithmetic("date out of range"))?)
        }
        (B::AddMonths, [V::Date(d), V::Int(n)]) => {
            V::Date(add_months(*d, *n).ok_or(EvalError::Arithmetic("date out of range"))?)
        }
        (B::AddYears, [V::Date(d), V::Int(n)]) => V::Date(
            n.checked_mul(12).and_then(|m| add_months(*d, m)).ok_or(EvalError::Arithmetic("date out of range"))?,
        ),
        (B::Year, [V::Date(d)]) => V::Int(i64::from(d.year())),
        (B::Month, [V::Date(d)]) => V::Int(i64::from(u8::from(d.month()))),
        (B::Day, [V::Date(d)]) => V::Int(i64::from(d.day())),
        (B::Contains, [V::Text(s), V::Text(t)]) => V::Bool(s.contains(&**t)),
        (B::StartsWith, [V::Text(s), V::Text(t)]) => V::Bool(s.starts_with(&**t)),
        (B::EndsWith, [V::Text(s), V::Text(t)]) => V::Bool(s.ends_with(&**t)),
        _ => return Err(bad()),
    })
}
