//! Validation as PutInsightRule would do it, and the result: a [`CompiledRule`] whose fields
//! are resolved (CLF aliases to positions, JSON paths parsed) and whose log groups are
//! patterns. Every problem of a rule is reported, not just the first.

use std::collections::BTreeMap;

use crate::error::RuleError;
use crate::path::JsonPath;
use crate::rule::{
    AggregateOn, Filter, FilterOperator, InsightRule, LogFormat, RuleBody, RuleState, SCHEMA_NAME,
    SCHEMA_VERSION,
};

/// PutInsightRule's limits.
pub const MAX_KEYS: usize = 4;
pub const MAX_FILTERS: usize = 4;
pub const MAX_FILTER_STRINGS: usize = 10;
pub const MAX_RULE_NAME: usize = 128;

/// Where a rule reads a value in an event.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum FieldRef {
    /// 0-based index of a space-delimited field.
    Clf(usize),
    Json(JsonPath),
}

/// A log group a rule reads: a name, or a prefix (a trailing `*`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GroupPattern {
    Exact(String),
    Prefix(String),
}

impl GroupPattern {
    fn parse(text: &str) -> Option<GroupPattern> {
        match text.strip_suffix('*') {
            Some(prefix) if !prefix.contains('*') => Some(GroupPattern::Prefix(prefix.to_string())),
            None if !text.is_empty() && !text.contains('*') => {
                Some(GroupPattern::Exact(text.to_string()))
            }
            _ => None,
        }
    }

    pub fn matches(&self, group: &str) -> bool {
        match self {
            GroupPattern::Exact(name) => name == group,
            GroupPattern::Prefix(prefix) => group.starts_with(prefix.as_str()),
        }
    }
}

/// A filter ready to run.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct CompiledFilter {
    pub(crate) field: FieldRef,
    pub(crate) op: FilterOperator,
}

/// A rule that passed validation.
#[derive(Clone, Debug, PartialEq)]
pub struct CompiledRule {
    pub(crate) name: String,
    pub(crate) state: RuleState,
    pub(crate) groups: Vec<GroupPattern>,
    pub(crate) format: LogFormat,
    pub(crate) key_labels: Vec<String>,
    pub(crate) keys: Vec<FieldRef>,
    pub(crate) value_of: Option<FieldRef>,
    pub(crate) filters: Vec<CompiledFilter>,
    pub(crate) aggregate_on: AggregateOn,
    pub(crate) warnings: Vec<RuleError>,
}

impl CompiledRule {
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn state(&self) -> RuleState {
        self.state
    }

    pub fn log_format(&self) -> LogFormat {
        self.format
    }

    pub fn aggregate_on(&self) -> AggregateOn {
        self.aggregate_on
    }

    /// The `Keys` as written: a report's `KeyLabels`.
    pub fn key_labels(&self) -> &[String] {
        &self.key_labels
    }

    pub fn log_groups(&self) -> &[GroupPattern] {
        &self.groups
    }

    /// Whether the rule reads this log group.
    pub fn reads(&self, log_group: &str) -> bool {
        self.groups.iter().any(|g| g.matches(log_group))
    }

    /// Legal but probably not meant (a `ValueOf` that `Count` ignores).
    pub fn warnings(&self) -> &[RuleError] {
        &self.warnings
    }
}

impl InsightRule {
    /// Parses and validates this rule (name, body, state).
    pub fn compile(&self) -> Result<CompiledRule, Vec<RuleError>> {
        let body = self.body().map_err(|e| vec![e])?;
        let mut rule = compile(&self.name, &body)?;
        rule.state = self.state;
        Ok(rule)
    }
}

/// Validates a rule body as PutInsightRule would; `name` is the rule's name (also checked).
pub fn compile(name: &str, body: &RuleBody) -> Result<CompiledRule, Vec<RuleError>> {
    let mut errors = Vec::new();
    let mut err = |key: &str, message: String| errors.push(RuleError::new(name, key, message));

    if name.is_empty() || name.len() > MAX_RULE_NAME {
        err("Name", format!("must be 1 to {MAX_RULE_NAME} characters"));
    } else if !name.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        err("Name", "must be printable ASCII".into());
    }
    if body.schema.name != SCHEMA_NAME || body.schema.version != SCHEMA_VERSION {
        err(
            "Schema",
            format!(
                "must be {{\"Name\": \"{SCHEMA_NAME}\", \"Version\": {SCHEMA_VERSION}}} (found \"{}\" version {})",
                body.schema.name, body.schema.version
            ),
        );
    }

    let mut groups = Vec::new();
    match (&body.log_group_names, &body.log_group_arns) {
        (Some(_), Some(_)) => err(
            "LogGroupARNs",
            "give LogGroupNames or LogGroupARNs, not both".into(),
        ),
        (None, None) => err("LogGroupNames", "is required (or LogGroupARNs)".into()),
        (Some(names), None) => {
            if names.is_empty() {
                err("LogGroupNames", "must name at least one log group".into());
            }
            for (i, n) in names.iter().enumerate() {
                match GroupPattern::parse(n) {
                    Some(p) => groups.push(p),
                    None => err(
                        &format!("LogGroupNames[{i}]"),
                        format!("\"{n}\" is not a log group name (a `*` may only end it)"),
                    ),
                }
            }
        }
        (None, Some(arns)) => {
            if arns.is_empty() {
                err("LogGroupARNs", "must name at least one log group".into());
            }
            for (i, a) in arns.iter().enumerate() {
                match arn_group(a) {
                    Some(p) => groups.push(p),
                    None => err(
                        &format!("LogGroupARNs[{i}]"),
                        format!(
                            "\"{a}\" is not a log group ARN (arn:aws:logs:REGION:ACCOUNT:log-group:NAME)"
                        ),
                    ),
                }
            }
        }
    }

    let aliases = match (body.log_format, &body.fields) {
        (LogFormat::Json, Some(_)) => {
            err(
                "Fields",
                "names CLF positions: only for LogFormat CLF".into(),
            );
            BTreeMap::new()
        }
        (LogFormat::Json, None) | (LogFormat::Clf, None) => BTreeMap::new(),
        (LogFormat::Clf, Some(fields)) => {
            let mut aliases = BTreeMap::new();
            for (position, alias) in fields {
                let key = format!("Fields.{position}");
                match position.parse::<usize>() {
                    Ok(p) if p >= 1 && position.bytes().all(|b| b.is_ascii_digit()) => {
                        if alias.is_empty() {
                            err(&key, "an alias must not be empty".into());
                        } else if aliases.insert(alias.clone(), p - 1).is_some() {
                            err(&key, format!("alias \"{alias}\" names two positions"));
                        }
                    }
                    _ => err(&key, "a CLF position is a number from 1".into()),
                }
            }
            aliases
        }
    };

    let resolve = |key: &str, text: &str, errors: &mut Vec<RuleError>| -> Option<FieldRef> {
        match body.log_format {
            LogFormat::Json => match JsonPath::parse(text) {
                Ok(p) => Some(FieldRef::Json(p)),
                Err(e) => {
                    errors.push(
                        RuleError::new(name, key, format!("\"{text}\": {}", e.message))
                            .at(e.position),
                    );
                    None
                }
            },
            LogFormat::Clf => {
                if let Some(&i) = aliases.get(text) {
                    return Some(FieldRef::Clf(i));
                }
                match text.parse::<usize>() {
                    Ok(p) if p >= 1 && text.bytes().all(|b| b.is_ascii_digit()) => {
                        Some(FieldRef::Clf(p - 1))
                    }
                    _ => {
                        errors.push(RuleError::new(
                            name,
                            key,
                            format!(
                                "unknown CLF field \"{text}\": neither an alias in Fields nor a position from 1"
                            ),
                        ));
                        None
                    }
                }
            }
        }
    };

    let c = &body.contribution;
    if c.keys.is_empty() || c.keys.len() > MAX_KEYS {
        errors.push(RuleError::new(
            name,
            "Contribution.Keys",
            format!("must have 1 to {MAX_KEYS} keys, found {}", c.keys.len()),
        ));
    }
    let keys: Vec<Option<FieldRef>> = c
        .keys
        .iter()
        .enumerate()
        .map(|(i, k)| resolve(&format!("Contribution.Keys[{i}]"), k, &mut errors))
        .collect();
    let value_of = c
        .value_of
        .as_ref()
        .and_then(|v| resolve("Contribution.ValueOf", v, &mut errors));
    let mut warnings = Vec::new();
    if c.value_of.is_some() && body.aggregate_on == AggregateOn::Count {
        warnings.push(RuleError::new(
            name,
            "Contribution.ValueOf",
            "is ignored with AggregateOn Count (it is the field Sum adds up)",
        ));
    }

    if c.filters.len() > MAX_FILTERS {
        errors.push(RuleError::new(
            name,
            "Contribution.Filters",
            format!("at most {MAX_FILTERS} filters, found {}", c.filters.len()),
        ));
    }
    let mut filters = Vec::new();
    for (i, f) in c.filters.iter().enumerate() {
        let key = format!("Contribution.Filters[{i}]");
        let field = resolve(&format!("{key}.Match"), &f.field, &mut errors);
        if let Some(op) = filter_operator(name, &key, f, &mut errors)
            && let Some(field) = field
        {
            filters.push(CompiledFilter { field, op });
        }
    }

    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(CompiledRule {
        name: name.to_string(),
        state: RuleState::Enabled,
        groups,
        format: body.log_format,
        key_labels: c.keys.clone(),
        keys: keys.into_iter().flatten().collect(),
        value_of,
        filters,
        aggregate_on: body.aggregate_on,
        warnings,
    })
}

/// The filter's one operator, or the errors that make it unusable.
fn filter_operator(
    rule: &str,
    key: &str,
    f: &Filter,
    errors: &mut Vec<RuleError>,
) -> Option<FilterOperator> {
    let [op] = f.operators.as_slice() else {
        let found = if f.operators.is_empty() {
            "none".to_string()
        } else {
            f.operators
                .iter()
                .map(FilterOperator::name)
                .collect::<Vec<_>>()
                .join(", ")
        };
        errors.push(RuleError::new(
            rule,
            key,
            format!(
                "a filter has exactly one operator (In, NotIn, StartsWith, GreaterThan, LessThan, EqualTo, NotEqualTo or IsPresent), found {found}"
            ),
        ));
        return None;
    };
    match op {
        FilterOperator::In(v) | FilterOperator::NotIn(v) | FilterOperator::StartsWith(v)
            if v.is_empty() || v.len() > MAX_FILTER_STRINGS =>
        {
            errors.push(RuleError::new(
                rule,
                format!("{key}.{}", op.name()),
                format!(
                    "must have 1 to {MAX_FILTER_STRINGS} strings, found {}",
                    v.len()
                ),
            ));
            None
        }
        FilterOperator::GreaterThan(n)
        | FilterOperator::LessThan(n)
        | FilterOperator::EqualTo(n)
        | FilterOperator::NotEqualTo(n)
            if !n.is_finite() =>
        {
            errors.push(RuleError::new(
                rule,
                format!("{key}.{}", op.name()),
                "must be a finite number",
            ));
            None
        }
        op => Some(op.clone()),
    }
}

/// `arn:PARTITION:logs:REGION:ACCOUNT:log-group:NAME`, optionally `:*` after the name (as
/// IAM policies write it). Region and account are not checked against anything: a flowwatch
/// store has log groups by name only.
fn arn_group(arn: &str) -> Option<GroupPattern> {
    let mut parts = arn.splitn(7, ':');
    let head: Vec<&str> = parts.by_ref().take(6).collect();
    let name = parts.next()?;
    if head.len() != 6 || head[0] != "arn" || head[2] != "logs" || head[5] != "log-group" {
        return None;
    }
    let name = name.strip_suffix(":*").unwrap_or(name);
    if name.contains(':') {
        return None;
    }
    GroupPattern::parse(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(contribution: &str, extra: &str) -> String {
        format!(
            r#"{{"Schema":{{"Name":"CloudWatchLogRule","Version":1}},{extra}
               "Contribution":{contribution},"AggregateOn":"Sum"}}"#
        )
    }

    fn clf(contribution: &str) -> String {
        body(
            contribution,
            r#""LogGroupNames":["vpc"],"LogFormat":"CLF","Fields":{"4":"srcaddr","10":"bytes"},"#,
        )
    }

    fn json(contribution: &str) -> String {
        body(
            contribution,
            r#""LogGroupNames":["app*"],"LogFormat":"JSON","#,
        )
    }

    /// The rule's problems as `key: message` (or `key: byte N: message`).
    fn problems(text: &str) -> Vec<String> {
        let b = RuleBody::parse("r", text).expect("well-formed body");
        match compile("r", &b) {
            Ok(_) => Vec::new(),
            Err(errors) => errors.iter().map(RuleError::detail).collect(),
        }
    }

    fn check(text: &str, expect: &[&str]) {
        let got = problems(text);
        assert_eq!(got.len(), expect.len(), "{got:#?}");
        for (g, e) in got.iter().zip(expect) {
            assert!(g.starts_with(e), "{g:?} should start with {e:?}");
        }
    }

    #[test]
    fn valid_rules_compile() {
        check(&clf(r#"{"Keys":["srcaddr","5"],"ValueOf":"bytes"}"#), &[]);
        check(
            &json(
                r#"{"Keys":["$.ip"],"ValueOf":"$.bytes","Filters":[{"Match":"$.m","In":["PUT"]}]}"#,
            ),
            &[],
        );
        // The documented quirk: Sum without ValueOf is valid (each match adds 1).
        check(&clf(r#"{"Keys":["srcaddr"]}"#), &[]);
    }

    #[test]
    fn key_and_filter_counts() {
        check(
            &clf(r#"{"Keys":[]}"#),
            &["Contribution.Keys: must have 1 to 4 keys, found 0"],
        );
        check(
            &clf(r#"{"Keys":["1","2","3","4","5"]}"#),
            &["Contribution.Keys: must have 1 to 4 keys, found 5"],
        );
        let f = r#"{"Match":"1","IsPresent":true}"#;
        check(
            &clf(&format!(
                r#"{{"Keys":["1"],"Filters":[{f},{f},{f},{f},{f}]}}"#
            )),
            &["Contribution.Filters: at most 4 filters, found 5"],
        );
    }

    #[test]
    fn filter_operators_are_exactly_one() {
        check(
            &clf(r#"{"Keys":["1"],"Filters":[{"Match":"1"}]}"#),
            &["Contribution.Filters[0]: a filter has exactly one operator"],
        );
        let two = problems(&clf(
            r#"{"Keys":["1"],"Filters":[{"Match":"1","EqualTo":1,"In":["a"]}]}"#,
        ));
        assert!(two[0].ends_with("found In, EqualTo"), "{two:?}");
        let eleven: Vec<String> = (0..11).map(|i| format!("\"s{i}\"")).collect();
        check(
            &clf(&format!(
                r#"{{"Keys":["1"],"Filters":[{{"Match":"1","StartsWith":[{}]}}]}}"#,
                eleven.join(",")
            )),
            &["Contribution.Filters[0].StartsWith: must have 1 to 10 strings, found 11"],
        );
        check(
            &clf(r#"{"Keys":["1"],"Filters":[{"Match":"1","NotIn":[]}]}"#),
            &["Contribution.Filters[0].NotIn: must have 1 to 10 strings, found 0"],
        );
    }

    #[test]
    fn clf_fields_resolve_by_alias_or_position() {
        check(
            &clf(
                r#"{"Keys":["dstaddr"],"ValueOf":"packets","Filters":[{"Match":"action","In":["REJECT"]}]}"#,
            ),
            &[
                "Contribution.Keys[0]: unknown CLF field \"dstaddr\"",
                "Contribution.ValueOf: unknown CLF field \"packets\"",
                "Contribution.Filters[0].Match: unknown CLF field \"action\"",
            ],
        );
        check(
            &clf(r#"{"Keys":["0"]}"#),
            &["Contribution.Keys[0]: unknown CLF field \"0\""],
        );
        check(
            &clf(r#"{"Keys":["$.srcaddr"]}"#),
            &["Contribution.Keys[0]: unknown CLF field"],
        );
        check(
            &body(
                r#"{"Keys":["1"]}"#,
                r#""LogGroupNames":["g"],"LogFormat":"CLF","Fields":{"0":"a","x":"b","2":"c","3":"c"},"#,
            ),
            &[
                "Fields.0: a CLF position is a number from 1",
                "Fields.3: alias \"c\" names two positions",
                "Fields.x: a CLF position is a number from 1",
            ],
        );
    }

    #[test]
    fn json_paths_report_the_byte() {
        check(
            &json(r#"{"Keys":["$.a..b","ip"],"ValueOf":"$.n[x]"}"#),
            &[
                "Contribution.Keys[0]: byte 4: \"$.a..b\": expected a property name",
                "Contribution.Keys[1]: byte 0: \"ip\": a JSON path starts with `$.`",
                "Contribution.ValueOf: byte 4: \"$.n[x]\"",
            ],
        );
        check(
            &body(
                r#"{"Keys":["$.a"]}"#,
                r#""LogGroupNames":["g"],"LogFormat":"JSON","Fields":{"1":"a"},"#,
            ),
            &["Fields: names CLF positions: only for LogFormat CLF"],
        );
    }

    #[test]
    fn log_groups() {
        let groups = |extra: &str| {
            body(
                r#"{"Keys":["$.a"]}"#,
                &format!(r#"{extra}"LogFormat":"JSON","#),
            )
        };
        check(
            &groups(
                r#""LogGroupNames":["a"],"LogGroupARNs":["arn:aws:logs:us-east-1:1:log-group:a"],"#,
            ),
            &["LogGroupARNs: give LogGroupNames or LogGroupARNs, not both"],
        );
        check(&groups(""), &["LogGroupNames: is required"]);
        check(
            &groups(r#""LogGroupNames":[],"#),
            &["LogGroupNames: must name at least one"],
        );
        check(
            &groups(r#""LogGroupNames":["a*b",""],"#),
            &[
                "LogGroupNames[0]: \"a*b\" is not a log group name",
                "LogGroupNames[1]",
            ],
        );
        check(
            &groups(r#""LogGroupARNs":["arn:aws:s3:::bucket"],"#),
            &["LogGroupARNs[0]: \"arn:aws:s3:::bucket\" is not a log group ARN"],
        );
        let b = RuleBody::parse(
            "r",
            &groups(r#""LogGroupARNs":["arn:aws:logs:us-east-1:123456789012:log-group:/aws/vpc:*","arn:aws:logs:eu-west-1:1:log-group:app-*"],"#),
        )
        .expect("parses");
        let rule = compile("r", &b).expect("valid");
        assert!(rule.reads("/aws/vpc"));
        assert!(!rule.reads("/aws/vpc2"));
        assert!(rule.reads("app-web"));
        assert!(!rule.reads("ap"));
        let all = compile(
            "r",
            &RuleBody::parse("r", &groups(r#""LogGroupNames":["*"],"#)).expect("parses"),
        )
        .expect("valid");
        assert!(all.reads("anything"));
    }

    #[test]
    fn schema_name_and_value_of_with_count() {
        let text = clf(r#"{"Keys":["1"]}"#).replace("\"Version\":1", "\"Version\":2");
        check(
            &text,
            &["Schema: must be {\"Name\": \"CloudWatchLogRule\", \"Version\": 1}"],
        );
        let b = RuleBody::parse("r", &clf(r#"{"Keys":["1"]}"#)).expect("parses");
        let long = "x".repeat(129);
        let e = compile(&long, &b).expect_err("name too long");
        assert_eq!(e[0].key, "Name");
        assert!(compile("tab\there", &b).is_err());
        let text = clf(r#"{"Keys":["1"],"ValueOf":"bytes"}"#).replace("\"Sum\"", "\"Count\"");
        let rule = compile("r", &RuleBody::parse("r", &text).expect("parses")).expect("valid");
        assert_eq!(rule.warnings().len(), 1);
        assert!(
            rule.warnings()[0]
                .to_string()
                .contains("Contribution.ValueOf: is ignored")
        );
    }
}
