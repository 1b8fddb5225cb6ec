//! Composite-alarm rules (`AlarmRule`): lexer, recursive-descent parser, syntax tree and
//! evaluation against the children's current states.
//!
//! ```text
//! rule      = or
//! or        = and { "OR" and }
//! and       = not { "AND" not }
//! not       = "NOT" not | primary
//! primary   = "(" or ")" | "TRUE" | "FALSE"
//!           | ("ALARM" | "OK" | "INSUFFICIENT_DATA") "(" name ")"
//!           | "AT_LEAST" "(" threshold "," ["NOT"] state "," "(" name { "," name } ")" ")"
//! threshold = integer | number "%"          (either may be "quoted")
//! name      = bare | "quoted"               (bare: no space, parenthesis, comma or quote;
//!                                            quoted: \" and \\ escape)
//! ```
//!
//! Decisions where AWS is silent: keywords are upper-case only (a lower-case keyword is an
//! error with a hint); NOT binds tighter than AND, which binds tighter than OR; an AT_LEAST
//! count must be between 1 and the number of listed alarms and a percentage in (0, 100]
//! (anything else could never, or would always, be true); nesting is capped at 64 levels so
//! no input can overflow the stack.

use crate::error::RuleError;
use crate::model::{StateValue, alarm_name_of};

const MAX_DEPTH: usize = 64;

/// A parsed alarm rule.
#[derive(Clone, Debug, PartialEq)]
pub enum Rule {
    True,
    False,
    /// `ALARM(x)`, `OK(x)`, `INSUFFICIENT_DATA(x)`.
    State {
        state: StateValue,
        alarm: AlarmRef,
    },
    Not(Box<Rule>),
    And(Vec<Rule>),
    Or(Vec<Rule>),
    AtLeast {
        threshold: AtLeastThreshold,
        condition: StateCondition,
        alarms: Vec<AlarmRef>,
    },
}

/// A child alarm as the rule names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlarmRef {
    /// As written, unquoted: a name or an ARN.
    pub text: String,
    /// The alarm name (the part after `:alarm:` of an ARN).
    pub name: String,
    /// Byte range of the reference in the rule.
    pub start: usize,
    pub end: usize,
}

/// `M` of `AT_LEAST(M, ...)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum AtLeastThreshold {
    Count(u32),
    Percent(f64),
}

/// `ALARM`, `NOT OK`, ... in `AT_LEAST`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StateCondition {
    pub negated: bool,
    pub state: StateValue,
}

impl StateCondition {
    pub fn matches(self, state: StateValue) -> bool {
        (state == self.state) != self.negated
    }
}

impl Rule {
    /// True when the rule holds for the children's states.
    pub fn evaluate(&self, state_of: &dyn Fn(&str) -> StateValue) -> bool {
        match self {
            Rule::True => true,
            Rule::False => false,
            Rule::State { state, alarm } => state_of(&alarm.name) == *state,
            Rule::Not(inner) => !inner.evaluate(state_of),
            Rule::And(parts) => parts.iter().all(|p| p.evaluate(state_of)),
            Rule::Or(parts) => parts.iter().any(|p| p.evaluate(state_of)),
            Rule::AtLeast {
                threshold,
                condition,
                alarms,
            } => {
                let hits = alarms
                    .iter()
                    .filter(|a| condition.matches(state_of(&a.name)))
                    .count();
                match threshold {
                    AtLeastThreshold::Count(m) => hits >= *m as usize,
                    AtLeastThreshold::Percent(p) => hits as f64 * 100.0 >= p * alarms.len() as f64,
                }
            }
        }
    }

    /// Every alarm reference, in rule order.
    pub fn alarm_refs(&self) -> Vec<&AlarmRef> {
        let mut out = Vec::new();
        self.collect_refs(&mut out);
        out
    }

    fn collect_refs<'a>(&'a self, out: &mut Vec<&'a AlarmRef>) {
        match self {
            Rule::True | Rule::False => {}
            Rule::State { alarm, .. } => out.push(alarm),
            Rule::Not(inner) => inner.collect_refs(out),
            Rule::And(parts) | Rule::Or(parts) => {
                for p in parts {
                    p.collect_refs(out);
                }
            }
            Rule::AtLeast { alarms, .. } => out.extend(alarms.iter()),
        }
    }

    /// The child alarm names, in rule order, each once.
    pub fn alarm_names(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for r in self.alarm_refs() {
            if !names.contains(&r.name) {
                names.push(r.name.clone());
            }
        }
        names
    }
}

/// Parses an `AlarmRule`.
pub fn parse(rule: &str) -> Result<Rule, RuleError> {
    let tokens = lex(rule)?;
    let mut p = Parser {
        tokens,
        pos: 0,
        len: rule.len(),
        depth: 0,
    };
    let tree = p.or()?;
    match p.peek() {
        None => Ok(tree),
        Some(t) => {
            let found = t.describe();
            let mut e = RuleError::new(
                format!("expected AND, OR or end of rule, found {found}"),
                t.start,
                t.end,
            );
            if let Tok::Word(w) = &t.tok
                && matches!(w.as_str(), "and" | "or" | "And" | "Or")
            {
                e = e.with_help(format!("keywords are upper-case: {}", w.to_uppercase()));
            }
            Err(e)
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    LParen,
    RParen,
    Comma,
    Word(String),
    Quoted(String),
}

#[derive(Clone, Debug)]
struct Token {
    tok: Tok,
    start: usize,
    end: usize,
}

impl Token {
    fn describe(&self) -> String {
        match &self.tok {
            Tok::LParen => "`(`".into(),
            Tok::RParen => "`)`".into(),
            Tok::Comma => "`,`".into(),
            Tok::Word(w) => format!("`{w}`"),
            Tok::Quoted(q) => format!("\"{q}\""),
        }
    }
}

fn lex(rule: &str) -> Result<Vec<Token>, RuleError> {
    let mut tokens = Vec::new();
    let mut chars = rule.char_indices().peekable();
    while let Some(&(i, c)) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' | ')' | ',' => {
                chars.next();
                let tok = match c {
                    '(' => Tok::LParen,
                    ')' => Tok::RParen,
                    _ => Tok::Comma,
                };
                tokens.push(Token {
                    tok,
                    start: i,
                    end: i + 1,
                });
            }
            '"' => {
                chars.next();
                let mut text = String::new();
                let mut closed = None;
                while let Some((j, c)) = chars.next() {
                    match c {
                        '"' => {
                            closed = Some(j + 1);
                            break;
                        }
                        '\\' => match chars.peek() {
                            Some(&(_, e @ ('"' | '\\'))) => {
                                text.push(e);
                                chars.next();
                            }
                            _ => text.push('\\'),
                        },
                        c => text.push(c),
                    }
                }
                let Some(end) = closed else {
                    return Err(RuleError::new("unterminated quoted name", i, rule.len())
                        .with_help("close it with `\"`; write \\\" for a quote inside a name"));
                };
                tokens.push(Token {
                    tok: Tok::Quoted(text),
                    start: i,
                    end,
                });
            }
            _ => {
                let mut end = i;
                while let Some(&(j, c)) = chars.peek() {
                    if c.is_whitespace() || matches!(c, '(' | ')' | ',' | '"') {
                        break;
                    }
                    end = j + c.len_utf8();
                    chars.next();
                }
                tokens.push(Token {
                    tok: Tok::Word(rule[i..end].to_string()),
                    start: i,
                    end,
                });
            }
        }
    }
    Ok(tokens)
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    len: usize,
    depth: usize,
}

fn state_keyword(word: &str) -> Option<StateValue> {
    match word {
        "ALARM" => Some(StateValue::Alarm),
        "OK" => Some(StateValue::Ok),
        "INSUFFICIENT_DATA" => Some(StateValue::InsufficientData),
        _ => None,
    }
}

const KEYWORDS: [&str; 9] = [
    "ALARM",
    "OK",
    "INSUFFICIENT_DATA",
    "AT_LEAST",
    "TRUE",
    "FALSE",
    "NOT",
    "AND",
    "OR",
];

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.pos).cloned();
        if t.is_some() {
            self.pos += 1;
        }
        t
    }

    fn peek_word(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Token { tok: Tok::Word(w), .. }) if w == word)
    }

    fn end_error(&self, expected: &str) -> RuleError {
        RuleError::new(
            format!("unexpected end of rule, expected {expected}"),
            self.len,
            self.len,
        )
    }

    fn expect(&mut self, want: Tok, what: &str, after: &str) -> Result<Token, RuleError> {
        match self.next() {
            Some(t) if t.tok == want => Ok(t),
            Some(t) => Err(RuleError::new(
                format!("expected {what} after {after}, found {}", t.describe()),
                t.start,
                t.end,
            )),
            None => Err(self.end_error(&format!("{what} after {after}"))),
        }
    }

    fn nest(&mut self, at: usize) -> Result<(), RuleError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(RuleError::new(
                format!("rule nests deeper than {MAX_DEPTH} levels"),
                at,
                at + 1,
            ));
        }
        Ok(())
    }

    fn or(&mut self) -> Result<Rule, RuleError> {
        let mut parts = vec![self.and()?];
        while self.peek_word("OR") {
            self.next();
            parts.push(self.and()?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Rule::Or(parts)
        })
    }

    fn and(&mut self) -> Result<Rule, RuleError> {
        let mut parts = vec![self.not()?];
        while self.peek_word("AND") {
            self.next();
            parts.push(self.not()?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Rule::And(parts)
        })
    }

    fn not(&mut self) -> Result<Rule, RuleError> {
        if let Some(t) = self.peek()
            && t.tok == Tok::Word("NOT".into())
        {
            let at = t.start;
            self.next();
            self.nest(at)?;
            let inner = self.not()?;
            self.depth -= 1;
            return Ok(Rule::Not(Box::new(inner)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Rule, RuleError> {
        let expected =
            "ALARM(...), OK(...), INSUFFICIENT_DATA(...), AT_LEAST(...), TRUE, FALSE, NOT or `(`";
        let Some(t) = self.next() else {
            return Err(self.end_error(expected));
        };
        match &t.tok {
            Tok::LParen => {
                self.nest(t.start)?;
                let inner = self.or()?;
                self.depth -= 1;
                match self.next() {
                    Some(Token {
                        tok: Tok::RParen, ..
                    }) => Ok(inner),
                    Some(other) => Err(RuleError::new(
                        format!("expected `)`, found {}", other.describe()),
                        other.start,
                        other.end,
                    )
                    .with_help(format!("to close the `(` at byte {}", t.start))),
                    None => Err(self
                        .end_error("`)`")
                        .with_help(format!("to close the `(` at byte {}", t.start))),
                }
            }
            Tok::Word(w) if w == "TRUE" => Ok(Rule::True),
            Tok::Word(w) if w == "FALSE" => Ok(Rule::False),
            Tok::Word(w) if w == "AT_LEAST" => self.at_least(&t),
            Tok::Word(w) => match state_keyword(w) {
                Some(state) => {
                    self.expect(Tok::LParen, "`(`", w)?;
                    let alarm = self.name()?;
                    self.expect(Tok::RParen, "`)`", "the alarm name")?;
                    Ok(Rule::State { state, alarm })
                }
                None => {
                    let mut e =
                        RuleError::new(format!("expected {expected}, found `{w}`"), t.start, t.end);
                    let upper = w.to_uppercase();
                    if upper != *w && KEYWORDS.contains(&upper.as_str()) {
                        e = e.with_help(format!("keywords are upper-case: {upper}"));
                    } else if self.peek().is_none_or(|n| n.tok != Tok::LParen) {
                        e = e.with_help(format!("to test an alarm's state write ALARM({w})"));
                    }
                    Err(e)
                }
            },
            _ => Err(RuleError::new(
                format!("expected {expected}, found {}", t.describe()),
                t.start,
                t.end,
            )),
        }
    }

    fn name(&mut self) -> Result<AlarmRef, RuleError> {
        match self.next() {
            Some(Token {
                tok: Tok::Word(text) | Tok::Quoted(text),
                start,
                end,
            }) => {
                if text.is_empty() {
                    return Err(RuleError::new("empty alarm name", start, end));
                }
                Ok(AlarmRef {
                    name: alarm_name_of(&text).to_string(),
                    text,
                    start,
                    end,
                })
            }
            Some(t) => Err(RuleError::new(
                format!("expected an alarm name or ARN, found {}", t.describe()),
                t.start,
                t.end,
            )),
            None => Err(self.end_error("an alarm name or ARN")),
        }
    }

    fn at_least(&mut self, head: &Token) -> Result<Rule, RuleError> {
        self.expect(Tok::LParen, "`(`", "AT_LEAST")?;
        let (threshold, t_start, t_end) = self.threshold()?;
        self.expect(Tok::Comma, "`,`", "the AT_LEAST threshold")?;
        let negated = self.peek_word("NOT");
        if negated {
            self.next();
        }
        let condition = match self.next() {
            Some(Token {
                tok: Tok::Word(w),
                start,
                end,
            }) => match state_keyword(&w) {
                Some(state) => StateCondition { negated, state },
                None => {
                    return Err(RuleError::new(
                        format!("expected ALARM, OK or INSUFFICIENT_DATA, found `{w}`"),
                        start,
                        end,
                    ));
                }
            },
            Some(t) => {
                return Err(RuleError::new(
                    format!(
                        "expected ALARM, OK or INSUFFICIENT_DATA, found {}",
                        t.describe()
                    ),
                    t.start,
                    t.end,
                ));
            }
            None => return Err(self.end_error("ALARM, OK or INSUFFICIENT_DATA")),
        };
        self.expect(Tok::Comma, "`,`", "the AT_LEAST state")?;
        self.expect(Tok::LParen, "`(`", "the AT_LEAST state and `,`")?;
        let mut alarms = vec![self.name()?];
        loop {
            match self.next() {
                Some(Token {
                    tok: Tok::Comma, ..
                }) => alarms.push(self.name()?),
                Some(Token {
                    tok: Tok::RParen, ..
                }) => break,
                Some(t) => {
                    return Err(RuleError::new(
                        format!(
                            "expected `,` or `)` in the AT_LEAST list, found {}",
                            t.describe()
                        ),
                        t.start,
                        t.end,
                    ));
                }
                None => return Err(self.end_error("`,` or `)` in the AT_LEAST list")),
            }
        }
        self.expect(Tok::RParen, "`)`", "the AT_LEAST list")?;
        if let AtLeastThreshold::Count(m) = threshold
            && m as usize > alarms.len()
        {
            return Err(RuleError::new(
                format!(
                    "AT_LEAST({m}, ...) lists only {} alarm{} and can never be true",
                    alarms.len(),
                    if alarms.len() == 1 { "" } else { "s" }
                ),
                t_start,
                t_end,
            )
            .with_help(format!("AT_LEAST starts at byte {}", head.start)));
        }
        Ok(Rule::AtLeast {
            threshold,
            condition,
            alarms,
        })
    }

    fn threshold(&mut self) -> Result<(AtLeastThreshold, usize, usize), RuleError> {
        let (text, start, end) = match self.next() {
            Some(Token {
                tok: Tok::Word(w) | Tok::Quoted(w),
                start,
                end,
            }) => (w, start, end),
            Some(t) => {
                return Err(RuleError::new(
                    format!("expected a count or percentage, found {}", t.describe()),
                    t.start,
                    t.end,
                ));
            }
            None => return Err(self.end_error("a count or percentage")),
        };
        let bad = || {
            RuleError::new(
                format!("`{text}` is not a count (1, 2, ...) or a percentage (50%)"),
                start,
                end,
            )
        };
        let threshold = match text.strip_suffix('%') {
            Some(num) => {
                let digits_ok = !num.is_empty()
                    && num.bytes().all(|b| b.is_ascii_digit() || b == b'.')
                    && num.bytes().filter(|b| *b == b'.').count() <= 1;
                let p: f64 = if digits_ok {
                    num.parse().map_err(|_| bad())?
                } else {
                    return Err(bad());
                };
                if !(p > 0.0 && p <= 100.0) {
                    return Err(RuleError::new(
                        format!("percentage {text} is not in (0%, 100%]"),
                        start,
                        end,
                    ));
                }
                AtLeastThreshold::Percent(p)
            }
            None => {
                if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(bad());
                }
                let m: u32 = text.parse().map_err(|_| bad())?;
                if m == 0 {
                    return Err(RuleError::new(
                        "AT_LEAST count must be at least 1",
                        start,
                        end,
                    ));
                }
                AtLeastThreshold::Count(m)
            }
        };
        Ok((threshold, start, end))
    }
}

#[cfg(test)]
mod tests;
