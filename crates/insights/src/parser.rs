//! Recursive-descent parser for the classic Logs Insights command set (spec §1.7), with the
//! operator precedence of CloudWatch's grammar: `^` > `* / %` > `+ -` > comparisons, `like`,
//! `in` > `not` > `and` > `or`.

use crate::ast::*;
use crate::error::QueryError;
use crate::functions;
use crate::lexer::{Tok, lex, skip_trivia};

/// Parse and check a query. Errors carry the span of the problem.
pub fn parse(src: &str) -> Result<Query, QueryError> {
    let mut p = Parser {
        src,
        pos: 0,
        nesting: 0,
        operators: 0,
    };
    let query = p.query()?;
    crate::check::check(&query)?;
    Ok(query)
}

/// How deeply an expression may nest (parentheses, lists, call arguments, `not`, unary `-`,
/// `^`). The parser recurses once per level, ~25 KiB of stack per level in a debug build;
/// without a bound a few hundred `(` overflowed a 2 MiB thread stack and aborted the process.
const MAX_NESTING: usize = 32;

/// How many chaining operators (`or and + - * / % ^`) one expression may have.
/// Left-associative chains (`a+a+a…`) parse in a loop but build a tree as deep as the chain,
/// which is then walked and dropped recursively; this bound (with [`MAX_NESTING`]) keeps
/// those walks shallow. Comparisons do not chain, so they are not counted.
const MAX_OPERATORS: usize = 1000;

const COMMANDS: &[&str] = &[
    "fields", "display", "filter", "where", "stats", "sort", "limit", "head", "tail", "parse",
    "dedup", "lookup", "diff", "source",
];

const UNSUPPORTED: &[(&str, &str)] = &[
    (
        "pattern",
        "`pattern` (machine-learning clustering) is not supported",
    ),
    (
        "anomaly",
        "`anomaly` (machine-learning detection) is not supported",
    ),
    (
        "filterindex",
        "`filterIndex` is not needed: flowwatch prunes by time partition; use `filter`",
    ),
    (
        "unnest",
        "`unnest` is not supported: flow-log fields are never lists",
    ),
    (
        "unmask",
        "`unmask` is not supported: flowwatch does not mask data",
    ),
];

struct Parser<'a> {
    src: &'a str,
    pos: usize,
    /// Current expression nesting depth (see [`MAX_NESTING`]).
    nesting: usize,
    /// Binary operators in the current top-level expression (see [`MAX_OPERATORS`]).
    operators: usize,
}

impl<'a> Parser<'a> {
    fn peek_with(&self, regex: bool) -> Result<(Tok, Span), QueryError> {
        lex(self.src, self.pos, regex)
    }

    fn peek(&self) -> Result<(Tok, Span), QueryError> {
        self.peek_with(false)
    }

    fn bump_with(&mut self, regex: bool) -> Result<(Tok, Span), QueryError> {
        let (tok, span) = self.peek_with(regex)?;
        self.pos = span.end;
        Ok((tok, span))
    }

    fn bump(&mut self) -> Result<(Tok, Span), QueryError> {
        self.bump_with(false)
    }

    fn eat_punct(&mut self, p: &str) -> Result<bool, QueryError> {
        if matches!(self.peek()?.0, Tok::Punct(q) if q == p) {
            self.bump()?;
            return Ok(true);
        }
        Ok(false)
    }

    fn eat_kw(&mut self, kw: &str) -> Result<bool, QueryError> {
        if self.peek()?.0.is_kw(kw) {
            self.bump()?;
            return Ok(true);
        }
        Ok(false)
    }

    fn expected(&self, what: &str) -> QueryError {
        // Not `peek_with(true)`: where an operand may start, `primary` has already lexed any
        // regex; elsewhere a `/` is just a misplaced `/`, not an unterminated regex.
        match self.peek() {
            Ok((tok, span)) => {
                QueryError::new(format!("expected {what}, found {}", tok.describe()), span)
            }
            Err(e) => e,
        }
    }

    fn expect_punct(&mut self, p: &str) -> Result<Span, QueryError> {
        match self.peek()? {
            (Tok::Punct(q), span) if q == p => {
                self.pos = span.end;
                Ok(span)
            }
            _ => Err(self.expected(&format!("`{p}`"))),
        }
    }

    fn ident(&mut self, what: &str) -> Result<(String, Span), QueryError> {
        match self.peek()? {
            (Tok::Ident { name, .. }, span) => {
                self.pos = span.end;
                Ok((name, span))
            }
            _ => Err(self.expected(what)),
        }
    }

    fn text(&self, span: Span) -> String {
        self.src[span.start..span.end].trim().to_string()
    }

    // ---- commands ----

    fn query(&mut self) -> Result<Query, QueryError> {
        let mut query = Query::default();
        if matches!(self.peek()?.0, Tok::Eof) {
            return Ok(query);
        }
        loop {
            let (tok, span) = self.peek()?;
            let keyword = match &tok {
                Tok::Ident {
                    name,
                    quoted: false,
                } => name.to_ascii_lowercase(),
                _ => return Err(self.expected("a command (fields, filter, stats, sort, …)")),
            };
            self.pos = span.end;
            if keyword == "source" {
                if !query.commands.is_empty() {
                    return Err(QueryError::new(
                        "SOURCE must come before every other command",
                        span,
                    ));
                }
                query.sources.push(self.source()?);
            } else {
                let kind = self.command(&keyword, span)?;
                query.commands.push(Command { kind, span });
            }
            match self.bump()? {
                (Tok::Punct("|"), _) => continue,
                (Tok::Eof, _) => break,
                (tok, span) => {
                    return Err(QueryError::new(
                        format!(
                            "expected `|` or the end of the query, found {}",
                            tok.describe()
                        ),
                        span,
                    )
                    .with_help("commands are separated by `|`"));
                }
            }
        }
        Ok(query)
    }

    fn command(&mut self, keyword: &str, span: Span) -> Result<CommandKind, QueryError> {
        Ok(match keyword {
            "fields" => CommandKind::Fields(self.projections()?),
            "display" => CommandKind::Display(self.projections()?),
            "filter" | "where" => CommandKind::Filter(self.expr()?),
            "stats" => {
                let aggregates = self.projections()?;
                let by = if self.eat_kw("by")? {
                    self.projections()?
                } else {
                    vec![]
                };
                CommandKind::Stats(Stats { aggregates, by })
            }
            "sort" => {
                let mut keys = vec![];
                loop {
                    let expr = self.expr()?;
                    let descending = if self.eat_kw("desc")? {
                        true
                    } else {
                        self.eat_kw("asc")?;
                        false
                    };
                    keys.push(SortKey { expr, descending });
                    if !self.eat_punct(",")? {
                        break;
                    }
                }
                CommandKind::Sort(keys)
            }
            "limit" | "head" | "tail" => {
                self.eat_kw("any")?;
                match self.peek()? {
                    (Tok::Int(n), s) if n > 0 => {
                        self.pos = s.end;
                        CommandKind::Limit(n as u64)
                    }
                    _ => return Err(self.expected("a positive whole number of rows")),
                }
            }
            "parse" => CommandKind::Parse(self.parse_command(span)?),
            "dedup" => {
                let mut fields = vec![self.field_ref()?];
                while self.eat_punct(",")? {
                    fields.push(self.field_ref()?);
                }
                CommandKind::Dedup(fields)
            }
            "lookup" => CommandKind::Lookup(self.lookup()?),
            "diff" => {
                let base = match self.peek()? {
                    (t, s) if t.is_kw("previousDay") => {
                        self.pos = s.end;
                        DiffBase::PreviousDay
                    }
                    (t, s) if t.is_kw("previousWeek") => {
                        self.pos = s.end;
                        DiffBase::PreviousWeek
                    }
                    (t, s) if t.is_kw("previousMonth") => {
                        self.pos = s.end;
                        DiffBase::PreviousMonth
                    }
                    _ => DiffBase::Previous,
                };
                CommandKind::Diff(base)
            }
            other => {
                if let Some((_, why)) = UNSUPPORTED.iter().find(|(k, _)| *k == other) {
                    return Err(QueryError::new(*why, span));
                }
                let mut err = QueryError::new(format!("unknown command `{other}`"), span);
                if let Some(s) = functions::suggest(other, COMMANDS.iter().copied()) {
                    err = err.with_help(format!("did you mean `{s}`?"));
                } else {
                    err = err.with_help(
                        "commands are fields, display, filter, stats, sort, limit, parse, dedup, lookup, diff",
                    );
                }
                return Err(err);
            }
        })
    }

    fn source(&mut self) -> Result<Source, QueryError> {
        match self.peek()? {
            (Tok::Str(name), s) => {
                self.pos = s.end;
                Ok(Source::Group(name))
            }
            (t, s) if t.is_kw("logGroups") => {
                self.pos = s.end;
                self.expect_punct("(")?;
                let mut prefixes = vec![];
                loop {
                    if self.eat_punct(")")? {
                        break;
                    }
                    let (key, key_span) = self.ident("a logGroups argument such as namePrefix")?;
                    self.expect_punct(":")?;
                    self.expect_punct("[")?;
                    let mut values = vec![];
                    loop {
                        match self.bump()? {
                            (Tok::Str(v), _) => values.push(v),
                            (Tok::Punct("]"), _) if values.is_empty() => break,
                            (t, s) => {
                                return Err(QueryError::new(
                                    format!("expected a quoted string, found {}", t.describe()),
                                    s,
                                ));
                            }
                        }
                        if !self.eat_punct(",")? {
                            self.expect_punct("]")?;
                            break;
                        }
                    }
                    match key.to_ascii_lowercase().as_str() {
                        "nameprefix" => prefixes.extend(values),
                        // One local account and one storage class: nothing to select.
                        "accountidentifiers" | "class" => {}
                        _ => {
                            return Err(QueryError::new(
                                format!("unknown logGroups argument `{key}`"),
                                key_span,
                            )
                            .with_help("use namePrefix: ['prefix', …]"));
                        }
                    }
                    if !self.eat_punct(",")? {
                        self.expect_punct(")")?;
                        break;
                    }
                }
                Ok(Source::Prefixes(prefixes))
            }
            _ => Err(self.expected("a quoted log group name or logGroups(namePrefix: […])")),
        }
    }

    fn parse_command(&mut self, span: Span) -> Result<Parse, QueryError> {
        let source = match self.peek()?.0 {
            Tok::Ident { .. } => Some(self.field_ref()?),
            _ => None,
        };
        let pattern = match self.bump_with(true)? {
            (Tok::Str(glob), s) => {
                if !self.eat_kw("as")? {
                    return Err(self.expected("`as` and the names of the fields to extract"));
                }
                let mut names = vec![self.ident("a field name")?.0];
                while self.eat_punct(",")? {
                    names.push(self.ident("a field name")?.0);
                }
                let stars = glob.matches('*').count();
                if stars != names.len() {
                    return Err(QueryError::new(
                        format!(
                            "the pattern has {stars} `*` but {} field name{} follow{} `as`",
                            names.len(),
                            if names.len() == 1 { "" } else { "s" },
                            if names.len() == 1 { "s" } else { "" },
                        ),
                        s,
                    )
                    .with_help("give one name per `*`"));
                }
                ParsePattern::Glob { glob, names }
            }
            (Tok::Regex(regex), s) => {
                let compiled = regex::Regex::new(&regex).map_err(|e| {
                    QueryError::new(format!("invalid regular expression: {}", first_line(&e)), s)
                })?;
                let names: Vec<String> = compiled
                    .capture_names()
                    .flatten()
                    .map(String::from)
                    .collect();
                if names.is_empty() {
                    return Err(QueryError::new(
                        "the regular expression has no named groups to extract",
                        s,
                    )
                    .with_help("name each group to extract: (?<name>…)"));
                }
                ParsePattern::Regex { regex, names }
            }
            (t, s) => {
                return Err(QueryError::new(
                    format!(
                        "expected a quoted pattern with `*` or a /regular expression/, found {}",
                        t.describe()
                    ),
                    s,
                ));
            }
        };
        Ok(Parse {
            source,
            pattern,
            span,
        })
    }

    fn lookup(&mut self) -> Result<Lookup, QueryError> {
        let (table, table_span) = self.ident("a lookup table name")?;
        let mut keys = vec![];
        loop {
            let (column, span) = self.ident("a lookup table column")?;
            let field = if self.eat_kw("as")? {
                self.field_ref()?
            } else {
                FieldRef {
                    name: column.clone(),
                    span,
                }
            };
            keys.push((column, field));
            if !self.eat_punct(",")? {
                break;
            }
        }
        if !self.eat_kw("output")? {
            return Err(self.expected("OUTPUT and the table columns to add"));
        }
        let mut outputs = vec![self.ident("a table column")?.0];
        while self.eat_punct(",")? {
            outputs.push(self.ident("a table column")?.0);
        }
        Ok(Lookup {
            table,
            table_span,
            keys,
            outputs,
        })
    }

    fn field_ref(&mut self) -> Result<FieldRef, QueryError> {
        let (name, span) = self.ident("a field name")?;
        Ok(FieldRef { name, span })
    }

    fn projections(&mut self) -> Result<Vec<Projection>, QueryError> {
        let mut out = vec![];
        loop {
            let expr = self.expr()?;
            let text = self.text(expr.span);
            let alias = if self.eat_kw("as")? {
                Some(self.ident("a name after `as`")?.0)
            } else {
                None
            };
            out.push(Projection { expr, alias, text });
            if !self.eat_punct(",")? {
                break;
            }
        }
        Ok(out)
    }

    // ---- expressions ----

    fn expr(&mut self) -> Result<Expr, QueryError> {
        if self.nesting == 0 {
            self.operators = 0;
        }
        self.nest()?;
        let expr = self.or();
        self.nesting -= 1;
        expr
    }

    /// Enter one more level of nesting; the caller leaves it with `self.nesting -= 1`.
    fn nest(&mut self) -> Result<(), QueryError> {
        self.nesting += 1;
        if self.nesting > MAX_NESTING {
            return Err(QueryError::new(
                format!("the expression is nested too deeply (more than {MAX_NESTING} levels)"),
                self.next_char_span(),
            ));
        }
        Ok(())
    }

    /// Count one binary operator of the current expression.
    fn operator(&mut self) -> Result<(), QueryError> {
        self.operators += 1;
        if self.operators > MAX_OPERATORS {
            return Err(QueryError::new(
                format!("the expression has too many operators (more than {MAX_OPERATORS})"),
                self.next_char_span(),
            ));
        }
        Ok(())
    }

    /// The span of the next character after trivia (empty at the end of the query).
    fn next_char_span(&self) -> Span {
        let at = skip_trivia(self.src, self.pos);
        let len = self.src[at..].chars().next().map_or(0, char::len_utf8);
        Span::new(at, at + len)
    }

    fn binary(op: BinOp, a: Expr, b: Expr) -> Expr {
        let span = a.span.to(b.span);
        Expr {
            kind: ExprKind::Binary(op, Box::new(a), Box::new(b)),
            span,
        }
    }

    fn or(&mut self) -> Result<Expr, QueryError> {
        let mut left = self.and()?;
        while self.eat_kw("or")? {
            self.operator()?;
            let right = self.and()?;
            left = Self::binary(BinOp::Or, left, right);
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, QueryError> {
        let mut left = self.not()?;
        while self.eat_kw("and")? {
            self.operator()?;
            let right = self.not()?;
            left = Self::binary(BinOp::And, left, right);
        }
        Ok(left)
    }

    fn not(&mut self) -> Result<Expr, QueryError> {
        let (tok, span) = self.peek()?;
        if tok.is_kw("not") || tok == Tok::Punct("!") {
            self.pos = span.end;
            self.nest()?;
            let inner = self.not()?;
            self.nesting -= 1;
            let span = span.to(inner.span);
            return Ok(Expr {
                kind: ExprKind::Not(Box::new(inner)),
                span,
            });
        }
        self.rel()
    }

    fn rel(&mut self) -> Result<Expr, QueryError> {
        let left = self.add()?;
        let (tok, span) = self.peek()?;
        let op = match tok {
            Tok::Punct("=") => Some(BinOp::Eq),
            Tok::Punct("!=") => Some(BinOp::NotEq),
            Tok::Punct("<") => Some(BinOp::Lt),
            Tok::Punct("<=") => Some(BinOp::LtEq),
            Tok::Punct(">") => Some(BinOp::Gt),
            Tok::Punct(">=") => Some(BinOp::GtEq),
            _ => None,
        };
        if let Some(op) = op {
            self.pos = span.end;
            let right = self.add()?;
            return Ok(Self::binary(op, left, right));
        }
        if tok == Tok::Punct("=~") {
            self.pos = span.end;
            return match self.bump_with(true)? {
                (Tok::Regex(re), s) => self.like(left, LikePattern::Regex(re), false, s),
                (Tok::Str(re), s) => self.like(left, LikePattern::Regex(re), false, s),
                (t, s) => Err(QueryError::new(
                    format!(
                        "expected a /regular expression/ after `=~`, found {}",
                        t.describe()
                    ),
                    s,
                )),
            };
        }
        let mut negated = false;
        let save = self.pos;
        if tok.is_kw("not") {
            self.pos = span.end;
            negated = true;
        }
        let (tok, span) = self.peek()?;
        if tok.is_kw("like") {
            self.pos = span.end;
            return match self.bump_with(true)? {
                (Tok::Str(s), sp) => self.like(left, LikePattern::Substring(s), negated, sp),
                (Tok::Regex(re), sp) => self.like(left, LikePattern::Regex(re), negated, sp),
                (t, s) => Err(QueryError::new(
                    format!(
                        "expected a quoted string or a /regular expression/ after `like`, found {}",
                        t.describe()
                    ),
                    s,
                )),
            };
        }
        if tok.is_kw("in") {
            self.pos = span.end;
            let list = self.primary()?;
            let ExprKind::List(items) = list.kind else {
                return Err(QueryError::new(
                    "expected a list such as [\"a\", \"b\", 1] after `in`",
                    list.span,
                ));
            };
            let span = left.span.to(list.span);
            return Ok(Expr {
                kind: ExprKind::In {
                    expr: Box::new(left),
                    list: items,
                    negated,
                },
                span,
            });
        }
        if negated {
            self.pos = save;
            return Err(self.expected("`like` or `in` after `not`"));
        }
        Ok(left)
    }

    fn like(
        &self,
        left: Expr,
        pattern: LikePattern,
        negated: bool,
        pattern_span: Span,
    ) -> Result<Expr, QueryError> {
        if let LikePattern::Regex(re) = &pattern {
            regex::Regex::new(re).map_err(|e| {
                QueryError::new(
                    format!("invalid regular expression: {}", first_line(&e)),
                    pattern_span,
                )
            })?;
        }
        let span = left.span.to(pattern_span);
        Ok(Expr {
            kind: ExprKind::Like {
                expr: Box::new(left),
                pattern,
                negated,
            },
            span,
        })
    }

    fn add(&mut self) -> Result<Expr, QueryError> {
        let mut left = self.mul()?;
        loop {
            let op = match self.peek()?.0 {
                Tok::Punct("+") => BinOp::Add,
                Tok::Punct("-") => BinOp::Sub,
                _ => return Ok(left),
            };
            self.bump()?;
            self.operator()?;
            let right = self.mul()?;
            left = Self::binary(op, left, right);
        }
    }

    fn mul(&mut self) -> Result<Expr, QueryError> {
        let mut left = self.pow()?;
        loop {
            let op = match self.peek()?.0 {
                Tok::Punct("*") => BinOp::Mul,
                Tok::Punct("/") => BinOp::Div,
                Tok::Punct("%") => BinOp::Rem,
                _ => return Ok(left),
            };
            self.bump()?;
            self.operator()?;
            let right = self.pow()?;
            left = Self::binary(op, left, right);
        }
    }

    fn pow(&mut self) -> Result<Expr, QueryError> {
        let left = self.unary()?;
        if self.eat_punct("^")? {
            // Right-associative: 2^3^2 = 2^9.
            self.operator()?;
            self.nest()?;
            let right = self.pow()?;
            self.nesting -= 1;
            return Ok(Self::binary(BinOp::Pow, left, right));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, QueryError> {
        let (tok, span) = self.peek()?;
        if tok == Tok::Punct("-") {
            self.pos = span.end;
            self.nest()?;
            let inner = self.unary()?;
            self.nesting -= 1;
            let span = span.to(inner.span);
            return Ok(match inner.kind {
                ExprKind::Int(n) => Expr {
                    kind: ExprKind::Int(-n),
                    span,
                },
                ExprKind::Float(n) => Expr {
                    kind: ExprKind::Float(-n),
                    span,
                },
                kind => Expr {
                    kind: ExprKind::Neg(Box::new(Expr {
                        kind,
                        span: inner.span,
                    })),
                    span,
                },
            });
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Expr, QueryError> {
        let (tok, span) = self.peek_with(true)?;
        let kind = match tok {
            Tok::Int(n) => ExprKind::Int(n),
            Tok::Float(n) => ExprKind::Float(n),
            Tok::Str(s) => ExprKind::Str(s),
            Tok::Regex(r) => ExprKind::Regex(r),
            Tok::Period(p) => ExprKind::Period(p),
            Tok::Punct("(") => {
                self.pos = span.end;
                let inner = self.expr()?;
                let close = self.expect_punct(")")?;
                return Ok(Expr {
                    kind: inner.kind,
                    span: span.to(close),
                });
            }
            Tok::Punct("[") => {
                self.pos = span.end;
                let mut items = vec![];
                if !self.eat_punct("]")? {
                    loop {
                        items.push(self.expr()?);
                        if !self.eat_punct(",")? {
                            break;
                        }
                    }
                    self.expect_punct("]")?;
                }
                return Ok(Expr {
                    kind: ExprKind::List(items),
                    span: Span::new(span.start, self.pos),
                });
            }
            Tok::Ident { name, quoted } => {
                self.pos = span.end;
                let after = skip_trivia(self.src, self.pos);
                if !quoted && self.src[after..].starts_with('(') {
                    return self.call(name, span);
                }
                return Ok(Expr {
                    kind: ExprKind::Field(name),
                    span,
                });
            }
            _ => return Err(self.expected("a value, a field or a function call")),
        };
        self.pos = span.end;
        Ok(Expr { kind, span })
    }

    fn call(&mut self, name: String, name_span: Span) -> Result<Expr, QueryError> {
        let Some(f) = functions::lookup(&name) else {
            let mut err = QueryError::new(format!("unknown function `{name}`"), name_span);
            if let Some(s) = functions::suggest(&name, functions::FUNCTIONS.iter().map(|f| f.name))
            {
                err = err.with_help(format!("did you mean `{s}`?"));
            }
            return Err(err);
        };
        self.expect_punct("(")?;
        let mut args = vec![];
        let mut star = false;
        if !self.eat_punct(")")? {
            if self.peek()?.0 == Tok::Punct("*") {
                let (_, s) = self.bump()?;
                if !f.star {
                    return Err(QueryError::new(
                        format!("`*` is only allowed in count(*), not in {}", f.name),
                        s,
                    ));
                }
                star = true;
                self.expect_punct(")")?;
            } else {
                loop {
                    args.push(self.expr()?);
                    if !self.eat_punct(",")? {
                        break;
                    }
                }
                self.expect_punct(")")?;
            }
        }
        let span = Span::new(name_span.start, self.pos);
        let n = args.len();
        if !star && (n < f.min_args || n > f.max_args) {
            let want = if f.min_args == f.max_args {
                format!("{}", f.min_args)
            } else if f.max_args == usize::MAX {
                format!("at least {}", f.min_args)
            } else {
                format!("{} to {}", f.min_args, f.max_args)
            };
            return Err(QueryError::new(
                format!(
                    "{} takes {want} argument{}, found {n}",
                    f.name,
                    if f.min_args == 1 && (f.max_args == 1 || f.max_args == usize::MAX) {
                        ""
                    } else {
                        "s"
                    }
                ),
                span,
            )
            .with_help(format!("usage: {}", f.signature)));
        }
        Ok(Expr {
            kind: ExprKind::Call {
                name: f.name,
                args,
                star,
            },
            span,
        })
    }
}

fn first_line(e: &regex::Error) -> String {
    let text = e.to_string();
    text.lines()
        .rev()
        .find(|l| l.starts_with("error:"))
        .map(|l| l.trim_start_matches("error:").trim().to_string())
        .unwrap_or(text)
}
