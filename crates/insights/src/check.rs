//! Checks that need the whole query: where aggregates may appear, how many `stats` there are,
//! what may follow `dedup`.

use crate::ast::*;
use crate::error::QueryError;
use crate::functions;

pub fn check(query: &Query) -> Result<(), QueryError> {
    let mut stats_seen = 0;
    let mut dedup_at: Option<Span> = None;
    for command in &query.commands {
        if let Some(span) = dedup_at
            && !matches!(command.kind, CommandKind::Limit(_))
        {
            return Err(QueryError::new(
                format!("`{}` cannot follow `dedup`", command.kind.name()),
                command.span,
            )
            .with_help(format!(
                "only `limit` may follow `dedup` (the dedup is at byte {})",
                span.start
            )));
        }
        match &command.kind {
            CommandKind::Stats(stats) => {
                stats_seen += 1;
                if stats_seen > 2 {
                    return Err(QueryError::new(
                        "a query can have at most two `stats` commands",
                        command.span,
                    ));
                }
                for p in &stats.aggregates {
                    no_nested_aggregates(&p.expr)?;
                }
                for p in &stats.by {
                    no_aggregates(&p.expr, "in `stats … by`")?;
                }
            }
            CommandKind::Dedup(_) => dedup_at = Some(command.span),
            CommandKind::Fields(ps) | CommandKind::Display(ps) => {
                for p in ps {
                    no_aggregates(&p.expr, "outside `stats`")?;
                }
            }
            CommandKind::Filter(e) => no_aggregates(e, "outside `stats`")?,
            CommandKind::Sort(keys) => {
                for k in keys {
                    no_aggregates(&k.expr, "outside `stats`")?;
                }
            }
            _ => {}
        }
    }
    Ok(())
}

fn no_aggregates(expr: &Expr, place: &str) -> Result<(), QueryError> {
    let mut err = None;
    expr.walk(&mut |e| {
        if err.is_none()
            && let ExprKind::Call { name, .. } = &e.kind
            && functions::lookup(name).is_some_and(|f| f.aggregate)
        {
            err = Some(
                QueryError::new(
                    format!("the aggregate `{name}` is not allowed {place}"),
                    e.span,
                )
                .with_help("aggregate with `stats`, then refer to its result by alias"),
            );
        }
    });
    err.map_or(Ok(()), Err)
}

/// An aggregate inside another aggregate's arguments. Built on [`Expr::walk`] rather than its
/// own recursion: that took ~2 KiB of stack per tree level in debug builds, too much for the
/// deep (but bounded) left-leaning trees of long operator chains.
fn no_nested_aggregates(expr: &Expr) -> Result<(), QueryError> {
    let mut err = None;
    expr.walk(&mut |e| {
        if err.is_none()
            && let ExprKind::Call { name, args, .. } = &e.kind
            && is_aggregate(name)
        {
            // Aggregates' argument trees are disjoint unless nested (an error), so every node
            // is visited at most twice.
            for a in args {
                a.walk(&mut |inner| {
                    if err.is_none()
                        && let ExprKind::Call { name, .. } = &inner.kind
                        && is_aggregate(name)
                    {
                        err = Some(QueryError::new(
                            format!(
                                "the aggregate `{name}` cannot be nested inside another aggregate"
                            ),
                            inner.span,
                        ));
                    }
                });
            }
        }
    });
    err.map_or(Ok(()), Err)
}

fn is_aggregate(name: &str) -> bool {
    functions::lookup(name).is_some_and(|f| f.aggregate)
}
