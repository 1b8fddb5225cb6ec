//! The Logs Insights parser against the language reference (spec §1): every command, the
//! lexical rules, operator precedence, output names, the VPC Flow Logs sample queries, errors
//! as the user sees them, and a no-panic sweep over mangled input.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use flowwatch_insights::ast::{
    DiffBase, LikePattern, Lookup, Parse, ParsePattern, Period, Projection, SortKey, Source, Stats,
};
use flowwatch_insights::{CommandKind, Expr, ExprKind, Query, QueryError, parse, period};

// ---- helpers ----

fn ok(q: &str) -> Query {
    match parse(q) {
        Ok(query) => query,
        Err(e) => panic!("{q:?} should parse:\n{}", e.render(q)),
    }
}

fn fail(q: &str) -> QueryError {
    match parse(q) {
        Ok(query) => panic!("{q:?} should not parse, got {query:?}"),
        Err(e) => e,
    }
}

/// The rendered error for `q`, which must not parse.
fn err(q: &str) -> String {
    fail(q).render(q)
}

/// The kinds of the commands of `q`.
fn kinds(q: &str) -> Vec<CommandKind> {
    ok(q).commands.into_iter().map(|c| c.kind).collect()
}

/// The only command of `q`.
fn single(q: &str) -> CommandKind {
    let mut kinds = kinds(q);
    assert_eq!(kinds.len(), 1, "{q:?} should have one command");
    kinds.pop().unwrap()
}

fn projections(q: &str) -> Vec<Projection> {
    match single(q) {
        CommandKind::Fields(ps) | CommandKind::Display(ps) => ps,
        other => panic!("{q:?}: expected fields or display, got {other:?}"),
    }
}

fn stats(q: &str) -> Stats {
    match single(q) {
        CommandKind::Stats(s) => s,
        other => panic!("{q:?}: expected stats, got {other:?}"),
    }
}

fn parse_cmd(q: &str) -> Parse {
    match single(q) {
        CommandKind::Parse(p) => p,
        other => panic!("{q:?}: expected parse, got {other:?}"),
    }
}

/// The filter expression of `filter <expr>`.
fn filter(expr: &str) -> Expr {
    let q = format!("filter {expr}");
    match single(&q) {
        CommandKind::Filter(e) => e,
        other => panic!("{q:?}: expected filter, got {other:?}"),
    }
}

/// The expression of `fields <expr>`, as an S-expression.
fn fx(expr: &str) -> String {
    let ps = projections(&format!("fields {expr}"));
    assert_eq!(ps.len(), 1);
    sx(&ps[0].expr)
}

/// The expression of `filter <expr>`, as an S-expression.
fn fl(expr: &str) -> String {
    sx(&filter(expr))
}

/// Output names of a `fields`/`display` command or of a `stats` (groups, then aggregates, as
/// CloudWatch outputs them).
fn names(q: &str) -> Vec<String> {
    match single(q) {
        CommandKind::Fields(ps) | CommandKind::Display(ps) => {
            ps.iter().map(|p| p.name().to_string()).collect()
        }
        CommandKind::Stats(s) => {
            s.by.iter()
                .chain(&s.aggregates)
                .map(|p| p.name().to_string())
                .collect()
        }
        other => panic!("{q:?}: no projections in {other:?}"),
    }
}

/// A compact, fully parenthesised rendering of an expression tree.
fn sx(e: &Expr) -> String {
    let list = |items: &[Expr]| {
        let items: Vec<String> = items.iter().map(sx).collect();
        format!("[{}]", items.join(" "))
    };
    match &e.kind {
        ExprKind::Field(name) => name.clone(),
        ExprKind::Int(n) => n.to_string(),
        ExprKind::Float(n) => format!("{n:?}"),
        ExprKind::Str(s) => format!("{s:?}"),
        ExprKind::Regex(r) => format!("/{r}/"),
        ExprKind::Period(p) => format!("<{}ms {}mo>", p.millis, p.months),
        ExprKind::List(items) => list(items),
        ExprKind::Neg(a) => format!("(neg {})", sx(a)),
        ExprKind::Not(a) => format!("(not {})", sx(a)),
        ExprKind::Binary(op, a, b) => format!("({} {} {})", op.symbol(), sx(a), sx(b)),
        ExprKind::Like {
            expr,
            pattern,
            negated,
        } => {
            let pattern = match pattern {
                LikePattern::Substring(s) => format!("{s:?}"),
                LikePattern::Regex(r) => format!("/{r}/"),
            };
            let op = if *negated { "not-like" } else { "like" };
            format!("({op} {} {pattern})", sx(expr))
        }
        ExprKind::In {
            expr,
            list: items,
            negated,
        } => {
            let op = if *negated { "not-in" } else { "in" };
            format!("({op} {} {})", sx(expr), list(items))
        }
        ExprKind::Call { name, args, star } => {
            if *star {
                format!("{name}(*)")
            } else {
                let args: Vec<String> = args.iter().map(sx).collect();
                format!("{name}({})", args.join(" "))
            }
        }
    }
}

fn field_names(fields: &[flowwatch_insights::ast::FieldRef]) -> Vec<&str> {
    fields.iter().map(|f| f.name.as_str()).collect()
}

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;

// ---- commands ----

#[test]
fn empty_and_comment_only_queries_have_no_commands() {
    assert_eq!(ok(""), Query::default());
    assert_eq!(ok("   \n\t "), Query::default());
    assert_eq!(ok("# nothing to see\n  # here"), Query::default());
}

#[test]
fn fields_projects_expressions_with_aliases() {
    let ps = projections(
        "fields @timestamp, srcAddr as src, bytes / packets as bpp, concat(srcAddr, ':', srcPort)",
    );
    assert_eq!(ps.len(), 4);
    assert_eq!(sx(&ps[0].expr), "@timestamp");
    assert_eq!(ps[0].alias, None);
    assert_eq!(ps[1].alias.as_deref(), Some("src"));
    assert_eq!(sx(&ps[2].expr), "(/ bytes packets)");
    assert_eq!(ps[2].alias.as_deref(), Some("bpp"));
    assert_eq!(sx(&ps[3].expr), "concat(srcAddr \":\" srcPort)");
    assert_eq!(
        names(
            "fields @timestamp, srcAddr as src, bytes / packets as bpp, concat(srcAddr, ':', srcPort)"
        ),
        ["@timestamp", "src", "bpp", "concat(srcAddr, ':', srcPort)"]
    );
    // Several `fields` commands stay separate commands.
    let ks = kinds("fields a | fields b as c");
    assert!(matches!(
        &ks[..],
        [CommandKind::Fields(_), CommandKind::Fields(_)]
    ));
}

#[test]
fn display_takes_expressions_and_aliases() {
    let ps = projections(r#"display t = "ERROR" as isError, @message"#);
    assert_eq!(sx(&ps[0].expr), r#"(= t "ERROR")"#);
    assert_eq!(ps[0].name(), "isError");
    assert_eq!(ps[1].name(), "@message");
    assert!(matches!(single("display a"), CommandKind::Display(_)));
}

#[test]
fn filter_and_where_are_the_same_command() {
    let a = single("filter action = 'REJECT' and dstPort = 22");
    let b = single("where action = 'REJECT' and dstPort = 22");
    let (CommandKind::Filter(a), CommandKind::Filter(b)) = (a, b) else {
        panic!("expected two filters");
    };
    assert_eq!(sx(&a), sx(&b));
    assert_eq!(sx(&a), r#"(and (= action "REJECT") (= dstPort 22))"#);
    // A bare boolean function, and the newer `!` spelling of `not`.
    assert_eq!(
        fl(r#"isIpv4InSubnet(srcAddr, "10.0.0.0/8")"#),
        r#"isIpv4InSubnet(srcAddr "10.0.0.0/8")"#
    );
    assert_eq!(fl("!ispresent(x)"), "(not ispresent(x))");
    assert_eq!(fl("not ispresent(x)"), "(not ispresent(x))");
}

#[test]
fn stats_with_several_aggregates_and_aliased_group_keys() {
    let s = stats(
        "stats count(*) as n, sum(bytes)/1024 as kb, avg(bytes), pct(bytes, 95) \
         by srcAddr as src, bin(5m) as t, dstPort",
    );
    let aggs: Vec<String> = s.aggregates.iter().map(|p| sx(&p.expr)).collect();
    assert_eq!(
        aggs,
        [
            "count(*)",
            "(/ sum(bytes) 1024)",
            "avg(bytes)",
            "pct(bytes 95)"
        ]
    );
    let agg_names: Vec<&str> = s.aggregates.iter().map(Projection::name).collect();
    assert_eq!(agg_names, ["n", "kb", "avg(bytes)", "pct(bytes, 95)"]);
    let by: Vec<String> = s.by.iter().map(|p| sx(&p.expr)).collect();
    assert_eq!(
        by,
        [
            "srcAddr",
            &format!("bin(<{}ms 0mo>)", 5 * MINUTE),
            "dstPort"
        ]
    );
    let by_names: Vec<&str> = s.by.iter().map(Projection::name).collect();
    assert_eq!(by_names, ["src", "t", "dstPort"]);

    // Without `by`; `count()` is `count(*)` without the star; `count(f)` counts a field.
    let s = stats("stats count(), count(srcAddr), count_distinct(dstAddr)");
    assert!(s.by.is_empty());
    assert_eq!(
        s.aggregates.iter().map(|p| sx(&p.expr)).collect::<Vec<_>>(),
        ["count()", "count(srcAddr)", "count_distinct(dstAddr)"]
    );

    // Every aggregate of §1.6, nesting in expressions and taking expressions; a later item may
    // use an earlier alias (no aggregate needed).
    ok(
        "stats avg(bytes), count(*), count(f), count_distinct(f), max(bytes), min(bytes), \
        pct(bytes, 50), stddev(bytes), sum(bytes), earliest(action), latest(action), \
        sortsFirst(srcAddr), sortsLast(srcAddr)",
    );
    ok(
        "stats max(@memorySize/1000/1000) as provisionedMB, max(@maxMemoryUsed/1000/1000) as maxUsedMB, \
        provisionedMB - maxUsedMB as overMB",
    );

    // Two `stats` are fine; the second can use the first's outputs.
    let ks = kinds("stats count(*) as c by bin(5m) as @t | stats avg(c) by dateceil(@t, 10m)");
    assert!(matches!(
        &ks[..],
        [CommandKind::Stats(_), CommandKind::Stats(_)]
    ));
}

#[test]
fn sort_with_directions_and_several_keys() {
    let CommandKind::Sort(keys) = single("sort bytes desc, srcAddr asc, dstPort, @timestamp DESC")
    else {
        panic!("expected sort");
    };
    let got: Vec<(String, bool)> = keys
        .iter()
        .map(|SortKey { expr, descending }| (sx(expr), *descending))
        .collect();
    assert_eq!(
        got,
        [
            ("bytes".into(), true),
            ("srcAddr".into(), false),
            ("dstPort".into(), false),
            ("@timestamp".into(), true)
        ]
    );
    let CommandKind::Sort(keys) = single("sort bytes / packets desc") else {
        panic!("expected sort");
    };
    assert_eq!(sx(&keys[0].expr), "(/ bytes packets)");
    assert!(keys[0].descending);
}

#[test]
fn limit_head_tail_and_limit_any() {
    assert_eq!(single("limit 15"), CommandKind::Limit(15));
    assert_eq!(single("head 3"), CommandKind::Limit(3));
    assert_eq!(single("tail 4"), CommandKind::Limit(4));
    assert_eq!(single("limit any 100"), CommandKind::Limit(100));
    assert_eq!(single("LIMIT ANY 7"), CommandKind::Limit(7));
    assert_eq!(single("limit 100000"), CommandKind::Limit(100_000));
    assert!(fail("limit 0").message.contains("positive whole number"));
    assert!(fail("limit -1").message.contains("positive whole number"));
    assert!(fail("limit 1.5").message.contains("positive whole number"));
    assert!(fail("limit").message.contains("positive whole number"));
    assert!(fail("limit any").message.contains("positive whole number"));
}

#[test]
fn parse_with_a_glob() {
    let p = parse_cmd(r#"parse @message "[*] * The error was: *" as level, config, exception"#);
    assert_eq!(p.source.as_ref().map(|f| f.name.as_str()), Some("@message"));
    assert_eq!(
        p.pattern,
        ParsePattern::Glob {
            glob: "[*] * The error was: *".into(),
            names: vec!["level".into(), "config".into(), "exception".into()],
        }
    );
    // The source defaults to @message (None here); single quotes work too.
    let p = parse_cmd("parse 'user=*' as user");
    assert_eq!(p.source, None);
    assert_eq!(
        p.pattern,
        ParsePattern::Glob {
            glob: "user=*".into(),
            names: vec!["user".into()],
        }
    );
    // Another source field, and chained parses.
    let p = parse_cmd(r#"parse detail "a*b" as x"#);
    assert_eq!(p.source.unwrap().name, "detail");
    assert_eq!(
        kinds(r#"parse "a=*" as a | parse a "*-*" as b, c"#).len(),
        2
    );
}

#[test]
fn parse_with_a_regex_extracts_named_groups() {
    let p = parse_cmd(r"parse @message /x(?<a>\d)/");
    assert_eq!(
        p.pattern,
        ParsePattern::Regex {
            regex: r"x(?<a>\d)".into(),
            names: vec!["a".into()],
        }
    );
    let p = parse_cmd(
        r"parse @message /\[(?<level>\S+)\]\s+(?<config>\{.*\})\s+The error was: (?<exception>\S+)/",
    );
    let ParsePattern::Regex { names, .. } = p.pattern else {
        panic!("expected a regex");
    };
    assert_eq!(names, ["level", "config", "exception"]);
    // Source omitted; `(?P<…>)` spelling; unnamed groups are not fields; `\/` is a slash.
    let p = parse_cmd(r"PARSE /(?i)(\w+)\/(?P<path>[^ ]*)/");
    assert_eq!(p.source, None);
    assert_eq!(
        p.pattern,
        ParsePattern::Regex {
            regex: r"(?i)(\w+)/(?P<path>[^ ]*)".into(),
            names: vec!["path".into()],
        }
    );
    // `#` and quotes inside a regex are regex characters.
    let p = parse_cmd(r#"parse @message /#(?<n>\d+) "it's"/"#);
    assert!(
        matches!(p.pattern, ParsePattern::Regex { ref regex, .. } if regex == r#"#(?<n>\d+) "it's""#)
    );
}

#[test]
fn dedup_takes_fields_and_only_limit_may_follow() {
    let CommandKind::Dedup(fields) = single("dedup srcAddr, dstAddr, `dst-port`, @logStream")
    else {
        panic!("expected dedup");
    };
    assert_eq!(
        field_names(&fields),
        ["srcAddr", "dstAddr", "dst-port", "@logStream"]
    );
    let ks = kinds("sort @timestamp desc | dedup srcAddr | limit 20");
    assert!(matches!(
        &ks[..],
        [
            CommandKind::Sort(_),
            CommandKind::Dedup(_),
            CommandKind::Limit(20)
        ]
    ));
    assert!(
        fail("dedup a | limit 2 | sort a")
            .message
            .contains("cannot follow `dedup`")
    );
    assert!(
        fail("dedup a | dedup b")
            .message
            .contains("`dedup` cannot follow `dedup`")
    );
    assert!(
        fail("dedup a | fields a")
            .message
            .contains("`fields` cannot follow")
    );
    assert!(
        fail("dedup a | stats count(*)")
            .message
            .contains("`stats` cannot follow")
    );
    assert!(fail("dedup").message.contains("expected a field name"));
}

#[test]
fn lookup_keys_and_outputs() {
    let CommandKind::Lookup(Lookup {
        table,
        keys,
        outputs,
        ..
    }) = single("lookup hosts ip as srcAddr, vpc OUTPUT hostname, owner")
    else {
        panic!("expected lookup");
    };
    assert_eq!(table, "hosts");
    let keys: Vec<(&str, &str)> = keys
        .iter()
        .map(|(col, f)| (col.as_str(), f.name.as_str()))
        .collect();
    assert_eq!(keys, [("ip", "srcAddr"), ("vpc", "vpc")]);
    assert_eq!(outputs, ["hostname", "owner"]);
    // OUTPUT is case-insensitive.
    assert!(matches!(
        single("lookup t k output o"),
        CommandKind::Lookup(_)
    ));
    assert!(fail("lookup t k").message.contains("expected OUTPUT"));
    assert!(
        fail("lookup t k OUTPUT")
            .message
            .contains("expected a table column")
    );
}

#[test]
fn diff_with_and_without_a_base() {
    assert_eq!(single("diff"), CommandKind::Diff(DiffBase::Previous));
    assert_eq!(
        single("diff previousDay"),
        CommandKind::Diff(DiffBase::PreviousDay)
    );
    assert_eq!(
        single("diff previousWeek"),
        CommandKind::Diff(DiffBase::PreviousWeek)
    );
    assert_eq!(
        single("DIFF PREVIOUSMONTH"),
        CommandKind::Diff(DiffBase::PreviousMonth)
    );
    let ks = kinds("stats count(*) by srcAddr | diff | limit 5");
    assert_eq!(ks[1], CommandKind::Diff(DiffBase::Previous));
    assert!(fail("diff previousYear").message.contains("expected `|`"));
}

#[test]
fn source_commands() {
    let q = ok("SOURCE 'g' | fields a");
    assert_eq!(q.sources, [Source::Group("g".into())]);
    assert_eq!(q.commands.len(), 1);

    let q = ok("SOURCE 'g1' | SOURCE \"g2\" | stats count(*)");
    assert_eq!(
        q.sources,
        [Source::Group("g1".into()), Source::Group("g2".into())]
    );

    let q = ok("SOURCE logGroups(namePrefix:['a']) | filter x = 1");
    assert_eq!(q.sources, [Source::Prefixes(vec!["a".into()])]);

    let q = ok(
        "source logGroups(namePrefix: ['a', 'b'], accountIdentifiers: ['111111111111'], class: ['STANDARD'])",
    );
    assert_eq!(q.sources, [Source::Prefixes(vec!["a".into(), "b".into()])]);
    assert!(q.commands.is_empty());
    assert_eq!(ok("SOURCE logGroups()").sources, [Source::Prefixes(vec![])]);
    assert_eq!(
        ok("SOURCE logGroups(namePrefix: [])").sources,
        [Source::Prefixes(vec![])]
    );

    assert!(
        fail("fields a | SOURCE 'g'")
            .message
            .contains("SOURCE must come before every other command")
    );
    assert!(
        fail("SOURCE logGroups(prefix: ['a'])")
            .message
            .contains("unknown logGroups argument")
    );
    assert!(
        fail("SOURCE logGroups(namePrefix: [1])")
            .message
            .contains("expected a quoted string")
    );
    assert!(fail("SOURCE g").message.contains("quoted log group name"));
}

// ---- lexical rules ----

#[test]
fn comments_run_to_the_end_of_the_line() {
    let q = "# top comment\nfields a # the field | filter b\n| filter c = \"#not a comment\" # trailing\n# last";
    let ks = kinds(q);
    assert_eq!(ks.len(), 2);
    let CommandKind::Filter(e) = &ks[1] else {
        panic!("expected filter");
    };
    assert_eq!(sx(e), r##"(= c "#not a comment")"##);
    // A comment inside an expression.
    assert_eq!(fx("a + # one\n b"), "(+ a b)");
}

#[test]
fn keywords_are_case_insensitive() {
    let q = r#"FIELDS a AS b | PARSE @message "*" AS c | FILTER c IN ["x"] AND NOT d LIKE "y" OR e NOT IN [1] | STATS COUNT(*) AS n BY b | SORT n DESC | LIMIT 5"#;
    let ks = kinds(q);
    assert_eq!(ks.len(), 6);
    let CommandKind::Filter(e) = &ks[2] else {
        panic!("expected filter");
    };
    assert_eq!(
        sx(e),
        r#"(or (and (in c ["x"]) (not (like d "y"))) (not-in e [1]))"#
    );
    assert_eq!(sx(&filter("a Like 'x'")), r#"(like a "x")"#);
    assert_eq!(fl("a NOT LIKE /x/"), "(not-like a /x/)");
    // Functions match case-insensitively and take their canonical spelling; the output name
    // keeps the text as written.
    let ps = projections("fields ISIPV4INSUBNET(a, 'x'), ToUpper(b), Count_Distinct");
    assert_eq!(sx(&ps[0].expr), r#"isIpv4InSubnet(a "x")"#);
    assert_eq!(ps[0].name(), "ISIPV4INSUBNET(a, 'x')");
    assert_eq!(sx(&ps[1].expr), "toupper(b)");
    // Not followed by `(`, a function name is a field.
    assert_eq!(sx(&ps[2].expr), "Count_Distinct");
}

#[test]
fn field_names_plain_dotted_system_and_backticked() {
    assert_eq!(fx("userIdentity.type"), "userIdentity.type");
    assert_eq!(fx("items.0.instanceId"), "items.0.instanceId");
    assert_eq!(fx("@timestamp"), "@timestamp");
    assert_eq!(fx("@@example.com"), "@@example.com");
    assert_eq!(fx("_x9"), "_x9");
    assert_eq!(fx("`foo-bar`"), "foo-bar");
    assert_eq!(fx("`detail-type`"), "detail-type");
    assert_eq!(
        fx("@`aws.tag.aws:cloudformation:stack-name`"),
        "@aws.tag.aws:cloudformation:stack-name"
    );
    assert_eq!(fx("m.`user.id`"), "m.user.id");
    // Backticks make keywords and function names plain fields.
    assert_eq!(fl("`not` = 1"), "(= not 1)");
    assert_eq!(fl("`and` and `or`"), "(and and or)");
    assert!(matches!(filter("`count`").kind, ExprKind::Field(ref n) if n == "count"));
    // Aliases and parse names may be backticked.
    assert_eq!(names("fields a as `my field`"), ["my field"]);
    let ps = projections("fields `foo-bar` as x");
    assert_eq!(ps[0].text, "`foo-bar`");
    assert!(
        fail("fields `oops")
            .message
            .contains("unterminated field name")
    );
}

#[test]
fn strings_numbers_and_lists() {
    assert_eq!(fx(r#""double""#), r#""double""#);
    assert_eq!(fx("'single'"), r#""single""#);
    assert_eq!(fx(r#"'it\'s'"#), r#""it's""#);
    assert_eq!(fx(r#""a\"b""#), r#""a\"b""#);
    assert_eq!(fx(r#""tab\there""#), r#""tab\there""#);
    // Unknown escapes are kept as written.
    assert_eq!(fx(r#""\d+""#), r#""\\d+""#);
    assert_eq!(fx("42"), "42");
    assert_eq!(fx("4.25"), "4.25");
    assert_eq!(fx("0.5"), "0.5");
    // Too big for i64: a float.
    assert_eq!(fx("99999999999999999999"), "1e20");
    assert!(fail("fields 1.5m").message.contains("whole number"));
    assert!(
        fail("fields 5xx")
            .message
            .contains("unknown time unit `xx`")
    );
    assert_eq!(fl("a in []"), "(in a [])");
    assert!(
        fail("fields a | filter b = é")
            .message
            .contains("unexpected character `é`")
    );
}

// ---- operators ----

#[test]
fn arithmetic_precedence() {
    // `^` > `* / %` > `+ -`, left-associative within a level.
    assert_eq!(fx("a + b * c ^ d"), "(+ a (* b (^ c d)))");
    assert_eq!(fx("a ^ b * c"), "(* (^ a b) c)");
    assert_eq!(fx("a * b + c"), "(+ (* a b) c)");
    assert_eq!(fx("a - b / c % d"), "(- a (% (/ b c) d))");
    assert_eq!(fx("a - b - c"), "(- (- a b) c)");
    assert_eq!(fx("a / b / c"), "(/ (/ a b) c)");
    assert_eq!(fx("a % b * c"), "(* (% a b) c)");
    assert_eq!(fx("a + b - c + d"), "(+ (- (+ a b) c) d)");
    assert_eq!(fx("(a + b) * c"), "(* (+ a b) c)");
    assert_eq!(fx("a * (b + c)"), "(* a (+ b c))");
    assert_eq!(fx("((a))"), "a");
}

#[test]
fn power_is_right_associative() {
    assert_eq!(fx("2 ^ 3 ^ 2"), "(^ 2 (^ 3 2))");
    assert_eq!(fx("a ^ b ^ c * d"), "(* (^ a (^ b c)) d)");
    assert_eq!(fx("(2 ^ 3) ^ 2"), "(^ (^ 2 3) 2)");
    // The grammar puts unary minus below `^` (`pow := unary ("^" unary)*`): -2^2 is (-2)^2.
    assert_eq!(fx("-2 ^ 2"), "(^ -2 2)");
    assert_eq!(fx("2 ^ -1"), "(^ 2 -1)");
}

#[test]
fn boolean_and_comparison_precedence() {
    // arithmetic > comparisons/like/in > not > and > or
    assert_eq!(fl("a + 1 > b * 2"), "(> (+ a 1) (* b 2))");
    assert_eq!(fl("a + 1 in [2, 3]"), "(in (+ a 1) [2 3])");
    assert_eq!(
        fl("a = 1 and b = 2 or c = 3"),
        "(or (and (= a 1) (= b 2)) (= c 3))"
    );
    assert_eq!(
        fl("a = 1 or b = 2 and c = 3"),
        "(or (= a 1) (and (= b 2) (= c 3)))"
    );
    assert_eq!(fl("a or b or c"), "(or (or a b) c)");
    assert_eq!(fl("a and b and c"), "(and (and a b) c)");
    assert_eq!(fl("not a = 1 and b"), "(and (not (= a 1)) b)");
    assert_eq!(fl("not a or b"), "(or (not a) b)");
    assert_eq!(fl("not (a or b)"), "(not (or a b))");
    assert_eq!(fl("not not a"), "(not (not a))");
    assert_eq!(fl("not a in [1]"), "(not (in a [1]))");
    assert_eq!(fl("! a like 'x'"), r#"(not (like a "x"))"#);
    assert_eq!(
        fl("a like 'x' and b =~ /y/ or c in [1] and not d"),
        r#"(or (and (like a "x") (like b /y/)) (and (in c [1]) (not d)))"#
    );
    assert_eq!(fl("(a or b) and c"), "(and (or a b) c)");
    // Every comparison operator; `==` is `=`.
    assert_eq!(fl("a = 1"), "(= a 1)");
    assert_eq!(fl("a == 1"), "(= a 1)");
    assert_eq!(fl("a != 1"), "(!= a 1)");
    assert_eq!(fl("a < 1"), "(< a 1)");
    assert_eq!(fl("a <= 1"), "(<= a 1)");
    assert_eq!(fl("a > 1"), "(> a 1)");
    assert_eq!(fl("a >= 1"), "(>= a 1)");
    assert_eq!(fl("a>=1 and b<2"), "(and (>= a 1) (< b 2))");
}

#[test]
fn like_not_like_and_regex_match() {
    assert_eq!(fl(r#"@message like "s""#), r#"(like @message "s")"#);
    assert_eq!(fl("@message like 'single'"), r#"(like @message "single")"#);
    assert_eq!(fl("@message not like 'x'"), r#"(not-like @message "x")"#);
    assert_eq!(fl("@message like /re/"), "(like @message /re/)");
    assert_eq!(fl("@message not like /re/"), "(not-like @message /re/)");
    assert_eq!(fl("@message =~ /re/"), "(like @message /re/)");
    assert_eq!(
        fl("@message =~ /(?i)error|warn/"),
        "(like @message /(?i)error|warn/)"
    );
    assert_eq!(fl(r"@message like /a\/b/"), "(like @message /a/b/)");
    // A quoted string after `=~` is still a regex.
    let e = filter(r#"@message =~ "x+""#);
    assert!(matches!(
        e.kind,
        ExprKind::Like { pattern: LikePattern::Regex(ref r), negated: false, .. } if r == "x+"
    ));
    // `like` on an expression.
    assert_eq!(fl("tolower(a) like 'x'"), r#"(like tolower(a) "x")"#);
    assert!(fail("filter a like 5").message.contains("after `like`"));
    assert!(fail("filter a =~ 5").message.contains("after `=~`"));
    assert!(
        fail("filter a not 5")
            .message
            .contains("expected `like` or `in` after `not`")
    );
    assert!(
        fail("filter a like /(/")
            .message
            .starts_with("invalid regular expression")
    );
    assert!(
        fail("filter a =~ '['")
            .message
            .starts_with("invalid regular expression")
    );
}

#[test]
fn in_and_not_in_with_mixed_lists() {
    assert_eq!(
        fl(r#"Type not in ["foo","bar",1]"#),
        r#"(not-in Type ["foo" "bar" 1])"#
    );
    assert_eq!(
        fl("dstPort in [22, 3389, -1, 2.5, 'x']"),
        r#"(in dstPort [22 3389 -1 2.5 "x"])"#
    );
    assert_eq!(fl("a IN [1]"), "(in a [1])");
    assert_eq!(fl("a NOT IN [1]"), "(not-in a [1])");
    assert_eq!(fl("a in [1 + 1, b, lower]"), "(in a [(+ 1 1) b lower])");
    assert_eq!(
        fl("a in [1] and b not in ['x']"),
        r#"(and (in a [1]) (not-in b ["x"]))"#
    );
    assert!(fail("filter a in b").message.contains("expected a list"));
    assert!(fail("filter a in (1, 2)").message.contains("expected"));
    assert!(fail("filter a in [1, 2").message.contains("expected `]`"));
    assert!(
        fail("filter a in [1,]")
            .message
            .contains("expected a value")
    );
}

#[test]
fn unary_minus() {
    assert_eq!(fx("-5"), "-5");
    assert_eq!(fx("-5.5"), "-5.5");
    assert_eq!(fx("- 5"), "-5");
    assert_eq!(fx("- -5"), "5");
    assert_eq!(fx("-bytes"), "(neg bytes)");
    assert_eq!(fx("-(a + b)"), "(neg (+ a b))");
    assert_eq!(fx("-abs(a)"), "(neg abs(a))");
    assert_eq!(fx("a - -1"), "(- a -1)");
    assert_eq!(fx("a-1"), "(- a 1)");
    assert_eq!(fx("3 * -a"), "(* 3 (neg a))");
    assert_eq!(fx("-a * 3"), "(* (neg a) 3)");
    assert_eq!(fl("a > -1"), "(> a -1)");
    assert_eq!(
        names("fields -5, -bytes, - bytes"),
        ["-5", "-bytes", "- bytes"]
    );
}

#[test]
fn period_literals() {
    let fixed = |lit: &str, millis: i64| {
        assert_eq!(
            fx(lit),
            format!("<{millis}ms 0mo>"),
            "{lit} should be {millis} ms"
        );
    };
    fixed("5m", 5 * MINUTE);
    fixed("1h", HOUR);
    fixed("30s", 30_000);
    fixed("60s", 60_000);
    // Numbers are capped per unit: ms ≤ 1000, s ≤ 60, m ≤ 60, h ≤ 24.
    fixed("300s", 60_000);
    fixed("5000ms", 1000);
    fixed("90m", 60 * MINUTE);
    fixed("48h", DAY);
    fixed("100ms", 100);
    fixed("2d", 2 * DAY);
    fixed("1w", 7 * DAY);
    // Long and plural units, any case.
    fixed("2msec", 2);
    fixed("1millisecond", 1);
    fixed("15sec", 15_000);
    fixed("3seconds", 3_000);
    fixed("10min", 10 * MINUTE);
    fixed("10mins", 10 * MINUTE);
    fixed("2minutes", 2 * MINUTE);
    fixed("1hr", HOUR);
    fixed("2hours", 2 * HOUR);
    fixed("3days", 3 * DAY);
    fixed("2weeks", 14 * DAY);
    fixed("5MIN", 5 * MINUTE);
    let months = |lit: &str, months: u32| {
        assert_eq!(
            fx(lit),
            format!("<0ms {months}mo>"),
            "{lit} should be {months} months"
        );
    };
    months("1mo", 1);
    months("3mon", 3);
    months("3mos", 3);
    months("2months", 2);
    months("1q", 3);
    months("2qtr", 6);
    months("1quarter", 3);
    months("1y", 12);
    months("2yr", 24);
    months("1year", 12);

    assert_eq!(fx("bin(5m)"), format!("bin(<{}ms 0mo>)", 5 * MINUTE));
    assert_eq!(fx("bin(300s)"), fx("bin(1m)"));
    assert_eq!(
        fx("dateceil(@t, 10m)"),
        format!("dateceil(@t <{}ms 0mo>)", 10 * MINUTE)
    );

    assert_eq!(
        period(300, "s"),
        Some(Period {
            millis: 60_000,
            months: 0
        })
    );
    assert_eq!(
        period(1, "MO"),
        Some(Period {
            millis: 0,
            months: 1
        })
    );
    assert_eq!(period(1, "fortnight"), None);
    assert!(
        fail("stats count(*) by bin(5x)")
            .message
            .contains("unknown time unit `x`")
    );
}

// ---- output names ----

#[test]
fn output_names_are_aliases_or_source_text() {
    assert_eq!(names("stats count(*) by srcAddr"), ["srcAddr", "count(*)"]);
    assert_eq!(
        names("stats sum(bytes)/1024 by bin(5m)"),
        ["bin(5m)", "sum(bytes)/1024"]
    );
    assert_eq!(
        names("stats sum(bytes) / 1024, count(*)  by bin(5m) as t"),
        ["t", "sum(bytes) / 1024", "count(*)"]
    );
    assert_eq!(names("stats COUNT(*)"), ["COUNT(*)"]);
    assert_eq!(names("stats count()"), ["count()"]);
    assert_eq!(
        names("fields  bytes  +  1 , (a), @message"),
        ["bytes  +  1", "(a)", "@message"]
    );
    assert_eq!(
        names("display toupper(`detail-type`) as dt, strlen(@message)"),
        ["dt", "strlen(@message)"]
    );
    assert_eq!(
        names("stats avg(bytes), min(bytes), max(bytes) by srcAddr, dstAddr"),
        [
            "srcAddr",
            "dstAddr",
            "avg(bytes)",
            "min(bytes)",
            "max(bytes)"
        ]
    );
    assert_eq!(names("fields a like /x/"), ["a like /x/"]);
    assert_eq!(names("fields a in [1, 2]"), ["a in [1, 2]"]);
    assert_eq!(names("fields not a"), ["not a"]);
}

// ---- spec sample queries ----

/// The VPC Flow Logs sample queries of spec §1.8 (V1–V12, with the V9 variants).
const SAMPLES: &[&str] = &[
    "stats sum(packets) as packetsTransferred by srcAddr, dstAddr | sort packetsTransferred desc | limit 15",
    "filter isIpv4InSubnet(srcAddr, \"192.0.2.0/24\") | stats sum(bytes) as bytesTransferred by dstAddr | sort bytesTransferred desc | limit 15",
    "filter protocol=17 | stats count(*) by srcAddr",
    "filter logStatus=\"SKIPDATA\" | stats count(*) by bin(1h) as t | sort t",
    "fields @timestamp, srcAddr, dstAddr, srcPort, dstPort, protocol, bytes | filter logStream = 'vpc-flow-logs' and interfaceId = 'eni-0123456789abcdef0' | sort @timestamp desc | dedup srcAddr, dstAddr, srcPort, dstPort, protocol | limit 20",
    "stats avg(bytes), min(bytes), max(bytes) by srcAddr, dstAddr",
    "stats sum(bytes) as bytesTransferred by srcAddr, dstAddr | sort bytesTransferred desc | limit 10",
    "filter action=\"REJECT\" | stats count(*) as numRejections by srcAddr | sort numRejections desc | limit 20",
    "filter (dstAddr like 'x.x.x.x' and srcAddr like 'y.y.') | stats sum(bytes) as bytesTransferred by srcAddr, dstAddr | sort bytesTransferred desc | limit 10",
    "filter (dstAddr like 'x.x.x.x' or srcAddr like 'y.y.') | stats sum(bytes) as bytesTransferred by srcAddr, dstAddr | sort bytesTransferred desc | limit 10",
    "filter (dstAddr not like 'x.x.x.x' and srcAddr not like 'y.y.') | stats sum(bytes) as bytesTransferred by srcAddr, dstAddr | sort bytesTransferred desc | limit 10",
    "stats avg(bytes), max(bytes) by dstAddr",
    "parse @message /(?<NetworkInterface>eni-.*?) / | display NetworkInterface, @message",
    "stats sum(bytes) as b by bin(5m)",
];

/// Other queries from the language reference.
const MORE: &[&str] = &[
    "fields @timestamp, @message | filter toMillis(@timestamp) >= (now() * 1000 - 7200000) | sort @timestamp desc | limit 25",
    "parse @message \"[*] * The error was: *\" as level, config, exception",
    "parse @message /\\[(?<level>\\S+)\\]\\s+(?<config>\\{.*\\})\\s+The error was: (?<exception>\\S+)/",
    "stats count(*) by queryType, bin(1h)",
    "stats max(@timestamp) as @t, count(*) as c by bin(5m) | stats avg(c) by dateceil(@t, 10m)",
    "stats sum(len)/1024/1024 as mb, max(@memorySize/1000/1000) as provisionedMB",
    "filter Type not in [\"foo\",\"bar\",1] | display t = \"ERROR\" as isError",
    "SOURCE logGroups(namePrefix:['/aws/vpc'], class:['STANDARD']) | fields srcAddr | limit any 5",
    "SOURCE 'g1' | SOURCE 'g2' | filter action = 'REJECT' | stats count(*) by srcAddr",
    "FIELDS @timestamp, srcAddr\n# a comment | not a command\n| FILTER dstPort IN [22, 3389] and !ispresent(x)\n| lookup hosts ip as srcAddr OUTPUT owner\n| diff previousDay",
    "fields `detail-type`, @`aws.tag.aws:cloudformation:stack-name`, m.`user.id`, items.0.instanceId",
    "filter @message =~ /(?i)reject/ or @message not like /accept/ | fields -bytes ^ 2 % 7 as x",
];

#[test]
fn spec_sample_queries_parse() {
    for q in SAMPLES.iter().chain(MORE) {
        ok(q);
    }
}

#[test]
fn sample_queries_have_the_expected_shape() {
    // V1
    let ks = kinds(SAMPLES[0]);
    assert!(matches!(
        &ks[..],
        [
            CommandKind::Stats(_),
            CommandKind::Sort(_),
            CommandKind::Limit(15)
        ]
    ));
    assert_eq!(
        names(SAMPLES[0].split(" | ").next().unwrap()),
        ["srcAddr", "dstAddr", "packetsTransferred"]
    );
    // V3
    assert_eq!(names("stats count(*) by srcAddr"), ["srcAddr", "count(*)"]);
    let CommandKind::Filter(e) = &kinds(SAMPLES[2])[0] else {
        panic!("V3 starts with a filter");
    };
    assert_eq!(sx(e), "(= protocol 17)");
    // V4
    let ks = kinds(SAMPLES[3]);
    let CommandKind::Stats(s) = &ks[1] else {
        panic!("V4 has stats");
    };
    assert_eq!(s.by[0].name(), "t");
    assert_eq!(s.aggregates[0].name(), "count(*)");
    // V5
    let ks = kinds(SAMPLES[4]);
    assert_eq!(ks.len(), 5);
    let CommandKind::Dedup(fields) = &ks[3] else {
        panic!("V5 dedups");
    };
    assert_eq!(
        field_names(fields),
        ["srcAddr", "dstAddr", "srcPort", "dstPort", "protocol"]
    );
    assert_eq!(ks[4], CommandKind::Limit(20));
    // V9 and variants
    let v9: Vec<String> = SAMPLES[8..11]
        .iter()
        .map(|q| match &kinds(q)[0] {
            CommandKind::Filter(e) => sx(e),
            other => panic!("V9 starts with a filter, got {other:?}"),
        })
        .collect();
    assert_eq!(
        v9,
        [
            r#"(and (like dstAddr "x.x.x.x") (like srcAddr "y.y."))"#,
            r#"(or (like dstAddr "x.x.x.x") (like srcAddr "y.y."))"#,
            r#"(and (not-like dstAddr "x.x.x.x") (not-like srcAddr "y.y."))"#,
        ]
    );
    // V11
    let ks = kinds(SAMPLES[12]);
    let CommandKind::Parse(p) = &ks[0] else {
        panic!("V11 parses");
    };
    assert_eq!(
        p.pattern,
        ParsePattern::Regex {
            regex: "(?<NetworkInterface>eni-.*?) ".into(),
            names: vec!["NetworkInterface".into()],
        }
    );
    // V12
    assert_eq!(names(SAMPLES[13]), ["bin(5m)", "b"]);
}

// ---- regex or division ----

#[test]
fn slash_divides_after_an_operand_and_starts_a_regex_before_one() {
    assert_eq!(fx("bytes / 2"), "(/ bytes 2)");
    assert_eq!(fx("bytes/2"), "(/ bytes 2)");
    assert_eq!(fx("bytes / 2 / 4"), "(/ (/ bytes 2) 4)");
    assert_eq!(fx("(bytes) / 2"), "(/ bytes 2)");
    assert_eq!(fx("abs(bytes) / packets"), "(/ abs(bytes) packets)");
    assert_eq!(fx("5m / 2"), format!("(/ <{}ms 0mo> 2)", 5 * MINUTE));
    assert_eq!(fx("/abc/"), "/abc/");
    assert_eq!(fx("a / /b/"), "(/ a /b/)");
    let s = stats("stats sum(bytes)/1024/1024 as mb");
    assert_eq!(sx(&s.aggregates[0].expr), "(/ (/ sum(bytes) 1024) 1024)");
    assert_eq!(
        fl("@message like /a/ and bytes / 2 > 1"),
        "(and (like @message /a/) (> (/ bytes 2) 1))"
    );
    assert_eq!(
        fl("bytes / 2 > 1 and @message =~ /x/"),
        "(and (> (/ bytes 2) 1) (like @message /x/))"
    );
    let p = parse_cmd(r"parse @message /x(?<a>\d)/");
    assert!(matches!(p.pattern, ParsePattern::Regex { ref names, .. } if names == &["a"]));
    let ks = kinds(r"parse @message /x(?<a>\d)/ | fields a / 2 as half");
    let CommandKind::Fields(ps) = &ks[1] else {
        panic!("expected fields");
    };
    assert_eq!(sx(&ps[0].expr), "(/ a 2)");
    assert_eq!(ps[0].name(), "half");
    // A stray `/` where no operand can start is reported as itself, not as a regex.
    assert_eq!(
        fail("limit /5").message,
        "expected a positive whole number of rows, found `/`"
    );
    assert!(
        fail("fields a /")
            .message
            .contains("found the end of the query")
    );
}

// ---- spans ----

#[test]
fn spans_point_at_the_source_text() {
    let q =
        "fields a | filter bytes > 10 and srcAddr like 'x' | dedup srcAddr, `dst-port` | limit 5";
    let query = ok(q);
    let at = |s: flowwatch_insights::Span| &q[s.start..s.end];
    let spans: Vec<&str> = query.commands.iter().map(|c| at(c.span)).collect();
    assert_eq!(spans, ["fields", "filter", "dedup", "limit"]);
    let CommandKind::Filter(e) = &query.commands[1].kind else {
        panic!("expected filter");
    };
    assert_eq!(at(e.span), "bytes > 10 and srcAddr like 'x'");
    let ExprKind::Binary(_, left, right) = &e.kind else {
        panic!("expected and");
    };
    assert_eq!(at(left.span), "bytes > 10");
    assert_eq!(at(right.span), "srcAddr like 'x'");
    let CommandKind::Dedup(fields) = &query.commands[2].kind else {
        panic!("expected dedup");
    };
    assert_eq!(at(fields[1].span), "`dst-port`");

    let q = "lookup hosts ip OUTPUT owner";
    let CommandKind::Lookup(l) = single(q) else {
        panic!("expected lookup");
    };
    assert_eq!(&q[l.table_span.start..l.table_span.end], "hosts");
    assert_eq!(&q[l.keys[0].1.span.start..l.keys[0].1.span.end], "ip");

    let q = "fields -(a)";
    let ps = projections(q);
    assert_eq!(&q[ps[0].expr.span.start..ps[0].expr.span.end], "-(a)");
    let ExprKind::Neg(inner) = &ps[0].expr.kind else {
        panic!("expected neg");
    };
    assert_eq!(&q[inner.span.start..inner.span.end], "(a)");
}

// ---- errors as the user sees them ----

#[test]
fn error_unknown_function_suggests_a_name() {
    assert_eq!(
        err("stats cont(*) by srcAddr"),
        "\
error: unknown function `cont` at line 1, column 7
  |
1 | stats cont(*) by srcAddr
  |       ^^^^
  = help: did you mean `count`?"
    );
    assert_eq!(
        err("fields srcAddr\n| filter isIpv4InSubent(srcAddr, '10.0.0.0/8')"),
        "\
error: unknown function `isIpv4InSubent` at line 2, column 10
  |
2 | | filter isIpv4InSubent(srcAddr, '10.0.0.0/8')
  |          ^^^^^^^^^^^^^^
  = help: did you mean `isIpv4InSubnet`?"
    );
    // Nothing close: no help.
    let e = fail("fields frobnicate(a)");
    assert_eq!(e.message, "unknown function `frobnicate`");
    assert_eq!(e.help, None);
    // Display puts the help in parentheses.
    assert_eq!(
        fail("stats cont(*)").to_string(),
        "unknown function `cont` (did you mean `count`?)"
    );
}

#[test]
fn error_unknown_command() {
    assert_eq!(
        err("fileds srcAddr"),
        "\
error: unknown command `fileds` at line 1, column 1
  |
1 | fileds srcAddr
  | ^^^^^^
  = help: did you mean `fields`?"
    );
    assert_eq!(
        err("filter a = 1\n  | stat count(*)"),
        "\
error: unknown command `stat` at line 2, column 5
  |
2 |   | stat count(*)
  |     ^^^^
  = help: did you mean `stats`?"
    );
    let e = fail("xyzzy a");
    assert!(
        e.help
            .unwrap()
            .starts_with("commands are fields, display, filter")
    );
    assert_eq!(
        err("fields a | pattern @message"),
        "\
error: `pattern` (machine-learning clustering) is not supported at line 1, column 12
  |
1 | fields a | pattern @message
  |            ^^^^^^^"
    );
    assert!(
        fail("unnest a into b")
            .message
            .contains("`unnest` is not supported")
    );
    assert!(
        fail("filterIndex action = 'x'")
            .message
            .contains("`filterIndex`")
    );
    assert!(fail("anomaly").message.contains("`anomaly`"));
    // A command must be a bare word.
    assert_eq!(
        err("fields a | 5"),
        "\
error: expected a command (fields, filter, stats, sort, …), found number 5 at line 1, column 12
  |
1 | fields a | 5
  |            ^"
    );
    assert_eq!(
        err("fields a |"),
        "\
error: expected a command (fields, filter, stats, sort, …), found the end of the query at line 1, column 11
  |
1 | fields a |
  |           ^"
    );
}

#[test]
fn error_wrong_arity() {
    assert_eq!(
        err("filter isIpv4InSubnet(srcAddr)"),
        "\
error: isIpv4InSubnet takes 2 arguments, found 1 at line 1, column 8
  |
1 | filter isIpv4InSubnet(srcAddr)
  |        ^^^^^^^^^^^^^^^^^^^^^^^
  = help: usage: isIpv4InSubnet(field, \"cidr\")"
    );
    assert_eq!(
        fail("fields abs(1, 2)").message,
        "abs takes 1 argument, found 2"
    );
    assert_eq!(
        fail("fields greatest()").message,
        "greatest takes at least 1 argument, found 0"
    );
    assert_eq!(
        fail("fields substr(a)").message,
        "substr takes 2 to 3 arguments, found 1"
    );
    assert_eq!(
        fail("fields now(1)").message,
        "now takes 0 arguments, found 1"
    );
    assert_eq!(
        fail("stats count(a, b)").message,
        "count takes 0 to 1 arguments, found 2"
    );
    assert_eq!(fail("stats sum()").message, "sum takes 1 argument, found 0");
    assert_eq!(
        err("stats sum(*)"),
        "\
error: `*` is only allowed in count(*), not in sum at line 1, column 11
  |
1 | stats sum(*)
  |           ^"
    );
    assert!(fail("stats count(*, a)").message.contains("expected `)`"));
}

#[test]
fn error_unterminated_string_and_regex() {
    assert_eq!(
        err("filter action = \"REJECT"),
        "\
error: unterminated string: expected a closing \" at line 1, column 17
  |
1 | filter action = \"REJECT
  |                 ^^^^^^^"
    );
    // The caret stops at the end of the line even when the string runs on.
    assert_eq!(
        err("filter a = 'x\n| limit 5"),
        "\
error: unterminated string: expected a closing ' at line 1, column 12
  |
1 | filter a = 'x
  |            ^^"
    );
    assert_eq!(
        err("parse @message /abc\n| limit 5"),
        "\
error: unterminated regular expression: expected a closing / at line 1, column 16
  |
1 | parse @message /abc
  |                ^^^^"
    );
    assert!(
        fail("filter a = 'x\\'")
            .message
            .contains("unterminated string")
    );
}

#[test]
fn error_missing_pipe() {
    assert_eq!(
        err("fields srcAddr filter bytes > 0"),
        "\
error: expected `|` or the end of the query, found `filter` at line 1, column 16
  |
1 | fields srcAddr filter bytes > 0
  |                ^^^^^^
  = help: commands are separated by `|`"
    );
    assert_eq!(
        err("stats count(*) by srcAddr\nsort srcAddr"),
        "\
error: expected `|` or the end of the query, found `sort` at line 2, column 1
  |
2 | sort srcAddr
  | ^^^^
  = help: commands are separated by `|`"
    );
}

#[test]
fn error_aggregates_outside_stats() {
    assert_eq!(
        err("filter sum(bytes) > 100"),
        "\
error: the aggregate `sum` is not allowed outside `stats` at line 1, column 8
  |
1 | filter sum(bytes) > 100
  |        ^^^^^^^^^^
  = help: aggregate with `stats`, then refer to its result by alias"
    );
    assert!(
        fail("fields count(*)")
            .message
            .contains("not allowed outside `stats`")
    );
    assert!(
        fail("display 1 + max(a)")
            .message
            .contains("`max` is not allowed outside")
    );
    assert!(
        fail("sort avg(bytes) desc")
            .message
            .contains("`avg` is not allowed outside")
    );
    assert!(
        fail("filter a in [count(*)]")
            .message
            .contains("`count` is not allowed")
    );
    assert_eq!(
        fail("stats count(*) by sum(bytes)").message,
        "the aggregate `sum` is not allowed in `stats … by`"
    );
}

#[test]
fn error_nested_aggregate() {
    assert_eq!(
        err("stats max(sum(bytes))"),
        "\
error: the aggregate `sum` cannot be nested inside another aggregate at line 1, column 11
  |
1 | stats max(sum(bytes))
  |           ^^^^^^^^^^"
    );
    assert!(
        fail("stats sum(abs(count(*)) + 1)")
            .message
            .contains("`count` cannot be nested")
    );
    assert!(
        fail("stats sum(-avg(x))")
            .message
            .contains("cannot be nested")
    );
    // Aggregates side by side in one expression are fine.
    ok("stats sum(bytes) / count(*) as avgBytes");
}

#[test]
fn error_three_stats() {
    assert_eq!(
        err("stats count(*) as c by srcAddr\n| stats count(*) as d by c\n| stats count(*)"),
        "\
error: a query can have at most two `stats` commands at line 3, column 3
  |
3 | | stats count(*)
  |   ^^^^^"
    );
}

#[test]
fn error_command_after_dedup() {
    assert_eq!(
        err("dedup srcAddr | sort srcAddr"),
        "\
error: `sort` cannot follow `dedup` at line 1, column 17
  |
1 | dedup srcAddr | sort srcAddr
  |                 ^^^^
  = help: only `limit` may follow `dedup` (the dedup is at byte 0)"
    );
}

#[test]
fn error_glob_star_count() {
    assert_eq!(
        err("parse @message \"[*] * The error was: *\" as level, config"),
        "\
error: the pattern has 3 `*` but 2 field names follow `as` at line 1, column 16
  |
1 | parse @message \"[*] * The error was: *\" as level, config
  |                ^^^^^^^^^^^^^^^^^^^^^^^^
  = help: give one name per `*`"
    );
    assert_eq!(
        fail("parse \"*-*\" as a").message,
        "the pattern has 2 `*` but 1 field name follows `as`"
    );
    assert_eq!(
        fail("parse \"abc\" as a").message,
        "the pattern has 0 `*` but 1 field name follows `as`"
    );
    assert!(fail("parse \"a*\"").message.contains("expected `as`"));
    assert!(
        fail("parse @message")
            .message
            .contains("expected a quoted pattern")
    );
}

#[test]
fn error_regex_without_named_groups() {
    assert_eq!(
        err("parse @message /eni-(\\S+)/"),
        "\
error: the regular expression has no named groups to extract at line 1, column 16
  |
1 | parse @message /eni-(\\S+)/
  |                ^^^^^^^^^^^
  = help: name each group to extract: (?<name>…)"
    );
}

#[test]
fn error_invalid_regex() {
    assert_eq!(
        err("parse @message /(?<a>x/"),
        "\
error: invalid regular expression: unclosed group at line 1, column 16
  |
1 | parse @message /(?<a>x/
  |                ^^^^^^^^"
    );
    assert_eq!(
        err("fields a\n| filter @message like /[a-/"),
        "\
error: invalid regular expression: unclosed character class at line 2, column 24
  |
2 | | filter @message like /[a-/
  |                        ^^^^^"
    );
}

#[test]
fn error_other_mistakes() {
    assert_eq!(
        err("fields bin(5x)"),
        "\
error: unknown time unit `x` at line 1, column 12
  |
1 | fields bin(5x)
  |            ^^
  = help: units are ms, s, m, h, d, w, mo, q, y (and their long forms)"
    );
    assert_eq!(
        err("fields (a + b"),
        "\
error: expected `)`, found the end of the query at line 1, column 14
  |
1 | fields (a + b
  |              ^"
    );
    assert_eq!(
        err("fields a as"),
        "\
error: expected a name after `as`, found the end of the query at line 1, column 12
  |
1 | fields a as
  |            ^"
    );
    assert!(
        fail("stats count(*) by")
            .message
            .contains("expected a value")
    );
    assert!(fail("sort").message.contains("expected a value"));
    assert!(fail("filter").message.contains("expected a value"));
    assert!(
        fail("filter a = ")
            .message
            .contains("found the end of the query")
    );
    assert!(
        fail("fields a,")
            .message
            .contains("found the end of the query")
    );
    assert!(fail("filter a = )").message.contains("found `)`"));
}

#[test]
fn error_positions_count_characters_and_widen_the_gutter() {
    // Columns are in characters, not bytes.
    assert_eq!(
        err("filter a = 'é→' and b = cont(1)"),
        "\
error: unknown function `cont` at line 1, column 25
  |
1 | filter a = 'é→' and b = cont(1)
  |                         ^^^^
  = help: did you mean `count`?"
    );
    // Line 10 gets a two-digit gutter.
    let q = format!("fields a\n{}| stats cont(*)", "| filter b\n".repeat(8));
    assert_eq!(
        err(&q),
        "\
error: unknown function `cont` at line 10, column 9
   |
10 | | stats cont(*)
   |         ^^^^
   = help: did you mean `count`?"
    );
    let e = fail(&q);
    assert_eq!(e.position(&q), (10, 9));
    // Tabs and comments before the error.
    let q = "# comment\n\tfields a b";
    assert_eq!(fail(q).position(q), (2, 11));
}

// ---- robustness ----

/// A small xorshift64* generator, so the sweep is the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Parse `q`; it may fail but must not panic, and an error must point inside `q` and render.
fn survives(q: &str) {
    let result = std::panic::catch_unwind(|| parse(q));
    let Ok(result) = result else {
        panic!("parse panicked on {q:?}");
    };
    if let Err(e) = result {
        assert!(
            e.span.start <= e.span.end && e.span.end <= q.len(),
            "{q:?}: span {:?} out of bounds",
            e.span
        );
        let rendered = std::panic::catch_unwind(|| e.render(q))
            .unwrap_or_else(|_| panic!("render panicked on {q:?} ({e:?})"));
        let (line, column) = e.position(q);
        assert!(
            rendered.starts_with(&format!(
                "error: {} at line {line}, column {column}\n",
                e.message
            )),
            "{q:?}: {rendered}"
        );
        assert!(rendered.contains('^'), "{q:?}: {rendered}");
    }
}

const FRAGMENTS: &[&str] = &[
    "fields ",
    "filter ",
    "where ",
    "stats ",
    "sort ",
    "limit ",
    "head ",
    "parse ",
    "dedup ",
    "lookup ",
    "diff ",
    "display ",
    "SOURCE ",
    "logGroups(",
    "namePrefix:",
    "OUTPUT ",
    " by ",
    " as ",
    " and ",
    " or ",
    " not ",
    " like ",
    " in ",
    " asc",
    " desc",
    "any ",
    "previousDay",
    "count(*)",
    "sum(",
    "bin(",
    "5m",
    "300s",
    "1mo",
    "@message",
    "srcAddr",
    "`a-b`",
    "@`x`",
    "|",
    "(",
    ")",
    "[",
    "]",
    ",",
    "/",
    "/x(?<a>.)/",
    "\"",
    "'",
    "`",
    "#",
    "\n",
    " ",
    "=~",
    "=",
    "!=",
    "<=",
    ">",
    "!",
    "-",
    "+",
    "*",
    "^",
    "%",
    ":",
    "1",
    "2.5",
    "99999999999999999999",
    "é",
    "→",
    "\\",
    "?<",
    "*",
    "'a*b'",
];

#[test]
fn parse_never_panics_on_mangled_input() {
    let mut corpus: Vec<String> = SAMPLES.iter().chain(MORE).map(|s| s.to_string()).collect();
    corpus.push("fields a # comment with é → ünïcödé\n| filter b = 'ß' and `c-d` like /ø+/".into());
    corpus.push(
        r#"filter a = "x\"y\\" | parse @message /a\/b(?<c>.)/ | stats count(*) by bin(1h)"#.into(),
    );

    // Every prefix and suffix, cut at every byte (lossily re-decoded where that splits a char).
    for q in &corpus {
        let bytes = q.as_bytes();
        for i in 0..=bytes.len() {
            survives(&String::from_utf8_lossy(&bytes[..i]));
            survives(&String::from_utf8_lossy(&bytes[i..]));
        }
    }

    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    // Mutants of the samples: bytes replaced, dropped, or fragments inserted.
    for _ in 0..4000 {
        let mut bytes = corpus[rng.below(corpus.len())].clone().into_bytes();
        for _ in 0..1 + rng.below(4) {
            let at = rng.below(bytes.len() + 1);
            match rng.below(3) {
                0 if at < bytes.len() => bytes[at] = 0x20 + rng.below(0x5f) as u8,
                1 if at < bytes.len() => {
                    bytes.remove(at);
                }
                _ => {
                    let f = FRAGMENTS[rng.below(FRAGMENTS.len())];
                    bytes.splice(at..at, f.bytes());
                }
            }
        }
        survives(&String::from_utf8_lossy(&bytes));
    }
    // Random sequences of fragments.
    for _ in 0..4000 {
        let n = rng.below(16);
        let q: String = (0..n)
            .map(|_| FRAGMENTS[rng.below(FRAGMENTS.len())])
            .collect();
        survives(&q);
    }
    // Random printable ASCII, tabs and newlines.
    for _ in 0..4000 {
        let n = rng.below(48);
        let q: String = (0..n)
            .map(|_| match rng.below(20) {
                0 => '\n',
                1 => '\t',
                _ => char::from(0x20 + rng.below(0x5f) as u8),
            })
            .collect();
        survives(&q);
    }
    // Random bytes, decoded lossily.
    for _ in 0..2000 {
        let n = rng.below(32);
        let bytes: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
        survives(&String::from_utf8_lossy(&bytes));
    }
}

/// Run `f` on a thread with a 2 MiB stack, the default for spawned threads and tokio workers.
fn on_small_stack(f: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap();
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    on_small_stack(|| {
        // Reasonable nesting parses (up to 32 levels, counting the expression itself).
        let q = format!("fields {}a{}", "(".repeat(31), ")".repeat(31));
        assert_eq!(fx(&q["fields ".len()..]), "a");
        ok(&format!("fields {}5", "-".repeat(31)));
        ok(&format!("filter {}a", "not ".repeat(31)));
        ok(&format!("fields 2{}", "^2".repeat(31)));
        ok(&format!("fields {}a{}", "abs(".repeat(31), ")".repeat(31)));
        ok(&format!("fields {}1{}", "[".repeat(31), "]".repeat(31)));
        ok(&format!(
            "stats {}count(*){}",
            "abs(".repeat(31),
            ")".repeat(31)
        ));
        let q = format!("fields {}a{}", "(".repeat(40), ")".repeat(40));
        let e = fail(&q);
        assert_eq!(
            e.message,
            "the expression is nested too deeply (more than 32 levels)"
        );
        // The caret is on the first `(` too many.
        assert_eq!(e.position(&q), (1, 40));

        let n = 100_000;
        for q in [
            format!("fields {}a{}", "(".repeat(n), ")".repeat(n)),
            format!("fields {}", "(".repeat(n)),
            format!("fields {}a", "-".repeat(n)),
            format!("filter {}a", "not ".repeat(n)),
            format!("filter {}a", "!".repeat(n)),
            format!("fields 2{}", "^2".repeat(n)),
            format!("fields {}a", "abs(".repeat(n)),
            format!("fields {}", "[".repeat(n)),
            format!("filter a in [{}", "[".repeat(n)),
        ] {
            let e = fail(&q);
            assert!(
                e.message.starts_with("the expression is nested too deeply"),
                "{}",
                e.message
            );
            survives(&q);
        }
    });
}

#[test]
fn long_operator_chains_are_bounded() {
    on_small_stack(|| {
        // Long flat chains parse; a 1000-term `or` is plenty for a hand-written query.
        let terms: Vec<String> = (0..1000).map(|i| format!("dstPort = {i}")).collect();
        ok(&format!("filter {}", terms.join(" or ")));
        ok(&format!("fields a{}", " + a".repeat(900)));
        ok(&format!("stats sum(a){}", " + sum(a)".repeat(900)));
        ok(&format!("stats sum(a{})", " - a".repeat(900)));
        assert!(
            fail(&format!(
                "stats sum(a){} + sum(1 + max(a))",
                " + sum(a)".repeat(900)
            ))
            .message
            .contains("`max` cannot be nested")
        );
        // Beyond that, an error rather than trees too deep to walk and drop.
        for q in [
            format!("fields a{}", "+a".repeat(200_000)),
            format!("filter a{}", " or a".repeat(200_000)),
            format!("fields {}a{}", "(a+".repeat(20), ")".repeat(20)) + &"*a".repeat(200_000),
        ] {
            let e = fail(&q);
            assert!(
                e.message
                    .starts_with("the expression has too many operators"),
                "{}",
                e.message
            );
        }
        // Long lists and pipelines are flat, not deep.
        let items: Vec<String> = (0..50_000).map(|i| i.to_string()).collect();
        ok(&format!("filter dstPort in [{}]", items.join(", ")));
        let q = format!("fields a{}", " | fields a".repeat(20_000));
        assert_eq!(ok(&q).commands.len(), 20_001);
    });
}
