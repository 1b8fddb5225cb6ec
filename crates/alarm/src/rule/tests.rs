//! Alarm rules: operators and precedence, names, AT_LEAST, errors with carets, fuzzing.

use super::*;
use std::collections::HashMap;

fn eval(rule: &str, states: &[(&str, StateValue)]) -> bool {
    let map: HashMap<&str, StateValue> = states.iter().copied().collect();
    let tree = parse(rule).unwrap_or_else(|e| panic!("{}", e.render(rule)));
    tree.evaluate(&|name| {
        map.get(name)
            .copied()
            .unwrap_or(StateValue::InsufficientData)
    })
}

fn check_error(rule: &str, expect: &str) {
    let e = parse(rule).expect_err("should fail");
    assert_eq!(e.render(rule), expect, "for {rule}");
}

use StateValue::{Alarm as A, InsufficientData as I, Ok as O};

#[test]
fn state_functions_and_operators() {
    let rule = "ALARM(CPUHigh) AND NOT ALARM(DeploymentInProgress)";
    assert!(eval(rule, &[("CPUHigh", A), ("DeploymentInProgress", O)]));
    assert!(!eval(rule, &[("CPUHigh", A), ("DeploymentInProgress", A)]));
    assert!(!eval(rule, &[("CPUHigh", O)]));
    assert!(eval("OK(a) OR INSUFFICIENT_DATA(b)", &[("a", A)]));
    assert!(eval("TRUE", &[]));
    assert!(!eval("FALSE OR NOT TRUE", &[]));
    assert!(eval("NOT NOT ALARM(a)", &[("a", A)]));
}

#[test]
fn precedence_not_and_or() {
    // a OR (b AND c)
    assert!(eval(
        "ALARM(a) OR ALARM(b) AND ALARM(c)",
        &[("a", A), ("b", O), ("c", O)]
    ));
    assert!(!eval(
        "(ALARM(a) OR ALARM(b)) AND ALARM(c)",
        &[("a", A), ("b", O), ("c", O)]
    ));
    // (NOT a) AND b
    assert!(eval("NOT ALARM(a) AND ALARM(b)", &[("a", O), ("b", A)]));
    assert!(!eval("NOT (ALARM(a) AND ALARM(b))", &[("a", A), ("b", A)]));
}

#[test]
fn names_bare_quoted_and_arns() {
    let rule = r#"ALARM("my \"quoted\" alarm") OR ALARM(arn:aws:cloudwatch:us-east-1:123456789012:alarm:cpu-high) OR ALARM("a,b (c)")"#;
    let tree = parse(rule).expect("parses");
    assert_eq!(
        tree.alarm_names(),
        vec![
            "my \"quoted\" alarm".to_string(),
            "cpu-high".to_string(),
            "a,b (c)".to_string()
        ]
    );
    let refs = tree.alarm_refs();
    assert_eq!(
        &rule[refs[0].start..refs[0].end],
        r#""my \"quoted\" alarm""#
    );
    assert_eq!(
        refs[1].text,
        "arn:aws:cloudwatch:us-east-1:123456789012:alarm:cpu-high"
    );
    assert!(eval(rule, &[("cpu-high", A)]));
    assert!(eval(r#"ALARM( "back\\slash" )"#, &[("back\\slash", A)]));
    assert!(eval("ALARM(OK)", &[("OK", A)]));
}

#[test]
fn at_least_counts_and_percentages() {
    let states = [("a1", A), ("a2", A), ("a3", O), ("a4", I)];
    assert!(eval("AT_LEAST(2, ALARM, (a1, a2, a3, a4))", &states));
    assert!(!eval("AT_LEAST(3, ALARM, (a1, a2, a3, a4))", &states));
    assert!(eval("AT_LEAST(50%, ALARM, (a1, a2, a3, a4))", &states));
    assert!(!eval("AT_LEAST(51%, ALARM, (a1, a2, a3, a4))", &states));
    assert!(eval(r#"AT_LEAST("50%", ALARM, (a1, a2, a3, a4))"#, &states));
    assert!(eval("AT_LEAST(2, NOT OK, (a1, a3, a4))", &states));
    assert!(!eval("AT_LEAST(3, NOT OK, (a1, a3, a4))", &states));
    assert!(eval("AT_LEAST(1, INSUFFICIENT_DATA, (a4))", &states));
    assert!(eval("AT_LEAST(33.3%, OK, (a1, a2, a3))", &states));
    assert!(eval(
        r#"AT_LEAST(1, ALARM, ("arn:aws:cloudwatch:us-east-1:1:alarm:a1", a3)) AND OK(a3)"#,
        &states
    ));
    let tree = parse("AT_LEAST(2, NOT ALARM, (x, \"y\"))").expect("parses");
    assert_eq!(
        tree,
        Rule::AtLeast {
            threshold: AtLeastThreshold::Count(2),
            condition: StateCondition {
                negated: true,
                state: A
            },
            alarms: vec![
                AlarmRef {
                    text: "x".into(),
                    name: "x".into(),
                    start: 24,
                    end: 25
                },
                AlarmRef {
                    text: "y".into(),
                    name: "y".into(),
                    start: 27,
                    end: 30
                },
            ],
        }
    );
}

#[test]
fn syntax_errors_with_carets() {
    check_error(
        "ALARM CPUHigh",
        "error: expected `(` after ALARM, found `CPUHigh` at byte 6\n  |\n1 | ALARM CPUHigh\n  |       ^^^^^^^",
    );
    check_error(
        "ALARM(a) AND",
        "error: unexpected end of rule, expected ALARM(...), OK(...), INSUFFICIENT_DATA(...), AT_LEAST(...), TRUE, FALSE, NOT or `(` at byte 12\n  |\n1 | ALARM(a) AND\n  |             ^",
    );
    check_error(
        "ALARM(a) and ALARM(b)",
        "error: expected AND, OR or end of rule, found `and` at byte 9\n  |\n1 | ALARM(a) and ALARM(b)\n  |          ^^^\n  = help: keywords are upper-case: AND",
    );
    check_error(
        "(ALARM(a) OR ALARM(b)",
        "error: unexpected end of rule, expected `)` at byte 21\n  |\n1 | (ALARM(a) OR ALARM(b)\n  |                      ^\n  = help: to close the `(` at byte 0",
    );
    check_error(
        "alarm(a)",
        "error: expected ALARM(...), OK(...), INSUFFICIENT_DATA(...), AT_LEAST(...), TRUE, FALSE, NOT or `(`, found `alarm` at byte 0\n  |\n1 | alarm(a)\n  | ^^^^^\n  = help: keywords are upper-case: ALARM",
    );
    check_error(
        "CPUHigh",
        "error: expected ALARM(...), OK(...), INSUFFICIENT_DATA(...), AT_LEAST(...), TRUE, FALSE, NOT or `(`, found `CPUHigh` at byte 0\n  |\n1 | CPUHigh\n  | ^^^^^^^\n  = help: to test an alarm's state write ALARM(CPUHigh)",
    );
    check_error(
        "ALARM(\"open",
        "error: unterminated quoted name at byte 6\n  |\n1 | ALARM(\"open\n  |       ^^^^^\n  = help: close it with `\"`; write \\\" for a quote inside a name",
    );
    check_error(
        "ALARM(\"\")",
        "error: empty alarm name at byte 6\n  |\n1 | ALARM(\"\")\n  |       ^^",
    );
    check_error(
        "AT_LEAST(3, ALARM, (a, b))",
        "error: AT_LEAST(3, ...) lists only 2 alarms and can never be true at byte 9\n  |\n1 | AT_LEAST(3, ALARM, (a, b))\n  |          ^\n  = help: AT_LEAST starts at byte 0",
    );
    check_error(
        "AT_LEAST(0%, ALARM, (a))",
        "error: percentage 0% is not in (0%, 100%] at byte 9\n  |\n1 | AT_LEAST(0%, ALARM, (a))\n  |          ^^",
    );
    check_error(
        "AT_LEAST(two, ALARM, (a))",
        "error: `two` is not a count (1, 2, ...) or a percentage (50%) at byte 9\n  |\n1 | AT_LEAST(two, ALARM, (a))\n  |          ^^^",
    );
    check_error(
        "AT_LEAST(1, BAD, (a))",
        "error: expected ALARM, OK or INSUFFICIENT_DATA, found `BAD` at byte 12\n  |\n1 | AT_LEAST(1, BAD, (a))\n  |             ^^^",
    );
    check_error(
        "AT_LEAST(1, ALARM, (a b))",
        "error: expected `,` or `)` in the AT_LEAST list, found `b` at byte 22\n  |\n1 | AT_LEAST(1, ALARM, (a b))\n  |                       ^",
    );
    check_error(
        "AT_LEAST(0, ALARM, (a))",
        "error: AT_LEAST count must be at least 1 at byte 9\n  |\n1 | AT_LEAST(0, ALARM, (a))\n  |          ^",
    );
    check_error(
        "",
        "error: unexpected end of rule, expected ALARM(...), OK(...), INSUFFICIENT_DATA(...), AT_LEAST(...), TRUE, FALSE, NOT or `(` at byte 0\n  |\n1 | \n  | ^",
    );
    check_error(
        "ALARM(a) ALARM(b)",
        "error: expected AND, OR or end of rule, found `ALARM` at byte 9\n  |\n1 | ALARM(a) ALARM(b)\n  |          ^^^^^",
    );
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let rule = format!("{}TRUE{}", "(".repeat(10_000), ")".repeat(10_000));
    let e = parse(&rule).expect_err("too deep");
    assert!(e.message.contains("deeper than 64"), "{e}");
    let nots = format!("{}TRUE", "NOT ".repeat(10_000));
    assert!(parse(&nots).is_err());
    let ok = format!("{}TRUE{}", "(".repeat(60), ")".repeat(60));
    assert!(parse(&ok).is_ok());
}

proptest::proptest! {
    #[test]
    fn parser_never_panics(rule in "[A-Z_()\", %a-z0-9\\\\]{0,60}") {
        let _ = parse(&rule);
    }

    #[test]
    fn parser_never_panics_on_any_text(rule in "\\PC{0,40}") {
        if let Err(e) = parse(&rule) {
            let _ = e.render(&rule);
        }
    }
}
