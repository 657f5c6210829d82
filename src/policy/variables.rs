//! Policy variables: `${key}`, `${key, 'default'}` and the literal escapes `${*}`,
//! `${?}`, `${$}` (`iam-policy.md` §6). Only `2012-10-17` documents substitute them.

/// One piece of a string that may hold policy variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment<'a> {
    /// Plain text (in patterns, its `*` and `?` are still wildcards).
    Text(&'a str),
    /// `${*}`, `${?}` or `${$}`: that character, always literal.
    Escaped(char),
    /// `${key}` or `${key, 'default'}`.
    Variable {
        /// The key name as written (looked up case-insensitively).
        key: &'a str,
        /// The default, without its quotes.
        default: Option<&'a str>,
    },
}

/// The pieces of `s`, and whether an unclosed or malformed `${` was kept as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scan<'a> {
    /// The pieces in order.
    pub segments: Vec<Segment<'a>>,
    /// Whether some `${` could not be read as a variable and stays literal text.
    pub malformed: bool,
}

impl Scan<'_> {
    /// Whether any piece is a variable or escape.
    pub fn has_variables(&self) -> bool {
        self.segments.iter().any(|s| !matches!(s, Segment::Text(_)))
    }
}

fn variable(inner: &str) -> Option<Segment<'_>> {
    match inner {
        "*" => return Some(Segment::Escaped('*')),
        "?" => return Some(Segment::Escaped('?')),
        "$" => return Some(Segment::Escaped('$')),
        _ => {}
    }
    let (key, default) = match inner.split_once(',') {
        Some((k, d)) => {
            let d = d.trim();
            let d = d.strip_prefix('\'')?.strip_suffix('\'')?;
            (k.trim(), Some(d))
        }
        None => (inner.trim(), None),
    };
    if key.is_empty() || key.contains(char::is_whitespace) || key.contains(['$', '{', '\'']) {
        return None;
    }
    Some(Segment::Variable { key, default })
}

/// Splits `s` into text, escapes and variables. Never fails: what cannot be read as a
/// variable stays text, and `malformed` says so.
pub fn scan(s: &str) -> Scan<'_> {
    let mut segments = Vec::new();
    let mut malformed = false;
    let mut rest = s;
    let mut text_start = 0usize; // offset in `s` of pending text
    let mut pos = 0usize; // offset in `s` of `rest`
    while let Some(i) = rest.find("${") {
        let open = pos + i;
        let after = &s[open + 2..];
        // A default may hold `}` inside its quotes: find the closing brace outside quotes.
        let mut close = None;
        let mut in_quote = false;
        for (j, c) in after.char_indices() {
            match c {
                '\'' => in_quote = !in_quote,
                '}' if !in_quote => {
                    close = Some(j);
                    break;
                }
                _ => {}
            }
        }
        match close.and_then(|j| variable(&after[..j]).map(|v| (j, v))) {
            Some((j, v)) => {
                if open > text_start {
                    segments.push(Segment::Text(&s[text_start..open]));
                }
                segments.push(v);
                pos = open + 2 + j + 1;
                text_start = pos;
            }
            None => {
                malformed = true;
                pos = open + 2;
            }
        }
        rest = &s[pos..];
    }
    if text_start < s.len() {
        segments.push(Segment::Text(&s[text_start..]));
    }
    Scan {
        segments,
        malformed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Segment::*;

    #[test]
    fn scans_variables_defaults_and_escapes() {
        let s =
            scan("arn:aws:swf:*:*:/domain/${aws:PrincipalTag/team}-${*}${aws:username, 'shared'}x");
        assert_eq!(
            s.segments,
            vec![
                Text("arn:aws:swf:*:*:/domain/"),
                Variable {
                    key: "aws:PrincipalTag/team",
                    default: None
                },
                Text("-"),
                Escaped('*'),
                Variable {
                    key: "aws:username",
                    default: Some("shared")
                },
                Text("x"),
            ]
        );
        assert!(!s.malformed);
        assert!(s.has_variables());
    }

    #[test]
    fn unclosed_or_bad_variables_stay_text() {
        let s = scan("a${aws:username");
        assert_eq!(s.segments, vec![Text("a${aws:username")]);
        assert!(s.malformed);
        let s = scan("${a, shared}");
        assert!(s.malformed);
        assert_eq!(s.segments, vec![Text("${a, shared}")]);
        let s = scan("${aws:username,'a}b'}");
        assert_eq!(
            s.segments,
            vec![Variable {
                key: "aws:username",
                default: Some("a}b")
            }]
        );
        assert_eq!(scan("plain").segments, vec![Text("plain")]);
        assert_eq!(scan("").segments, vec![]);
        assert_eq!(scan("${$}").segments, vec![Escaped('$')]);
    }
}
