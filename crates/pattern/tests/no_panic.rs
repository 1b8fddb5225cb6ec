//! No input can make the parser or the matcher panic: arbitrary strings, and strings drawn from
//! the pattern language's own characters (which reach much deeper into the parsers), matched
//! against arbitrary and JSON-shaped events through every entry point.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use flowwatch_pattern::{FieldBuf, MetricTransformation, Pattern};
use proptest::prelude::*;

/// Pattern-language characters, weighted towards the ones with a meaning.
fn pattern_text() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            Just("{"),
            Just("}"),
            Just("["),
            Just("]"),
            Just("("),
            Just(")"),
            Just("$."),
            Just("$"),
            Just("."),
            Just(","),
            Just("="),
            Just("!="),
            Just("<"),
            Just(">="),
            Just("&&"),
            Just("||"),
            Just("\""),
            Just("%"),
            Just("*"),
            Just("?"),
            Just("-"),
            Just("..."),
            Just(" "),
            Just("a"),
            Just("b1"),
            Just("22"),
            Just("1e-3"),
            Just("\\"),
            Just("IS"),
            Just("NULL"),
            Just("NOT"),
            Just("EXISTS"),
            Just("TRUE"),
            Just("'"),
            Just("[*]"),
            Just("[0]"),
            Just("\n"),
            Just("é"),
            Just("^"),
            Just("|"),
        ],
        0..24,
    )
    .prop_map(|parts| parts.concat())
}

fn event_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        proptest::collection::vec(
            prop_oneof![
                Just("{"),
                Just("}"),
                Just("["),
                Just("]"),
                Just("\""),
                Just(":"),
                Just(","),
                Just(" "),
                Just("a"),
                Just("\"a\""),
                Just("1"),
                Just("-2.5e3"),
                Just("null"),
                Just("true"),
                Just("\\"),
                Just("\\\""),
                Just("\\u00e9"),
                Just("REJECT"),
                Just("22"),
            ],
            0..40,
        )
        .prop_map(|parts| parts.concat()),
    ]
}

fn exercise(pattern: &str, event: &str) {
    let Ok(p) = Pattern::parse(pattern) else {
        return;
    };
    let a = p.is_match(event);
    let mut buf = FieldBuf::new();
    let split = buf.split(event);
    assert_eq!(p.is_match_event(split), a, "{pattern:?} on {event:?}");
    assert_eq!(p.matches(event).is_some(), a);
    if let Some(c) = p.matches_event(split) {
        let _ = c.extracted();
        for r in ["$a", "$1", "$99", "$.a", "$.a[0]", "$.*", "nonsense", "$"] {
            let _ = c.get(r);
            let _ = c.number(r);
        }
        let mut m = MetricTransformation::count("N", "M");
        m.metric_value = "$a".into();
        let _ = m.apply(&c);
    }
    if a {
        assert!(p.may_match(event));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_strings_never_panic(pattern in any::<String>(), event in any::<String>()) {
        exercise(&pattern, &event);
    }

    #[test]
    fn pattern_shaped_strings_never_panic(pattern in pattern_text(), event in event_text()) {
        exercise(&pattern, &event);
        // Also as the inside of each style.
        exercise(&format!("{{ {pattern} }}"), &event);
        exercise(&format!("[{pattern}]"), &event);
        if let Err(e) = Pattern::parse(&pattern) {
            let _ = e.render(&pattern);
            prop_assert!(e.offset <= pattern.len());
        }
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let p = format!(
        "{{ {}$.a = 1{} }}",
        "(".repeat(100_000),
        ")".repeat(100_000)
    );
    assert!(Pattern::parse(&p).is_err());
    let ok = Pattern::parse("{ $.a = 1 }").unwrap();
    let ev = format!("{{\"a\": {}1{}}}", "[".repeat(100_000), "]".repeat(100_000));
    assert!(!ok.is_match(&ev));
    let sel = Pattern::parse("{ $.a[0][0][0] = 1 }").unwrap();
    assert!(!sel.is_match(&ev));
}
