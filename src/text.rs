//! Texts and positions: byte spans, line/column lookup, JSON pointers.
//!
//! Every syntax node in swf-iam carries a [`Span`] into the text it came from; a
//! [`SourceFile`] turns a span into a 1-based line and column for messages.

use std::fmt;

/// A half-open byte range `start..end` into a source text.
///
/// Equality of syntax nodes never depends on spans: they are compared only where a
/// test asks for them explicitly.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Span {
    /// First byte of the node.
    pub start: usize,
    /// One past the last byte of the node.
    pub end: usize,
}

impl Span {
    /// A span from `start` to `end` (byte offsets).
    pub const fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }
}

/// A 1-based line and column (column counted in characters, not bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct LineCol {
    /// Line number, starting at 1.
    pub line: usize,
    /// Column number in Unicode scalar values, starting at 1.
    pub column: usize,
}

/// A named source text with a line index, used to render positions.
#[derive(Debug, Clone)]
pub struct SourceFile {
    name: String,
    text: String,
    line_starts: Vec<usize>,
}

impl SourceFile {
    /// Wraps `text` read from `name` (a path, or `-` for standard input).
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        let text = text.into();
        let mut line_starts = vec![0];
        line_starts.extend(
            text.bytes()
                .enumerate()
                .filter(|&(_, b)| b == b'\n')
                .map(|(i, _)| i + 1),
        );
        SourceFile {
            name: name.into(),
            text,
            line_starts,
        }
    }

    /// The name given at construction.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The whole text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Line and column of byte `offset`; an offset past the end maps to the end.
    pub fn line_col(&self, offset: usize) -> LineCol {
        let offset = offset.min(self.text.len());
        let line_idx = match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        };
        let line_start = self.line_starts.get(line_idx).copied().unwrap_or(0);
        let column = self
            .text
            .get(line_start..offset)
            .map_or(offset - line_start, |s| s.chars().count())
            + 1;
        LineCol {
            line: line_idx + 1,
            column,
        }
    }

    /// The text of 1-based line `line`, without its line break; empty if out of range.
    pub fn line_text(&self, line: usize) -> &str {
        let Some(&start) = self.line_starts.get(line.wrapping_sub(1)) else {
            return "";
        };
        let end = self
            .line_starts
            .get(line)
            .map_or(self.text.len(), |&next| next - 1);
        self.text
            .get(start..end)
            .unwrap_or("")
            .trim_end_matches('\r')
    }
}

/// A problem at a place in a JSON file: `file:line:column: message (at /pointer)`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}:{column}: {message} (at {pointer})")]
pub struct Located {
    /// The file.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// JSON pointer (`/` for the whole document).
    pub pointer: String,
    /// What is wrong.
    pub message: String,
}

impl SourceFile {
    /// A [`Located`] problem at byte `offset` and `pointer` of this file.
    pub fn locate(&self, offset: usize, pointer: &Pointer, message: impl Into<String>) -> Located {
        let lc = self.line_col(offset);
        Located {
            file: self.name.clone(),
            line: lc.line,
            column: lc.column,
            pointer: if pointer.as_str().is_empty() {
                "/".into()
            } else {
                pointer.to_string()
            },
            message: message.into(),
        }
    }
}

/// An RFC 6901 JSON pointer such as `/Statement/1/NotAction`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Pointer(String);

impl Pointer {
    /// The pointer to the whole document (the empty string).
    pub fn root() -> Self {
        Pointer(String::new())
    }

    /// This pointer extended by an object member name (escaping `~` and `/`).
    pub fn key(&self, name: &str) -> Self {
        let mut s = String::with_capacity(self.0.len() + name.len() + 1);
        s.push_str(&self.0);
        s.push('/');
        for c in name.chars() {
            match c {
                '~' => s.push_str("~0"),
                '/' => s.push_str("~1"),
                c => s.push(c),
            }
        }
        Pointer(s)
    }

    /// This pointer extended by an array index.
    pub fn index(&self, i: usize) -> Self {
        Pointer(format!("{}/{}", self.0, i))
    }

    /// `rest` appended to this pointer (a pointer inside a document embedded here).
    pub fn join(&self, rest: &Pointer) -> Self {
        Pointer(format!("{}{}", self.0, rest.0))
    }

    /// A pointer from its text (`/principals/0/policies/1`); `None` unless it is empty
    /// or starts with `/`.
    pub fn parse(text: &str) -> Option<Self> {
        (text.is_empty() || text.starts_with('/')).then(|| Pointer(text.to_owned()))
    }

    /// The pointer text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Pointer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How a source line is shown in an excerpt: control characters escaped, a long line
/// cut to a window with `...`, and where the carets under a span go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Excerpt {
    /// The text to print.
    pub text: String,
    /// Display column (0-based, in `text`) where the carets start.
    pub caret_start: usize,
    /// How many carets (at least 1; cut at the window's end).
    pub caret_len: usize,
}

/// The widest excerpt line, in characters, before it is cut with `...`.
pub const EXCERPT_WIDTH: usize = 120;

/// How one character is shown: a tab as a space (columns stay aligned), other control
/// characters (C0, DEL, C1) escaped as `\u{..}`, everything else as itself.
fn shown(c: char) -> std::borrow::Cow<'static, str> {
    match c {
        '\t' => " ".into(),
        c if c.is_control() => format!("\\u{{{:x}}}", c as u32).into(),
        c => c.to_string().into(),
    }
}

/// An excerpt of `line` for the span starting at 0-based character column `col0`,
/// `span` characters long: the whole line when it fits [`EXCERPT_WIDTH`], else a window
/// starting up to 40 characters before the span, with `...` where it was cut.
pub fn excerpt(line: &str, col0: usize, span: usize) -> Excerpt {
    let chars: Vec<char> = line.chars().collect();
    let n = chars.len();
    let col0 = col0.min(n);
    let (start, end) = if n <= EXCERPT_WIDTH {
        (0, n)
    } else {
        let start = col0.saturating_sub(40);
        (start, (start + EXCERPT_WIDTH).min(n))
    };
    let mut text = String::new();
    if start > 0 {
        text.push_str("...");
    }
    let mut caret_start = text.chars().count();
    let mut caret_len = 0;
    for (i, c) in chars[start..end].iter().enumerate() {
        let piece = shown(*c);
        let w = piece.chars().count();
        let at = start + i;
        if at < col0 {
            caret_start += w;
        } else if at < col0 + span.max(1) {
            caret_len += w;
        }
        text.push_str(&piece);
    }
    if end < n {
        text.push_str("...");
    }
    Excerpt {
        text,
        caret_start,
        caret_len: caret_len.max(1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_chars_and_lines() {
        let f = SourceFile::new("p.json", "{\n  \"é\": 1\n}");
        assert_eq!(f.line_col(0), LineCol { line: 1, column: 1 });
        assert_eq!(f.line_col(2), LineCol { line: 2, column: 1 });
        // byte 8 is after `"é"` (é is two bytes): column counts it once.
        assert_eq!(f.line_col(8), LineCol { line: 2, column: 6 });
        assert_eq!(f.line_text(2), "  \"é\": 1");
        assert_eq!(f.line_text(9), "");
        assert_eq!(f.line_col(999), LineCol { line: 3, column: 2 });
    }

    #[test]
    fn pointer_escapes() {
        let p = Pointer::root().key("Condition").key("a/b~c").index(0);
        assert_eq!(p.as_str(), "/Condition/a~1b~0c/0");
    }

    #[test]
    fn excerpts_escape_and_cut() {
        let e = excerpt("a\u{1b}[31mred", 1, 1);
        assert_eq!(e.text, "a\\u{1b}[31mred");
        assert_eq!((e.caret_start, e.caret_len), (1, 6));
        let e = excerpt("\tx", 1, 1);
        assert_eq!((e.text.as_str(), e.caret_start), (" x", 1));
        let long = "x".repeat(5400);
        let e = excerpt(&long, 0, 5400);
        assert_eq!(e.text.chars().count(), EXCERPT_WIDTH + 3);
        assert!(e.text.ends_with("..."));
        assert_eq!(e.caret_len, EXCERPT_WIDTH);
        let e = excerpt(&long, 3000, 5);
        assert!(e.text.starts_with("...") && e.text.ends_with("..."));
        assert_eq!((e.caret_start, e.caret_len), (43, 5));
        assert_eq!(excerpt("", 0, 0).caret_len, 1);
    }
}

/// How offsets in a text cut, decoded or rendered from a larger file map back to
/// offsets in that file: a sorted list of segments, each either a run copied verbatim
/// (offsets shift linearly) or a single point (every offset in it maps to one place,
/// for escapes, decoded characters and rendered values).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TextMap {
    /// `(text offset, file offset, linear)`, sorted by text offset.
    segments: Vec<(usize, usize, bool)>,
}

impl TextMap {
    /// A map for a slice copied verbatim from file offset `file_start`.
    pub fn linear(file_start: usize) -> Self {
        TextMap {
            segments: vec![(0, file_start, true)],
        }
    }

    /// From text offset `text_start` on, text is copied verbatim from `file_start`.
    pub fn push_run(&mut self, text_start: usize, file_start: usize) {
        self.push(text_start, file_start, true);
    }

    /// From text offset `text_start` on (to the next segment), text stands for the
    /// file's text at `file_start`.
    pub fn push_point(&mut self, text_start: usize, file_start: usize) {
        self.push(text_start, file_start, false);
    }

    fn push(&mut self, text_start: usize, file_start: usize, linear: bool) {
        if let Some(last) = self.segments.last_mut() {
            if last.0 == text_start {
                *last = (text_start, file_start, linear);
                return;
            }
            if last.0 > text_start {
                return;
            }
            // A run continuing the previous run needs no segment of its own.
            if linear && last.2 && last.1 + (text_start - last.0) == file_start {
                return;
            }
        }
        self.segments.push((text_start, file_start, linear));
    }

    /// This map (text → middle) followed by `outer` (middle → file): text → file.
    pub fn then(&self, outer: &TextMap) -> TextMap {
        let mut out = TextMap::default();
        for (i, &(t, m, linear)) in self.segments.iter().enumerate() {
            if !linear {
                out.push_point(t, outer.file_offset(m));
                continue;
            }
            let len = self
                .segments
                .get(i + 1)
                .map_or(usize::MAX - t, |next| next.0 - t);
            let end = m.saturating_add(len);
            // The outer segment holding `m`, then every later one that starts before `end`.
            let first = outer
                .segments
                .partition_point(|s| s.0 <= m)
                .saturating_sub(1);
            for (j, &(os, of, ol)) in outer.segments.iter().enumerate().skip(first) {
                if j > first && os >= end {
                    break;
                }
                let from = os.max(m);
                let file = if ol { of + (from - os) } else { of };
                out.push(t + (from - m), file, ol);
            }
        }
        out
    }

    /// The file offset of text offset `offset`.
    pub fn file_offset(&self, offset: usize) -> usize {
        let i = self.segments.partition_point(|s| s.0 <= offset);
        match i.checked_sub(1).and_then(|i| self.segments.get(i)) {
            Some(&(t, f, true)) => f + (offset - t),
            Some(&(_, f, false)) => f,
            None => 0,
        }
    }

    /// The file span of text span `span` (never empty when `span` is not).
    pub fn file_span(&self, span: Span) -> Span {
        let start = self.file_offset(span.start);
        if span.end <= span.start {
            return Span::new(start, start);
        }
        let end = (self.file_offset(span.end - 1) + 1).max(start + 1);
        Span::new(start, end)
    }
}

#[cfg(test)]
mod text_map_tests {
    use super::*;

    #[test]
    fn runs_shift_and_points_stay() {
        // text `ab"c` decoded from file `xxab\"c`: run at 2, escape at 4, run at 6.
        let mut m = TextMap::default();
        m.push_run(0, 2);
        m.push_point(2, 4);
        m.push_run(3, 6);
        assert_eq!(m.file_offset(0), 2);
        assert_eq!(m.file_offset(1), 3);
        assert_eq!(m.file_offset(2), 4);
        assert_eq!(m.file_offset(3), 6);
        assert_eq!(m.file_span(Span::new(1, 4)), Span::new(3, 7));
        assert_eq!(
            TextMap::linear(10).file_span(Span::new(0, 3)),
            Span::new(10, 13)
        );
        // Composition: text → middle (percent-decoding) → file (JSON string escapes).
        let mut inner = TextMap::default();
        inner.push_run(0, 0);
        inner.push_point(1, 1);
        inner.push_run(2, 4);
        let mut outer = TextMap::default();
        outer.push_run(0, 100);
        outer.push_point(5, 105);
        outer.push_run(6, 107);
        let c = inner.then(&outer);
        for t in 0..6 {
            let via = outer.file_offset(inner.file_offset(t));
            assert_eq!(c.file_offset(t), via, "offset {t}");
        }
        // Continuing runs merge.
        let mut m = TextMap::default();
        m.push_run(0, 5);
        m.push_run(3, 8);
        assert_eq!(m.segments.len(), 1);
    }
}

/// Where a policy's text came from when it is not a file of its own: an inline policy
/// of a configuration, or a policy inside a template, plan or authorization details.
#[derive(Clone)]
pub struct Origin {
    /// The enclosing file.
    pub file: std::sync::Arc<SourceFile>,
    /// From offsets in the policy's text to offsets in `file`.
    pub map: TextMap,
    /// The JSON pointer of the policy object in `file`, when the policy is a JSON (or
    /// YAML) structure there, so that pointers in the policy extend it; `None` when the
    /// policy is encoded in a string (its pointers are the policy's own).
    pub prefix: Option<Pointer>,
}

impl Origin {
    /// Line and column in the enclosing file of policy-text offset `offset`.
    pub fn line_col(&self, offset: usize) -> LineCol {
        self.file.line_col(self.map.file_offset(offset))
    }

    /// A pointer in the policy as a pointer in the enclosing file, where it is one.
    pub fn pointer(&self, inner: &Pointer) -> Pointer {
        match &self.prefix {
            Some(p) => p.join(inner),
            None => inner.clone(),
        }
    }
}

/// Names the file without its text: the enclosing file may hold secrets (a
/// configuration's access keys), and `Debug` output must never show them.
impl fmt::Debug for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Origin")
            .field("file", &self.file.name())
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}
