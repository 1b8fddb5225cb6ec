//! `check`: every definition validated as AWS's Put* APIs would, plus the cross-checks a file
//! needs (duplicate names, composite cycles, alarms on metrics no filter produces). Problems
//! name the definition; pattern and alarm-rule errors are rendered with a caret under the
//! offending text, contributor-rule errors name the key (and the byte inside a JSON path).

use std::collections::BTreeSet;

use flowwatch_alarm::{AccountContext, AlarmError, ManualClock, Monitor, as_insight_rule_metric};
use flowwatch_contrib::CompiledRule;
use flowwatch_pattern::{CompiledMetricFilter, Error as PatternDefError};

use crate::definitions::Definitions;

/// A problem with one definition. `message` may span several lines (a rendered caret).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// Which definition: `metric filter "RejectedSSH" (log group /aws/vpc)`.
    pub location: String,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.location, self.message)
    }
}

/// A metric filter ready to run, with the log group it reads.
#[derive(Clone, Debug)]
pub struct GroupFilter {
    pub log_group: String,
    pub filter: CompiledMetricFilter,
}

/// What [`check`] found.
#[derive(Clone, Debug, Default)]
pub struct CheckReport {
    /// The filters that compiled.
    pub filters: Vec<GroupFilter>,
    /// The Contributor Insights rules that compiled (managed rules are skipped).
    pub insight_rules: Vec<CompiledRule>,
    /// Errors: the definition cannot be used.
    pub errors: Vec<Problem>,
    /// Legal but probably not what was meant.
    pub warnings: Vec<Problem>,
}

impl CheckReport {
    pub fn is_ok(&self) -> bool {
        self.errors.is_empty()
    }
}

/// Validates every filter, alarm and contributor rule of `defs`.
pub fn check(defs: &Definitions) -> CheckReport {
    let mut report = CheckReport::default();
    let mut seen = BTreeSet::new();
    for (i, f) in defs.metric_filters.iter().enumerate() {
        let location = format!(
            "metricFilters[{i}] \"{}\" (log group {})",
            f.filter_name,
            if f.log_group_name.is_empty() {
                "?"
            } else {
                f.log_group_name.as_str()
            }
        );
        let problem = |message: String| Problem {
            location: location.clone(),
            message,
        };
        if f.log_group_name.is_empty() {
            report.errors.push(problem(
                "logGroupName is required: the log group whose records the filter reads".into(),
            ));
        }
        if !seen.insert((f.log_group_name.clone(), f.filter_name.clone())) {
            report.errors.push(problem(
                "a filter of this name is already defined for the log group".into(),
            ));
        }
        match f.compile() {
            Ok(filter) => {
                for w in filter.pattern.warnings() {
                    report.warnings.push(problem(format!(
                        "filterPattern at byte {}: {}",
                        w.offset, w.message
                    )));
                }
                if !f.log_group_name.is_empty() {
                    report.filters.push(GroupFilter {
                        log_group: f.log_group_name.clone(),
                        filter,
                    });
                }
            }
            Err(PatternDefError::Pattern(e)) => {
                report.errors.push(problem(format!(
                    "filterPattern:\n{}",
                    e.render(&f.filter_pattern)
                )));
            }
            Err(e) => report.errors.push(problem(e.to_string())),
        }
    }

    let mut names = BTreeSet::new();
    for name in defs
        .metric_alarms
        .iter()
        .map(|a| &a.alarm_name)
        .chain(defs.composite_alarms.iter().map(|a| &a.alarm_name))
    {
        if !names.insert(name.clone()) {
            report.errors.push(Problem {
                location: format!("alarm \"{name}\""),
                message: "an alarm of this name is already defined".into(),
            });
        }
    }
    let mut monitor = Monitor::new(
        ManualClock::new(chrono::DateTime::UNIX_EPOCH),
        AccountContext::new("000000000000", "us-east-1"),
    );
    let alarms = flowwatch_alarm::DescribeAlarmsOutput {
        metric_alarms: defs.metric_alarms.clone(),
        composite_alarms: defs.composite_alarms.clone(),
    };
    for e in monitor.load(&alarms) {
        report.errors.push(alarm_problem(defs, &e));
    }

    // An alarm on a metric that no filter produces never sees data: legal (the metric may
    // come from elsewhere in AWS), but in flowwatch it stays INSUFFICIENT_DATA or missing.
    let produced: BTreeSet<(&str, &str)> = defs
        .metric_filters
        .iter()
        .flat_map(|f| &f.metric_transformations)
        .map(|t| (t.metric_namespace.as_str(), t.metric_name.as_str()))
        .collect();
    for a in &defs.metric_alarms {
        let metrics: Vec<(Option<&str>, Option<&str>)> = if a.metrics.is_empty() {
            vec![(a.namespace.as_deref(), a.metric_name.as_deref())]
        } else {
            a.metrics
                .iter()
                .filter_map(|q| q.metric_stat.as_ref())
                .map(|s| {
                    (
                        s.metric.namespace.as_deref(),
                        s.metric.metric_name.as_deref(),
                    )
                })
                .collect()
        };
        for (ns, name) in metrics {
            if let (Some(ns), Some(name)) = (ns, name)
                && !produced.contains(&(ns, name))
            {
                report.warnings.push(Problem {
                    location: format!("alarm \"{}\"", a.alarm_name),
                    message: format!(
                        "no metric filter produces {ns}/{name}: the alarm will never see data"
                    ),
                });
            }
        }
    }
    // INSIGHT_RULE_METRIC of a rule that is not defined.
    let rule_names: BTreeSet<&str> = defs.insight_rules.iter().map(|r| r.name.as_str()).collect();
    for a in &defs.metric_alarms {
        let Ok(spec) = a.validate() else { continue };
        let mut warned = BTreeSet::new();
        for leaf in spec.math.iter().flat_map(|m| &m.leaves) {
            if let Some((rule, _)) = as_insight_rule_metric(&leaf.metric)
                && !rule_names.contains(rule)
                && warned.insert(rule.to_string())
            {
                report.warnings.push(Problem {
                    location: format!("alarm \"{}\"", a.alarm_name),
                    message: format!(
                        "INSIGHT_RULE_METRIC reads contributor rule \"{rule}\", which is not \
                         defined: the alarm will never see data"
                    ),
                });
            }
        }
    }
    check_insight_rules(defs, &mut report);
    // Notification targets, and alarm actions that would go nowhere.
    if let Err(e) = flowwatch_notify::Targets::new(&defs.notification_targets) {
        report.errors.push(Problem {
            location: "NotificationTargets".into(),
            message: e.to_string(),
        });
    }
    let known: BTreeSet<&str> = defs
        .notification_targets
        .iter()
        .map(|t| t.arn.as_str())
        .collect();
    let actions = defs
        .metric_alarms
        .iter()
        .map(|a| {
            (
                &a.alarm_name,
                [
                    &a.alarm_actions,
                    &a.ok_actions,
                    &a.insufficient_data_actions,
                ],
            )
        })
        .chain(defs.composite_alarms.iter().map(|a| {
            (
                &a.alarm_name,
                [
                    &a.alarm_actions,
                    &a.ok_actions,
                    &a.insufficient_data_actions,
                ],
            )
        }));
    for (name, lists) in actions {
        for arn in lists.into_iter().flatten() {
            if !known.contains(arn.as_str()) {
                report.warnings.push(Problem {
                    location: format!("alarm \"{name}\""),
                    message: format!(
                        "action {arn} has no NotificationTargets entry: its notifications will be \
                         recorded as failed (add {{\"Arn\": \"{arn}\", \"Webhook\": {{\"Url\": ...}}}})"
                    ),
                });
            }
        }
    }
    report
}

/// PutInsightRule's validation of every rule, plus duplicate names.
fn check_insight_rules(defs: &Definitions, report: &mut CheckReport) {
    let mut names = BTreeSet::new();
    for (i, rule) in defs.insight_rules.iter().enumerate() {
        let location = format!("InsightRules[{i}] \"{}\"", rule.name);
        let problem = |message: String| Problem {
            location: location.clone(),
            message,
        };
        if !names.insert(rule.name.as_str()) {
            report.errors.push(problem(
                "a contributor rule of this name is already defined".into(),
            ));
        }
        if rule.managed_rule {
            // A managed rule's data comes from an AWS service (DynamoDB, PrivateLink, ...), not
            // from a log group flowwatch stores.
            report.warnings.push(problem(
                "a managed rule (ManagedRule true) reads AWS service data: not evaluated".into(),
            ));
            continue;
        }
        match rule.compile() {
            Ok(compiled) => {
                for w in compiled.warnings() {
                    report.warnings.push(problem(w.detail()));
                }
                report.insight_rules.push(compiled);
            }
            Err(errors) => {
                report
                    .errors
                    .extend(errors.iter().map(|e| problem(e.detail())));
            }
        }
    }
}

fn alarm_problem(defs: &Definitions, e: &AlarmError) -> Problem {
    match e {
        AlarmError::Rule { alarm, source } => {
            let rule = defs
                .composite_alarms
                .iter()
                .find(|c| &c.alarm_name == alarm)
                .map(|c| c.alarm_rule.as_str())
                .unwrap_or_default();
            Problem {
                location: format!("alarm \"{alarm}\""),
                message: format!("AlarmRule:\n{}", source.render(rule)),
            }
        }
        AlarmError::Invalid {
            alarm,
            field,
            message,
        }
        | AlarmError::Unsupported {
            alarm,
            field,
            message,
        } => Problem {
            location: format!("alarm \"{alarm}\""),
            message: if matches!(e, AlarmError::Unsupported { .. }) {
                format!("{field}: {message} (not supported)")
            } else {
                format!("{field}: {message}")
            },
        },
        other => Problem {
            location: "alarms".into(),
            message: other.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_text(text: &str) -> CheckReport {
        check(&Definitions::parse(text, "t.json").expect("parses"))
    }

    #[test]
    fn pattern_errors_show_a_caret() {
        let r = check_text(
            r#"{"metricFilters":[{"filterName":"f","logGroupName":"g","filterPattern":"[a, b; c]",
            "metricTransformations":[{"metricName":"M","metricNamespace":"N","metricValue":"1"}]}]}"#,
        );
        assert_eq!(r.errors.len(), 1, "{:?}", r.errors);
        let e = &r.errors[0];
        assert_eq!(e.location, "metricFilters[0] \"f\" (log group g)");
        assert!(
            e.message.contains("1 | [a, b; c]\n  |      ^"),
            "{}",
            e.message
        );
    }

    #[test]
    fn transformation_and_alarm_errors_name_the_field() {
        let r = check_text(
            r#"{"metricFilters":[{"filterName":"f","filterPattern":"[a, b]",
              "metricTransformations":[{"metricName":"M","metricNamespace":"N","metricValue":"$zz"}]}],
             "MetricAlarms":[{"AlarmName":"a","EvaluationPeriods":0,"MetricName":"M","Namespace":"N",
              "Statistic":"Sum","Period":60,"Threshold":1,"ComparisonOperator":"GreaterThanThreshold"}],
             "CompositeAlarms":[{"AlarmName":"c","AlarmRule":"ALARM(a) AND"}]}"#,
        );
        let text: Vec<String> = r.errors.iter().map(|p| p.to_string()).collect();
        assert!(text[0].contains("logGroupName is required"), "{text:?}");
        assert!(text[1].contains("metricValue"), "{text:?}");
        assert!(
            text.iter()
                .any(|t| t.starts_with("alarm \"a\": EvaluationPeriods")),
            "{text:?}"
        );
        assert!(
            text.iter()
                .any(|t| t.starts_with("alarm \"c\": AlarmRule:\n") && t.contains('^')),
            "{text:?}"
        );
    }

    #[test]
    fn insight_rule_errors_name_rule_and_key() {
        let body = |keys: &str| {
            serde_json::to_string(&format!(
                r#"{{"Schema":{{"Name":"CloudWatchLogRule","Version":1}},"LogGroupNames":["g"],
                "LogFormat":"JSON","Contribution":{{"Keys":{keys},"ValueOf":"$.n"}},"AggregateOn":"Count"}}"#
            ))
            .expect("quoted")
        };
        let r = check_text(&format!(
            r#"{{"InsightRules":[
                {{"Name":"ok","State":"ENABLED","Definition":{}}},
                {{"Name":"bad","Definition":{}}},
                {{"Name":"ok","Definition":{}}},
                {{"Name":"aws","ManagedRule":true,"Definition":"{{}}"}}]}}"#,
            body(r#"["$.ip"]"#),
            body(r#"["$.a..b","$.c"]"#),
            body(r#"["$.ip"]"#),
        ));
        let errors: Vec<String> = r.errors.iter().map(|p| p.to_string()).collect();
        assert_eq!(
            errors,
            [
                "InsightRules[1] \"bad\": Contribution.Keys[0]: byte 4: \"$.a..b\": expected a property name after `.`",
                "InsightRules[2] \"ok\": a contributor rule of this name is already defined",
            ]
        );
        let warnings: Vec<String> = r.warnings.iter().map(|p| p.to_string()).collect();
        assert_eq!(warnings.len(), 3, "{warnings:#?}");
        assert!(
            warnings[0].starts_with("InsightRules[0] \"ok\": Contribution.ValueOf: is ignored")
        );
        assert!(warnings[2].starts_with("InsightRules[3] \"aws\": a managed rule"));
        assert_eq!(r.insight_rules.len(), 2);
    }

    #[test]
    fn duplicates_and_unproduced_metrics() {
        let f = r#"{"filterName":"f","logGroupName":"g","filterPattern":"",
            "metricTransformations":[{"metricName":"M","metricNamespace":"N","metricValue":"1"}]}"#;
        let a = r#"{"AlarmName":"a","EvaluationPeriods":1,"MetricName":"Other","Namespace":"N",
            "Statistic":"Sum","Period":60,"Threshold":1,"ComparisonOperator":"GreaterThanThreshold"}"#;
        let r = check_text(&format!(
            r#"{{"metricFilters":[{f},{f}],"MetricAlarms":[{a},{a}]}}"#
        ));
        assert_eq!(r.errors.len(), 2, "{:?}", r.errors);
        assert!(r.warnings.iter().any(|w| w.message.contains("N/Other")));
    }
}
