//! JSON property paths as Contributor Insights writes them: `$` for the event's root object,
//! then `.name` steps and `[index]` steps (`$.userAgent`, `$.endpoints[0]`,
//! `$.users[1].name`, `$.a[0][2]`). A name runs to the next `.`, `[` or the end and may hold
//! any character but those, `]` and whitespace (`$.c-count`, `$.@timestamp`); there are no
//! quoted names and no wildcards (AWS documents neither for rules).

use serde_json::Value;

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Step {
    Key(Box<str>),
    Index(usize),
}

/// A parsed path: at least one step below the root.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JsonPath {
    steps: Vec<Step>,
}

/// Why a path did not parse, and the byte where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PathError {
    pub(crate) position: usize,
    pub(crate) message: String,
}

fn fail(position: usize, message: impl Into<String>) -> PathError {
    PathError {
        position,
        message: message.into(),
    }
}

fn ends_name(c: char) -> bool {
    matches!(c, '.' | '[' | ']') || c.is_whitespace()
}

impl JsonPath {
    pub(crate) fn parse(text: &str) -> Result<JsonPath, PathError> {
        if !text.starts_with('$') {
            return Err(fail(0, "a JSON path starts with `$.`, as in `$.srcaddr`"));
        }
        let mut steps = Vec::new();
        let mut pos = 1;
        while let Some(c) = text[pos..].chars().next() {
            match c {
                '.' => {
                    let start = pos + 1;
                    let len = text[start..].find(ends_name).unwrap_or(text.len() - start);
                    if len == 0 {
                        return Err(fail(start, "expected a property name after `.`"));
                    }
                    steps.push(Step::Key(text[start..start + len].into()));
                    pos = start + len;
                }
                '[' => {
                    let start = pos + 1;
                    let digits = text[start..]
                        .find(|c: char| !c.is_ascii_digit())
                        .unwrap_or(text.len() - start);
                    if digits == 0 {
                        return Err(fail(start, "expected an array index (digits) after `[`"));
                    }
                    let close = start + digits;
                    if !text[close..].starts_with(']') {
                        return Err(fail(close, "expected `]` after the array index"));
                    }
                    let index = text[start..close]
                        .parse::<usize>()
                        .map_err(|_| fail(start, "array index too large"))?;
                    steps.push(Step::Index(index));
                    pos = close + 1;
                }
                _ => return Err(fail(pos, format!("expected `.` or `[`, found `{c}`"))),
            }
        }
        if steps.is_empty() {
            return Err(fail(
                text.len(),
                "a path must name a property below `$`, as in `$.srcaddr`",
            ));
        }
        Ok(JsonPath { steps })
    }

    /// The value the path reaches in `doc`, if every step exists.
    pub(crate) fn find<'v>(&self, doc: &'v Value) -> Option<&'v Value> {
        let mut at = doc;
        for step in &self.steps {
            at = match (step, at) {
                (Step::Key(k), Value::Object(map)) => map.get(&**k)?,
                (Step::Index(i), Value::Array(items)) => items.get(*i)?,
                _ => return None,
            };
        }
        Some(at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(path: &str, doc: &str, expect: Option<&str>) {
        let p = JsonPath::parse(path).expect("path parses");
        let doc: Value = serde_json::from_str(doc).expect("json");
        assert_eq!(
            p.find(&doc).map(|v| v.to_string()).as_deref(),
            expect,
            "{path}"
        );
    }

    fn check_err(path: &str, position: usize, message: &str) {
        let e = JsonPath::parse(path).expect_err("path is rejected");
        assert_eq!(e.position, position, "{path}: {}", e.message);
        assert!(e.message.contains(message), "{path}: {}", e.message);
    }

    #[test]
    fn documented_forms_navigate() {
        let doc = r#"{"userAgent":"curl","endpoints":["a","b"],"users":[{"name":"x"},{"name":"y"}],
            "requestParameters":{"instanceId":"i-1"},"m":[[1,2],[3,4]],"c-count":7,"@t":1}"#;
        check("$.userAgent", doc, Some("\"curl\""));
        check("$.endpoints[0]", doc, Some("\"a\""));
        check("$.users[1].name", doc, Some("\"y\""));
        check("$.requestParameters.instanceId", doc, Some("\"i-1\""));
        check("$.m[1][0]", doc, Some("3"));
        check("$.c-count", doc, Some("7"));
        check("$.@t", doc, Some("1"));
        check("$.users", doc, Some(r#"[{"name":"x"},{"name":"y"}]"#));
        check("$.missing", doc, None);
        check("$.endpoints[5]", doc, None);
        check("$.userAgent.deeper", doc, None);
        check("$.endpoints.name", doc, None);
        check("$.users[0]", "[1]", None);
    }

    #[test]
    fn errors_point_at_the_byte() {
        check_err("srcaddr", 0, "starts with `$.`");
        check_err("$", 1, "must name a property");
        check_err("$.a..b", 4, "property name");
        check_err("$.a.", 4, "property name");
        check_err("$.a[x]", 4, "array index");
        check_err("$.a[0", 5, "expected `]`");
        check_err("$.a[0]x", 6, "found `x`");
        check_err("$.a b", 3, "found ` `");
        check_err("$.a]", 3, "found `]`");
        check_err("$.a[99999999999999999999999]", 4, "too large");
        check_err("$é", 1, "found `é`");
    }
}
