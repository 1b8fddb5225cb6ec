//! Every REJECT in the flow logs explained (issue 5 §5, spec `mirror-reachability.md` §7).
//! TODO docs
pub mod engine;
mod error;
mod fxhash;
pub mod record;
pub mod report;
pub mod stored;
pub mod text;

pub use engine::{ExplainOptions, Explainer, explain_records};
pub use error::{ExplainError, Result};
pub use record::{Action, FlowRecord, LogStatus, SkipReason};
pub use report::{
    Counts, FlowGroup, Interface, Reason, ReasonCount, Report, RuleUsage, Skipped, render_table,
};
pub use stored::{ReadStats, explain_store, for_each_stored_record};
pub use text::NearestRule;
