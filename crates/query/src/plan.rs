//! Logs Insights → DataFusion. Each command transforms a DataFrame; field names resolve against
//! what the pipeline has defined so far (derived fields, then system fields, then flow-log
//! fields in any of their spellings, then other stored columns). Semantics chosen where
//! CloudWatch documents none are listed in docs/insights.md.

use std::collections::HashSet;

use arrow::array::RecordBatch;
use arrow::datatypes::{DataType, IntervalMonthDayNano, TimeUnit};
use datafusion::common::JoinType;
use datafusion::common::ScalarValue;
use datafusion::execution::FunctionRegistry;
use datafusion::functions::core::expr_fn::get_field;
use datafusion::functions_aggregate::expr_fn::{
    count, count_distinct, first_value, last_value, percentile_cont,
};
use datafusion::functions_window::expr_fn::row_number;
use datafusion::logical_expr::{ExprFunctionExt, ExprSchemable, SortExpr, cast, try_cast, when};
use datafusion::prelude::{DataFrame, Expr as DfExpr, SessionContext, ident, lit};
use flowwatch_core::FieldId;
use flowwatch_flowlog::schema;
use flowwatch_insights::ast::{
    BinOp, CommandKind, Expr, ExprKind, LikePattern, Lookup, ParsePattern, Period, Projection,
    Query,
};
use flowwatch_insights::{QueryError, Span, functions};

use crate::addrkey::addr_key;
use crate::engine::{Error, GroupFiles, InsightsOptions, QueryEngine};
use crate::lookup::LookupTable;
use crate::udf::{self, Cidr, Family, Kind};

const LOG_GROUP: &str = "__log_group";

pub struct Planned {
    pub df: DataFrame,
    pub columns: Vec<String>,
}

fn ts_lit(ms: i64) -> DfExpr {
    lit(ScalarValue::TimestampMillisecond(
        Some(ms),
        Some("UTC".into()),
    ))
}

fn err(message: impl Into<String>, span: Span) -> Error {
    Error::Query(QueryError::new(message, span))
}

/// A time range on `@timestamp`, epoch ms, start inclusive, end exclusive.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Range {
    pub start_ms: Option<i64>,
    pub end_ms: Option<i64>,
}

/// The files of the range a `diff` compares with, and that range.
pub struct Baseline<'a> {
    pub groups: &'a [GroupFiles],
    pub range: Range,
}

pub async fn plan(
    ctx: &SessionContext,
    query: &Query,
    groups: &[GroupFiles],
    baseline: Option<Baseline<'_>>,
    options: &InsightsOptions,
) -> Result<Planned, Error> {
    let range = Range {
        start_ms: options.start_ms,
        end_ms: options.end_ms,
    };
    let mut p = Planner::new(ctx, groups, range, options).await?;
    for (i, command) in query.commands.iter().enumerate() {
        if let CommandKind::Diff(_) = command.kind {
            let Some(b) = &baseline else {
                return Err(err("`diff` needs the baseline range", command.span));
            };
            let mut prev = Planner::new(ctx, b.groups, b.range, options).await?;
            for c in &query.commands[..i] {
                prev.command(&c.kind, c.span)?;
            }
            p.diff(prev, command.span)?;
            continue;
        }
        p.command(&command.kind, command.span)?;
    }
    p.finish(options.default_limit)
}

struct Planner<'a> {
    ctx: &'a SessionContext,
    df: DataFrame,
    /// Columns of the scanned tables.
    base: Vec<String>,
    /// Fields defined by the query (`fields … as`, `parse`).
    derived: HashSet<String>,
    /// Output columns from `fields`, in order.
    visible: Vec<String>,
    display: Option<Vec<String>>,
    /// After a `stats`: its output columns, the only fields left.
    stats_outputs: Option<Vec<String>>,
    /// The group keys of the last `stats` not yet followed by `sort`.
    last_stats_keys: Option<Vec<String>>,
    /// Group keys and aggregate names of the last `stats` (what a `diff` compares).
    stats_keys: Vec<String>,
    stats_aggs: Vec<String>,
    sort: Option<Vec<SortExpr>>,
    limited: bool,
    counter: usize,
    now_ms: i64,
    options: &'a InsightsOptions,
}

impl<'a> Planner<'a> {
    async fn new(
        ctx: &'a SessionContext,
        groups: &[GroupFiles],
        range: Range,
        options: &'a InsightsOptions,
    ) -> Result<Planner<'a>, Error> {
        let mut df: Option<DataFrame> = None;
        for g in groups.iter().filter(|g| !g.files.is_empty()) {
            let scan = QueryEngine::scan(ctx, g)
                .await?
                .with_column(LOG_GROUP, lit(g.name.clone()))?;
            df = Some(match df {
                None => scan,
                Some(d) => d.union_by_name(scan)?,
            });
        }
        let mut df = match df {
            Some(d) => d,
            None => ctx
                .read_batch(RecordBatch::new_empty(schema::base_schema()))?
                .with_column(LOG_GROUP, lit(ScalarValue::Utf8(None)))?,
        };
        if let Some(s) = range.start_ms {
            df = df.filter(ident(schema::TIMESTAMP).gt_eq(ts_lit(s)))?;
        }
        if let Some(e) = range.end_ms {
            df = df.filter(ident(schema::TIMESTAMP).lt(ts_lit(e)))?;
        }
        let base: Vec<String> = df
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        Ok(Planner {
            ctx,
            df,
            base,
            derived: HashSet::new(),
            visible: vec![],
            display: None,
            stats_outputs: None,
            last_stats_keys: None,
            stats_keys: vec![],
            stats_aggs: vec![],
            sort: None,
            limited: false,
            counter: 0,
            now_ms: options.now_ms,
            options,
        })
    }

    fn fresh(&mut self, prefix: &str) -> String {
        self.counter += 1;
        format!("__{prefix}{}", self.counter)
    }

    fn ty(&self, e: &DfExpr) -> DataType {
        e.get_type(self.df.schema()).unwrap_or(DataType::Null)
    }

    fn add_column(&mut self, name: &str, e: DfExpr) -> Result<(), Error> {
        self.df = self.df.clone().with_column(name, e)?;
        self.derived.insert(name.to_string());
        Ok(())
    }

    fn command(&mut self, kind: &CommandKind, span: Span) -> Result<(), Error> {
        match kind {
            CommandKind::Fields(ps) | CommandKind::Display(ps) => {
                let mut names = vec![];
                for proj in ps {
                    let name = proj.name().to_string();
                    // A bare `@message` shown on raw events is rebuilt last (in `finish`,
                    // after `sort` and `limit`): the console's `fields @timestamp, @message |
                    // sort @timestamp desc | limit 20` rebuilds 20 lines, not every scanned
                    // one. Later commands that read `@message` rebuild it where they need it.
                    if self.stats_outputs.is_none()
                        && name == "@message"
                        && matches!(&proj.expr.kind, ExprKind::Field(f) if f == "@message")
                    {
                        self.derived.remove(&name);
                        names.push(name);
                        continue;
                    }
                    let e = self.expr(&proj.expr)?;
                    self.add_column(&name, e)?;
                    if let Some(outputs) = &mut self.stats_outputs
                        && !outputs.contains(&name)
                    {
                        outputs.push(name.clone());
                    }
                    names.push(name);
                }
                if matches!(kind, CommandKind::Display(_)) {
                    self.display = Some(names);
                } else {
                    for n in names {
                        if !self.visible.contains(&n) {
                            self.visible.push(n);
                        }
                    }
                }
            }
            CommandKind::Filter(e) => {
                let cond = self.expr(e)?;
                let cond = self.truthy(cond);
                self.df = self.df.clone().filter(cond)?;
            }
            CommandKind::Stats(stats) => self.stats(&stats.aggregates, &stats.by)?,
            CommandKind::Sort(keys) => {
                let mut sort = vec![];
                let mut named = vec![];
                for k in keys {
                    let e = self.expr(&k.expr)?;
                    named.push(e.clone());
                    sort.push(self.sort_expr(e, k.descending));
                }
                // Right after `stats`, ties are broken by the group keys ascending (their text
                // byte by byte: no natural-order key to compute for every group before a top-k),
                // so the same query over the same data always gives the same rows in the same
                // order (CloudWatch leaves the order of ties undefined; docs/insights.md).
                if let Some(group_keys) = &self.last_stats_keys {
                    for k in group_keys {
                        let e = ident(k);
                        if !named.contains(&e) {
                            sort.push(e.sort(true, false));
                        }
                    }
                }
                self.df = self.df.clone().sort(sort.clone())?;
                self.sort = Some(sort);
                self.last_stats_keys = None;
            }
            CommandKind::Limit(n) => {
                self.default_order()?;
                self.df = self.df.clone().limit(
                    0,
                    Some(
                        usize::try_from(*n)
                            .unwrap_or(usize::MAX)
                            .min(i64::MAX as usize),
                    ),
                )?;
                self.limited = true;
            }
            CommandKind::Parse(parse) => {
                let source = match &parse.source {
                    Some(f) => self.field(&f.name, f.span)?,
                    None => self.field("@message", parse.span)?,
                };
                let (pattern, regex_text, names, groups) = match &parse.pattern {
                    ParsePattern::Glob { glob, names } => {
                        let re = glob_regex(glob);
                        let groups = (1..=names.len()).collect();
                        (glob.clone(), re, names.clone(), groups)
                    }
                    ParsePattern::Regex { regex, names } => {
                        let compiled = regex::Regex::new(regex)
                            .map_err(|e| err(format!("invalid regular expression: {e}"), span))?;
                        let groups = names
                            .iter()
                            .map(|n| {
                                compiled
                                    .capture_names()
                                    .position(|c| c == Some(n.as_str()))
                                    .unwrap_or(0)
                            })
                            .collect();
                        (regex.clone(), regex.clone(), names.clone(), groups)
                    }
                };
                let regex = regex::Regex::new(&regex_text)
                    .map_err(|e| err(format!("invalid pattern: {e}"), parse.span))?;
                let f = udf::udf(
                    "parse",
                    Kind::Parse {
                        glob: match &parse.pattern {
                            ParsePattern::Glob { glob, .. } => Some(udf::Glob::new(glob)),
                            ParsePattern::Regex { .. } => None,
                        },
                        pattern,
                        regex,
                        names: names.clone(),
                        groups,
                    },
                );
                let tmp = self.fresh("parse");
                let src = if is_stringy(&self.ty(&source)) {
                    source
                } else {
                    cast(source, DataType::Utf8)
                };
                self.df = self.df.clone().with_column(&tmp, f.call(vec![src]))?;
                for n in &names {
                    self.add_column(n, get_field(ident(&tmp), n.as_str()))?;
                    if let Some(outputs) = &mut self.stats_outputs
                        && !outputs.contains(n)
                    {
                        outputs.push(n.clone());
                    }
                }
            }
            CommandKind::Dedup(fields) => {
                self.default_order()?;
                let mut keys = vec![];
                for f in fields {
                    keys.push(self.field(&f.name, f.span)?);
                }
                let order = self.sort.clone().unwrap_or_default();
                let rn = self.fresh("rn");
                let window = row_number()
                    .partition_by(keys.clone())
                    .order_by(order.clone())
                    .build()?;
                let mut keep = ident(&rn).eq(lit(1u64));
                for k in keys {
                    keep = keep.or(k.is_null());
                }
                self.df = self.df.clone().with_column(&rn, window)?.filter(keep)?;
                if !order.is_empty() {
                    self.df = self.df.clone().sort(order)?;
                }
            }
            CommandKind::Lookup(l) => self.lookup(l)?,
            CommandKind::Diff(_) => {
                return Err(err("`diff` is planned by the query, not here", span));
            }
        }
        Ok(())
    }

    /// `lookup table key [as field], … OUTPUT col, …`: a left join with the CSV table (first
    /// row per key), matching the field's text exactly; outputs replace same-named fields.
    fn lookup(&mut self, l: &Lookup) -> Result<(), Error> {
        let tables = &self.options.lookup_tables;
        let Some((_, path)) = tables.iter().find(|(n, _)| *n == l.table) else {
            let e = err(format!("unknown lookup table `{}`", l.table), l.table_span);
            return Err(
                match functions::suggest(&l.table, tables.iter().map(|(n, _)| n.as_str())) {
                    Some(s) => e.into_help(format!("did you mean `{s}`?")),
                    None => e.into_help(format!(
                        "pass the table with --lookup-table {}=path/to/table.csv (a CSV file with a header row)",
                        l.table
                    )),
                },
            );
        };
        let table = LookupTable::load(path).map_err(|m| err(m, l.table_span))?;
        let column = |name: &str, span: Span| -> Result<usize, Error> {
            table.column(name).ok_or_else(|| {
                let e = err(
                    format!("the lookup table `{}` has no column `{name}`", l.table),
                    span,
                );
                match functions::suggest(name, table.columns.iter().map(String::as_str)) {
                    Some(s) => e.into_help(format!("did you mean `{s}`?")),
                    None => e.into_help(format!("its columns: {}", table.columns.join(", "))),
                }
            })
        };
        let (mut key_idx, mut take, mut left, mut right) = (vec![], vec![], vec![], vec![]);
        for (col, field) in &l.keys {
            let idx = column(col, field.span)?;
            let value = self.field(&field.name, field.span)?;
            let (lk, rk) = (self.fresh("lookup_l"), self.fresh("lookup_r"));
            self.df = self
                .df
                .clone()
                .with_column(&lk, cast(value, DataType::Utf8))?;
            key_idx.push(idx);
            take.push((idx, rk.clone()));
            left.push(lk);
            right.push(rk);
        }
        let mut outputs = vec![];
        for o in &l.outputs {
            let idx = column(o, l.table_span)?;
            let tmp = self.fresh("lookup_o");
            take.push((idx, tmp.clone()));
            outputs.push((o.clone(), tmp));
        }
        let batch = table
            .batch(&key_idx, &take)
            .map_err(|m| err(m, l.table_span))?;
        let alias = self.fresh("lookup");
        let rhs = self.ctx.read_batch(batch)?.alias(&alias)?;
        let left: Vec<&str> = left.iter().map(String::as_str).collect();
        let right: Vec<&str> = right.iter().map(String::as_str).collect();
        self.df = self
            .df
            .clone()
            .join(rhs, JoinType::Left, &left, &right, None)?;
        for (name, tmp) in outputs {
            self.add_column(&name, ident(tmp))?;
            if let Some(outs) = &mut self.stats_outputs
                && !outs.contains(&name)
            {
                outs.push(name.clone());
            }
        }
        // A hash join does not keep the order an earlier `sort` gave.
        if let Some(sort) = self.sort.clone() {
            self.df = self.df.clone().sort(sort)?;
        }
        Ok(())
    }

    /// `diff`: the `stats` results of this range beside those of the baseline range (planned
    /// by `prev` from the same commands), joined on the group keys. Output: the keys, then per
    /// aggregate `a`: `a`, `a_previous` and, when numeric, `a_change` and `a_change_pct`; then
    /// `@diff` = `new` | `gone` | `changed` | `same`.
    fn diff(&mut self, prev: Planner<'a>, span: Span) -> Result<(), Error> {
        if self.stats_outputs.is_none() {
            return Err(err("`diff` compares the results of a `stats` command", span).into_help(
                "put it after a stats, e.g. `stats count(*) as flows by srcAddr | diff previousDay`",
            ));
        }
        if self.limited {
            return Err(err("`diff` cannot follow `limit`", span)
                .into_help("compare first, then limit: `… | diff | sort … | limit 10`"));
        }
        let keys = self.stats_keys.clone();
        let aggs = self.stats_aggs.clone();
        let pk: Vec<String> = (0..keys.len()).map(|i| format!("__prev_k{i}")).collect();
        let pa: Vec<String> = (0..aggs.len()).map(|i| format!("__prev_a{i}")).collect();
        let mut sel: Vec<DfExpr> = keys
            .iter()
            .zip(&pk)
            .map(|(k, p)| ident(k).alias(p))
            .collect();
        sel.extend(aggs.iter().zip(&pa).map(|(a, p)| ident(a).alias(p)));
        sel.push(lit(true).alias("__prev_present"));
        let baseline = prev.df.select(sel)?.alias("__baseline")?;
        let current = self
            .df
            .clone()
            .with_column("__cur_present", lit(true))?
            .alias("__current")?;
        let joined = if keys.is_empty() {
            current.join(baseline, JoinType::Full, &[], &[], Some(lit(true)))?
        } else {
            let on: Vec<DfExpr> = keys
                .iter()
                .zip(&pk)
                .map(|(k, p)| not_distinct(ident(k), ident(p)))
                .collect();
            current.join_on(baseline, JoinType::Full, on)?
        };
        let schema = joined.schema().clone();
        let ty = |e: &DfExpr| e.get_type(&schema).unwrap_or(DataType::Null);
        let mut select = vec![];
        let mut outputs = vec![];
        for (k, p) in keys.iter().zip(&pk) {
            select.push(
                datafusion::functions::core::expr_fn::coalesce(vec![ident(k), ident(p)]).alias(k),
            );
            outputs.push(k.clone());
        }
        let mut same: Option<DfExpr> = None;
        for (a, p) in aggs.iter().zip(&pa) {
            let (cur, old) = (ident(a), ident(p));
            select.push(cur.clone().alias(a));
            select.push(old.clone().alias(format!("{a}_previous")));
            outputs.push(a.clone());
            outputs.push(format!("{a}_previous"));
            if is_numeric(&ty(&cur)) && is_numeric(&ty(&old)) {
                let change =
                    cast(cur.clone(), DataType::Float64) - cast(old.clone(), DataType::Float64);
                let change = if matches!(ty(&cur), DataType::Float32 | DataType::Float64) {
                    change
                } else {
                    cast(change, DataType::Int64)
                };
                select.push(change.alias(format!("{a}_change")));
                let pct = lit(100.0)
                    * (cast(cur.clone(), DataType::Float64) - cast(old.clone(), DataType::Float64))
                    / datafusion::functions::core::expr_fn::nullif(
                        cast(old.clone(), DataType::Float64),
                        lit(0.0),
                    );
                select.push(pct.alias(format!("{a}_change_pct")));
                outputs.push(format!("{a}_change"));
                outputs.push(format!("{a}_change_pct"));
            }
            let eq = not_distinct(cur, old);
            same = Some(match same {
                None => eq,
                Some(s) => s.and(eq),
            });
        }
        let state = when(ident("__prev_present").is_null(), lit("new"))
            .when(ident("__cur_present").is_null(), lit("gone"))
            .when(same.unwrap_or(lit(true)), lit("same"))
            .otherwise(lit("changed"))?;
        select.push(state.alias("@diff"));
        outputs.push("@diff".into());
        self.df = joined.select(select)?;
        self.visible = outputs.clone();
        self.display = None;
        self.derived = outputs.iter().cloned().collect();
        self.stats_outputs = Some(outputs);
        self.last_stats_keys = Some(keys);
        self.sort = None;
        Ok(())
    }

    /// Before `limit` or `dedup` with no `sort`: CloudWatch's default order. Raw events:
    /// newest first.
    /// After `stats` with no `sort`: the group keys ascending (what the final result shows),
    /// so `stats … by k | limit 5` keeps the first five groups of that order.
    fn default_order(&mut self) -> Result<(), Error> {
        if self.sort.is_some() {
            return Ok(());
        }
        let order: Vec<SortExpr> = match (&self.stats_outputs, &self.last_stats_keys) {
            (None, _) => vec![ident(schema::TIMESTAMP).sort(false, false)],
            (Some(_), Some(keys)) if !keys.is_empty() => keys
                .iter()
                .map(|k| self.sort_expr(ident(k), false))
                .collect(),
            _ => return Ok(()),
        };
        self.df = self.df.clone().sort(order.clone())?;
        self.sort = Some(order);
        Ok(())
    }

    fn sort_expr(&self, e: DfExpr, descending: bool) -> SortExpr {
        let key = if is_stringy(&self.ty(&e)) {
            udf::udf("natural_key", Kind::NaturalKey).call(vec![e])
        } else {
            e
        };
        // Missing values sort last in both directions.
        key.sort(!descending, false)
    }

    fn stats(&mut self, aggregates: &[Projection], by: &[Projection]) -> Result<(), Error> {
        let mut group_exprs = vec![];
        let mut key_names = vec![];
        for p in by {
            let e = self.expr(&p.expr)?;
            group_exprs.push(e.alias(p.name()));
            key_names.push(p.name().to_string());
        }
        let mut aggs = vec![];
        let mut post = vec![];
        let mut earlier: Vec<(String, DfExpr)> = vec![];
        for p in aggregates {
            let e = self.agg_expr(&p.expr, &mut aggs, &earlier, &key_names)?;
            earlier.push((p.name().to_string(), e.clone()));
            post.push(e.alias(p.name()));
        }
        let mut select: Vec<DfExpr> = key_names.iter().map(ident).collect();
        select.extend(post);
        self.df = self
            .df
            .clone()
            .aggregate(group_exprs, aggs)?
            .select(select)?;
        let mut outputs = key_names.clone();
        outputs.extend(aggregates.iter().map(|p| p.name().to_string()));
        self.visible = outputs.clone();
        self.display = None;
        self.derived = outputs.iter().cloned().collect();
        self.stats_outputs = Some(outputs);
        self.stats_keys = key_names.clone();
        self.stats_aggs = aggregates.iter().map(|p| p.name().to_string()).collect();
        self.last_stats_keys = Some(key_names);
        self.sort = None;
        Ok(())
    }

    /// An item of `stats`: aggregates become columns of the aggregation (collected in
    /// `aggs`), the rest is computed over them.
    fn agg_expr(
        &mut self,
        e: &Expr,
        aggs: &mut Vec<DfExpr>,
        earlier: &[(String, DfExpr)],
        keys: &[String],
    ) -> Result<DfExpr, Error> {
        match &e.kind {
            ExprKind::Call { name, args, star } if is_aggregate(name) => {
                let agg = self.aggregate(name, args, *star, e.span)?;
                let alias = self.fresh("agg");
                aggs.push(agg.alias(&alias));
                Ok(ident(alias))
            }
            ExprKind::Field(name) => {
                if let Some((_, x)) = earlier.iter().rev().find(|(n, _)| n == name) {
                    return Ok(x.clone());
                }
                if keys.contains(name) {
                    return Ok(ident(name));
                }
                Err(err(
                    format!("`{name}` must be inside an aggregate function in `stats`"),
                    e.span,
                )
                .into_help("use e.g. count(*), sum(bytes), max(field), or group with `by`"))
            }
            ExprKind::Binary(op, a, b) => {
                let a = self.agg_expr(a, aggs, earlier, keys)?;
                let b = self.agg_expr(b, aggs, earlier, keys)?;
                Ok(arith_or_compare(*op, a, b))
            }
            ExprKind::Neg(a) => Ok(-self.agg_expr(a, aggs, earlier, keys)?),
            ExprKind::Int(n) => Ok(lit(*n)),
            ExprKind::Float(n) => Ok(lit(*n)),
            ExprKind::Str(s) => Ok(lit(s.clone())),
            ExprKind::Call { name, args, .. } => {
                let mut xs = vec![];
                for a in args {
                    xs.push(self.agg_expr(a, aggs, earlier, keys)?);
                }
                self.scalar_on(name, xs, args, e.span)
            }
            _ => Err(err("this expression is not allowed in `stats`", e.span)),
        }
    }

    fn aggregate(
        &mut self,
        name: &str,
        args: &[Expr],
        star: bool,
        span: Span,
    ) -> Result<DfExpr, Error> {
        if name == "count" && (star || args.is_empty()) {
            return Ok(count(lit(1i64)));
        }
        let x = self.expr(&args[0])?;
        let numeric = |p: &Self, x: DfExpr| {
            if is_numeric(&p.ty(&x)) {
                x
            } else {
                try_cast(x, DataType::Float64)
            }
        };
        Ok(match name {
            "count" => count(x),
            // Distinct addresses counted by integer code (addrkey.rs): the same count, from
            // sets of integers instead of sets of strings.
            "count_distinct" if self.is_address(&x) => count_distinct(addr_key().call(vec![x])),
            "count_distinct" => count_distinct(x),
            "sum" | "avg" | "stddev" => {
                let x = numeric(self, x);
                self.ctx.udaf(name)?.call(vec![x])
            }
            "min" | "max" | "sortsFirst" | "sortsLast" => {
                let f = if matches!(name, "min" | "sortsFirst") {
                    "min"
                } else {
                    "max"
                };
                self.ctx.udaf(f)?.call(vec![x])
            }
            "pct" => {
                let p = match &args[1].kind {
                    ExprKind::Int(n) => *n as f64,
                    ExprKind::Float(f) => *f,
                    _ => return Err(err("pct needs a number from 0 to 100", args[1].span)),
                };
                if !(0.0..=100.0).contains(&p) {
                    return Err(err("the percentile must be from 0 to 100", args[1].span));
                }
                let x = cast(numeric(self, x), DataType::Float64);
                percentile_cont(x.sort(true, false), lit(p / 100.0))
            }
            "earliest" => first_value(x, vec![ident(schema::TIMESTAMP).sort(true, false)]),
            "latest" => last_value(x, vec![ident(schema::TIMESTAMP).sort(true, false)]),
            other => return Err(err(format!("unknown aggregate `{other}`"), span)),
        })
    }

    /// A field by any of its names.
    fn field(&self, name: &str, span: Span) -> Result<DfExpr, Error> {
        let schema = self.df.schema();
        let has = |c: &str| schema.fields().iter().any(|f| f.name() == c);
        if let Some(outputs) = &self.stats_outputs {
            if outputs.iter().any(|o| o == name) && has(name) {
                return Ok(ident(name));
            }
            let mut e = err(
                format!("unknown field `{name}`: after `stats` only its results are fields"),
                span,
            );
            e = match functions::suggest(name, outputs.iter().map(String::as_str)) {
                Some(s) => e.into_help(format!("did you mean `{s}`?")),
                None => e.into_help(format!("available: {}", outputs.join(", "))),
            };
            return Err(e);
        }
        if self.derived.contains(name) && has(name) {
            return Ok(ident(name));
        }
        match name {
            "@timestamp" => return Ok(ident(schema::TIMESTAMP)),
            "@logStream" => return Ok(cast(ident(schema::LOG_STREAM), DataType::Utf8)),
            "@ingestionTime" => return Ok(ident(schema::INGESTION_TIME)),
            "@log" => {
                return Ok(datafusion::functions::string::expr_fn::concat(vec![
                    datafusion::functions::core::expr_fn::coalesce(vec![
                        ident("account_id"),
                        lit("-"),
                    ]),
                    lit(":"),
                    ident(LOG_GROUP),
                ]));
            }
            "@message" => return Ok(self.message()),
            "logStream" if has(schema::LOG_STREAM) => {
                return Ok(cast(ident(schema::LOG_STREAM), DataType::Utf8));
            }
            _ => {}
        }
        if let Some(id) = FieldId::lookup(name)
            && has(id.column())
        {
            return Ok(ident(id.column()));
        }
        if has(name) && !name.starts_with("__") {
            return Ok(ident(name));
        }
        let underscored = name.replace('-', "_");
        if has(&underscored) {
            return Ok(ident(underscored));
        }
        let mut candidates: Vec<String> = self.derived.iter().cloned().collect();
        candidates.extend(
            flowwatch_core::FIELDS
                .iter()
                .map(|f| f.insights.to_string()),
        );
        candidates.extend(
            [
                "@timestamp",
                "@message",
                "@logStream",
                "@log",
                "@ingestionTime",
            ]
            .iter()
            .map(|s| s.to_string()),
        );
        let mut e = err(format!("unknown field `{name}`"), span);
        if let Some(s) = functions::suggest(name, candidates.iter().map(String::as_str)) {
            e = e.into_help(format!("did you mean `{s}`?"));
        }
        Err(e)
    }

    /// Whether `e` is a stored address column as read (a string).
    fn is_address(&self, e: &DfExpr) -> bool {
        matches!(e, DfExpr::Column(c) if is_address_column(&c.name)) && is_stringy(&self.ty(e))
    }

    /// `@message`: stored text when kept, else rebuilt from the fields in the record's format.
    fn message(&self) -> DfExpr {
        let skip = [
            schema::TIMESTAMP,
            schema::MESSAGE,
            schema::LOG_FORMAT,
            schema::LOG_STREAM,
            schema::INGESTION_TIME,
            LOG_GROUP,
        ];
        let cols: Vec<String> = self
            .base
            .iter()
            .filter(|c| !skip.contains(&c.as_str()))
            .cloned()
            .collect();
        let mut args = vec![ident(schema::MESSAGE), ident(schema::LOG_FORMAT)];
        args.extend(cols.iter().map(ident));
        udf::udf("message", Kind::Message(cols)).call(args)
    }

    /// A condition: booleans as they are, numbers true when non-zero, others true when present.
    fn truthy(&self, e: DfExpr) -> DfExpr {
        let ty = self.ty(&e);
        if ty == DataType::Boolean {
            e
        } else if is_numeric(&ty) {
            e.not_eq(lit(0i64))
        } else {
            e.is_not_null()
        }
    }

    fn expr(&mut self, e: &Expr) -> Result<DfExpr, Error> {
        Ok(match &e.kind {
            ExprKind::Field(name) => self.field(name, e.span)?,
            ExprKind::Int(n) => lit(*n),
            ExprKind::Float(n) => lit(*n),
            ExprKind::Str(s) => lit(s.clone()),
            ExprKind::Regex(r) => lit(r.clone()),
            ExprKind::Period(_) => {
                return Err(err(
                    "a time period is only allowed in bin(), datefloor() and dateceil()",
                    e.span,
                ));
            }
            ExprKind::List(_) => {
                return Err(err("a list is only allowed after `in`", e.span));
            }
            ExprKind::Neg(a) => {
                let x = self.expr(a)?;
                -self.num(x)
            }
            ExprKind::Not(a) => {
                // A comparison with a missing value is false, so its negation is true
                // (not SQL's NULL): `not (dstPort = 22)` keeps records without a dstPort.
                // `IS NOT TRUE`: true for false and for null, one null-free kernel; a plain
                // `NOT` when the operand is never null (the stored-address subnet test).
                let x = self.expr(a)?;
                let x = self.truthy(x);
                match &x {
                    DfExpr::ScalarFunction(f) if f.func.name() == ADDRESS_IN => !x,
                    _ => x.is_not_true(),
                }
            }
            ExprKind::Binary(op, a, b) => {
                let (x, y) = (self.expr(a)?, self.expr(b)?);
                match op {
                    BinOp::And => self.truthy(x).and(self.truthy(y)),
                    BinOp::Or => self.truthy(x).or(self.truthy(y)),
                    BinOp::Eq
                    | BinOp::NotEq
                    | BinOp::Lt
                    | BinOp::LtEq
                    | BinOp::Gt
                    | BinOp::GtEq => {
                        let (x, y) = self.coerce_pair(x, a, y, b);
                        arith_or_compare(*op, x, y)
                    }
                    _ => {
                        let (x, y) = (self.num(x), self.num(y));
                        arith_or_compare(*op, x, y)
                    }
                }
            }
            ExprKind::Like {
                expr,
                pattern,
                negated,
            } => {
                let x = cast(self.expr(expr)?, DataType::Utf8);
                let m = match pattern {
                    LikePattern::Substring(s) => self
                        .ctx
                        .udf("strpos")?
                        .call(vec![x, lit(s.clone())])
                        .gt(lit(0i64)),
                    LikePattern::Regex(r) => {
                        self.ctx.udf("regexp_like")?.call(vec![x, lit(r.clone())])
                    }
                };
                // A missing value matches neither `like` nor `not like` (nor `in`/`not in`).
                let m = if *negated { !m } else { m };
                datafusion::functions::core::expr_fn::coalesce(vec![m, lit(false)])
            }
            ExprKind::In {
                expr,
                list,
                negated,
            } => {
                let x = self.expr(expr)?;
                let mut any: Option<DfExpr> = None;
                for item in list {
                    let y = self.expr(item)?;
                    let (a, b) = self.coerce_pair(x.clone(), expr, y, item);
                    let eq = a.eq(b);
                    any = Some(match any {
                        None => eq,
                        Some(acc) => acc.or(eq),
                    });
                }
                let m = any.unwrap_or(lit(false));
                // A missing value matches neither `like` nor `not like` (nor `in`/`not in`).
                let m = if *negated { !m } else { m };
                datafusion::functions::core::expr_fn::coalesce(vec![m, lit(false)])
            }
            ExprKind::Call { name, args, .. } => self.call(name, args, e.span)?,
        })
    }

    /// A number: strings (parsed fields) are read as numbers, null when they are not.
    fn num(&self, x: DfExpr) -> DfExpr {
        if is_numeric(&self.ty(&x)) {
            x
        } else {
            try_cast(x, DataType::Float64)
        }
    }

    /// Compare numbers as numbers: a numeric field against a string literal that is a number
    /// compares numerically (`dstPort = "22"`); otherwise both sides compare as text.
    fn coerce_pair(&self, x: DfExpr, xa: &Expr, y: DfExpr, ya: &Expr) -> (DfExpr, DfExpr) {
        let (tx, ty) = (self.ty(&x), self.ty(&y));
        let num_lit = |e: &Expr| match &e.kind {
            ExprKind::Str(s) => s.trim().parse::<f64>().ok(),
            _ => None,
        };
        if is_numeric(&tx) && is_stringy(&ty) {
            if let Some(v) = num_lit(ya) {
                return (cast(x, DataType::Float64), lit(v));
            }
            if matches!(ya.kind, ExprKind::Str(_)) {
                return (cast(x, DataType::Utf8), y);
            }
            return (cast(x, DataType::Float64), try_cast(y, DataType::Float64));
        }
        if is_stringy(&tx) && is_numeric(&ty) {
            if let Some(v) = num_lit(xa) {
                return (lit(v), cast(y, DataType::Float64));
            }
            return (try_cast(x, DataType::Float64), cast(y, DataType::Float64));
        }
        if is_timestamp(&tx) && is_numeric(&ty) {
            return (cast(cast(x, ts_type()), DataType::Int64), y);
        }
        if is_numeric(&tx) && is_timestamp(&ty) {
            return (x, cast(cast(y, ts_type()), DataType::Int64));
        }
        if is_stringy(&tx) && is_stringy(&ty) {
            return (cast(x, DataType::Utf8), cast(y, DataType::Utf8));
        }
        (x, y)
    }

    fn period(&self, e: &Expr) -> Result<Period, Error> {
        match &e.kind {
            ExprKind::Period(p) => Ok(*p),
            _ => Err(err("expected a time period such as 5m or 1h", e.span)),
        }
    }

    fn floor_to(&self, ts: DfExpr, p: Period, span: Span) -> Result<DfExpr, Error> {
        if p.months > 0 {
            let unit = match p.months {
                1 => "month",
                3 => "quarter",
                12 => "year",
                _ => {
                    return Err(err(
                        "month periods must be 1mo, 1q or 1y (calendar units)",
                        span,
                    ));
                }
            };
            return Ok(cast(
                self.ctx
                    .udf("date_trunc")?
                    .call(vec![lit(unit), cast(ts, ts_type())]),
                ts_type(),
            ));
        }
        let interval = lit(ScalarValue::IntervalMonthDayNano(Some(
            IntervalMonthDayNano::new(0, 0, p.millis * 1_000_000),
        )));
        Ok(cast(
            self.ctx
                .udf("date_bin")?
                .call(vec![interval, cast(ts, ts_type()), ts_lit(0)]),
            ts_type(),
        ))
    }

    fn call(&mut self, name: &str, args: &[Expr], span: Span) -> Result<DfExpr, Error> {
        let s = |p: &mut Self, i: usize| -> Result<DfExpr, Error> {
            Ok(cast(p.expr(&args[i])?, DataType::Utf8))
        };
        let ip = |p: &mut Self, kind: Kind| -> Result<DfExpr, Error> {
            let x = p.expr(&args[0])?;
            let x = if is_stringy(&p.ty(&x)) {
                x
            } else {
                cast(x, DataType::Utf8)
            };
            if let Kind::InSubnet(cidr, family) = &kind
                && *family != Family::V6
                && let Some(e) = stored_address_prefixes(&x, cidr)
            {
                return Ok(e);
            }
            Ok(udf::udf(name, kind).call(vec![x]))
        };
        match name {
            "bin" => {
                let p = self.period(&args[0])?;
                let ts = self.field("@timestamp", span)?;
                self.floor_to(ts, p, span)
            }
            "datefloor" | "dateceil" => {
                let ts = self.expr(&args[0])?;
                let p = self.period(&args[1])?;
                let floor = self.floor_to(ts.clone(), p, span)?;
                if name == "datefloor" {
                    return Ok(floor);
                }
                if p.months > 0 {
                    return Err(err("dateceil supports fixed periods only", span));
                }
                let ts = cast(ts, ts_type());
                let step = lit(ScalarValue::IntervalMonthDayNano(Some(
                    IntervalMonthDayNano::new(0, 0, p.millis * 1_000_000),
                )));
                Ok(when(floor.clone().eq(ts), floor.clone()).otherwise(floor + step)?)
            }
            "fromMillis" => {
                let x = self.expr(&args[0])?;
                Ok(cast(cast(x, DataType::Int64), ts_type()))
            }
            "toMillis" => {
                let x = self.expr(&args[0])?;
                Ok(cast(cast(x, ts_type()), DataType::Int64))
            }
            "now" => Ok(lit(self.now_ms / 1000)),
            "isValidIp" => ip(self, Kind::ValidIp(Family::Any)),
            "isValidIpV4" => ip(self, Kind::ValidIp(Family::V4)),
            "isValidIpV6" => ip(self, Kind::ValidIp(Family::V6)),
            "isPrivateIP" => ip(self, Kind::PrivateIp),
            "isPublicIP" => ip(self, Kind::PublicIp),
            "isIpInSubnet" | "isIpv4InSubnet" | "isIpv6InSubnet" => {
                let ExprKind::Str(text) = &args[1].kind else {
                    return Err(err(
                        "the subnet must be a quoted CIDR such as \"10.0.0.0/8\"",
                        args[1].span,
                    ));
                };
                let Some(cidr) = Cidr::parse(text) else {
                    return Err(err(format!("`{text}` is not a CIDR block"), args[1].span));
                };
                let family = match name {
                    "isIpv4InSubnet" => Family::V4,
                    "isIpv6InSubnet" => Family::V6,
                    _ => Family::Any,
                };
                if (family == Family::V4 && !cidr.addr.is_ipv4())
                    || (family == Family::V6 && !cidr.addr.is_ipv6())
                {
                    return Err(err(
                        format!("`{text}` is not a {name} subnet"),
                        args[1].span,
                    ));
                }
                ip(self, Kind::InSubnet(cidr, family))
            }
            "ispresent" => Ok(self.expr(&args[0])?.is_not_null()),
            "isempty" | "isblank" => {
                let x = s(self, 0)?;
                let inner = if name == "isblank" {
                    self.ctx.udf("btrim")?.call(vec![x.clone()])
                } else {
                    x.clone()
                };
                Ok(when(x.is_null().or(inner.eq(lit(""))), lit(1i64)).otherwise(lit(0i64))?)
            }
            "strcontains" => {
                let mut x = s(self, 0)?;
                let mut v = s(self, 1)?;
                if args.len() == 3 {
                    let ci = self.expr(&args[2])?;
                    let ci = self.truthy(ci);
                    let lower = self.ctx.udf("lower")?;
                    x = when(ci.clone(), lower.call(vec![x.clone()])).otherwise(x)?;
                    v = when(ci, lower.call(vec![v.clone()])).otherwise(v)?;
                }
                let pos = self.ctx.udf("strpos")?.call(vec![x, v]);
                Ok(when(pos.gt(lit(0i64)), lit(1i64)).otherwise(lit(0i64))?)
            }
            "substr" => {
                let x = s(self, 0)?;
                let start = self.expr(&args[1])?;
                let start = cast(start, DataType::Int64) + lit(1i64);
                let mut a = vec![x, start];
                if args.len() == 3 {
                    a.push(cast(self.expr(&args[2])?, DataType::Int64));
                }
                Ok(self.ctx.udf("substr")?.call(a))
            }
            _ => {
                let mut xs = vec![];
                for a in args {
                    xs.push(self.expr(a)?);
                }
                self.scalar_on(name, xs, args, span)
            }
        }
    }

    /// Functions that map one-to-one onto DataFusion's, with already-translated arguments.
    fn scalar_on(
        &mut self,
        name: &str,
        xs: Vec<DfExpr>,
        args: &[Expr],
        span: Span,
    ) -> Result<DfExpr, Error> {
        let strs = |xs: Vec<DfExpr>| -> Vec<DfExpr> {
            xs.into_iter().map(|x| cast(x, DataType::Utf8)).collect()
        };
        let nums = |p: &Self, xs: Vec<DfExpr>| -> Vec<DfExpr> {
            xs.into_iter()
                .map(|x| cast(p.num(x), DataType::Float64))
                .collect()
        };
        let df_name = match name {
            "abs" | "ceil" | "floor" | "sqrt" | "round" => name,
            "log" => "ln",
            "greatest" | "least" | "coalesce" => {
                return Ok(self.ctx.udf(name)?.call(xs));
            }
            "concat" => return Ok(self.ctx.udf("concat")?.call(strs(xs))),
            "ltrim" | "rtrim" => return Ok(self.ctx.udf(name)?.call(strs(xs))),
            "trim" => return Ok(self.ctx.udf("btrim")?.call(strs(xs))),
            "strlen" => return Ok(self.ctx.udf("character_length")?.call(strs(xs))),
            "toupper" => return Ok(self.ctx.udf("upper")?.call(strs(xs))),
            "tolower" => return Ok(self.ctx.udf("lower")?.call(strs(xs))),
            "replace" => return Ok(self.ctx.udf("replace")?.call(strs(xs))),
            "startsWith" => return Ok(self.ctx.udf("starts_with")?.call(strs(xs))),
            "endsWith" => return Ok(self.ctx.udf("ends_with")?.call(strs(xs))),
            _ => {
                let _ = args;
                return Err(err(format!("`{name}` cannot be used here"), span));
            }
        };
        let mut xs = nums(self, xs);
        if name == "round" && xs.len() == 2 {
            xs[1] = cast(xs[1].clone(), DataType::Int64);
        }
        Ok(self.ctx.udf(df_name)?.call(xs))
    }

    fn finish(mut self, default_limit: usize) -> Result<Planned, Error> {
        if let Some(keys) = self.last_stats_keys.take() {
            if !keys.is_empty() {
                let order: Vec<SortExpr> = keys
                    .iter()
                    .map(|k| {
                        let e = ident(k);
                        self.sort_expr(e, false)
                    })
                    .collect();
                self.df = self.df.clone().sort(order)?;
            }
        } else if self.stats_outputs.is_none() && !self.limited {
            self.default_order()?;
        }
        let mut columns = self.display.take().unwrap_or(self.visible.clone());
        if columns.is_empty() {
            self.add_column("@timestamp", ident(schema::TIMESTAMP))?;
            columns = vec!["@timestamp".into(), "@message".into()];
        }
        // `@message` asked for by `fields`/`display` (deferred there) or by default.
        let has_message = self
            .df
            .schema()
            .fields()
            .iter()
            .any(|f| f.name() == "@message");
        if self.stats_outputs.is_none() && !has_message && columns.iter().any(|c| c == "@message") {
            let m = self.message();
            self.add_column("@message", m)?;
        }
        let select: Vec<DfExpr> = columns.iter().map(ident).collect();
        let mut df = self.df.select(select)?;
        // DataFusion's limits are i64 inside: a cap beyond that is no cap.
        if !self.limited && i64::try_from(default_limit).is_ok() {
            df = df.limit(0, Some(default_limit))?;
        }
        Ok(Planned { df, columns })
    }
}

trait Help {
    fn into_help(self, help: impl Into<String>) -> Error;
}

impl Help for Error {
    fn into_help(self, help: impl Into<String>) -> Error {
        match self {
            Error::Query(q) => Error::Query(q.with_help(help)),
            other => other,
        }
    }
}

/// `a IS NOT DISTINCT FROM b`: equal, or both null.
fn not_distinct(a: DfExpr, b: DfExpr) -> DfExpr {
    datafusion::logical_expr::binary_expr(
        a,
        datafusion::logical_expr::Operator::IsNotDistinctFrom,
        b,
    )
}

fn is_aggregate(name: &str) -> bool {
    functions::lookup(name).is_some_and(|f| f.aggregate)
}

fn ts_type() -> DataType {
    DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into()))
}

fn is_numeric(t: &DataType) -> bool {
    t.is_numeric()
}

fn is_timestamp(t: &DataType) -> bool {
    matches!(t, DataType::Timestamp(..))
}

fn is_stringy(t: &DataType) -> bool {
    match t {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => true,
        DataType::Dictionary(_, v) => is_stringy(v),
        _ => false,
    }
}

fn arith_or_compare(op: BinOp, x: DfExpr, y: DfExpr) -> DfExpr {
    match op {
        BinOp::Add => x + y,
        BinOp::Sub => x - y,
        BinOp::Mul => x * y,
        BinOp::Div => cast(x, DataType::Float64) / cast(y, DataType::Float64),
        BinOp::Rem => x % y,
        BinOp::Pow => datafusion::functions::math::expr_fn::power(
            cast(x, DataType::Float64),
            cast(y, DataType::Float64),
        ),
        BinOp::Eq => x.eq(y),
        BinOp::NotEq => x.not_eq(y),
        BinOp::Lt => x.lt(y),
        BinOp::LtEq => x.lt_eq(y),
        BinOp::Gt => x.gt(y),
        BinOp::GtEq => x.gt_eq(y),
        BinOp::And => x.and(y),
        BinOp::Or => x.or(y),
    }
}

/// A `parse` glob as a regex: literal text escaped, each `*` a lazy group except the last,
/// which runs to the end; unanchored.
/// Most alternatives [`stored_address_prefixes`] writes before leaving the test to the UDF.
const MAX_PREFIXES: u32 = 16;

/// Name of the stored-address subnet test (never null, so `not` needs no null handling).
const ADDRESS_IN: &str = "address_in";

/// Whether `column` is an address field of the catalog (ingest stores only valid addresses
/// there, IPv4 in canonical dotted-quad form).
fn is_address_column(column: &str) -> bool {
    flowwatch_core::FIELDS
        .iter()
        .any(|f| f.column == column && f.ty == flowwatch_core::FieldType::Addr)
}

/// `isIpv4InSubnet(col, cidr)` as string-prefix tests when `col` is a stored address column:
/// ingest stores only valid addresses, IPv4 in canonical dotted-quad form (no leading zeros),
/// so for `10.0.0.0/8` "in the subnet" is exactly "starts with `10.`", and for
/// `172.16.0.0/12` one of 16 such prefixes. The engine runs prefix tests on the column's
/// inline string views, several times faster than parsing every address. Prefixes of more
/// than [`MAX_PREFIXES`] alternatives (`/9`, `/1`), `/0` and IPv6 keep the UDF.
fn stored_address_prefixes(x: &DfExpr, cidr: &Cidr) -> Option<DfExpr> {
    let DfExpr::Column(c) = x else {
        return None;
    };
    let stored = is_address_column(&c.name);
    let std::net::IpAddr::V4(net) = cidr.addr else {
        return None;
    };
    if !stored || cidr.prefix == 0 {
        return None;
    }
    let o = net.octets();
    let full = usize::from(cidr.prefix / 8);
    let rest = u32::from(cidr.prefix % 8);
    let head: Vec<String> = o[..full].iter().map(u8::to_string).collect();
    let (mut prefixes, mut exact) = (vec![], vec![]);
    if full == 4 {
        exact.push(head.join("."));
    } else if rest == 0 {
        prefixes.push(format!("{}.", head.join(".")));
    } else {
        let count = 1u32 << (8 - rest);
        if count > MAX_PREFIXES {
            return None;
        }
        let base = u32::from(o[full]) & !(count - 1);
        for v in base..base + count {
            let mut parts = head.clone();
            parts.push(v.to_string());
            let text = parts.join(".");
            if full == 3 {
                exact.push(text);
            } else {
                prefixes.push(format!("{text}."));
            }
        }
    }
    // One pass over the column, false (not null) for a missing address.
    Some(udf::udf(ADDRESS_IN, Kind::TextIn { prefixes, exact }).call(vec![x.clone()]))
}

pub fn glob_regex(glob: &str) -> String {
    let parts: Vec<&str> = glob.split('*').collect();
    let mut out = String::from("(?s)");
    for (i, part) in parts.iter().enumerate() {
        out.push_str(&regex::escape(part));
        if i + 1 < parts.len() {
            out.push_str(if i + 2 == parts.len() {
                "(.*)"
            } else {
                "(.*?)"
            });
        }
    }
    out
}
