//! Expressions: `select`'s items, `where` and `having` conditions, `group by` and `order by` keys,
//! and the `where` filters of `show` and `check`.
//!
//! Words stay [`Value`]s in the tree: whether `state` names a column or is a value is the
//! planner's question, because only the table knows its columns. Printing adds exactly the
//! parentheses the precedence needs (there is no parenthesis node), so printing and parsing again
//! gives an equal tree.

use std::fmt::{self, Display, Formatter};

use super::{CompareOp, Name, Span, Value};

/// One expression and the text it came from.
#[derive(Debug, Clone)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}
eq_ignoring_span!(Expr { kind });

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExprKind {
    /// A word, number, address or quoted string: a column where the table has one by that name,
    /// else a value.
    Value(Value),
    /// `*`, only as the argument of `count(*)`.
    Star,
    /// `not <expr>`
    Not(Box<Expr>),
    /// `- <expr>` (a space after the sign: `-5` is the number itself).
    Negative(Box<Expr>),
    /// `<expr> <op> <expr>`
    Binary {
        op: BinaryOp,
        left: Box<Expr>,
        right: Box<Expr>,
    },
    /// `<expr> [not] in (<expr>, …)`
    InList {
        expr: Box<Expr>,
        list: Vec<Expr>,
        negated: bool,
    },
    /// `<expr> [not] between <low> and <high>`, both ends included.
    Between {
        expr: Box<Expr>,
        low: Box<Expr>,
        high: Box<Expr>,
        negated: bool,
    },
    /// `<expr> [not] like <pattern>`: SQL's `%` and `_`, ignoring case.
    Like {
        expr: Box<Expr>,
        pattern: Box<Expr>,
        negated: bool,
    },
    /// `<expr> is [not] null`
    IsNull { expr: Box<Expr>, negated: bool },
    /// `name([distinct] <expr>, …)`: a function or an aggregate.
    Call {
        function: Name,
        distinct: bool,
        args: Vec<Expr>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    Or,
    And,
    Compare(CompareOp),
    Add,
    Subtract,
    Multiply,
    Divide,
    Modulo,
}

impl BinaryOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Or => "or",
            BinaryOp::And => "and",
            BinaryOp::Compare(op) => op.symbol(),
            BinaryOp::Add => "+",
            BinaryOp::Subtract => "-",
            BinaryOp::Multiply => "*",
            BinaryOp::Divide => "/",
            BinaryOp::Modulo => "%",
        }
    }

    fn precedence(self) -> u8 {
        match self {
            BinaryOp::Or => OR,
            BinaryOp::And => AND,
            BinaryOp::Compare(_) => PREDICATE,
            BinaryOp::Add | BinaryOp::Subtract => SUM,
            BinaryOp::Multiply | BinaryOp::Divide | BinaryOp::Modulo => PRODUCT,
        }
    }
}

/// The aggregates NetQL knows; any other call is a scalar function.
pub const AGGREGATES: &[&str] = &["count", "min", "max", "sum", "avg"];

impl Expr {
    pub fn new(kind: ExprKind, span: Span) -> Expr {
        Expr { kind, span }
    }

    /// Whether this is a call of one of [`AGGREGATES`].
    pub fn is_aggregate(&self) -> bool {
        matches!(&self.kind, ExprKind::Call { function, .. } if AGGREGATES.contains(&function.text.as_str()))
    }

    /// Whether an aggregate call appears anywhere in the expression.
    pub fn has_aggregate(&self) -> bool {
        self.is_aggregate() || self.children().iter().any(|child| child.has_aggregate())
    }

    /// The expressions directly inside this one.
    pub fn children(&self) -> Vec<&Expr> {
        match &self.kind {
            ExprKind::Value(_) | ExprKind::Star => Vec::new(),
            ExprKind::Not(expr) | ExprKind::Negative(expr) | ExprKind::IsNull { expr, .. } => {
                vec![expr]
            }
            ExprKind::Binary { left, right, .. } => vec![left, right],
            ExprKind::InList { expr, list, .. } => {
                std::iter::once(&**expr).chain(list.iter()).collect()
            }
            ExprKind::Between {
                expr, low, high, ..
            } => vec![expr, low, high],
            ExprKind::Like { expr, pattern, .. } => vec![expr, pattern],
            ExprKind::Call { args, .. } => args.iter().collect(),
        }
    }

    /// How tightly the expression binds, for printing: a child binding more loosely than its
    /// place allows is printed in parentheses.
    fn precedence(&self) -> u8 {
        match &self.kind {
            ExprKind::Value(_) | ExprKind::Star | ExprKind::Call { .. } => ATOM,
            ExprKind::Not(_) => NOT,
            ExprKind::Negative(_) => NEGATIVE,
            ExprKind::Binary { op, .. } => op.precedence(),
            ExprKind::InList { .. }
            | ExprKind::Between { .. }
            | ExprKind::Like { .. }
            | ExprKind::IsNull { .. } => PREDICATE,
        }
    }
}

// Precedence levels, loosest first, as the grammar's rules nest them.
const OR: u8 = 1;
const AND: u8 = 2;
const NOT: u8 = 3;
const PREDICATE: u8 = 4;
const SUM: u8 = 5;
const PRODUCT: u8 = 6;
const NEGATIVE: u8 = 7;
const ATOM: u8 = 8;

/// `expr`, in parentheses when it binds more loosely than `at_least`.
struct Operand<'a>(&'a Expr, u8);

impl Display for Operand<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let Operand(expr, at_least) = *self;
        if expr.precedence() < at_least {
            write!(f, "({expr})")
        } else {
            expr.fmt(f)
        }
    }
}

fn not_word(negated: bool) -> &'static str {
    if negated { "not " } else { "" }
}

impl Display for Expr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ExprKind::Value(value) => value.fmt(f),
            ExprKind::Star => f.write_str("*"),
            ExprKind::Not(expr) => write!(f, "not {}", Operand(expr, NOT)),
            ExprKind::Negative(expr) => write!(f, "- {}", Operand(expr, NEGATIVE)),
            ExprKind::Binary { op, left, right } => {
                let level = op.precedence();
                // Comparisons do not chain: both sides are sums. The others lean left.
                let (left_at, right_at) = match op {
                    BinaryOp::Compare(_) => (SUM, SUM),
                    _ => (level, level + 1),
                };
                write!(
                    f,
                    "{} {} {}",
                    Operand(left, left_at),
                    op.symbol(),
                    Operand(right, right_at)
                )
            }
            ExprKind::InList {
                expr,
                list,
                negated,
            } => {
                write!(f, "{} {}in (", Operand(expr, SUM), not_word(*negated))?;
                for (i, item) in list.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    item.fmt(f)?;
                }
                f.write_str(")")
            }
            ExprKind::Between {
                expr,
                low,
                high,
                negated,
            } => write!(
                f,
                "{} {}between {} and {}",
                Operand(expr, SUM),
                not_word(*negated),
                Operand(low, SUM),
                Operand(high, SUM)
            ),
            ExprKind::Like {
                expr,
                pattern,
                negated,
            } => write!(
                f,
                "{} {}like {}",
                Operand(expr, SUM),
                not_word(*negated),
                Operand(pattern, SUM)
            ),
            ExprKind::IsNull { expr, negated } => {
                write!(f, "{} is {}null", Operand(expr, SUM), not_word(*negated))
            }
            ExprKind::Call {
                function,
                distinct,
                args,
            } => {
                write!(f, "{function}(")?;
                if *distinct {
                    f.write_str("distinct ")?;
                }
                for (i, arg) in args.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    arg.fmt(f)?;
                }
                f.write_str(")")
            }
        }
    }
}
