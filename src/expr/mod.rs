//! The expression language of definitions: guards, computed fields and conditions written as
//! CEL (the Common Expression Language, <https://cel.dev>), parsed by the `cel` crate, checked
//! against the definition's fields and evaluated here, with exact decimals for money.
//!
//! Pure: no I/O; today's date and the reference tables come in with the data.

mod check;
mod eval;
mod types;
mod value;
mod words;

use std::sync::Arc;

use cel::common::ast::{IdedExpr, SourceInfo};

pub use eval::{Env, EvalError, MAX_STEPS, NoTables, Tables};
pub use types::{MapSchema, Schema, TableType, Type};
pub use value::{Value, parse_decimal};
pub use words::Connectives;

use check::{Checked, Checker};

/// The longest expression a definition may hold, in characters.
pub const MAX_SOURCE_CHARS: usize = 2_000;
/// How deeply an expression may nest.
const MAX_DEPTH: u16 = 40;

/// What is wrong with an expression, at a byte offset into its source when known.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ExprError {
    pub offset: Option<usize>,
    pub message: String,
}

/// A checked expression: it names only what exists, and every operation in it has operands it
/// takes.
#[derive(Clone)]
pub struct Expression {
    source: Arc<str>,
    ast: Arc<IdedExpr>,
    info: Arc<SourceInfo>,
    checked: Arc<Checked>,
    ty: Type,
}

impl std::fmt::Debug for Expression {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Expression({:?}: {})", self.source, self.ty)
    }
}

impl PartialEq for Expression {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl Eq for Expression {}

impl Expression {
    /// Parses and checks `source` against the fields and tables of `schema`.
    pub fn compile(source: &str, schema: &dyn Schema) -> Result<Expression, ExprError> {
        if source.chars().count() > MAX_SOURCE_CHARS {
            return Err(ExprError {
                offset: None,
                message: format!("an expression is at most {MAX_SOURCE_CHARS} characters"),
            });
        }
        let parsed = cel::parser::Parser::new().max_recursion_depth(MAX_DEPTH).parse_with_source_info(source);
        let (ast, info) = parsed.map_err(|errors| {
            let first = errors.errors.first();
            ExprError {
                offset: first.map(|e| offset_of(source, e.pos)),
                message: first.map_or_else(|| "not an expression".to_owned(), |e| e.msg.clone()),
            }
        })?;
        let mut checker = Checker::new(schema, &info);
        let ty = checker.check(&ast)?;
        let mut checked = checker.out;
        checked.ty = Some(ty.clone());
        Ok(Expression {
            source: source.into(),
            ast: Arc::new(ast),
            info: Arc::new(info),
            checked: Arc::new(checked),
            ty,
        })
    }

    /// Compiles and requires a result of type `want` (a condition is true or false; a computed
    /// field has its field's type).
    pub fn compile_as(source: &str, schema: &dyn Schema, want: &Type) -> Result<Expression, ExprError> {
        let e = Expression::compile(source, schema)?;
        let fits = match (want, &e.ty) {
            (Type::Decimal, Type::Int) => true,
            (w, t) => w == t,
        };
        if !fits {
            return Err(ExprError {
                offset: Some(0),
                message: format!("expected {want}, but the expression gives {}", e.ty),
            });
        }
        Ok(e)
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    pub fn ty(&self) -> &Type {
        &self.ty
    }

    /// The fields the expression reads, by id, in the order they first appear.
    pub fn fields(&self) -> impl Iterator<Item = &str> {
        self.checked.read_order.iter().map(String::as_str)
    }

    /// The reference tables it looks rows up in.
    pub fn tables(&self) -> impl Iterator<Item = &str> {
        self.checked.tables.keys().map(String::as_str)
    }

    pub fn eval(&self, env: &Env<'_>) -> Result<Value, EvalError> {
        eval::Evaluator::new(env, &self.checked).eval(&self.ast)
    }

    /// The value of a condition.
    pub fn holds(&self, env: &Env<'_>) -> Result<bool, EvalError> {
        match self.eval(env)? {
            Value::Bool(b) => Ok(b),
            other => Err(EvalError::Invalid(format!("expected true or false, got {other}"))),
        }
    }

    /// The expression as a reader reads it: each field named by its label, `&&`/`||`/`!` in words.
    pub fn in_words(&self, label: impl Fn(&str) -> Option<String>, words: Connectives<'_>) -> String {
        words::in_words(&self.source, &self.ast, &self.info, &self.checked, label, words)
    }
}

/// The byte offset of a parser's (line, column), both from 1, columns in characters.
fn offset_of(source: &str, (line, col): (isize, isize)) -> usize {
    let mut offset = 0;
    for (i, text) in source.split_inclusive('\n').enumerate() {
        if i as isize + 1 == line {
            let col = usize::try_from(col.max(1) - 1).unwrap_or(0);
            return offset + text.char_indices().nth(col).map_or(text.len(), |(b, _)| b);
        }
        offset += text.len();
    }
    source.len()
}

#[cfg(test)]
mod tests;
