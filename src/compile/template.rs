//! Compiled policy strings: literal templates with variables, wildcard patterns, and
//! ARN patterns split into fields (`iam-policy.md` §3, §6).

use crate::pattern::{Pattern, Resolve, Token};
use crate::policy::variables::{scan, Segment};

/// One piece of a [`Template`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Piece {
    /// Literal text.
    Lit(Box<str>),
    /// A policy variable (key lowercased) with an optional default.
    Var(Box<str>, Option<Box<str>>),
}

/// A literal policy string with variables: `StringEquals` and friends compare against it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Template {
    pieces: Box<[Piece]>,
}

/// Splits policy text into tokens. Under 2012-10-17 (`v2012`) variables and `${*}`-style
/// escapes are read; otherwise all is text. With `wildcards`, `*` and `?` in text are
/// wildcards; without, they are literal.
pub fn tokens(text: &str, v2012: bool, wildcards: bool) -> Vec<Token> {
    let mut out = Vec::new();
    if !v2012 {
        push_text(text, wildcards, &mut out);
        return out;
    }
    for seg in scan(text).segments {
        push_segment(seg, wildcards, &mut out);
    }
    out
}

/// Pushes text, its `*` and `?` as wildcards when `wildcards`.
fn push_text(t: &str, wildcards: bool, out: &mut Vec<Token>) {
    if !wildcards {
        out.push(Token::Lit(t.into()));
        return;
    }
    let mut lit = String::new();
    for c in t.chars() {
        match c {
            '*' | '?' => {
                if !lit.is_empty() {
                    out.push(Token::Lit(std::mem::take(&mut lit).into_boxed_str()));
                }
                out.push(if c == '*' { Token::Star } else { Token::One });
            }
            c => lit.push(c),
        }
    }
    if !lit.is_empty() {
        out.push(Token::Lit(lit.into_boxed_str()));
    }
}

fn push_segment(seg: Segment<'_>, wildcards: bool, out: &mut Vec<Token>) {
    match seg {
        Segment::Text(t) => push_text(t, wildcards, out),
        Segment::Escaped(c) => out.push(Token::Lit(c.to_string().into_boxed_str())),
        Segment::Variable { key, default } => out.push(Token::Var {
            key: key.to_ascii_lowercase().into_boxed_str(),
            default: default.map(Into::into),
        }),
    }
}

/// [`tokens`] of a resource ARN pattern (wildcards on): a policy variable or escape
/// before the fifth `:` (in the partition, service, region or account field) is not
/// substituted but kept as the literal text written, as IAM does (variables may only
/// replace part of the resource field).
pub fn arn_tokens(text: &str, v2012: bool) -> Vec<Token> {
    if !v2012 {
        return tokens(text, false, true);
    }
    let mut out = Vec::new();
    let base = text.as_ptr() as usize;
    // Colons outside variables seen so far, end of the last text segment, and the
    // variables and escapes since then.
    let (mut colons, mut cursor) = (0usize, 0usize);
    let mut pending: Vec<Segment<'_>> = Vec::new();
    let flush = |pending: &mut Vec<Segment<'_>>, raw: &str, colons: usize, out: &mut Vec<Token>| {
        if pending.is_empty() {
            return;
        }
        if colons < 5 {
            out.push(Token::Lit(raw.into()));
        } else {
            for seg in pending.iter().cloned() {
                push_segment(seg, true, out);
            }
        }
        pending.clear();
    };
    for seg in scan(text).segments {
        match seg {
            Segment::Text(t) => {
                let start = (t.as_ptr() as usize).saturating_sub(base);
                flush(
                    &mut pending,
                    text.get(cursor..start).unwrap_or(""),
                    colons,
                    &mut out,
                );
                push_text(t, true, &mut out);
                colons += t.matches(':').count();
                cursor = start + t.len();
            }
            other => pending.push(other),
        }
    }
    flush(
        &mut pending,
        text.get(cursor..).unwrap_or(""),
        colons,
        &mut out,
    );
    out
}

impl Template {
    /// Compiles a literal string; `fold` lowercases literal text (for `...IgnoreCase`).
    pub fn new(text: &str, v2012: bool, fold: bool) -> Self {
        let pieces = tokens(text, v2012, false)
            .into_iter()
            .filter_map(|t| match t {
                Token::Lit(l) if fold => Some(Piece::Lit(l.to_lowercase().into_boxed_str())),
                Token::Lit(l) => Some(Piece::Lit(l)),
                Token::Var { key, default } => Some(Piece::Var(key, default)),
                Token::Star | Token::One => None,
            })
            .collect();
        Template { pieces }
    }

    /// The pieces: literal text and variables, in order.
    pub fn pieces(&self) -> &[Piece] {
        &self.pieces
    }

    /// Calls `f` with each piece's text; `false` if some variable has no value and no default.
    fn for_each<'a>(&'a self, vars: &'a dyn Resolve, mut f: impl FnMut(&'a str)) -> bool {
        for p in self.pieces.iter() {
            match p {
                Piece::Lit(l) => f(l),
                Piece::Var(k, d) => match vars.var(k).or(d.as_deref()) {
                    Some(v) => f(v),
                    None => return false,
                },
            }
        }
        true
    }

    /// Whether `subject` equals the template exactly. An unresolvable variable never equals.
    pub fn equals(&self, subject: &str, vars: &dyn Resolve) -> bool {
        let mut rest = subject;
        let mut ok = true;
        let resolved = self.for_each(vars, |piece| {
            if ok {
                match rest.strip_prefix(piece) {
                    Some(r) => rest = r,
                    None => ok = false,
                }
            }
        });
        resolved && ok && rest.is_empty()
    }

    /// Whether `subject` equals the template after case folding (Unicode lowercase,
    /// character by character; the template's literals are already folded).
    pub fn equals_folded(&self, subject: &str, vars: &dyn Resolve) -> bool {
        let mut subj = subject.chars().flat_map(char::to_lowercase);
        let mut ok = true;
        let resolved = self.for_each(vars, |piece| {
            for c in piece.chars().flat_map(char::to_lowercase) {
                if !ok {
                    return;
                }
                if subj.next() != Some(c) {
                    ok = false;
                }
            }
        });
        resolved && ok && subj.next().is_none()
    }
}

/// An ARN split into at most six `:`-separated fields once, so that many patterns can be
/// matched against it without splitting again. Never allocates.
#[derive(Debug, Clone, Copy)]
pub struct SplitArn<'a> {
    text: &'a str,
    /// Byte offset where each field starts; `n` of them are valid.
    starts: [usize; 6],
    n: usize,
}

impl<'a> SplitArn<'a> {
    /// Splits `text` into at most six fields (the sixth keeps any further `:`).
    pub fn new(text: &'a str) -> Self {
        let mut starts = [0usize; 6];
        let mut n = 1;
        for (i, b) in text.bytes().enumerate() {
            if n == 6 {
                break;
            }
            if b == b':' {
                starts[n] = i + 1;
                n += 1;
            }
        }
        SplitArn { text, starts, n }
    }

    /// The whole text.
    pub fn text(&self) -> &'a str {
        self.text
    }

    /// Whether the ARN is in `account`: `*`, an empty or missing account field count as
    /// the same account (`iam-policy.md` §8 step 3).
    pub fn same_account(&self, account: &str) -> bool {
        if self.text == "*" || self.n < 5 {
            return true;
        }
        let a = self.field(4);
        a.is_empty() || a == account
    }

    /// Field `i` alone (without later fields).
    fn field(&self, i: usize) -> &'a str {
        let end = if i + 1 < self.n {
            self.starts[i + 1] - 1
        } else {
            self.text.len()
        };
        self.text.get(self.starts[i]..end).unwrap_or("")
    }

    /// Field `i` and everything after it.
    fn rest(&self, i: usize) -> &'a str {
        self.text.get(self.starts[i]..).unwrap_or("")
    }
}

/// A compiled `Resource`/`NotResource` entry or `Arn*` condition value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ArnPattern {
    /// `*`: matches everything, the `*` of resource-less actions included.
    any: bool,
    /// One to six field patterns; the last one takes the rest of the subject.
    fields: Box<[Pattern]>,
    /// The text, when it has no wildcard and no variable (used for indexing).
    exact: Option<Box<str>>,
}

impl ArnPattern {
    /// Compiles an ARN pattern: split on `:` into at most six fields (variables and their
    /// defaults never split), each a wildcard pattern.
    pub fn new(text: &str, v2012: bool) -> Self {
        if text == "*" {
            return ArnPattern {
                any: true,
                fields: Box::new([]),
                exact: None,
            };
        }
        let mut fields: Vec<Vec<Token>> = vec![Vec::new()];
        for t in arn_tokens(text, v2012) {
            match t {
                Token::Lit(l) => {
                    let mut parts = l.split(':');
                    if let (Some(first), Some(cur)) = (parts.next(), fields.last_mut()) {
                        cur.push(Token::Lit(first.into()));
                    }
                    for p in parts {
                        if fields.len() < 6 {
                            fields.push(vec![Token::Lit(p.into())]);
                        } else if let Some(cur) = fields.last_mut() {
                            cur.push(Token::Lit(format!(":{p}").into_boxed_str()));
                        }
                    }
                }
                other => {
                    if let Some(cur) = fields.last_mut() {
                        cur.push(other);
                    }
                }
            }
        }
        let fields: Box<[Pattern]> = fields.into_iter().map(Pattern::from_tokens).collect();
        let exact = fields
            .iter()
            .all(|f| f.as_exact().is_some())
            .then(|| text.into());
        ArnPattern {
            any: false,
            fields,
            exact,
        }
    }

    /// Whether this is `*`.
    pub fn is_any(&self) -> bool {
        self.any
    }

    /// The field patterns (none for `*`); the last one takes the rest of the subject.
    pub fn fields(&self) -> &[Pattern] {
        &self.fields
    }

    /// The whole text if it has no wildcard and no variable.
    pub fn as_exact(&self) -> Option<&str> {
        self.exact.as_deref()
    }

    /// Whether `arn` matches: fields one by one (wildcards never cross `:`), the last
    /// pattern field against the rest of the subject (`*` there crosses `:`). The
    /// subject `*` is matched only by the pattern `*`.
    pub fn matches(&self, arn: &str, vars: &dyn Resolve) -> bool {
        self.matches_split(&SplitArn::new(arn), vars)
    }

    /// [`ArnPattern::matches`] on an ARN split beforehand. The last pattern field (the
    /// most selective: the resource part) is matched first.
    pub fn matches_split(&self, arn: &SplitArn<'_>, vars: &dyn Resolve) -> bool {
        if self.any {
            return true;
        }
        if arn.text == "*" {
            return false;
        }
        let n = self.fields.len();
        if n == 0 || arn.n < n {
            return false;
        }
        let last = n - 1;
        self.fields[last].matches_with(arn.rest(last), vars, false)
            && self.fields[..last]
                .iter()
                .enumerate()
                .all(|(i, f)| f.matches_with(arn.field(i), vars, false))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pattern::NoVars;

    struct Vars(&'static [(&'static str, &'static str)]);
    impl Resolve for Vars {
        fn var(&self, key: &str) -> Option<&str> {
            self.0.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
        }
    }

    const DOM: &str = "arn:aws:swf:us-east-1:123456789012:/domain/orders";

    #[test]
    fn arn_table_from_the_spec() {
        let m = |p: &str, r: &str| ArnPattern::new(p, true).matches(r, &NoVars);
        let other = "arn:aws:swf:eu-west-1:210987654321:/domain/orders";
        let rows = [
            (
                "arn:aws:swf:us-east-1:123456789012:/domain/orders",
                true,
                false,
            ),
            ("arn:aws:swf:*:123456789012:/domain/*", true, false),
            ("arn:aws:swf:*:*:*", true, true),
            ("arn:aws:swf:*:*:/domain/ord*", true, true),
            ("arn:aws:swf:::/domain/orders", false, false),
            ("arn:aws:swf:us-east-1:*", true, false),
        ];
        for (p, a, b) in rows {
            assert_eq!(m(p, DOM), a, "{p} ~ {DOM}");
            assert_eq!(m(p, other), b, "{p} ~ {other}");
        }
        assert!(m("arn:aws:*", DOM));
        assert!(!m(
            "arn:aws:swf:*:/domain/x",
            "arn:aws:swf:us-east-1:1:/domain/x"
        ));
        assert!(
            !m("arn:aws:swf:*:*:*", "*"),
            "an ARN pattern never matches `*`"
        );
        assert!(m("*", "*"));
        assert!(!m("arn:aws:swf:*:*:/domain/Orders", DOM), "case-sensitive");
        assert!(
            !m("arn:aws:sw?:*:*:*:*", DOM),
            "six-field pattern against the sixth field only"
        );
        assert!(m(
            "arn:aws:swf:*:*:/domain/[a]*",
            "arn:aws:swf:r-x-1:1:/domain/[a]x"
        ));
        assert!(!m(
            "arn:aws:swf:*:*:/domain/[a]*",
            "arn:aws:swf:r-x-1:1:/domain/ax"
        ));
        // A wildcard in fields 1–5 never crosses `:`.
        assert!(!m("arn:aws:*:123456789012:/domain/orders", DOM));
        // The sixth field keeps further colons and `*` crosses them.
        assert!(m(
            "arn:aws:logs:*:*:log-group:*",
            "arn:aws:logs:us-east-1:1:log-group:g:log-stream:s"
        ));
    }

    #[test]
    fn variables_substitute_as_literal_text() {
        let vars = Vars(&[("aws:principaltag/team", "orders"), ("aws:username", "a*")]);
        let p = ArnPattern::new("arn:aws:swf:*:*:/domain/${aws:PrincipalTag/team}-*", true);
        assert!(p.matches("arn:aws:swf:us-east-1:1:/domain/orders-1", &vars));
        assert!(!p.matches("arn:aws:swf:us-east-1:1:/domain/billing-1", &vars));
        assert!(
            !p.matches("arn:aws:swf:us-east-1:1:/domain/orders-1", &NoVars),
            "unresolvable"
        );
        // Substituted text never becomes a wildcard.
        let p = ArnPattern::new("arn:aws:swf:*:*:/domain/${aws:username}", true);
        assert!(p.matches("arn:aws:swf:r:1:/domain/a*", &vars));
        assert!(!p.matches("arn:aws:swf:r:1:/domain/ab", &vars));
        // ${*} is a literal star.
        let p = ArnPattern::new("arn:aws:swf:*:*:/domain/a${*}", true);
        assert!(p.matches("arn:aws:swf:r:1:/domain/a*", &NoVars));
        assert!(!p.matches("arn:aws:swf:r:1:/domain/ab", &NoVars));
        // Defaults.
        let p = ArnPattern::new("arn:aws:swf:*:*:/domain/${aws:username, 'shared'}", true);
        assert!(p.matches("arn:aws:swf:r:1:/domain/shared", &NoVars));
        // 2008: literal text, its `*` still a wildcard.
        let p = ArnPattern::new("arn:aws:swf:*:*:/domain/${aws:PrincipalTag/team}-*", false);
        assert!(!p.matches("arn:aws:swf:us-east-1:1:/domain/orders-1", &vars));
        assert!(p.matches(
            "arn:aws:swf:us-east-1:1:/domain/${aws:PrincipalTag/team}-1",
            &vars
        ));
        // Before the fifth colon a variable is literal text, never substituted.
        struct Region;
        impl Resolve for Region {
            fn var(&self, key: &str) -> Option<&str> {
                matches!(key, "aws:requestedregion" | "aws:username").then_some("us-east-1")
            }
        }
        let p = ArnPattern::new("arn:aws:swf:${aws:RequestedRegion}:*:/domain/*", true);
        assert!(!p.matches("arn:aws:swf:us-east-1:123456789012:/domain/a", &Region));
        assert!(p.matches(
            "arn:aws:swf:${aws:RequestedRegion}:123456789012:/domain/a",
            &Region
        ));
        let p = ArnPattern::new("arn:aws:swf:*:${aws:username}:/domain/*", true);
        assert!(!p.matches("arn:aws:swf:us-east-1:us-east-1:/domain/a", &Region));
        let p = ArnPattern::new("arn:${aws:username, 'aws'}:swf:*:*:/domain/*", true);
        assert!(!p.matches("arn:aws:swf:us-east-1:1:/domain/a", &Region));
        // ... and in the resource field it is substituted, also right after the fifth colon.
        let p = ArnPattern::new("arn:aws:swf:*:*:${aws:username}", true);
        assert!(p.matches("arn:aws:swf:us-east-1:1:us-east-1", &Region));
        let p = ArnPattern::new("arn:aws:swf:*:*:/domain/${aws:username}", true);
        assert!(p.matches("arn:aws:swf:eu-west-1:1:/domain/us-east-1", &Region));
        // Wildcards before the fifth colon are still wildcards.
        let p = ArnPattern::new("arn:aws:swf:us-*:*:/domain/${aws:username}", true);
        assert!(p.matches("arn:aws:swf:us-west-2:1:/domain/us-east-1", &Region));
        // A variable's colon does not split fields.
        let p = ArnPattern::new("arn:aws:swf:*:*:/domain/${aws:PrincipalTag/team}", true);
        assert!(p.matches("arn:aws:swf:r:1:/domain/orders", &vars));
    }

    #[test]
    fn templates() {
        let vars = Vars(&[("aws:principaltag/team", "Orders")]);
        let t = Template::new("team-${aws:PrincipalTag/team}", true, false);
        assert!(t.equals("team-Orders", &vars));
        assert!(!t.equals("team-orders", &vars));
        assert!(!t.equals("team-Orders", &NoVars));
        let f = Template::new("TEAM-${aws:PrincipalTag/team}", true, true);
        assert!(f.equals_folded("team-orders", &vars));
        assert!(f.equals_folded("Team-ORDERS", &vars));
        assert!(!f.equals_folded("team-order", &vars));
        assert!(Template::new("ÄBC", true, true).equals_folded("äbc", &NoVars));
        assert!(Template::new("a*", true, false).equals("a*", &NoVars));
        assert!(!Template::new("a*", true, false).equals("ab", &NoVars));
    }
}
