//! IAM wildcard patterns: `*` (any run, including none) and `?` (exactly one character).
//!
//! Nothing else is special: `[`, `]`, `{`, `\`, `.` are literal, `/` is ordinary, and a
//! pattern matches the whole subject. A [`Pattern`] is compiled once and classified
//! (any, exact, prefix, suffix, general) so that common shapes match with one
//! comparison; the general matcher keeps a single backtrack point, so matching costs
//! O(|pattern|·|subject|) at worst with O(1) memory — no blow-up on `*a*a*a*a*b`.

/// One element of a compiled pattern.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Token {
    /// Literal text, matched exactly.
    Lit(Box<str>),
    /// `?`: exactly one character.
    One,
    /// `*`: any run of characters, including none.
    Star,
    /// A policy variable: its value (looked up when matching) is literal text. If it has
    /// no value and no default, the whole pattern matches nothing.
    Var {
        /// The context key, lowercased.
        key: Box<str>,
        /// The default text, if any.
        default: Option<Box<str>>,
    },
}

/// Supplies policy-variable values while matching.
pub trait Resolve {
    /// The single value of context key `key` (lowercased), if present and single-valued.
    fn var(&self, key: &str) -> Option<&str>;
}

/// A resolver with no values (every variable without a default is unresolvable).
pub struct NoVars;

impl Resolve for NoVars {
    fn var(&self, _: &str) -> Option<&str> {
        None
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Kind {
    Any,
    Exact(Box<str>),
    Prefix(Box<str>),
    Suffix(Box<str>),
    /// Tokens, with the literal text the subject must start and end with (a cheap
    /// pre-check before the matcher and before any variable lookup).
    General(Box<[Token]>, Box<str>, Box<str>),
}

fn general(tokens: Vec<Token>) -> Kind {
    let pre = match tokens.first() {
        Some(Token::Lit(l)) => l.clone(),
        _ => "".into(),
    };
    let suf = match tokens.last() {
        Some(Token::Lit(l)) if tokens.len() > 1 => l.clone(),
        _ => "".into(),
    };
    Kind::General(tokens.into_boxed_slice(), pre, suf)
}

/// A compiled wildcard pattern.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Pattern {
    kind: Kind,
}

impl Pattern {
    /// Compiles pattern text where `*` and `?` are wildcards and every other character literal.
    pub fn new(text: &str) -> Self {
        let mut tokens = Vec::new();
        let mut lit = String::new();
        for c in text.chars() {
            match c {
                '*' | '?' => {
                    if !lit.is_empty() {
                        tokens.push(Token::Lit(std::mem::take(&mut lit).into_boxed_str()));
                    }
                    tokens.push(if c == '*' { Token::Star } else { Token::One });
                }
                c => lit.push(c),
            }
        }
        if !lit.is_empty() {
            tokens.push(Token::Lit(lit.into_boxed_str()));
        }
        Self::from_tokens(tokens)
    }

    /// Compiles a token sequence (literal chunks may contain `*` or `?` as plain text,
    /// as policy variables `${*}` and `${?}` produce). Adjacent stars collapse.
    pub fn from_tokens(tokens: Vec<Token>) -> Self {
        let mut norm: Vec<Token> = Vec::with_capacity(tokens.len());
        for t in tokens {
            match (norm.last_mut(), t) {
                (Some(Token::Star), Token::Star) => {}
                (Some(Token::Lit(prev)), Token::Lit(l)) => {
                    let mut s = String::from(std::mem::take(prev));
                    s.push_str(&l);
                    *prev = s.into_boxed_str();
                }
                (_, Token::Lit(l)) if l.is_empty() => {}
                (_, t) => norm.push(t),
            }
        }
        let has_var = norm.iter().any(|t| matches!(t, Token::Var { .. }));
        if has_var {
            return Pattern {
                kind: general(norm),
            };
        }
        let kind = match norm.as_slice() {
            [Token::Star] => Kind::Any,
            [] => Kind::Exact("".into()),
            [Token::Lit(l)] => Kind::Exact(l.clone()),
            [Token::Lit(l), Token::Star] => Kind::Prefix(l.clone()),
            [Token::Star, Token::Lit(l)] => Kind::Suffix(l.clone()),
            _ => general(norm),
        };
        Pattern { kind }
    }

    /// Whether the pattern is `*` (matches everything).
    pub fn is_any(&self) -> bool {
        matches!(self.kind, Kind::Any)
    }

    /// The literal text, if the pattern has no wildcard.
    pub fn as_exact(&self) -> Option<&str> {
        match &self.kind {
            Kind::Exact(s) => Some(s),
            _ => None,
        }
    }

    /// Whether the pattern has any wildcard.
    pub fn has_wildcard(&self) -> bool {
        !matches!(self.kind, Kind::Exact(_))
    }

    /// Whether `subject` matches the whole pattern, case-sensitively. Variables (if
    /// any) are unresolvable, so a pattern with a variable without default matches nothing.
    pub fn matches(&self, subject: &str) -> bool {
        self.matches_with(subject, &NoVars, false)
    }

    /// Whether `subject` matches, with variables looked up in `vars`. With
    /// `ignore_ascii_case`, ASCII letters of the subject compare case-insensitively
    /// (the pattern's literals must then be lowercase). Never allocates.
    pub fn matches_with(&self, subject: &str, vars: &dyn Resolve, ignore_ascii_case: bool) -> bool {
        let s = subject.as_bytes();
        match &self.kind {
            Kind::Any => true,
            Kind::Exact(l) => s.len() == l.len() && eq_bytes(s, l.as_bytes(), ignore_ascii_case),
            Kind::Prefix(l) => {
                s.len() >= l.len() && eq_bytes(&s[..l.len()], l.as_bytes(), ignore_ascii_case)
            }
            Kind::Suffix(l) => {
                s.len() >= l.len()
                    && eq_bytes(&s[s.len() - l.len()..], l.as_bytes(), ignore_ascii_case)
            }
            Kind::General(tokens, pre, suf) => {
                if s.len() < pre.len() + suf.len()
                    || !eq_bytes(&s[..pre.len()], pre.as_bytes(), ignore_ascii_case)
                    || !eq_bytes(&s[s.len() - suf.len()..], suf.as_bytes(), ignore_ascii_case)
                {
                    return false;
                }
                // An unresolvable variable makes the whole pattern match nothing.
                for t in tokens.iter() {
                    if let Token::Var { key, default } = t {
                        if vars.var(key).is_none() && default.is_none() {
                            return false;
                        }
                    }
                }
                match_tokens(tokens, s, vars, ignore_ascii_case)
            }
        }
    }

    /// The pattern as a token sequence, whatever its shape (`*` alone is `[Star]`).
    pub fn to_tokens(&self) -> Vec<Token> {
        match &self.kind {
            Kind::Any => vec![Token::Star],
            Kind::Exact(l) if l.is_empty() => Vec::new(),
            Kind::Exact(l) => vec![Token::Lit(l.clone())],
            Kind::Prefix(l) => vec![Token::Lit(l.clone()), Token::Star],
            Kind::Suffix(l) => vec![Token::Star, Token::Lit(l.clone())],
            Kind::General(t, _, _) => t.to_vec(),
        }
    }

    /// The tokens of a general pattern (empty for the classified shapes).
    pub fn tokens(&self) -> &[Token] {
        match &self.kind {
            Kind::General(t, _, _) => t,
            _ => &[],
        }
    }
}

fn eq_bytes(subject: &[u8], lit: &[u8], ignore_ascii_case: bool) -> bool {
    if ignore_ascii_case {
        subject.eq_ignore_ascii_case(lit)
    } else {
        subject == lit
    }
}

fn var_text<'a>(vars: &'a dyn Resolve, key: &str, default: Option<&'a str>) -> Option<&'a str> {
    vars.var(key).or(default)
}

/// Length of the UTF-8 sequence that starts with byte `b` (1 for stray continuation bytes).
fn char_len(b: u8) -> usize {
    match b {
        0xF0..=0xFF => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}

/// Greedy matcher with one backtrack point (the last `*` seen).
fn match_tokens(tokens: &[Token], s: &[u8], vars: &dyn Resolve, ci: bool) -> bool {
    let (mut ti, mut si) = (0usize, 0usize);
    // (token index after the last star, subject index that star currently absorbs up to)
    let mut star: Option<(usize, usize)> = None;
    loop {
        if let Some(t) = tokens.get(ti) {
            match t {
                Token::Star => {
                    ti += 1;
                    star = Some((ti, si));
                    continue;
                }
                Token::One => {
                    if let Some(&b) = s.get(si) {
                        si += char_len(b);
                        ti += 1;
                        continue;
                    }
                }
                Token::Lit(l) => {
                    if s.get(si..si + l.len())
                        .is_some_and(|w| eq_bytes(w, l.as_bytes(), ci))
                    {
                        si += l.len();
                        ti += 1;
                        continue;
                    }
                }
                Token::Var { key, default } => {
                    let text = var_text(vars, key, default.as_deref()).unwrap_or("");
                    // Substituted text is literal and compared exactly (never case-folded).
                    if s.get(si..si + text.len())
                        .is_some_and(|w| w == text.as_bytes())
                    {
                        si += text.len();
                        ti += 1;
                        continue;
                    }
                }
            }
        } else if si == s.len() {
            return true;
        }
        match star {
            Some((t, r)) if r < s.len() => {
                let next = r + char_len(s[r]);
                star = Some((t, next));
                ti = t;
                si = next;
            }
            _ => return false,
        }
    }
}

/// The obviously-correct reference matcher (exponential in the worst case): used only
/// by tests and property tests to check [`Pattern::matches`].
#[doc(hidden)]
pub fn naive_match(pattern: &[char], subject: &[char]) -> bool {
    match pattern.split_first() {
        None => subject.is_empty(),
        Some(('*', rest)) => (0..=subject.len()).any(|i| naive_match(rest, &subject[i..])),
        Some(('?', rest)) => !subject.is_empty() && naive_match(rest, &subject[1..]),
        Some((c, rest)) => subject.first() == Some(c) && naive_match(rest, &subject[1..]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn check(p: &str, s: &str, expect: bool) {
        let pc: Vec<char> = p.chars().collect();
        let sc: Vec<char> = s.chars().collect();
        assert_eq!(naive_match(&pc, &sc), expect, "naive {p:?} ~ {s:?}");
        assert_eq!(Pattern::new(p).matches(s), expect, "fast {p:?} ~ {s:?}");
    }

    macro_rules! matches { ($($p:expr, $s:expr;)*) => { $( check($p, $s, true); )* } }
    macro_rules! nmatches { ($($p:expr, $s:expr;)*) => { $( check($p, $s, false); )* } }

    #[test]
    fn table() {
        matches! {
            "*", "";
            "*", "anything:at/all";
            "", "";
            "abc", "abc";
            "a*", "a";
            "a*", "abc";
            "*c", "abc";
            "a*c", "ac";
            "a*c", "abbbc";
            "a?c", "abc";
            "a?c", "aéc";
            "??", "éé";
            "**", "x";
            "a**b", "ab";
            "*a*a*a*b", "aaab";
            "[a]*", "[a]x";
            "a.b", "a.b";
            "x{1}", "x{1}";
            "a\\*", "a\\zz";
            "swf:*heartbeat", "swf:recordactivitytaskheartbeat";
            "*/domain/*", "arn:aws:swf:us-east-1:1:/domain/x/y";
            "a*b*c", "aXbYbZc";
        }
        nmatches! {
            "", "a";
            "abc", "abcd";
            "abc", "xabc";
            "a?c", "ac";
            "a?c", "abbc";
            "??", "é";
            "[a]*", "ax";
            "a.b", "axb";
            "swf:Record*", "xswf:RecordX";
            "*a*a*a*b", "aaaa";
            "a*c", "ab";
            "ABC", "abc";
        }
    }

    #[test]
    fn literal_chunks_from_variables_stay_literal() {
        let p = Pattern::from_tokens(vec![Token::Lit("a".into()), Token::Lit("*".into())]);
        assert!(p.matches("a*"));
        assert!(!p.matches("ab"));
        let p = Pattern::from_tokens(vec![
            Token::Lit("x?".into()),
            Token::Star,
            Token::Star,
            Token::Lit("".into()),
        ]);
        assert!(p.matches("x?yz"));
        assert!(!p.matches("xyz"));
    }

    #[test]
    fn pathological_patterns_are_linear_enough() {
        // 2^n for a backtracking matcher; a single-backtrack matcher answers at once.
        let p = Pattern::new(&format!("{}b", "*a".repeat(30)));
        let s = "a".repeat(10_000);
        assert!(!p.matches(&s));
        assert!(p.matches(&format!("{s}b")));
    }

    proptest! {
        #[test]
        fn fast_agrees_with_naive(p in "[ab*?é]{0,8}", s in "[abé]{0,10}") {
            let pc: Vec<char> = p.chars().collect();
            let sc: Vec<char> = s.chars().collect();
            prop_assert_eq!(Pattern::new(&p).matches(&s), naive_match(&pc, &sc));
        }
    }
}
