//! The filter-pattern language against the reference (spec §2 and AWS's FilterAndPatternSyntax
//! page): every example with events that match and events that do not, the VPC Flow Logs
//! filters of §2.5 on the §1.8 fixture, metric transformations and their AWS JSON shape, and
//! errors as the user sees them.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use flowwatch_pattern::{
    Error, FieldBuf, MetricFilter, MetricFilters, MetricTransformation, Pattern, PatternError,
    Style, Unit,
};

// ---- helpers ----

fn pattern(p: &str) -> Pattern {
    match Pattern::parse(p) {
        Ok(p) => p,
        Err(e) => panic!("{p:?} should parse:\n{}", e.render(p)),
    }
}

fn fail(p: &str) -> PatternError {
    match Pattern::parse(p) {
        Ok(x) => panic!("{p:?} should not parse, got {x:?}"),
        Err(e) => e,
    }
}

/// Checks `p` against events that must match and events that must not, through every entry
/// point (streaming, split once, with captures).
fn check(p: &str, matching: &[&str], not_matching: &[&str]) {
    let pat = pattern(p);
    let mut buf = FieldBuf::new();
    for (events, want) in [(matching, true), (not_matching, false)] {
        for ev in events {
            assert_eq!(pat.is_match(ev), want, "{p:?} on {ev:?} (is_match)");
            assert_eq!(pat.matches(ev).is_some(), want, "{p:?} on {ev:?} (matches)");
            let split = buf.split(ev);
            assert_eq!(pat.is_match_event(split), want, "{p:?} on {ev:?} (split)");
            assert_eq!(pat.matches_event(split).is_some(), want, "{p:?} on {ev:?}");
            if !want {
                continue;
            }
            assert!(pat.may_match(ev), "{p:?} prefilter rejected {ev:?}");
        }
    }
}

// ---- §2.1 unstructured terms ----

#[test]
fn single_term_is_a_case_sensitive_substring() {
    check(
        "ERROR",
        &[
            "[ERROR] A fatal exception has occurred",
            "Exiting with ERRORCODE: -1",
        ],
        &["error: lowercase", "ERRO R", ""],
    );
    check("\"ERROR\"", &["[ERROR] x"], &["Error"]);
}

#[test]
fn several_terms_all_must_appear() {
    check(
        "ERROR ARGUMENTS",
        &["ERROR: bad ARGUMENTS", "ARGUMENTS then ERROR"],
        &["ERROR only", "ARGUMENTS only"],
    );
    check(
        "ERROR Exception",
        &[
            "[ERROR] Caught IllegalArgumentException",
            "[ERROR] Unhandled Exception",
        ],
        &["[WARN] Unhandled Exception"],
    );
    check(
        "Failed to process the request",
        &[
            "[WARN] Failed to process the request",
            "[ERROR] Unable to continue: Failed to process the request",
            "the request Failed to process",
        ],
        &["Failed to process"],
    );
}

#[test]
fn question_mark_terms_are_or() {
    let events = ["ERROR WARN message", "ERROR message", "WARN message"];
    check("?ERROR ?WARN", &events, &["INFO message"]);
    check("ERROR", &events[..2], &events[2..]);
    check("ERROR WARN", &events[..1], &events[1..]);
    check("ERROR -WARN", &events[1..2], &[events[0], events[2]]);
    check("?ERROR ?ARGUMENTS", &["ARGUMENTS missing"], &["nothing"]);
}

#[test]
fn question_mark_terms_mixed_with_plain_terms_are_ignored() {
    let p = pattern("ERROR ?WARN ?INFO");
    assert_eq!(p.warnings().len(), 1);
    assert_eq!(p.warnings()[0].offset, 6);
    check(
        "ERROR ?WARN ?INFO",
        &["ERROR alone", "ERROR WARN"],
        &["WARN alone", "INFO WARN"],
    );
    // An exclusion is not a plain term: the `?` terms still count.
    check("?ERROR ?WARN -DEBUG", &["WARN x"], &["WARN DEBUG", "INFO"]);
    assert!(pattern("?ERROR ?WARN -DEBUG").warnings().is_empty());
}

#[test]
fn quoted_phrases() {
    check(
        "\"INTERNAL SERVER ERROR\"",
        &["500 INTERNAL SERVER ERROR at /"],
        &["INTERNAL ERROR SERVER", "INTERNAL  SERVER ERROR"],
    );
    check(
        "\"ERRORCODE: -1\"",
        &["Exiting with ERRORCODE: -1"],
        &["ERRORCODE: 1"],
    );
    check(r#""say \"hi\"""#, &[r#"they say "hi" twice"#], &["say hi"]);
    check("?\"a b\" ?\"c d\"", &["x c d"], &["a c b d"]);
}

#[test]
fn exclusions() {
    check(
        "ERROR -Exiting",
        &["[ERROR] A fatal exception has occurred"],
        &["Exiting with ERRORCODE: -1"],
    );
    // AWS's docs write the exclusion with a space after the minus.
    check(
        "\"ERROR\" - \"Exiting\"",
        &["[ERROR] A fatal exception has occurred"],
        &["Exiting with ERRORCODE: -1"],
    );
    check("-DEBUG", &["INFO x", ""], &["DEBUG x"]);
    check("-\"a b\"", &["a  b"], &["x a b"]);
}

#[test]
fn blank_patterns_match_everything() {
    for p in ["", "   ", "\"\"", "\" \"", " \"  \" "] {
        assert_eq!(pattern(p).style(), Style::All, "{p:?}");
        check(p, &["anything", "", "{\"a\": 1}", "[x]"], &[]);
    }
    check("ERROR \" \"", &["ERROR"], &["WARN"]);
}

#[test]
fn regex_terms() {
    check("%ERROR|WARN%", &["a WARN b", "ERROR"], &["INFO"]);
    check(
        "%^2 \\d+ eni-%",
        &["2 123456789012 eni-0a1 x"],
        &["x 2 123 eni-"],
    );
    check(
        "%eni-[0-9a-f]{3}% -ACCEPT",
        &["eni-0a1 REJECT"],
        &["eni-0a1 ACCEPT", "eni-xyz"],
    );
}

// ---- §2.2 JSON ----

const DOC: &str = r#"{
  "eventType": "UpdateTrail",
  "sourceIPAddress": "111.111.111.111",
  "arrayKey": ["value", "another value"],
  "objectList": [{"name": "a", "id": 1}, {"name": "b", "id": 2}],
  "SomeObject": null,
  "ThisFlag": true,
  "latency": 50,
  "numbers": [9, 0.002],
  "processes": [{}, {}, {}, {}, {"averageRuntime": 55.5}],
  "errorCode": 400,
  "cluster.name": "prod",
  "msg": "bind: address already in use"
}"#;

const COMPOUND: &str = r#"{
    "user": {"id": 1, "email": "John.Stiles@example.com"},
    "users": [{"id": 2, "email": "John.Doe@example.com"}, {"id": 3, "email": "Jane.Doe@example.com"}],
    "actions": ["GET", "PUT", "DELETE"],
    "coordinates": [[0, 1, 2], [4, 5, 6], [7, 8, 9]]
}"#;

#[test]
fn json_documented_filters_match() {
    for p in [
        r#"{ $.eventType = "UpdateTrail" }"#,
        "{ $.eventType = UpdateTrail }",
        "{ $.sourceIPAddress != 123.123.* }",
        "{ $.sourceIPAddress = 111.111.* }",
        r#"{ $.arrayKey[0] = "value" }"#,
        "{ $.objectList[1].id = 2 }",
        "{ $.SomeObject IS NULL }",
        "{ $.SomeOtherObject NOT EXISTS }",
        "{ $.ThisFlag IS TRUE }",
        "{ $.latency = * }",
        "{ $.latency >= 50 }",
        "{ $.numbers[0] < 10e3 }",
        "{ $.numbers[1] < 10e-3 }",
        "{ $.processes[4].averageRuntime <= 55.5 }",
        "{ $.errorCode = 400 }",
        "{ $.errorCode != 500 }",
        "{ $.latency > +10 }",
        "{ $.eventType = *Trail }",
        "{ $.eventType = Update* }",
        r#"{ $.eventType = "*" }"#,
        "{ $.['cluster.name'] = prod }",
        "{ $.arrayKey[*] = \"another value\" }",
        "{ $.objectList[*].name = b }",
        "{ $.* = UpdateTrail }",
        "{ $.msg = %address already% }",
        "{ $.eventType = %^Update% && $.msg != %nothing% }",
    ] {
        check(p, &[DOC], &[]);
    }
}

#[test]
fn json_documented_filters_that_do_not_match() {
    for p in [
        r#"{ $.eventType = "CreateTrail" }"#,
        "{ $.sourceIPAddress = 123.123.* }",
        "{ $.arrayKey[2] = value }",
        "{ $.objectList[0].id = 2 }",
        "{ $.ThisFlag IS FALSE }",
        "{ $.latency IS NULL }",
        "{ $.SomeObject NOT EXISTS }",
        "{ $.latency > 50 }",
        "{ $.numbers[0] > 10e3 }",
        "{ $.errorCode = 500 }",
        "{ $.eventType = Ev*ent }",
        "{ $.arrayKey = value }",
        "{ $.arrayKey != value }",
        "{ $.objectList[*].name = c }",
        "{ $.msg = %^address% }",
    ] {
        check(p, &[], &[DOC]);
    }
}

#[test]
fn json_or_between_documents() {
    let bar = r#"{"foo": "bar"}"#;
    let baz = r#"{"foo": "baz"}"#;
    check("{$.foo = bar}", &[bar], &[baz]);
    check("{$.foo = baz }", &[baz], &[bar]);
    check(
        "{$.foo = bar || $.foo = baz }",
        &[bar, baz],
        &[r#"{"foo": "qux"}"#],
    );
}

#[test]
fn json_precedence_john_stiles_both_ways() {
    // `&&` binds tighter: the first term alone decides.
    check(
        r#"{ $.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = "nonmatch" && $.actions[2] = "nonmatch" }"#,
        &[COMPOUND],
        &[],
    );
    check(
        "{ $.user.email = \"John.Stiles@example.com\" || $.coordinates[0][1] = nonmatch && $.actions[2] = nomatch }",
        &[COMPOUND],
        &[],
    );
    // Parentheses around the first two terms: the `&&` now fails the whole pattern.
    check(
        r#"{ ($.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = "nonmatch") && $.actions[2] = "nonmatch" }"#,
        &[],
        &[COMPOUND],
    );
    check(
        r#"{ ($.user.id = 1) && ($.users[0].email = "John.Doe@example.com") }"#,
        &[COMPOUND],
        &[],
    );
    check(
        r#"{ ($.user.id = 2 && $.users[0].email = "nonmatch") || $.actions[2] = "GET" }"#,
        &[],
        &[COMPOUND],
    );
    check(
        "{ $.coordinates[2][0] = 7 && $.actions[1] = PUT }",
        &[COMPOUND],
        &[],
    );
}

#[test]
fn json_selector_on_object_or_array_never_matches() {
    let ev = r#"{"users": [1, 2, 3]}"#;
    check("{ $.users = 1 }", &[], &[ev]);
    check("{ $.users != 1 }", &[], &[ev]);
    check("{ $.users[0] = 1 }", &[ev], &[]);
}

#[test]
fn json_only_matches_json_objects() {
    let p = pattern("{ $.a = 1 }");
    assert!(!p.may_match("2 123456789012 eni-0a1 ..."));
    assert!(p.may_match("  {\"a\": 1}"));
    check(
        "{ $.a = 1 }",
        &[r#"{"a": 1}"#, " \n{\"a\":1}\n"],
        &[
            "a = 1",
            r#"[{"a": 1}]"#,
            r#"{"a": 1"#,
            r#"{"a": 1} trailing"#,
            r#"x {"a": 1}"#,
        ],
    );
}

#[test]
fn json_numbers_including_scientific_notation() {
    let ev = r#"{"v": 0.001, "big": 1.5e3, "i": -7, "s": "12"}"#;
    check("{ $.v = 1e-3 }", &[ev], &[]);
    check("{ $.v < 10e-3 && $.v > -1E-3 }", &[ev], &[]);
    check("{ $.big = 1500 }", &[ev], &[]);
    check("{ $.i <= -7 && $.i >= -7.0 }", &[ev], &[]);
    check("{ $.s > 11 }", &[ev], &[]);
    check("{ $.s = \"12\" }", &[ev], &[]);
    check("{ $.v = * }", &[ev], &[]);
    check("{ $.missing = * }", &[], &[ev]);
}

#[test]
fn json_wildcard_limits() {
    let p = r#"{ $.a[*] = 1 && $.b.* = 2 && $.* = 3 }"#;
    pattern(p);
    let e = fail(r#"{ $.a[*] = 1 && $.b.* = 2 && $.* = 3 || $.d[*] = 4 }"#);
    assert!(e.message.contains("at most 3"), "{}", e.message);
    assert_eq!(e.offset, 40);
    let e = fail("{ $.a[*].b[*] = 1 }");
    assert!(e.message.contains("only one"), "{}", e.message);
}

// ---- §2.3 space-delimited ----

const APACHE: [&str; 3] = [
    r#"127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 200 1534"#,
    r#"127.0.0.1 - frank [10/Oct/2000:13:35:22 -0700] "GET /apache_pb.gif HTTP/1.0" 500 5324"#,
    r#"127.0.0.1 - frank [10/Oct/2000:13:50:35 -0700] "GET /apache_pb.gif HTTP/1.0" 404 4355"#,
];

#[test]
fn space_delimited_documented_examples() {
    let all = APACHE;
    check(
        "[ip, user, username, timestamp, request, status_code, bytes]",
        &all,
        &["a b c"],
    );
    check("[..., status_code, bytes]", &all, &["one"]);
    check("[ip, user, ..., status_code, bytes]", &all, &["a b c"]);
    check("[ip, user, ...]", &all, &["a"]);
    check(
        "[ip, user, username, timestamp, request, status_code, bytes > 1000]",
        &all,
        &["127.0.0.1 - frank [t] \"GET /\" 200 999"],
    );
    check(
        "[ip, user, username, timestamp, request, status_code = 200, bytes]",
        &all[..1],
        &all[1..],
    );
    check(
        "[ip, user, username, timestamp, request, status_code = 4*, bytes]",
        &all[2..],
        &all[..2],
    );
    check(
        "[ip, user, username, timestamp, request = *gif*, status_code = 4*, bytes]",
        &all[2..],
        &all[..2],
    );
    check(
        "[ip, user, username, timestamp, request, status_code = 4* && status_code != 403, bytes]",
        &all[2..],
        &[all[0], &all[2].replace(" 404 ", " 403 ")],
    );
    check(
        "[ip, user, username, timestamp, request, status_code = 404 || status_code = 410, bytes]",
        &[all[2], &all[2].replace(" 404 ", " 410 ")],
        &all[..2],
    );
    check(
        "[ip, user, username, timestamp, request, status_code = 403 || status_code = 404, bytes]",
        &all[2..],
        &all[..2],
    );
}

#[test]
fn space_delimited_extracted_fields_as_aws_lists_them() {
    let p = pattern("[..., request=*.html*, status_code=4*,]");
    let ev = r#"127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /products/index.html HTTP/1.0" 404 1534"#;
    let c = p.matches(ev).expect("matches");
    assert_eq!(c.field("status_code"), Some("404"));
    assert_eq!(
        c.field("$request"),
        Some("GET /products/index.html HTTP/1.0")
    );
    assert_eq!(c.get("$7").as_deref(), Some("1534"));
    assert_eq!(c.get("$4").as_deref(), Some("10/Oct/2000:13:25:15 -0700"));
    assert_eq!(c.number("$7"), Some(1534.0));
    let listed: Vec<(String, &str)> = c.extracted();
    let want = [
        ("$1", "127.0.0.1"),
        ("$2", "-"),
        ("$3", "frank"),
        ("$4", "10/Oct/2000:13:25:15 -0700"),
        ("$request", "GET /products/index.html HTTP/1.0"),
        ("$status_code", "404"),
        ("$7", "1534"),
    ];
    assert_eq!(listed.len(), want.len());
    for ((k, v), (wk, wv)) in listed.iter().zip(want) {
        assert_eq!((k.as_str(), *v), (wk, wv));
    }
    check("[..., request=*.html*, status_code=4*,]", &[ev], &APACHE);
}

#[test]
fn space_delimited_word_positions() {
    let events = ["ERROR WARN message", "ERROR message", "WARN message"];
    // The trailing blank slot fixes the word count at two.
    check("[w1=ERROR, w2]", &[events[1]], &[events[0], events[2]]);
    check("[w1=ERROR || w1=WARN, w2]", &events[1..], &events[..1]);
    check(
        "[w1=ERROR || w1=WARNING, w2]",
        &["WARNING x", "ERROR y"],
        &["WARN x"],
    );
    // AWS's docs claim this matches `ERROR WARN message`; it cannot (w1 is ERROR there, and
    // the event has three words). It matches two-word events starting with neither.
    check(
        "[w1!=ERROR && w1!=WARNING, w2]",
        &["INFO message"],
        &["ERROR message", "WARNING x"],
    );
    check("[w1, ...]", &events, &[""]);
}

#[test]
fn space_delimited_field_count_must_match_without_ellipsis() {
    check("[a, b, c]", &["1 2 3"], &["1 2", "1 2 3 4", ""]);
    check("[a, ..., z]", &["1 2", "1 2 3 4"], &["1"]);
}

#[test]
fn space_delimited_values() {
    check("[a, b=\"x y\"]", &["1 \"x y\""], &["1 x"]);
    check("[a=\"22\"]", &["22"], &["22.0", "022"]);
    check("[a=22]", &["22", "22.0", "+22"], &["23", "x"]);
    check("[a!=22]", &["23", "x"], &["22"]);
    check("[a=%^[0-9]+$%]", &["123"], &["12a"]);
    check("[a!=%^[0-9]+$%]", &["12a"], &["123"]);
    check("[a=*]", &["anything"], &[]);
    check("[a=\"*\"]", &["x"], &[]);
    check("[a=*x]", &["ax"], &["xa"]);
    check("[a=x*y]", &["x*y"], &["xzy"]);
    check("[a>=1e3]", &["1000", "1e4"], &["999", "-"]);
    check("[a<0]", &["-1", "-0.5"], &["0", "x"]);
    check(
        "[t=\"10/Oct/2000:13:25:15 -0700\"]",
        &["[10/Oct/2000:13:25:15 -0700]"],
        &[],
    );
}

// ---- §2.4 regex ----

#[test]
fn regex_sublanguage_is_enforced() {
    let e = fail("[a=%(x|y)%]");
    assert_eq!(e.offset, 4);
    assert!(e.message.contains("no groups"));
    let e = fail("{ $.a = %something!% }");
    assert_eq!(e.offset, 18);
    assert_eq!(e.message, "`!` is not allowed in a filter-pattern regex");
    let e = fail("%caf\u{e9}%");
    assert!(e.message.contains("only ASCII"), "{}", e.message);
    let e = fail("[a=%x%, b=%y%, c=%z%]");
    assert!(e.message.contains("at most 2 regexes"));
    assert_eq!(e.offset, 17);
    let e = fail("[a=%abc]");
    assert_eq!(
        (e.offset, e.message.as_str()),
        (3, "unterminated regex: expected a closing `%`")
    );
    check("[a=%\\d{3}%]", &["404"], &["40"]);
    check("[a=%^\\w+@\\w+\\.com$%]", &["me@x.com"], &["me@x.org"]);
    check("[a=%\\x41%]", &["A"], &["B"]);
    check("[a=%[:;,=@#/_-]%]", &["x:y"], &["xy"]);
}

// ---- §2.5 VPC Flow Logs ----

const FIXTURE: [&str; 4] = [
    "2 123456789012 eni-0a1 61.177.172.128 172.31.83.158 39611 22 6 1 40 1563108188 1563108227 REJECT OK",
    "2 123456789012 eni-0a1 182.68.238.8 172.31.83.158 42227 22 6 1 44 1563109030 1563109067 REJECT OK",
    "2 123456789012 eni-0a1 42.171.23.181 172.31.83.158 52417 22 6 24 4065 1563191069 1563191121 ACCEPT OK",
    "2 123456789012 eni-0a1 61.177.172.128 172.31.83.158 39611 80 6 1 40 1563108188 1563108227 REJECT OK",
];

const SSH: &str = r#"[version, account, eni, source, destination, srcport, destport="22", protocol="6", packets, bytes, windowstart, windowend, action="REJECT", flowlogstatus]"#;

fn vpc(slot: &str, name: &str) -> String {
    let names = [
        "version",
        "accountid",
        "interfaceid",
        "srcaddr",
        "dstaddr",
        "srcport",
        "dstport",
        "protocol",
        "packets",
        "bytes",
        "start",
        "end",
        "action",
        "logstatus",
    ];
    let slots: Vec<&str> = names
        .iter()
        .map(|n| if *n == name { slot } else { n })
        .collect();
    format!("[{}]", slots.join(", "))
}

#[test]
fn vpc_rejected_ssh_matches_fixture_lines_one_and_two() {
    check(SSH, &FIXTURE[..2], &FIXTURE[2..]);
}

#[test]
fn vpc_rejected_ssh_metric_with_dimensions_and_bytes() {
    let p = pattern(SSH);
    let mut count = MetricTransformation::count("VPC", "RejectedSSH");
    count.dimensions.insert("ENI".into(), "$eni".into());
    count.dimensions.insert("ACTION".into(), "$action".into());
    count.validate_for(&p).unwrap();
    let mut bytes = MetricTransformation::count("VPC", "RejectedSSHBytes");
    bytes.metric_value = "$bytes".into();
    bytes.unit = Some(Unit::Bytes);
    bytes.validate_for(&p).unwrap();
    let mut legacy = bytes.clone();
    legacy.metric_value = "$10".into();
    legacy.validate_for(&p).unwrap();

    let mut buf = FieldBuf::new();
    let mut got = Vec::new();
    for line in FIXTURE {
        if let Some(c) = p.matches_event(buf.split(line)) {
            let (one, dims) = count.apply(&c).unwrap();
            let (b, none) = bytes.apply(&c).unwrap();
            assert_eq!(legacy.apply(&c).unwrap().0, b);
            assert!(none.is_empty());
            got.push((one, dims, b));
        }
    }
    let dims = vec![
        ("ACTION".to_owned(), "REJECT".to_owned()),
        ("ENI".to_owned(), "eni-0a1".to_owned()),
    ];
    assert_eq!(got, [(1.0, dims.clone(), 40.0), (1.0, dims, 44.0)]);
}

#[test]
fn vpc_search_examples() {
    let ev = |src: &str, dstport: &str, bytes: &str, action: &str| {
        format!(
            "2 123456789012 eni-0a1 {src} 172.31.83.158 39611 {dstport} 6 1 {bytes} 1563108188 1563108227 {action} OK"
        )
    };
    let a = ev("10.0.0.1", "80", "400", "REJECT");
    let b = ev("10.0.2.7", "8080", "399", "ACCEPT");
    let c = ev("10.0.0.10", "443", "4065", "ACCEPT");
    check(&vpc("srcaddr = 10.0.0.1", "srcaddr"), &[&a], &[&b, &c]);
    check(&vpc("srcaddr = 10.0.2.*", "srcaddr"), &[&b], &[&a, &c]);
    check(
        &vpc("dstport = 80 || dstport = 8080", "dstport"),
        &[&a, &b],
        &[&c],
    );
    check(&vpc("bytes >= 400", "bytes"), &[&a, &c], &[&b]);
    check(&vpc("action = REJECT", "action"), &[&a], &[&b, &c]);
    check(
        &vpc("action = REJECT", "action"),
        &FIXTURE[..2],
        &FIXTURE[2..3],
    );
    check(
        &vpc("dstport = 80 || dstport = 8080", "dstport"),
        &FIXTURE[3..],
        &FIXTURE[..3],
    );
    check(
        &vpc("bytes >= 400", "bytes"),
        &FIXTURE[2..3],
        &[FIXTURE[0], FIXTURE[1], FIXTURE[3]],
    );
}

#[test]
fn vpc_search_examples_are_numeric_not_textual() {
    // `dstport = 80` is a number: `80` matches, `8080` does not, even though it contains 80.
    let line = FIXTURE[3].replace(" 80 6 ", " 8080 6 ");
    check(&vpc("dstport = 80", "dstport"), &FIXTURE[3..], &[&line]);
}

#[test]
fn nodata_records_do_not_break_numeric_slots() {
    let nodata = "2 123456789012 eni-0a1 - - - - - - - 1563108188 1563108227 - NODATA";
    check(&vpc("bytes >= 400", "bytes"), &[], &[nodata]);
    check(&vpc("bytes != 400", "bytes"), &[nodata], &[]);
    check(&vpc("logstatus = NODATA", "logstatus"), &[nodata], &FIXTURE);
}

// ---- metric transformations and the AWS JSON shape ----

const DESCRIBE: &str = r#"{
    "metricFilters": [
        {
            "filterName": "RejectedSSH",
            "filterPattern": "[version, account, eni, source, destination, srcport, destport=\"22\", protocol=\"6\", packets, bytes, windowstart, windowend, action=\"REJECT\", flowlogstatus]",
            "metricTransformations": [
                {
                    "metricName": "SSHRejects",
                    "metricNamespace": "VPC/FlowLogs",
                    "metricValue": "1",
                    "dimensions": {"ENI": "$eni"},
                    "unit": "Count"
                }
            ],
            "creationTime": 1563108000000,
            "logGroupName": "/aws/vpc/flowlogs",
            "applyOnTransformedLogs": false
        },
        {
            "filterName": "Latency",
            "filterPattern": "{ $.latency = * }",
            "metricTransformations": [
                {
                    "metricName": "myMetric",
                    "metricNamespace": "App",
                    "metricValue": "$.latency",
                    "defaultValue": 0.0,
                    "unit": "Bytes/Second"
                }
            ],
            "creationTime": 1563108000001,
            "logGroupName": "app",
            "fieldSelectionCriteria": ""
        }
    ]
}"#;

#[test]
fn describe_metric_filters_round_trips() {
    let parsed: MetricFilters = serde_json::from_str(DESCRIBE).unwrap();
    assert_eq!(parsed.metric_filters.len(), 2);
    let ssh = &parsed.metric_filters[0];
    assert_eq!(ssh.log_group_name, "/aws/vpc/flowlogs");
    assert_eq!(ssh.metric_transformations[0].unit, Some(Unit::Count));
    let lat = &parsed.metric_filters[1];
    assert_eq!(lat.metric_transformations[0].default_value, Some(0.0));
    assert_eq!(
        lat.metric_transformations[0].unit,
        Some(Unit::BytesPerSecond)
    );

    let text = serde_json::to_string_pretty(&parsed).unwrap();
    let again: MetricFilters = serde_json::from_str(&text).unwrap();
    assert_eq!(again, parsed);
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let t = &v["metricFilters"][1]["metricTransformations"][0];
    assert_eq!(t["metricValue"], "$.latency");
    assert_eq!(t["defaultValue"], 0.0);
    assert_eq!(t["unit"], "Bytes/Second");
    assert!(t.get("dimensions").is_none());
    assert_eq!(
        v["metricFilters"][0]["metricTransformations"][0]["dimensions"]["ENI"],
        "$eni"
    );

    let mut buf = FieldBuf::new();
    let ssh = ssh.compile().unwrap();
    let got: Vec<_> = FIXTURE
        .iter()
        .filter_map(|l| ssh.evaluate(buf.split(l)))
        .collect();
    assert_eq!(got.len(), 2);
    assert_eq!(
        got[0],
        (1.0, vec![("ENI".to_owned(), "eni-0a1".to_owned())])
    );
    let lat = lat.compile().unwrap();
    assert_eq!(
        lat.evaluate(buf.split(r#"{"latency": 50, "requestType": "GET"}"#))
            .map(|x| x.0),
        Some(50.0)
    );
    assert_eq!(lat.evaluate(buf.split(r#"{"latency": "slow"}"#)), None);
    assert_eq!(lat.evaluate(buf.split(r#"{"other": 1}"#)), None);
}

#[test]
fn compile_rejects_what_put_metric_filter_rejects() {
    let mut f: MetricFilter = serde_json::from_str::<MetricFilters>(DESCRIBE)
        .unwrap()
        .metric_filters[0]
        .clone();
    let field = |f: &MetricFilter| match f.compile() {
        Err(Error::Invalid { field, .. }) => field,
        Err(Error::Pattern(e)) => panic!("pattern error {e}"),
        Err(e) => panic!("{e}"),
        Ok(_) => "ok",
    };
    assert_eq!(field(&f), "ok");
    f.filter_name = "a:b".into();
    assert_eq!(field(&f), "filterName");
    f.filter_name = "ok".into();
    f.metric_transformations
        .push(f.metric_transformations[0].clone());
    assert_eq!(field(&f), "metricTransformations");
    f.metric_transformations.truncate(1);
    f.metric_transformations[0]
        .dimensions
        .insert("X".into(), "$nope".into());
    assert_eq!(field(&f), "dimensions");
    f.metric_transformations[0].dimensions.clear();
    f.metric_transformations[0].default_value = Some(0.0);
    assert_eq!(field(&f), "ok");
    f.filter_pattern = "x".repeat(1025);
    assert_eq!(field(&f), "filterPattern");
    f.filter_pattern = "[a,".into();
    assert!(matches!(f.compile(), Err(Error::Pattern(_))));
}

#[test]
fn json_captures_for_metric_values() {
    let p = pattern("{ $.latency = * && $.user.name = * }");
    let ev = r#"{"latency": 1.5e2, "user": {"name": "J\u00f6rg \"J\""}, "flag": true}"#;
    let c = p.matches(ev).unwrap();
    assert_eq!(c.number("$.latency"), Some(150.0));
    assert_eq!(c.get("$.user.name").as_deref(), Some("J\u{f6}rg \"J\""));
    assert_eq!(c.json("$.flag").as_deref(), Some("true"));
    assert_eq!(c.get("$.user"), None);
    assert_eq!(c.field("latency"), None);
    let mut m = MetricTransformation::count("App", "Latency");
    m.metric_value = "$.latency".into();
    m.dimensions.insert("User".into(), "$.user.name".into());
    assert_eq!(
        m.apply(&c),
        Some((150.0, vec![("User".into(), "J\u{f6}rg \"J\"".into())]))
    );
    m.dimensions.insert("Missing".into(), "$.nope".into());
    assert_eq!(m.apply(&c), None);
}

// ---- errors ----

fn rendered(p: &str) -> String {
    fail(p).render(p)
}

#[test]
fn errors_point_at_the_problem() {
    assert_eq!(
        rendered("[a, b; c]"),
        "error: expected `,`, `]` or a comparison (`=`, `!=`, `<`, `>`, `<=`, `>=`) after field `b`, found `;` at line 1, column 6\n  |\n1 | [a, b; c]\n  |      ^"
    );
    assert_eq!(
        rendered("{ $.a = 1 && }"),
        "error: expected a selector such as `$.field`, or `(`, found `}` at line 1, column 14\n  |\n1 | { $.a = 1 && }\n  |              ^"
    );
    assert_eq!(
        rendered("[bytes >= many]"),
        "error: expected a number after `>=`, found `many` at line 1, column 11\n  |\n1 | [bytes >= many]\n  |           ^^^^"
    );
    let e = fail("{ $.a IS NOT NULL }");
    assert_eq!((e.offset, e.len), (6, 6));
    assert_eq!(e.help.as_deref(), Some("use `!=` or `NOT EXISTS`"));
    let e = fail("{ $.a = \"x }");
    assert_eq!(
        (e.offset, e.message.as_str()),
        (8, "unterminated string: expected a closing `\"`")
    );
    let e = fail("[a, b");
    assert_eq!(e.offset, 5);
    assert_eq!(e.expected.as_deref(), Some("`,` or `]`"));
    assert!(
        rendered("{\n  $.a = 1\n  && $.b ~ 2\n}")
            .contains("at line 3, column 10\n  |\n3 |   && $.b ~ 2\n  |          ^")
    );
    let e = fail("{ $a = 1 }");
    assert_eq!((e.offset, e.expected.as_deref()), (3, Some("`.` or `[`")));
    let e = fail("{ $.a = 1 } { $.b = 2 }");
    assert_eq!(e.offset, 12);
    let e = fail("ERROR -");
    assert_eq!(e.offset, 6);
    let e = fail("[status_code = 404 || code = 410]");
    assert_eq!(e.offset, 22);
    assert!(e.help.is_some());
    let e = fail("[a, ..., b, ...]");
    assert_eq!(e.offset, 12);
}

#[test]
fn display_and_from_str() {
    let p: Pattern = "ERROR -DEBUG".parse().unwrap();
    assert_eq!(p.to_string(), "ERROR -DEBUG");
    assert_eq!(p.as_str(), "ERROR -DEBUG");
    assert_eq!(p.style(), Style::Terms);
    assert_eq!(pattern("{ $.a = 1 }").style(), Style::Json);
    assert_eq!(pattern(SSH).style(), Style::SpaceDelimited);
    assert_eq!(pattern(SSH).field_names().count(), 14);
    let e = fail("[a b]");
    assert_eq!(e.to_string(), format!("{} at byte 3", e.message));
}
