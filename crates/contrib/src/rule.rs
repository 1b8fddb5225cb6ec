//! The wire model: a rule body (PutInsightRule's `RuleDefinition`, the JSON object of
//! ContributorInsights-RuleSyntax) and the `describe-insight-rules` list item that carries it
//! as a string.
//!
//! The body is read by hand from a `serde_json::Value` rather than by a derived
//! `Deserialize`, so that every shape error names the key (`Contribution.Filters[1].EqualTo:
//! expected a number, found a string`). The model is faithful to the JSON, not yet valid: a
//! filter may hold zero or two operators, `Keys` may have seven members. [`crate::compile`]
//! is where PutInsightRule's checks happen. Unknown keys in a body are errors (a typo would
//! otherwise silently change the rule); unknown keys in a `describe-insight-rules` item are
//! ignored, because AWS keeps adding fields to its output.

use std::collections::BTreeMap;

use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::error::RuleError;

/// `Schema.Name` of every rule over CloudWatch Logs.
pub const SCHEMA_NAME: &str = "CloudWatchLogRule";
/// `Schema.Version` of every rule over CloudWatch Logs.
pub const SCHEMA_VERSION: i64 = 1;

/// A rule body.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RuleBody {
    pub schema: RuleSchema,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_group_names: Option<Vec<String>>,
    #[serde(rename = "LogGroupARNs", skip_serializing_if = "Option::is_none")]
    pub log_group_arns: Option<Vec<String>>,
    pub log_format: LogFormat,
    /// CLF only: 1-based field position (as written, `"4"`) to alias.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fields: Option<BTreeMap<String, String>>,
    pub contribution: Contribution,
    pub aggregate_on: AggregateOn,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RuleSchema {
    pub name: String,
    pub version: i64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum LogFormat {
    #[serde(rename = "JSON")]
    Json,
    /// Common Log Format: space-delimited fields addressed by position or alias.
    #[serde(rename = "CLF")]
    Clf,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum AggregateOn {
    Count,
    Sum,
}

impl AggregateOn {
    pub fn as_str(self) -> &'static str {
        match self {
            AggregateOn::Count => "Count",
            AggregateOn::Sum => "Sum",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Contribution {
    pub keys: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_of: Option<String>,
    pub filters: Vec<Filter>,
}

/// One filter: the field it tests and its operators (exactly one in a valid rule).
#[derive(Clone, Debug, PartialEq)]
pub struct Filter {
    pub field: String,
    pub operators: Vec<FilterOperator>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum FilterOperator {
    In(Vec<String>),
    NotIn(Vec<String>),
    StartsWith(Vec<String>),
    GreaterThan(f64),
    LessThan(f64),
    EqualTo(f64),
    NotEqualTo(f64),
    IsPresent(bool),
}

impl FilterOperator {
    pub fn name(&self) -> &'static str {
        match self {
            FilterOperator::In(_) => "In",
            FilterOperator::NotIn(_) => "NotIn",
            FilterOperator::StartsWith(_) => "StartsWith",
            FilterOperator::GreaterThan(_) => "GreaterThan",
            FilterOperator::LessThan(_) => "LessThan",
            FilterOperator::EqualTo(_) => "EqualTo",
            FilterOperator::NotEqualTo(_) => "NotEqualTo",
            FilterOperator::IsPresent(_) => "IsPresent",
        }
    }
}

const OPERATORS: [&str; 8] = [
    "In",
    "NotIn",
    "StartsWith",
    "GreaterThan",
    "LessThan",
    "EqualTo",
    "NotEqualTo",
    "IsPresent",
];

impl Serialize for Filter {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(1 + self.operators.len()))?;
        map.serialize_entry("Match", &self.field)?;
        for op in &self.operators {
            match op {
                FilterOperator::In(v)
                | FilterOperator::NotIn(v)
                | FilterOperator::StartsWith(v) => map.serialize_entry(op.name(), v)?,
                FilterOperator::GreaterThan(n)
                | FilterOperator::LessThan(n)
                | FilterOperator::EqualTo(n)
                | FilterOperator::NotEqualTo(n) => map.serialize_entry(op.name(), &number(*n))?,
                FilterOperator::IsPresent(b) => map.serialize_entry(op.name(), b)?,
            }
        }
        map.end()
    }
}

/// `443`, not `443.0`, for integral thresholds (as the rule was most likely written).
fn number(n: f64) -> Value {
    if n.fract() == 0.0 && n.abs() < 9.0e15 {
        Value::from(n as i64)
    } else {
        Value::from(n)
    }
}

impl RuleBody {
    /// Parses a rule body's JSON text; `rule` names the rule in errors. A text that is not
    /// JSON is reported at its line and column.
    pub fn parse(rule: &str, text: &str) -> Result<RuleBody, RuleError> {
        let value: Value = serde_json::from_str(text).map_err(|e| {
            let message = e.to_string();
            let message = message.split(" at line ").next().unwrap_or_default();
            RuleError::new(
                rule,
                "Definition",
                format!(
                    "not valid JSON: line {}, column {}: {message}",
                    e.line(),
                    e.column()
                ),
            )
        })?;
        RuleBody::from_value(rule, &value)
    }

    /// Reads a rule body from parsed JSON; `rule` names the rule in errors.
    pub fn from_value(rule: &str, value: &Value) -> Result<RuleBody, RuleError> {
        Reader { rule }.body(value)
    }
}

impl<'de> Deserialize<'de> for RuleBody {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(d)?;
        RuleBody::from_value("", &value).map_err(|e| serde::de::Error::custom(e.detail()))
    }
}

/// Reads the body, naming `rule` in every error.
struct Reader<'a> {
    rule: &'a str,
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

impl Reader<'_> {
    fn err(&self, key: &str, message: impl Into<String>) -> RuleError {
        RuleError::new(self.rule, key, message)
    }

    fn expected(&self, key: &str, what: &str, v: &Value) -> RuleError {
        self.err(key, format!("expected {what}, found {}", kind(v)))
    }

    fn object<'v>(
        &self,
        key: &str,
        v: &'v Value,
        allowed: &[&str],
    ) -> Result<&'v Map<String, Value>, RuleError> {
        let Value::Object(map) = v else {
            return Err(self.expected(key, "an object", v));
        };
        if let Some(unknown) = map.keys().find(|k| !allowed.contains(&k.as_str())) {
            let at = if key.is_empty() {
                unknown.clone()
            } else {
                format!("{key}.{unknown}")
            };
            return Err(self.err(
                &at,
                format!("unknown key (expected one of {})", allowed.join(", ")),
            ));
        }
        Ok(map)
    }

    /// A present, non-null member.
    fn member<'v>(map: &'v Map<String, Value>, name: &str) -> Option<&'v Value> {
        map.get(name).filter(|v| !v.is_null())
    }

    fn required<'v>(
        &self,
        map: &'v Map<String, Value>,
        key: &str,
        name: &str,
    ) -> Result<&'v Value, RuleError> {
        Self::member(map, name).ok_or_else(|| self.err(key, "is required"))
    }

    fn string(&self, key: &str, v: &Value) -> Result<String, RuleError> {
        v.as_str()
            .map(str::to_string)
            .ok_or_else(|| self.expected(key, "a string", v))
    }

    fn strings(&self, key: &str, v: &Value) -> Result<Vec<String>, RuleError> {
        let Value::Array(items) = v else {
            return Err(self.expected(key, "an array of strings", v));
        };
        items
            .iter()
            .enumerate()
            .map(|(i, item)| self.string(&format!("{key}[{i}]"), item))
            .collect()
    }

    fn number(&self, key: &str, v: &Value) -> Result<f64, RuleError> {
        v.as_f64().ok_or_else(|| self.expected(key, "a number", v))
    }

    fn body(&self, v: &Value) -> Result<RuleBody, RuleError> {
        let map = self
            .object(
                "",
                v,
                &[
                    "Schema",
                    "LogGroupNames",
                    "LogGroupARNs",
                    "LogFormat",
                    "Fields",
                    "Contribution",
                    "AggregateOn",
                ],
            )
            .map_err(|e| {
                if e.key.is_empty() {
                    self.err("Definition", e.message)
                } else {
                    e
                }
            })?;

        let schema = self.required(map, "Schema", "Schema")?;
        let schema_map = self.object("Schema", schema, &["Name", "Version"])?;
        let name = self.required(schema_map, "Schema.Name", "Name")?;
        let version = self.required(schema_map, "Schema.Version", "Version")?;
        let schema = RuleSchema {
            name: self.string("Schema.Name", name)?,
            version: version
                .as_i64()
                .ok_or_else(|| self.expected("Schema.Version", "an integer", version))?,
        };

        let groups = |name: &str| -> Result<Option<Vec<String>>, RuleError> {
            Self::member(map, name)
                .map(|v| self.strings(name, v))
                .transpose()
        };
        let log_group_names = groups("LogGroupNames")?;
        let log_group_arns = groups("LogGroupARNs")?;

        let format = self.required(map, "LogFormat", "LogFormat")?;
        let log_format = match format.as_str() {
            Some("JSON") => LogFormat::Json,
            Some("CLF") => LogFormat::Clf,
            Some(other) => {
                return Err(self.err(
                    "LogFormat",
                    format!("unknown format \"{other}\" (expected JSON or CLF)"),
                ));
            }
            None => return Err(self.expected("LogFormat", "\"JSON\" or \"CLF\"", format)),
        };

        let fields = match Self::member(map, "Fields") {
            None => None,
            Some(v) => {
                let Value::Object(f) = v else {
                    return Err(self.expected("Fields", "an object of position to alias", v));
                };
                let mut out = BTreeMap::new();
                for (position, alias) in f {
                    out.insert(
                        position.clone(),
                        self.string(&format!("Fields.{position}"), alias)?,
                    );
                }
                Some(out)
            }
        };

        let contribution = self.required(map, "Contribution", "Contribution")?;
        let contribution = self.contribution(contribution)?;

        let aggregate = self.required(map, "AggregateOn", "AggregateOn")?;
        let aggregate_on = match aggregate.as_str() {
            Some("Count") => AggregateOn::Count,
            Some("Sum") => AggregateOn::Sum,
            Some(other) => {
                return Err(self.err(
                    "AggregateOn",
                    format!("unknown value \"{other}\" (expected Count or Sum)"),
                ));
            }
            None => return Err(self.expected("AggregateOn", "\"Count\" or \"Sum\"", aggregate)),
        };

        Ok(RuleBody {
            schema,
            log_group_names,
            log_group_arns,
            log_format,
            fields,
            contribution,
            aggregate_on,
        })
    }

    fn contribution(&self, v: &Value) -> Result<Contribution, RuleError> {
        let map = self.object("Contribution", v, &["Keys", "ValueOf", "Filters"])?;
        let keys = self.required(map, "Contribution.Keys", "Keys")?;
        let keys = self.strings("Contribution.Keys", keys)?;
        let value_of = Self::member(map, "ValueOf")
            .map(|v| self.string("Contribution.ValueOf", v))
            .transpose()?;
        let filters = match Self::member(map, "Filters") {
            None => Vec::new(),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, f)| self.filter(&format!("Contribution.Filters[{i}]"), f))
                .collect::<Result<_, _>>()?,
            Some(other) => {
                return Err(self.expected("Contribution.Filters", "an array of filters", other));
            }
        };
        Ok(Contribution {
            keys,
            value_of,
            filters,
        })
    }

    fn filter(&self, key: &str, v: &Value) -> Result<Filter, RuleError> {
        let mut allowed = vec!["Match"];
        allowed.extend(OPERATORS);
        let map = self.object(key, v, &allowed)?;
        let field = self.required(map, &format!("{key}.Match"), "Match")?;
        let field = self.string(&format!("{key}.Match"), field)?;
        let mut operators = Vec::new();
        // In the documentation's order, whatever the object's order.
        for name in OPERATORS {
            let Some(v) = Self::member(map, name) else {
                continue;
            };
            let at = format!("{key}.{name}");
            operators.push(match name {
                "In" => FilterOperator::In(self.strings(&at, v)?),
                "NotIn" => FilterOperator::NotIn(self.strings(&at, v)?),
                "StartsWith" => FilterOperator::StartsWith(self.strings(&at, v)?),
                "GreaterThan" => FilterOperator::GreaterThan(self.number(&at, v)?),
                "LessThan" => FilterOperator::LessThan(self.number(&at, v)?),
                "EqualTo" => FilterOperator::EqualTo(self.number(&at, v)?),
                "NotEqualTo" => FilterOperator::NotEqualTo(self.number(&at, v)?),
                _ => FilterOperator::IsPresent(
                    v.as_bool()
                        .ok_or_else(|| self.expected(&at, "true or false", v))?,
                ),
            });
        }
        Ok(Filter { field, operators })
    }
}

/// Whether a rule collects data (`ENABLED`) or not (`DISABLED`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RuleState {
    #[default]
    Enabled,
    Disabled,
}

/// One item of `aws cloudwatch describe-insight-rules`' `InsightRules`. `Definition` is the
/// rule body as a JSON string, as AWS prints it; a hand-written file may give the body as an
/// object instead, which is kept as its compact JSON text. `State` defaults to `ENABLED`,
/// `Schema` to `CloudWatchLogRule/1`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct InsightRule {
    pub name: String,
    #[serde(default)]
    pub state: RuleState,
    #[serde(default = "default_schema")]
    pub schema: String,
    #[serde(deserialize_with = "definition_text")]
    pub definition: String,
    #[serde(default)]
    pub managed_rule: bool,
}

fn default_schema() -> String {
    format!("{SCHEMA_NAME}/{SCHEMA_VERSION}")
}

fn definition_text<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match Value::deserialize(d)? {
        Value::String(s) => Ok(s),
        v @ Value::Object(_) => Ok(v.to_string()),
        other => Err(serde::de::Error::custom(format!(
            "Definition: expected the rule body as a JSON string or object, found {}",
            kind(&other)
        ))),
    }
}

impl InsightRule {
    /// Parses `Definition` (errors name this rule).
    pub fn body(&self) -> Result<RuleBody, RuleError> {
        RuleBody::parse(&self.name, &self.definition)
    }
}

/// The whole output of `aws cloudwatch describe-insight-rules`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeInsightRulesOutput {
    #[serde(default)]
    pub insight_rules: Vec<InsightRule>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_err(body: &str, key: &str, message: &str) {
        let e = RuleBody::parse("r", body).expect_err("rejected");
        assert_eq!(e.key, key, "{e}");
        assert!(e.message.contains(message), "{e}");
    }

    const MINIMAL: &str = r#"{"Schema":{"Name":"CloudWatchLogRule","Version":1},
        "LogGroupNames":["g"],"LogFormat":"JSON","Contribution":{"Keys":["$.ip"]},
        "AggregateOn":"Count"}"#;

    #[test]
    fn minimal_body_and_round_trip() {
        let body = RuleBody::parse("r", MINIMAL).expect("parses");
        assert_eq!(body.contribution.keys, ["$.ip"]);
        assert!(body.contribution.filters.is_empty());
        let text = serde_json::to_string(&body).expect("serialises");
        assert_eq!(RuleBody::parse("r", &text).expect("again"), body);
    }

    #[test]
    fn filters_serialise_with_their_operators() {
        let body = r#"{"Schema":{"Name":"CloudWatchLogRule","Version":1},"LogGroupNames":["g"],
            "LogFormat":"CLF","Fields":{"7":"port"},"Contribution":{"Keys":["4"],
            "Filters":[{"Match":"port","EqualTo":443},{"Match":"4","StartsWith":["10."]},
            {"Match":"port","GreaterThan":1.5,"IsPresent":true}]},"AggregateOn":"Count"}"#;
        let parsed = RuleBody::parse("r", body).expect("parses");
        let v = serde_json::to_value(&parsed).expect("serialises");
        assert_eq!(
            v["Contribution"]["Filters"],
            serde_json::json!([{"Match":"port","EqualTo":443},{"Match":"4","StartsWith":["10."]},
                {"Match":"port","GreaterThan":1.5,"IsPresent":true}])
        );
        assert_eq!(parsed.contribution.filters[2].operators.len(), 2);
    }

    #[test]
    fn shape_errors_name_the_key() {
        check_err("{", "Definition", "not valid JSON: line 1, column 1");
        check_err("[]", "Definition", "expected an object, found an array");
        check_err(
            &MINIMAL.replace("\"AggregateOn\"", "\"Aggregate\""),
            "Aggregate",
            "unknown key",
        );
        check_err(
            &MINIMAL.replace("\"Count\"", "\"Avg\""),
            "AggregateOn",
            "unknown value \"Avg\"",
        );
        check_err(
            &MINIMAL.replace("\"JSON\"", "\"XML\""),
            "LogFormat",
            "unknown format",
        );
        check_err(
            &MINIMAL.replace("[\"$.ip\"]", "\"$.ip\""),
            "Contribution.Keys",
            "an array of strings",
        );
        check_err(
            &MINIMAL.replace("[\"$.ip\"]", "[\"$.ip\", 3]"),
            "Contribution.Keys[1]",
            "a string, found a number",
        );
        check_err(
            &MINIMAL.replace("\"Version\":1", "\"Version\":\"1\""),
            "Schema.Version",
            "an integer",
        );
        check_err(
            &MINIMAL.replace(",\"Version\":1", ""),
            "Schema.Version",
            "is required",
        );
        check_err(
            &MINIMAL.replace("\"Contribution\"", "\"Contributions\""),
            "Contributions",
            "unknown key",
        );
        let with_filter = |f: &str| {
            MINIMAL.replace(
                "\"Keys\":[\"$.ip\"]",
                &format!("\"Keys\":[\"$.ip\"],\"Filters\":[{f}]"),
            )
        };
        check_err(
            &with_filter(r#"{"Match":"$.a","EqualTo":"443"}"#),
            "Contribution.Filters[0].EqualTo",
            "expected a number, found a string",
        );
        check_err(
            &with_filter(r#"{"Match":"$.a","Equals":443}"#),
            "Contribution.Filters[0].Equals",
            "unknown key",
        );
        check_err(
            &with_filter(r#"{"EqualTo":443}"#),
            "Contribution.Filters[0].Match",
            "is required",
        );
        check_err(
            &with_filter(r#"{"Match":"$.a","IsPresent":"yes"}"#),
            "Contribution.Filters[0].IsPresent",
            "true or false",
        );
        check_err(
            &with_filter(r#"{"Match":"$.a","In":"PUT"}"#),
            "Contribution.Filters[0].In",
            "an array of strings",
        );
    }

    #[test]
    fn describe_item_accepts_a_string_or_an_object_definition() {
        let item: InsightRule = serde_json::from_str(
            r#"{"Name":"a","Definition":{"AggregateOn":"Count"},"ApplyOnTransformedLogs":false}"#,
        )
        .expect("object form");
        assert_eq!(item.definition, r#"{"AggregateOn":"Count"}"#);
        assert_eq!(item.state, RuleState::Enabled);
        assert_eq!(item.schema, "CloudWatchLogRule/1");
        assert!(serde_json::from_str::<InsightRule>(r#"{"Name":"a","Definition":3}"#).is_err());
        let v = serde_json::to_value(&item).expect("serialises");
        assert_eq!(v["Definition"], r#"{"AggregateOn":"Count"}"#);
        assert_eq!(v["State"], "ENABLED");
    }
}
