//! The syntax tree of a Logs Insights query. Every node that can be wrong carries the [`Span`]
//! of its source text, so later stages (name resolution, planning) can point a caret at it.

/// Byte range in the query text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Span {
        Span { start, end }
    }

    pub fn to(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }
}

/// A parsed query: the log groups named by `SOURCE` commands, then the pipeline.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Query {
    pub sources: Vec<Source>,
    pub commands: Vec<Command>,
}

/// Where a query reads from, when the query says so itself.
#[derive(Clone, Debug, PartialEq)]
pub enum Source {
    /// `SOURCE 'name'` (dashboard widget form).
    Group(String),
    /// `SOURCE logGroups(namePrefix: ['a', 'b'])`.
    Prefixes(Vec<String>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Command {
    pub kind: CommandKind,
    /// The command keyword's span.
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum CommandKind {
    Fields(Vec<Projection>),
    Display(Vec<Projection>),
    Filter(Expr),
    Stats(Stats),
    Sort(Vec<SortKey>),
    Limit(u64),
    Parse(Parse),
    Dedup(Vec<FieldRef>),
    Lookup(Lookup),
    Diff(DiffBase),
}

impl CommandKind {
    pub fn name(&self) -> &'static str {
        match self {
            CommandKind::Fields(_) => "fields",
            CommandKind::Display(_) => "display",
            CommandKind::Filter(_) => "filter",
            CommandKind::Stats(_) => "stats",
            CommandKind::Sort(_) => "sort",
            CommandKind::Limit(_) => "limit",
            CommandKind::Parse(_) => "parse",
            CommandKind::Dedup(_) => "dedup",
            CommandKind::Lookup(_) => "lookup",
            CommandKind::Diff(_) => "diff",
        }
    }
}

/// `expr [as alias]`. `text` is the expression's source text: the output column name when
/// there is no alias, as CloudWatch names `count(*)` or `bin(5m)`.
#[derive(Clone, Debug, PartialEq)]
pub struct Projection {
    pub expr: Expr,
    pub alias: Option<String>,
    pub text: String,
}

impl Projection {
    /// The output column name.
    pub fn name(&self) -> &str {
        self.alias.as_deref().unwrap_or(&self.text)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Stats {
    pub aggregates: Vec<Projection>,
    pub by: Vec<Projection>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SortKey {
    pub expr: Expr,
    pub descending: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Parse {
    /// The field parsed; `@message` when omitted.
    pub source: Option<FieldRef>,
    pub pattern: ParsePattern,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ParsePattern {
    /// `"[*] * The error was: *" as level, config, exception`.
    Glob { glob: String, names: Vec<String> },
    /// `/(?<name>…)/`: one field per named group.
    Regex { regex: String, names: Vec<String> },
}

#[derive(Clone, Debug, PartialEq)]
pub struct Lookup {
    pub table: String,
    pub table_span: Span,
    /// (column in the table, field of the log events it matches).
    pub keys: Vec<(String, FieldRef)>,
    pub outputs: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DiffBase {
    /// The equal-length range just before the query's range.
    Previous,
    PreviousDay,
    PreviousWeek,
    PreviousMonth,
}

/// A field as written (without backticks).
#[derive(Clone, Debug, PartialEq)]
pub struct FieldRef {
    pub name: String,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    Field(String),
    Int(i64),
    Float(f64),
    Str(String),
    Regex(String),
    /// A time period such as `5m`.
    Period(Period),
    List(Vec<Expr>),
    Neg(Box<Expr>),
    Not(Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    Like {
        expr: Box<Expr>,
        pattern: LikePattern,
        negated: bool,
    },
    In {
        expr: Box<Expr>,
        list: Vec<Expr>,
        negated: bool,
    },
    /// A function call; `name` is the canonical spelling from the function table.
    Call {
        name: &'static str,
        args: Vec<Expr>,
        star: bool,
    },
}

/// A period literal: a fixed length, or a number of calendar months (`1mo`, `1q`, `1y`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Period {
    pub millis: i64,
    pub months: u32,
}

#[derive(Clone, Debug, PartialEq)]
pub enum LikePattern {
    /// `like "s"`: case-sensitive substring.
    Substring(String),
    /// `like /re/` and `=~ /re/`: unanchored regex search.
    Regex(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    Pow,
    Eq,
    NotEq,
    Lt,
    LtEq,
    Gt,
    GtEq,
    And,
    Or,
}

impl BinOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Rem => "%",
            BinOp::Pow => "^",
            BinOp::Eq => "=",
            BinOp::NotEq => "!=",
            BinOp::Lt => "<",
            BinOp::LtEq => "<=",
            BinOp::Gt => ">",
            BinOp::GtEq => ">=",
            BinOp::And => "and",
            BinOp::Or => "or",
        }
    }
}

impl Expr {
    /// Whether an aggregate function appears anywhere in this expression.
    pub fn has_aggregate(&self) -> bool {
        let mut found = false;
        self.walk(&mut |e| {
            if let ExprKind::Call { name, .. } = &e.kind
                && crate::functions::lookup(name).is_some_and(|f| f.aggregate)
            {
                found = true;
            }
        });
        found
    }

    /// Visit this expression and every sub-expression, parents first.
    pub fn walk(&self, f: &mut impl FnMut(&Expr)) {
        f(self);
        match &self.kind {
            ExprKind::List(items) => items.iter().for_each(|e| e.walk(f)),
            ExprKind::Neg(e) | ExprKind::Not(e) => e.walk(f),
            ExprKind::Binary(_, a, b) => {
                a.walk(f);
                b.walk(f);
            }
            ExprKind::Like { expr, .. } => expr.walk(f),
            ExprKind::In { expr, list, .. } => {
                expr.walk(f);
                list.iter().for_each(|e| e.walk(f));
            }
            ExprKind::Call { args, .. } => args.iter().for_each(|e| e.walk(f)),
            _ => {}
        }
    }
}
