//! A physical optimizer rule: in every filter, the expensive conjuncts (`@message` rebuilt,
//! `parse`, regular expressions) come last, behind a null-free guard, so that DataFusion
//! evaluates them only on the rows the cheap conjuncts keep.
//!
//! Why: `filter action = "REJECT" | parse @message … | filter dp = "22"` becomes one
//! `FilterExec` after DataFusion's filter push-down, which puts the parent's predicate (the
//! parse) first — the line of every scanned record was rebuilt and parsed, not only of the
//! 5 % rejected ones. DataFusion's `AND` evaluates its right side only on the rows where its
//! left side is true (pre-selection) when the left side is mostly false *and has no nulls*;
//! a comparison on a column with nulls (`action` of NODATA records) has nulls. So the
//! predicate becomes `cheap AND (cheap IS NOT DISTINCT FROM true) AND expensive`: the same
//! rows pass (a filter drops null and false alike), `cheap` stays first and unchanged, and
//! the guard is null-free, so the expensive part sees only the surviving rows.

use std::sync::Arc;

use datafusion::common::Result;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::logical_expr::Operator;
use datafusion::physical_expr::expressions::{BinaryExpr, lit};
use datafusion::physical_expr::{PhysicalExpr, ScalarFunctionExpr, conjunction, split_conjunction};
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::filter::{FilterExec, FilterExecBuilder};

use crate::udf::{FwUdf, Kind};

#[derive(Debug, Default)]
pub struct ExpensiveLast;

/// Whether `e` calls something much costlier than a column comparison.
fn expensive(e: &Arc<dyn PhysicalExpr>) -> bool {
    let mut found = false;
    let _ = e.apply(|node| {
        let any: &dyn std::any::Any = node.as_ref();
        if let Some(f) = any.downcast_ref::<ScalarFunctionExpr>() {
            let udf: &dyn std::any::Any = f.fun().inner().as_ref();
            let costly = match udf.downcast_ref::<FwUdf>() {
                Some(u) => matches!(u.kind(), Kind::Message(_) | Kind::Parse { .. }),
                None => f.fun().name().starts_with("regexp_"),
            };
            if costly {
                found = true;
                return Ok(TreeNodeRecursion::Stop);
            }
        }
        Ok(TreeNodeRecursion::Continue)
    });
    found
}

fn guard(cheap: &Arc<dyn PhysicalExpr>) -> Arc<dyn PhysicalExpr> {
    Arc::new(BinaryExpr::new(
        Arc::clone(cheap),
        Operator::IsNotDistinctFrom,
        lit(true),
    ))
}

/// The predicate with the expensive conjuncts last behind a guard, or None when it is
/// already so (or has nothing to reorder).
pub(crate) fn reorder(predicate: &Arc<dyn PhysicalExpr>) -> Option<Arc<dyn PhysicalExpr>> {
    let parts: Vec<Arc<dyn PhysicalExpr>> =
        split_conjunction(predicate).into_iter().cloned().collect();
    let first_costly = parts.iter().position(expensive)?;
    let (costly, cheap): (Vec<_>, Vec<_>) = parts.iter().cloned().partition(expensive);
    if cheap.is_empty() {
        return None;
    }
    // Already in order: [cheap…, guard(cheap…), costly…].
    if parts[first_costly..].iter().all(expensive) && cheap.len() >= 2 {
        let (last, before) = cheap.split_last()?;
        let expected = guard(&conjunction(before.iter().cloned()));
        if last.as_ref() == expected.as_ref() {
            return None;
        }
    }
    let cheap = conjunction(cheap);
    let guarded = guard(&cheap);
    Some(conjunction(
        std::iter::once(cheap)
            .chain(std::iter::once(guarded))
            .chain(costly),
    ))
}

impl PhysicalOptimizerRule for ExpensiveLast {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        plan.transform_up(|node| {
            let any: &dyn std::any::Any = node.as_ref();
            let Some(filter) = any.downcast_ref::<FilterExec>() else {
                return Ok(Transformed::no(node));
            };
            let Some(predicate) = reorder(filter.predicate()) else {
                return Ok(Transformed::no(node));
            };
            let rebuilt = FilterExecBuilder::from(filter)
                .with_predicate(predicate)
                .build()?;
            Ok(Transformed::yes(Arc::new(rebuilt) as Arc<dyn ExecutionPlan>))
        })
        .map(|t| t.data)
    }

    fn name(&self) -> &str {
        "flowwatch_expensive_conjuncts_last"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::datatypes::{DataType, Field, Schema};
    use datafusion::physical_expr::expressions::col;

    #[test]
    fn regexes_go_last_behind_a_guard_once() {
        let schema = Schema::new(vec![
            Field::new("action", DataType::Utf8, true),
            Field::new("message", DataType::Utf8, true),
        ]);
        let action = col("action", &schema).unwrap();
        let cheap: Arc<dyn PhysicalExpr> =
            Arc::new(BinaryExpr::new(action, Operator::Eq, lit("REJECT")));
        let message = col("message", &schema).unwrap();
        let regex = datafusion::functions::regex::regexp_like();
        let costly: Arc<dyn PhysicalExpr> = Arc::new(
            ScalarFunctionExpr::try_new(
                regex,
                vec![message, lit("22")],
                &schema,
                Arc::new(ConfigOptions::default()),
            )
            .unwrap(),
        );
        let p: Arc<dyn PhysicalExpr> = Arc::new(BinaryExpr::new(
            Arc::clone(&costly),
            Operator::And,
            Arc::clone(&cheap),
        ));
        let r = reorder(&p).expect("reordered");
        assert_eq!(
            r.to_string(),
            "action@0 = REJECT AND (action@0 = REJECT) IS NOT DISTINCT FROM true AND regexp_like(message@1, 22)"
        );
        assert!(reorder(&r).is_none(), "a fixed point");
        assert!(reorder(&cheap).is_none());
        assert!(reorder(&costly).is_none());
    }
}
