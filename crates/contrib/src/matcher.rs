//! One event against one rule: the event's fields (split once for every CLF rule, parsed once
//! for every JSON rule), the filters, and the contribution (key tuple and value) if it counts.
//!
//! Decisions where AWS is silent:
//!
//! * CLF events are split as space-delimited filter patterns split them
//!   ([`flowwatch_pattern::FieldBuf`]): a run of whitespace is one separator, and a field that
//!   starts with `[` or `"` runs to the closing `]` or `"` (CLF's timestamp and request), whose
//!   delimiters are not part of the value. VPC flow logs have single spaces and no quotes, so
//!   position N is simply the Nth token.
//! * A JSON event that does not parse, or whose path reaches nothing, an object, an array or
//!   `null`, has no value there: a key missing, a filter not matching (`IsPresent: false`
//!   matches), no value to add.
//! * A JSON leaf used as a key or compared as a string is its text: a string's contents,
//!   `true`/`false`, a number as serde_json prints it (`1e3` → `1000.0`).
//! * An event missing any key does not contribute (a contributor is the whole tuple); nor
//!   does one whose `ValueOf` is missing or not a number (VPC's `-` in NODATA records).
//! * Numeric operators and `ValueOf` read the value as a decimal number (`f64`; JSON numbers
//!   directly, strings parsed); a value that is not a finite number matches no numeric
//!   operator, `NotEqualTo` included. String operators compare bytes, case-sensitively.
//! * `NotIn` needs the field present: a missing field matches no operator but
//!   `IsPresent: false`.

use std::borrow::Cow;

use flowwatch_pattern::Event;
use serde_json::Value;

use crate::compile::{CompiledRule, FieldRef};
use crate::rule::{AggregateOn, FilterOperator};

/// The fields of one event, in the form the rule's `LogFormat` reads.
#[derive(Clone, Copy)]
pub(crate) enum Fields<'a> {
    Clf(Event<'a>),
    Json(&'a Value),
}

/// A JSON value that counts as present: a non-null leaf.
fn leaf(v: &Value) -> Option<&Value> {
    match v {
        Value::Null | Value::Array(_) | Value::Object(_) => None,
        leaf => Some(leaf),
    }
}

fn parse_number(text: &str) -> Option<f64> {
    text.trim().parse::<f64>().ok().filter(|n| n.is_finite())
}

impl<'a> Fields<'a> {
    fn text(&self, f: &FieldRef) -> Option<Cow<'a, str>> {
        match (self, f) {
            (Fields::Clf(event), FieldRef::Clf(i)) => event.field(*i).map(Cow::Borrowed),
            (Fields::Json(doc), FieldRef::Json(path)) => match leaf(path.find(doc)?)? {
                Value::String(s) => Some(Cow::Borrowed(s.as_str())),
                Value::Bool(true) => Some(Cow::Borrowed("true")),
                Value::Bool(false) => Some(Cow::Borrowed("false")),
                other => Some(Cow::Owned(other.to_string())),
            },
            _ => None,
        }
    }

    fn number(&self, f: &FieldRef) -> Option<f64> {
        match (self, f) {
            (Fields::Clf(event), FieldRef::Clf(i)) => parse_number(event.field(*i)?),
            (Fields::Json(doc), FieldRef::Json(path)) => match leaf(path.find(doc)?)? {
                Value::Number(n) => n.as_f64().filter(|n| n.is_finite()),
                Value::String(s) => parse_number(s),
                _ => None,
            },
            _ => None,
        }
    }

    fn present(&self, f: &FieldRef) -> bool {
        match (self, f) {
            (Fields::Clf(event), FieldRef::Clf(i)) => *i < event.field_count(),
            (Fields::Json(doc), FieldRef::Json(path)) => path.find(doc).and_then(leaf).is_some(),
            _ => false,
        }
    }

    fn matches(&self, field: &FieldRef, op: &FilterOperator) -> bool {
        match op {
            FilterOperator::In(list) => self
                .text(field)
                .is_some_and(|v| list.iter().any(|s| *s == v)),
            FilterOperator::NotIn(list) => self
                .text(field)
                .is_some_and(|v| !list.iter().any(|s| *s == v)),
            FilterOperator::StartsWith(list) => self
                .text(field)
                .is_some_and(|v| list.iter().any(|s| v.starts_with(s.as_str()))),
            FilterOperator::GreaterThan(n) => self.number(field).is_some_and(|v| v > *n),
            FilterOperator::LessThan(n) => self.number(field).is_some_and(|v| v < *n),
            FilterOperator::EqualTo(n) => self.number(field).is_some_and(|v| v == *n),
            FilterOperator::NotEqualTo(n) => self.number(field).is_some_and(|v| v != *n),
            FilterOperator::IsPresent(want) => self.present(field) == *want,
        }
    }
}

/// The contribution of one event to `rule`: its value, with the key tuple written into
/// `key` (see [`encode_key`]); `None` when the event is filtered out or lacks a key or value.
pub(crate) fn contribution(
    rule: &CompiledRule,
    fields: Fields<'_>,
    key: &mut Vec<u8>,
) -> Option<f64> {
    if !rule.filters.iter().all(|f| fields.matches(&f.field, &f.op)) {
        return None;
    }
    let value = match (rule.aggregate_on, &rule.value_of) {
        (AggregateOn::Sum, Some(v)) => fields.number(v)?,
        // Count, and the documented quirk: Sum without ValueOf adds 1 per event.
        _ => 1.0,
    };
    key.clear();
    for k in &rule.keys {
        encode_key(key, &fields.text(k)?);
    }
    Some(value)
}

/// Appends one key to a contributor's encoded tuple: length (u32 little-endian), then bytes.
/// Unambiguous for any strings, and hashable as one byte slice without allocating a tuple.
pub(crate) fn encode_key(out: &mut Vec<u8>, part: &str) {
    let len = u32::try_from(part.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&part.as_bytes()[..len as usize]);
}

/// The key tuple of an encoded contributor.
pub(crate) fn decode_key(mut bytes: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    while let Some((len, rest)) = bytes.split_first_chunk::<4>() {
        let len = (u32::from_le_bytes(*len) as usize).min(rest.len());
        out.push(String::from_utf8_lossy(&rest[..len]).into_owned());
        bytes = &rest[len..];
    }
    out
}

#[cfg(test)]
mod tests {
    use flowwatch_pattern::FieldBuf;

    use super::*;
    use crate::rule::RuleBody;

    fn rule(format: &str, fields: &str, contribution: &str, aggregate: &str) -> CompiledRule {
        let text = format!(
            r#"{{"Schema":{{"Name":"CloudWatchLogRule","Version":1}},"LogGroupNames":["g"],
               "LogFormat":"{format}",{fields}"Contribution":{contribution},"AggregateOn":"{aggregate}"}}"#
        );
        let body = RuleBody::parse("r", &text).expect("parses");
        crate::compile("r", &body).expect("valid")
    }

    /// One filter against one CLF line: does the line pass?
    fn check_clf(filter: &str, line: &str, expect: bool) {
        let r = rule(
            "CLF",
            r#""Fields":{"7":"dstport","13":"action"},"#,
            &format!(r#"{{"Keys":["3"],"Filters":[{filter}]}}"#),
            "Count",
        );
        let mut buf = FieldBuf::new();
        let got = contribution(&r, Fields::Clf(buf.split(line)), &mut Vec::new()).is_some();
        assert_eq!(got, expect, "{filter} on {line:?}");
    }

    /// One filter against one JSON event.
    fn check_json(filter: &str, event: &str, expect: bool) {
        let r = rule(
            "JSON",
            "",
            &format!(r#"{{"Keys":["$.k"],"Filters":[{filter}]}}"#),
            "Count",
        );
        let doc: Value = serde_json::from_str(event).expect("json");
        let got = contribution(&r, Fields::Json(&doc), &mut Vec::new()).is_some();
        assert_eq!(got, expect, "{filter} on {event}");
    }

    const SSH: &str = "2 123456789012 eni-0a1 61.177.172.128 172.31.83.158 39611 22 6 1 40 1563108188 1563108227 REJECT OK";
    const WEB: &str = "2 123456789012 eni-0a1 10.0.0.5 172.31.83.158 39611 443 6 1 40 1563108188 1563108227 ACCEPT OK";
    const NODATA: &str = "2 123456789012 eni-0a1 - - - - - - - 1563108188 1563108227 - NODATA";

    #[test]
    fn string_operators() {
        check_clf(r#"{"Match":"action","In":["REJECT"]}"#, SSH, true);
        check_clf(r#"{"Match":"action","In":["ACCEPT","X"]}"#, SSH, false);
        check_clf(r#"{"Match":"action","In":["reject"]}"#, SSH, false); // case-sensitive
        check_clf(r#"{"Match":"action","NotIn":["ACCEPT"]}"#, SSH, true);
        check_clf(
            r#"{"Match":"action","NotIn":["ACCEPT","REJECT"]}"#,
            SSH,
            false,
        );
        check_clf(r#"{"Match":"4","StartsWith":["10.","61.177."]}"#, SSH, true);
        check_clf(r#"{"Match":"4","StartsWith":["10."]}"#, SSH, false);
        check_clf(r#"{"Match":"4","StartsWith":["10."]}"#, WEB, true);
        // A position past the end is missing: NotIn does not match it.
        check_clf(r#"{"Match":"20","NotIn":["x"]}"#, SSH, false);
    }

    #[test]
    fn numeric_operators() {
        check_clf(r#"{"Match":"dstport","EqualTo":22}"#, SSH, true);
        check_clf(r#"{"Match":"dstport","EqualTo":22}"#, WEB, false);
        check_clf(r#"{"Match":"dstport","NotEqualTo":22}"#, WEB, true);
        check_clf(r#"{"Match":"dstport","NotEqualTo":22}"#, SSH, false);
        check_clf(r#"{"Match":"dstport","GreaterThan":100}"#, WEB, true);
        check_clf(r#"{"Match":"dstport","GreaterThan":443}"#, WEB, false);
        check_clf(r#"{"Match":"dstport","LessThan":443}"#, SSH, true);
        check_clf(r#"{"Match":"dstport","LessThan":22.5}"#, SSH, true);
        check_clf(r#"{"Match":"dstport","LessThan":22}"#, SSH, false);
        // `-` is not a number: no numeric operator matches, NotEqualTo included.
        for op in ["EqualTo", "NotEqualTo", "GreaterThan", "LessThan"] {
            check_clf(&format!(r#"{{"Match":"dstport","{op}":0}}"#), NODATA, false);
        }
        // A text field is not a number either.
        check_clf(r#"{"Match":"action","NotEqualTo":1}"#, SSH, false);
    }

    #[test]
    fn is_present() {
        check_clf(r#"{"Match":"14","IsPresent":true}"#, SSH, true);
        check_clf(r#"{"Match":"15","IsPresent":true}"#, SSH, false);
        check_clf(r#"{"Match":"15","IsPresent":false}"#, SSH, true);
        check_json(
            r#"{"Match":"$.a.b","IsPresent":true}"#,
            r#"{"k":1,"a":{"b":0}}"#,
            true,
        );
        check_json(
            r#"{"Match":"$.a.b","IsPresent":true}"#,
            r#"{"k":1,"a":{}}"#,
            false,
        );
        // Leaf nodes only: an object or array is not "present", nor is null.
        check_json(
            r#"{"Match":"$.a","IsPresent":true}"#,
            r#"{"k":1,"a":{"b":0}}"#,
            false,
        );
        check_json(
            r#"{"Match":"$.a","IsPresent":false}"#,
            r#"{"k":1,"a":[1]}"#,
            true,
        );
        check_json(
            r#"{"Match":"$.a","IsPresent":true}"#,
            r#"{"k":1,"a":null}"#,
            false,
        );
    }

    #[test]
    fn json_values_compare_as_text_or_number() {
        check_json(
            r#"{"Match":"$.code","EqualTo":200}"#,
            r#"{"k":1,"code":200}"#,
            true,
        );
        check_json(
            r#"{"Match":"$.code","EqualTo":200}"#,
            r#"{"k":1,"code":"200"}"#,
            true,
        );
        check_json(
            r#"{"Match":"$.code","In":["200"]}"#,
            r#"{"k":1,"code":200}"#,
            true,
        );
        check_json(
            r#"{"Match":"$.ok","In":["true"]}"#,
            r#"{"k":1,"ok":true}"#,
            true,
        );
        check_json(
            r#"{"Match":"$.src","StartsWith":["ec2","ecs"]}"#,
            r#"{"k":1,"src":"ecs.amazonaws.com"}"#,
            true,
        );
        check_json(
            r#"{"Match":"$.users[1].name","In":["b"]}"#,
            r#"{"k":1,"users":[{"name":"a"},{"name":"b"}]}"#,
            true,
        );
        check_json(
            r#"{"Match":"$.code","GreaterThan":1}"#,
            r#"{"k":1,"code":"abc"}"#,
            false,
        );
    }

    #[test]
    fn contributions_need_every_key_and_a_numeric_value() {
        let r = rule(
            "CLF",
            r#""Fields":{"4":"srcaddr","5":"dstaddr","10":"bytes"},"#,
            r#"{"Keys":["srcaddr","dstaddr"],"ValueOf":"bytes"}"#,
            "Sum",
        );
        let mut buf = FieldBuf::new();
        let mut key = Vec::new();
        assert_eq!(
            contribution(&r, Fields::Clf(buf.split(SSH)), &mut key),
            Some(40.0)
        );
        assert_eq!(decode_key(&key), ["61.177.172.128", "172.31.83.158"]);
        assert_eq!(
            contribution(&r, Fields::Clf(buf.split(NODATA)), &mut key),
            None
        );
        assert_eq!(
            contribution(&r, Fields::Clf(buf.split("2 1 eni 10.0.0.1")), &mut key),
            None
        );

        let quirk = rule("CLF", "", r#"{"Keys":["3"]}"#, "Sum");
        assert_eq!(
            contribution(&quirk, Fields::Clf(buf.split(SSH)), &mut key),
            Some(1.0)
        );
        let count = rule(
            "JSON",
            "",
            r#"{"Keys":["$.a","$.b"],"ValueOf":"$.n"}"#,
            "Count",
        );
        let doc: Value = serde_json::from_str(r#"{"a":"x","b":2.5,"n":9}"#).expect("json");
        assert_eq!(
            contribution(&count, Fields::Json(&doc), &mut key),
            Some(1.0)
        );
        assert_eq!(decode_key(&key), ["x", "2.5"]);
    }

    #[test]
    fn clf_split_keeps_bracketed_and_quoted_fields_whole() {
        let r = rule(
            "CLF",
            r#""Fields":{"4":"time","5":"request","6":"status"},"#,
            r#"{"Keys":["request","status","time"]}"#,
            "Count",
        );
        let mut buf = FieldBuf::new();
        let mut key = Vec::new();
        let line =
            r#"127.0.0.1 -  frank [10/Oct/2000:13:55:36 -0700] "GET /a.gif HTTP/1.0" 200 2326"#;
        assert!(contribution(&r, Fields::Clf(buf.split(line)), &mut key).is_some());
        assert_eq!(
            decode_key(&key),
            ["GET /a.gif HTTP/1.0", "200", "10/Oct/2000:13:55:36 -0700"]
        );
    }

    #[test]
    fn key_encoding_round_trips() {
        let mut key = Vec::new();
        for part in ["", "a\u{0}b", "é", "x"] {
            encode_key(&mut key, part);
        }
        assert_eq!(decode_key(&key), ["", "a\u{0}b", "é", "x"]);
    }
}
