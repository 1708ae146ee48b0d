//! Payload filters: an endpoint's condition on the event, besides its event types, such as
//! `data.amount > 100 and data.country == "DE"`. Evaluated when an event is fanned out: an event
//! the filter refuses gets no delivery to that endpoint (it is counted as `filtered`).
//!
//! The language, small on purpose (it runs in the publish transaction):
//! - paths into the event `{id, type, timestamp, data}`: `data.amount`, `data.lines[0].sku`,
//!   `type`; a path that leads nowhere is `null`;
//! - literals: numbers, `"strings"` (with `\"` and `\\`), `true`, `false`, `null`, lists `[1, 2]`;
//! - comparisons `==`, `!=`, `>`, `>=`, `<`, `<=` (ordering only between two numbers or two
//!   strings; otherwise false), `in` (membership of a list, or a substring of a string);
//! - `and`, `or`, `not`, parentheses; a lone value is true unless it is `null` or `false`.
//!
//! A filter that does not parse is refused at save time with the character position of the
//! problem (1-based), so nothing is ever evaluated that could fail.

use serde_json::Value;

/// At most this many characters: a filter is a condition, not a program.
pub const MAX_LEN: usize = 2000;
const MAX_DEPTH: usize = 32;

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Path(Vec<Step>),
    Literal(Value),
    List(Vec<Expr>),
    Not(Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Compare(Box<Expr>, Op, Box<Expr>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    Key(String),
    Index(usize),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
    In,
}

/// Why a filter does not parse, and where (a 1-based character position).
#[derive(Debug, Clone, PartialEq)]
pub struct FilterError {
    pub position: usize,
    pub message: String,
}

impl std::fmt::Display for FilterError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "at character {}: {}", self.position, self.message)
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Ident(String),
    Str(String),
    Num(f64),
    Op(Op),
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Dot,
}

/// Tokens with their 1-based character positions.
fn tokens(text: &str) -> Result<Vec<(Token, usize)>, FilterError> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let fail = |position: usize, message: &str| Err(FilterError { position: position + 1, message: message.into() });
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        let two = chars.get(i + 1).copied();
        let token = match c {
            c if c.is_whitespace() => {
                i += 1;
                continue;
            }
            '(' => Token::LParen,
            ')' => Token::RParen,
            '[' => Token::LBracket,
            ']' => Token::RBracket,
            ',' => Token::Comma,
            '.' if !two.is_some_and(|d| d.is_ascii_digit()) => Token::Dot,
            '=' | '!' if two == Some('=') => {
                i += 1;
                Token::Op(if c == '=' { Op::Eq } else { Op::Ne })
            }
            '>' | '<' => {
                let or_equal = two == Some('=');
                if or_equal {
                    i += 1;
                }
                Token::Op(match (c, or_equal) {
                    ('>', false) => Op::Gt,
                    ('>', true) => Op::Ge,
                    ('<', false) => Op::Lt,
                    _ => Op::Le,
                })
            }
            '"' => {
                let mut s = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return fail(start, "a string that is never closed (\")"),
                        Some('"') => break,
                        Some('\\') => match chars.get(i + 1) {
                            Some(e @ ('"' | '\\')) => {
                                s.push(*e);
                                i += 2;
                            }
                            _ => return fail(i, "only \\\" and \\\\ are escapes"),
                        },
                        Some(ch) => {
                            s.push(*ch);
                            i += 1;
                        }
                    }
                }
                Token::Str(s)
            }
            c if c.is_ascii_digit() || c == '-' || c == '.' => {
                let mut end = i + 1;
                while end < chars.len()
                    && (chars[end].is_ascii_digit() || matches!(chars[end], '.' | 'e' | 'E' | '+' | '-'))
                {
                    // A sign only right after an exponent.
                    if matches!(chars[end], '+' | '-') && !matches!(chars[end - 1], 'e' | 'E') {
                        break;
                    }
                    end += 1;
                }
                let text: String = chars[i..end].iter().collect();
                let Ok(n) = text.parse::<f64>() else { return fail(start, &format!("{text} is not a number")) };
                i = end - 1;
                Token::Num(n)
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                let mut end = i + 1;
                while end < chars.len() && (chars[end].is_ascii_alphanumeric() || chars[end] == '_') {
                    end += 1;
                }
                let word: String = chars[i..end].iter().collect();
                i = end - 1;
                if word == "in" {
                    Token::Op(Op::In)
                } else {
                    Token::Ident(word)
                }
            }
            '=' => return fail(start, "comparing is ==, not ="),
            other => return fail(start, &format!("{other:?} is not part of a filter")),
        };
        out.push((token, start + 1));
        i += 1;
    }
    Ok(out)
}

struct Parser {
    tokens: Vec<(Token, usize)>,
    at: usize,
    end: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at).map(|(t, _)| t)
    }

    fn position(&self) -> usize {
        self.tokens.get(self.at).map_or(self.end, |(_, p)| *p)
    }

    fn fail<T>(&self, message: impl Into<String>) -> Result<T, FilterError> {
        Err(FilterError { position: self.position(), message: message.into() })
    }

    fn keyword(&mut self, word: &str) -> bool {
        if matches!(self.peek(), Some(Token::Ident(w)) if w == word) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, token: Token, what: &str) -> Result<(), FilterError> {
        if self.peek() == Some(&token) {
            self.at += 1;
            Ok(())
        } else {
            self.fail(format!("expected {what}"))
        }
    }

    fn or(&mut self) -> Result<Expr, FilterError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return self.fail(format!("nested more than {MAX_DEPTH} deep"));
        }
        let mut left = self.and()?;
        while self.keyword("or") {
            left = Expr::Or(Box::new(left), Box::new(self.and()?));
        }
        self.depth -= 1;
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, FilterError> {
        let mut left = self.not()?;
        while self.keyword("and") {
            left = Expr::And(Box::new(left), Box::new(self.not()?));
        }
        Ok(left)
    }

    fn not(&mut self) -> Result<Expr, FilterError> {
        if self.keyword("not") {
            self.depth += 1;
            if self.depth > MAX_DEPTH {
                return self.fail(format!("nested more than {MAX_DEPTH} deep"));
            }
            let inner = self.not()?;
            self.depth -= 1;
            return Ok(Expr::Not(Box::new(inner)));
        }
        let left = self.value()?;
        if let Some(Token::Op(op)) = self.peek().cloned() {
            self.at += 1;
            let right = self.value()?;
            return Ok(Expr::Compare(Box::new(left), op, Box::new(right)));
        }
        Ok(left)
    }

    fn value(&mut self) -> Result<Expr, FilterError> {
        match self.peek().cloned() {
            Some(Token::LParen) => {
                self.at += 1;
                let inner = self.or()?;
                self.expect(Token::RParen, "a closing )")?;
                Ok(inner)
            }
            Some(Token::LBracket) => {
                self.at += 1;
                self.depth += 1;
                if self.depth > MAX_DEPTH {
                    return self.fail(format!("nested more than {MAX_DEPTH} deep"));
                }
                let mut items = Vec::new();
                if self.peek() != Some(&Token::RBracket) {
                    loop {
                        items.push(self.value()?);
                        if self.peek() == Some(&Token::Comma) {
                            self.at += 1;
                        } else {
                            break;
                        }
                    }
                }
                self.expect(Token::RBracket, "a closing ] or a comma")?;
                self.depth -= 1;
                Ok(Expr::List(items))
            }
            Some(Token::Str(s)) => {
                self.at += 1;
                Ok(Expr::Literal(Value::String(s)))
            }
            Some(Token::Num(n)) => {
                self.at += 1;
                Ok(Expr::Literal(serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number)))
            }
            Some(Token::Ident(word)) => {
                self.at += 1;
                match word.as_str() {
                    "true" => Ok(Expr::Literal(Value::Bool(true))),
                    "false" => Ok(Expr::Literal(Value::Bool(false))),
                    "null" => Ok(Expr::Literal(Value::Null)),
                    "and" | "or" | "not" => {
                        self.at -= 1;
                        self.fail(format!("expected a value before {word}"))
                    }
                    "data" | "type" | "id" | "timestamp" => self.path(word),
                    other => {
                        self.at -= 1;
                        self.fail(format!("unknown name {other}: paths start at data, type, id or timestamp"))
                    }
                }
            }
            Some(_) => {
                self.fail("expected a value (a path such as data.amount, a number, a \"string\", true, false, null)")
            }
            None => self.fail("the filter ends where a value was expected"),
        }
    }

    fn path(&mut self, root: String) -> Result<Expr, FilterError> {
        let mut steps = vec![Step::Key(root)];
        loop {
            match self.peek() {
                Some(Token::Dot) => {
                    self.at += 1;
                    match self.peek().cloned() {
                        Some(Token::Ident(key)) => {
                            self.at += 1;
                            steps.push(Step::Key(key));
                        }
                        _ => return self.fail("expected a field name after ."),
                    }
                }
                Some(Token::LBracket) => {
                    self.at += 1;
                    match self.peek().cloned() {
                        Some(Token::Num(n)) if n >= 0.0 && n.fract() == 0.0 => {
                            self.at += 1;
                            steps.push(Step::Index(n as usize));
                        }
                        Some(Token::Str(key)) => {
                            self.at += 1;
                            steps.push(Step::Key(key));
                        }
                        _ => return self.fail("expected an index (0, 1, ...) or a \"key\" inside [ ]"),
                    }
                    self.expect(Token::RBracket, "a closing ]")?;
                }
                _ => return Ok(Expr::Path(steps)),
            }
        }
    }
}

/// Parses a filter; the error names the 1-based character position.
pub fn parse(text: &str) -> Result<Expr, FilterError> {
    if text.chars().count() > MAX_LEN {
        return Err(FilterError {
            position: MAX_LEN + 1,
            message: format!("a filter is at most {MAX_LEN} characters"),
        });
    }
    let tokens = tokens(text)?;
    let end = text.chars().count() + 1;
    let mut parser = Parser { tokens, at: 0, end, depth: 0 };
    if parser.peek().is_none() {
        return parser.fail("the filter is empty");
    }
    let expr = parser.or()?;
    if parser.peek().is_some() {
        return parser.fail("expected and, or, or the end of the filter");
    }
    Ok(expr)
}

fn lookup<'a>(event: &'a Value, steps: &[Step]) -> Option<&'a Value> {
    steps.iter().try_fold(event, |v, step| match step {
        Step::Key(k) => v.get(k.as_str()),
        Step::Index(i) => v.get(*i),
    })
}

fn truthy(v: &Value) -> bool {
    !matches!(v, Value::Null | Value::Bool(false))
}

fn equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

fn eval(expr: &Expr, event: &Value) -> Value {
    match expr {
        Expr::Path(steps) => lookup(event, steps).cloned().unwrap_or(Value::Null),
        Expr::Literal(v) => v.clone(),
        Expr::List(items) => Value::Array(items.iter().map(|e| eval(e, event)).collect()),
        Expr::Not(inner) => Value::Bool(!truthy(&eval(inner, event))),
        Expr::And(a, b) => Value::Bool(truthy(&eval(a, event)) && truthy(&eval(b, event))),
        Expr::Or(a, b) => Value::Bool(truthy(&eval(a, event)) || truthy(&eval(b, event))),
        Expr::Compare(a, op, b) => {
            let (a, b) = (eval(a, event), eval(b, event));
            let ordered = match (&a, &b) {
                (Value::Number(x), Value::Number(y)) => x.as_f64().partial_cmp(&y.as_f64()),
                (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
                _ => None,
            };
            Value::Bool(match op {
                Op::Eq => equal(&a, &b),
                Op::Ne => !equal(&a, &b),
                Op::Gt => ordered.is_some_and(|o| o.is_gt()),
                Op::Ge => ordered.is_some_and(|o| o.is_ge()),
                Op::Lt => ordered.is_some_and(|o| o.is_lt()),
                Op::Le => ordered.is_some_and(|o| o.is_le()),
                Op::In => match (&a, &b) {
                    (_, Value::Array(items)) => items.iter().any(|item| equal(&a, item)),
                    (Value::String(needle), Value::String(hay)) => hay.contains(needle.as_str()),
                    _ => false,
                },
            })
        }
    }
}

/// The event as a filter sees it: `{id, type, timestamp, data}`, the shape receivers get.
pub fn event_view(event: &crate::store::events::EventRow) -> Value {
    serde_json::json!({
        "id": event.id,
        "type": event.event_type,
        "timestamp": crate::time::rfc3339(event.created_at),
        "data": serde_json::from_str::<Value>(&event.payload).unwrap_or(Value::Null),
    })
}

/// Whether the event (`{id, type, timestamp, data}`) passes the filter.
pub fn matches(filter: &Expr, event: &Value) -> bool {
    truthy(&eval(filter, event))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(data: Value) -> Value {
        json!({ "id": "evt_1", "type": "order.paid", "timestamp": "2026-12-03T10:00:00Z", "data": data })
    }

    fn check(filter: &str, data: Value) -> bool {
        matches(&parse(filter).unwrap_or_else(|e| panic!("{filter}: {e}")), &event(data))
    }

    #[test]
    fn the_issues_example_matches_as_written() {
        let f = r#"data.amount > 100 and data.country == "DE""#;
        assert!(check(f, json!({ "amount": 150, "country": "DE" })));
        assert!(!check(f, json!({ "amount": 50, "country": "DE" })));
        assert!(!check(f, json!({ "amount": 150, "country": "FR" })));
        assert!(!check(f, json!({ "country": "DE" })), "a missing amount is null, not > 100");
    }

    #[test]
    fn operators_paths_and_precedence() {
        assert!(check("data.a == 1 or data.b == 2 and data.c == 3", json!({ "a": 1 })), "and binds tighter");
        assert!(!check("(data.a == 1 or data.b == 2) and data.c == 3", json!({ "a": 1 })));
        assert!(check("not data.flag", json!({ "flag": false })));
        assert!(check("data.lines[1].sku == \"b\"", json!({ "lines": [{ "sku": "a" }, { "sku": "b" }] })));
        assert!(check("data[\"odd key\"] >= 2.5", json!({ "odd key": 2.5 })));
        assert!(check("data.country in [\"DE\", \"AT\"]", json!({ "country": "AT" })));
        assert!(check("\"vip\" in data.tags", json!({ "tags": ["new", "vip"] })));
        assert!(check("\"@example.com\" in data.email", json!({ "email": "ada@example.com" })));
        assert!(check("type == \"order.paid\" and data.n != null", json!({ "n": 0 })));
        assert!(check("data.n == 1.0", json!({ "n": 1 })), "numbers compare by value");
        assert!(!check("data.s > 1", json!({ "s": "2" })), "no ordering across kinds");
        assert!(check("data.amount >= -1e2", json!({ "amount": -100 })));
    }

    #[test]
    fn errors_name_the_position() {
        let at = |f: &str| parse(f).unwrap_err().position;
        assert_eq!(at("data.amount > "), 15, "the end");
        assert_eq!(at("data.amount = 1"), 13);
        assert_eq!(at("amount > 1"), 1, "{:?}", parse("amount > 1"));
        assert_eq!(at("data.a > 1 data.b"), 12);
        assert_eq!(at("(data.a > 1"), 12);
        assert_eq!(at("data.a == \"open"), 11);
        assert_eq!(at(""), 1);
        assert_eq!(at("data.a > 1 and"), 15);
        assert!(parse(&"(".repeat(100)).is_err(), "depth is bounded");
        assert!(parse(&"not ".repeat(100)).is_err());
        assert!(parse(&format!("data.a in {}1{}", "[".repeat(500), "]".repeat(500))).is_err(), "lists too");
    }
}
