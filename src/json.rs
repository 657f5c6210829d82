//! A strict, position-keeping JSON reader (RFC 8259): bytes → [`Node`] tree with spans.
//!
//! serde loses positions, duplicate members and the raw text of numbers; policy
//! diagnostics need all three. This reader keeps every object member in order
//! (duplicates included, for the policy layer to report), keeps numbers as their
//! source text, and enforces explicit limits on untrusted input: [`MAX_DEPTH`]
//! levels of nesting and [`MAX_INPUT_BYTES`] of text. It never recurses deeper
//! than [`MAX_DEPTH`] and never panics.

use crate::text::Span;

/// Deepest nesting of arrays and objects accepted (the document itself is depth 1).
pub const MAX_DEPTH: usize = 64;

/// Largest input accepted, in bytes (1 MiB).
pub const MAX_INPUT_BYTES: usize = 1 << 20;

/// A JSON value with the span of its source text.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// The value.
    pub value: Value,
    /// Where the value's text is, from its first to one past its last byte.
    pub span: Span,
}

/// A JSON value whose children are [`Node`]s.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number, as its exact source text (`3600`, `-1.5e3`).
    Number(String),
    /// A string with escapes decoded.
    String(String),
    /// An array, in order.
    Array(Vec<Node>),
    /// An object's members in source order, duplicates kept.
    Object(Vec<Member>),
}

/// One `"name": value` member of an object.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    /// The decoded member name.
    pub key: String,
    /// Span of the name, quotes included.
    pub key_span: Span,
    /// The member's value.
    pub value: Node,
}

impl Value {
    /// The JSON type name used in messages: `null`, `boolean`, `number`, `string`, `array`, `object`.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        }
    }
}

/// Why the text is not acceptable JSON.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JsonErrorKind {
    /// The input is larger than [`MAX_INPUT_BYTES`].
    #[error("input is {0} bytes, more than the limit of {MAX_INPUT_BYTES}")]
    TooLarge(usize),
    /// The input is not valid UTF-8.
    #[error("input is not valid UTF-8")]
    InvalidUtf8,
    /// Nesting deeper than [`MAX_DEPTH`].
    #[error("nesting is deeper than {MAX_DEPTH} levels")]
    TooDeep,
    /// The text ended inside a value.
    #[error("unexpected end of input")]
    UnexpectedEnd,
    /// A character that cannot start or continue a value here.
    #[error("unexpected character `{0}`")]
    UnexpectedChar(char),
    /// A value was expected (e.g. after `:` or `,`).
    #[error("expected a value")]
    ExpectedValue,
    /// Something follows the top-level value.
    #[error("trailing characters after the JSON value")]
    TrailingCharacters,
    /// A malformed number (`01`, `1.`, `-`).
    #[error("invalid number")]
    InvalidNumber,
    /// A bad `\` escape or lone surrogate in a string.
    #[error("invalid escape in string")]
    InvalidEscape,
    /// A raw control character (U+0000–U+001F) inside a string.
    #[error("control character in string; it must be escaped")]
    ControlCharacter,
    /// An object member name that is not a string.
    #[error("object member names must be strings")]
    KeyMustBeString,
}

/// A JSON syntax error at a byte offset.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} at byte {offset}")]
pub struct JsonError {
    /// What is wrong.
    pub kind: JsonErrorKind,
    /// Byte offset where it was found.
    pub offset: usize,
}

/// The member `key` of an object node.
pub fn get<'n>(node: &'n Node, key: &str) -> Option<&'n Node> {
    match &node.value {
        Value::Object(members) => members.iter().find(|m| m.key == key).map(|m| &m.value),
        _ => None,
    }
}

/// The string value of member `key`.
pub fn get_str<'n>(node: &'n Node, key: &str) -> Option<&'n str> {
    match get(node, key).map(|n| &n.value) {
        Some(Value::String(s)) => Some(s),
        _ => None,
    }
}

/// The items of array member `key` (none when absent or not an array).
pub fn get_items<'n>(node: &'n Node, key: &str) -> &'n [Node] {
    match get(node, key).map(|n| &n.value) {
        Some(Value::Array(items)) => items,
        _ => &[],
    }
}

/// Parses `input` as one JSON value, surrounded only by whitespace.
///
/// Rejects, with the offset: non-UTF-8 bytes, inputs over [`MAX_INPUT_BYTES`],
/// nesting over [`MAX_DEPTH`], trailing text, comments, trailing commas, lone
/// surrogates, leading zeros and every other deviation from RFC 8259.
pub fn parse(input: &[u8]) -> Result<Node, JsonError> {
    if input.len() > MAX_INPUT_BYTES {
        return Err(JsonError {
            kind: JsonErrorKind::TooLarge(input.len()),
            offset: MAX_INPUT_BYTES,
        });
    }
    parse_document(input)
}

/// [`parse`] without the size limit, for documents the user supplies about their own
/// account (a Terraform plan, a CloudFormation template, authorization details), which
/// may be far larger than a policy. Nesting is still limited to [`MAX_DEPTH`].
pub fn parse_document(input: &[u8]) -> Result<Node, JsonError> {
    let text = std::str::from_utf8(input).map_err(|e| JsonError {
        kind: JsonErrorKind::InvalidUtf8,
        offset: e.valid_up_to(),
    })?;
    let mut p = Parser {
        s: text.as_bytes(),
        text,
        pos: 0,
    };
    p.ws();
    let node = p.value(1)?;
    p.ws();
    if p.pos < p.s.len() {
        return Err(p.err(JsonErrorKind::TrailingCharacters));
    }
    Ok(node)
}

struct Parser<'a> {
    s: &'a [u8],
    text: &'a str,
    pos: usize,
}

impl Parser<'_> {
    fn err(&self, kind: JsonErrorKind) -> JsonError {
        JsonError {
            kind,
            offset: self.pos,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    fn unexpected(&self) -> JsonError {
        match self.text.get(self.pos..).and_then(|t| t.chars().next()) {
            Some(c) => self.err(JsonErrorKind::UnexpectedChar(c)),
            None => self.err(JsonErrorKind::UnexpectedEnd),
        }
    }

    fn value(&mut self, depth: usize) -> Result<Node, JsonError> {
        let start = self.pos;
        let value = match self.peek() {
            None => return Err(self.err(JsonErrorKind::UnexpectedEnd)),
            Some(b'{') => {
                if depth > MAX_DEPTH {
                    return Err(self.err(JsonErrorKind::TooDeep));
                }
                self.object(depth)?
            }
            Some(b'[') => {
                if depth > MAX_DEPTH {
                    return Err(self.err(JsonErrorKind::TooDeep));
                }
                self.array(depth)?
            }
            Some(b'"') => Value::String(self.string()?),
            Some(b't') => self.literal("true", Value::Bool(true))?,
            Some(b'f') => self.literal("false", Value::Bool(false))?,
            Some(b'n') => self.literal("null", Value::Null)?,
            Some(b'-' | b'0'..=b'9') => self.number()?,
            Some(b',' | b']' | b'}' | b':') => return Err(self.err(JsonErrorKind::ExpectedValue)),
            Some(_) => return Err(self.unexpected()),
        };
        Ok(Node {
            value,
            span: Span::new(start, self.pos),
        })
    }

    fn literal(&mut self, word: &str, v: Value) -> Result<Value, JsonError> {
        for &b in word.as_bytes() {
            if self.peek() != Some(b) {
                return Err(self.unexpected());
            }
            self.pos += 1;
        }
        Ok(v)
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
        self.pos - start
    }

    fn number(&mut self) -> Result<Value, JsonError> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => {
                self.pos += 1;
                if let Some(b'0'..=b'9') = self.peek() {
                    return Err(self.err(JsonErrorKind::InvalidNumber));
                }
            }
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return Err(self.err(JsonErrorKind::InvalidNumber)),
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if self.digits() == 0 {
                return Err(self.err(JsonErrorKind::InvalidNumber));
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            if self.digits() == 0 {
                return Err(self.err(JsonErrorKind::InvalidNumber));
            }
        }
        Ok(Value::Number(
            self.text.get(start..self.pos).unwrap_or("").to_owned(),
        ))
    }

    fn hex4(&mut self) -> Result<u32, JsonError> {
        let mut v = 0u32;
        for _ in 0..4 {
            let d = match self.peek() {
                Some(c @ b'0'..=b'9') => c - b'0',
                Some(c @ b'a'..=b'f') => c - b'a' + 10,
                Some(c @ b'A'..=b'F') => c - b'A' + 10,
                _ => return Err(self.err(JsonErrorKind::InvalidEscape)),
            };
            v = v * 16 + u32::from(d);
            self.pos += 1;
        }
        Ok(v)
    }

    fn string(&mut self) -> Result<String, JsonError> {
        self.pos += 1; // opening quote
        let mut out = String::new();
        loop {
            let run_start = self.pos;
            while let Some(b) = self.peek() {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.pos += 1;
            }
            out.push_str(self.text.get(run_start..self.pos).unwrap_or(""));
            match self.peek() {
                None => return Err(self.err(JsonErrorKind::UnexpectedEnd)),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.pos += 1;
                    let c = match self.peek() {
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        Some(b'/') => '/',
                        Some(b'b') => '\u{8}',
                        Some(b'f') => '\u{c}',
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'u') => {
                            self.pos += 1;
                            let esc_start = self.pos;
                            let hi = self.hex4()?;
                            let code = if (0xD800..0xDC00).contains(&hi) {
                                if self.s.get(self.pos..self.pos + 2) != Some(b"\\u") {
                                    self.pos = esc_start;
                                    return Err(self.err(JsonErrorKind::InvalidEscape));
                                }
                                self.pos += 2;
                                let lo = self.hex4()?;
                                if !(0xDC00..0xE000).contains(&lo) {
                                    self.pos = esc_start;
                                    return Err(self.err(JsonErrorKind::InvalidEscape));
                                }
                                0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                            } else {
                                hi
                            };
                            match char::from_u32(code) {
                                Some(c) => {
                                    out.push(c);
                                    continue;
                                }
                                None => {
                                    self.pos = esc_start;
                                    return Err(self.err(JsonErrorKind::InvalidEscape));
                                }
                            }
                        }
                        _ => return Err(self.err(JsonErrorKind::InvalidEscape)),
                    };
                    self.pos += 1;
                    out.push(c);
                }
                Some(_) => return Err(self.err(JsonErrorKind::ControlCharacter)),
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<Value, JsonError> {
        self.pos += 1;
        let mut items = Vec::new();
        self.ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(Value::Array(items));
        }
        loop {
            self.ws();
            items.push(self.value(depth + 1)?);
            self.ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Value::Array(items));
                }
                _ => return Err(self.unexpected()),
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<Value, JsonError> {
        self.pos += 1;
        let mut members = Vec::new();
        self.ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(Value::Object(members));
        }
        loop {
            self.ws();
            if self.peek() != Some(b'"') {
                return Err(match self.peek() {
                    None => self.err(JsonErrorKind::UnexpectedEnd),
                    Some(_) => self.err(JsonErrorKind::KeyMustBeString),
                });
            }
            let key_start = self.pos;
            let key = self.string()?;
            let key_span = Span::new(key_start, self.pos);
            self.ws();
            if self.peek() != Some(b':') {
                return Err(self.unexpected());
            }
            self.pos += 1;
            self.ws();
            let value = self.value(depth + 1)?;
            members.push(Member {
                key,
                key_span,
                value,
            });
            self.ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Value::Object(members));
                }
                _ => return Err(self.unexpected()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(s: &str) -> JsonErrorKind {
        parse(s.as_bytes()).unwrap_err().kind
    }

    #[test]
    fn accepts_every_value_kind_with_spans() {
        let n = parse(br#" {"a": [1, -0.5e3, "x\u00e9\ud83d\ude00", true, null]} "#).unwrap();
        assert_eq!(n.span, Span::new(1, 54));
        let Value::Object(m) = &n.value else { panic!() };
        assert_eq!(m[0].key, "a");
        assert_eq!(m[0].key_span, Span::new(2, 5));
        let Value::Array(items) = &m[0].value.value else {
            panic!()
        };
        assert_eq!(items[1].value, Value::Number("-0.5e3".into()));
        assert_eq!(items[2].value, Value::String("xé😀".into()));
        assert_eq!(items[3].value, Value::Bool(true));
        assert_eq!(items[4].value, Value::Null);
    }

    #[test]
    fn keeps_duplicate_members() {
        let n = parse(br#"{"a":1,"a":2}"#).unwrap();
        let Value::Object(m) = n.value else { panic!() };
        assert_eq!(m.len(), 2);
    }

    #[test]
    fn rejects_what_rfc_8259_rejects() {
        assert_eq!(kind(""), JsonErrorKind::UnexpectedEnd);
        assert_eq!(kind("{} x"), JsonErrorKind::TrailingCharacters);
        assert_eq!(kind("{}{}"), JsonErrorKind::TrailingCharacters);
        assert_eq!(kind("[1,]"), JsonErrorKind::ExpectedValue);
        assert_eq!(kind("{\"a\":1,}"), JsonErrorKind::KeyMustBeString);
        assert_eq!(kind("{a:1}"), JsonErrorKind::KeyMustBeString);
        assert_eq!(kind("01"), JsonErrorKind::InvalidNumber);
        assert_eq!(kind("1."), JsonErrorKind::InvalidNumber);
        assert_eq!(kind("-"), JsonErrorKind::InvalidNumber);
        assert_eq!(kind("1e"), JsonErrorKind::InvalidNumber);
        assert_eq!(kind("\"\\x\""), JsonErrorKind::InvalidEscape);
        assert_eq!(kind("\"\\ud800\""), JsonErrorKind::InvalidEscape);
        assert_eq!(kind("\"\\udc00\""), JsonErrorKind::InvalidEscape);
        assert_eq!(kind("\"a\nb\""), JsonErrorKind::ControlCharacter);
        assert_eq!(kind("/* c */ {}"), JsonErrorKind::UnexpectedChar('/'));
        assert_eq!(kind("tru"), JsonErrorKind::UnexpectedEnd);
        assert_eq!(
            kind("\u{feff}{}"),
            JsonErrorKind::UnexpectedChar('\u{feff}')
        );
        assert_eq!(kind("NaN"), JsonErrorKind::UnexpectedChar('N'));
    }

    #[test]
    fn rejects_invalid_utf8_with_offset() {
        let e = parse(b"{\"a\": \"\xff\"}").unwrap_err();
        assert_eq!(e.kind, JsonErrorKind::InvalidUtf8);
        assert_eq!(e.offset, 7);
    }

    #[test]
    fn depth_limit_is_exact_and_deep_input_does_not_overflow() {
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(parse(ok.as_bytes()).is_ok());
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        assert_eq!(kind(&deep), JsonErrorKind::TooDeep);
        let very_deep = "[".repeat(500_000);
        assert_eq!(kind(&very_deep), JsonErrorKind::TooDeep);
    }

    #[test]
    fn size_limit() {
        let big = vec![b' '; MAX_INPUT_BYTES + 1];
        assert!(matches!(
            parse(&big).unwrap_err().kind,
            JsonErrorKind::TooLarge(_)
        ));
    }
}
