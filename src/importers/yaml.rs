//! YAML templates as spanned JSON values: YAML 1.2 core-schema scalars, anchors and
//! aliases, and CloudFormation's short-form tags (`!Ref X` is `{"Ref": X}`, `!Sub s`
//! is `{"Fn::Sub": s}`, `!Condition C` is `{"Condition": C}`), every node spanned at
//! its place in the text.

use crate::json::{Member, Node, Value};
use crate::text::Span;
use std::collections::HashMap;
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser, Tag};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// At most this many nodes are built (aliases expand), so that a small file cannot
/// expand to an enormous tree.
pub const MAX_NODES: usize = 4_000_000;

/// What one node built by an alias costs against the expansion budget, besides its text.
pub const NODE_COST: usize = 64;

/// Nesting deeper than this is refused.
pub const MAX_DEPTH: usize = 128;

/// A YAML syntax error, or a document swf-iam does not read, at a byte offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlError {
    /// What is wrong.
    pub message: String,
    /// Byte offset.
    pub offset: usize,
}

/// Parses the first document of `text`, with the default expansion budget
/// ([`crate::importers::MAX_EXPANSION`]).
pub fn parse(text: &str) -> Result<Node, YamlError> {
    parse_within(text, crate::importers::MAX_EXPANSION)
}

/// Parses the first document of `text`; what aliases repeat (the text of the nodes they
/// copy plus [`NODE_COST`] a node) may add at most `max_expansion`.
pub fn parse_within(text: &str, max_expansion: usize) -> Result<Node, YamlError> {
    let mut b = Builder {
        offsets: if text.is_ascii() {
            None
        } else {
            Some(text.char_indices().map(|(i, _)| i).collect())
        },
        text_len: text.len(),
        stack: Vec::new(),
        anchors: HashMap::new(),
        root: None,
        nodes: 0,
        expanded: 0,
        max_expansion,
        error: None,
    };
    let mut parser = Parser::new_from_str(text);
    parser.load(&mut b, false).map_err(|e| YamlError {
        message: format!("not valid YAML: {}", e.info()),
        offset: b.byte(e.marker().index()),
    })?;
    if let Some(e) = b.error {
        return Err(e);
    }
    b.root.ok_or(YamlError {
        message: "the file holds no YAML document".into(),
        offset: 0,
    })
}

enum Frame {
    Seq {
        items: Vec<Node>,
        start: usize,
        anchor: usize,
        tag: Option<Tag>,
    },
    Map {
        members: Vec<Member>,
        key: Option<(String, Span)>,
        start: usize,
        anchor: usize,
        tag: Option<Tag>,
    },
}

struct Builder {
    /// Byte offset of each character, for non-ASCII texts.
    offsets: Option<Vec<usize>>,
    text_len: usize,
    stack: Vec<Frame>,
    /// Anchor id → the node (ids are the parser's, unique per anchor occurrence).
    anchors: HashMap<usize, Node>,
    root: Option<Node>,
    nodes: usize,
    /// What aliases (and anchored copies) have added so far, against `max_expansion`.
    expanded: usize,
    max_expansion: usize,
    error: Option<YamlError>,
}

impl Builder {
    fn byte(&self, char_index: usize) -> usize {
        match &self.offsets {
            None => char_index.min(self.text_len),
            Some(o) => o.get(char_index).copied().unwrap_or(self.text_len),
        }
    }

    fn fail(&mut self, offset: usize, message: impl Into<String>) {
        if self.error.is_none() {
            self.error = Some(YamlError {
                message: message.into(),
                offset,
            });
        }
    }

    /// Places a finished node into the enclosing collection (or as the root).
    fn place(&mut self, node: Node, anchor: usize) {
        if anchor > 0 {
            // Keeping a copy of an anchored node costs what the copy holds.
            let (_, cost) = weigh(&node);
            self.expanded = self.expanded.saturating_add(cost);
            if self.expanded > self.max_expansion {
                let at = node.span.start;
                self.fail(at, self.over_budget());
                return;
            }
            self.anchors.insert(anchor, node.clone());
        }
        match self.stack.last_mut() {
            None => {
                if self.root.is_none() {
                    self.root = Some(node);
                }
            }
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map { members, key, .. }) => match key.take() {
                None => match node.value {
                    Value::String(s) => *key = Some((s, node.span)),
                    Value::Null | Value::Bool(_) | Value::Number(_) => {
                        // A plain scalar key is its text.
                        let s = scalar_text(&node);
                        *key = Some((s, node.span));
                    }
                    _ => {
                        let at = node.span.start;
                        self.fail(at, "a mapping key must be a scalar");
                    }
                },
                Some((k, span)) => members.push(Member {
                    key: k,
                    key_span: span,
                    value: node,
                }),
            },
        }
    }
}

fn scalar_text(node: &Node) -> String {
    match &node.value {
        Value::Null => String::new(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.clone(),
        Value::String(s) => s.clone(),
        _ => String::new(),
    }
}

/// The intrinsic-function name of a CloudFormation short-form tag.
fn intrinsic(tag: &Tag) -> Option<String> {
    if tag.handle != "!" {
        return None;
    }
    Some(match tag.suffix.as_str() {
        "Ref" => "Ref".to_owned(),
        "Condition" => "Condition".to_owned(),
        other => format!("Fn::{other}"),
    })
}

/// Wraps `node` as `{"Fn::...": node}` when `tag` is a CloudFormation short form.
fn tagged(node: Node, tag: Option<&Tag>, tag_offset: usize) -> Node {
    match tag.and_then(intrinsic) {
        Some(name) => Node {
            span: Span::new(tag_offset.min(node.span.start), node.span.end),
            value: Value::Object(vec![Member {
                key: name,
                key_span: Span::new(tag_offset.min(node.span.start), node.span.start),
                value: node,
            }]),
        },
        None => node,
    }
}

/// A plain scalar's value under the YAML 1.2 core schema (numbers kept as JSON text).
fn plain(s: &str) -> Value {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    let json_number = {
        let t = s.strip_prefix('-').unwrap_or(s);
        let (int, rest) = t.split_at(t.find(['.', 'e', 'E']).unwrap_or(t.len()));
        let int_ok = int == "0"
            || (!int.is_empty()
                && !int.starts_with('0')
                && int.bytes().all(|b| b.is_ascii_digit()));
        let rest_ok = {
            let (frac, exp) = rest.split_at(rest.find(['e', 'E']).unwrap_or(rest.len()));
            let frac_ok = frac.is_empty()
                || (frac.len() > 1 && frac[1..].bytes().all(|b| b.is_ascii_digit()));
            let exp_ok = exp.is_empty() || {
                let e = exp[1..].strip_prefix(['+', '-']).unwrap_or(&exp[1..]);
                !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit())
            };
            frac_ok && exp_ok
        };
        int_ok && rest_ok
    };
    if json_number {
        return Value::Number(s.to_owned());
    }
    // Other core-schema integers (`+1`, `0o17`, `0x1F`) as their decimal value.
    let t = s.strip_prefix('+').unwrap_or(s);
    let radix = |p: &str, r: u32| {
        t.strip_prefix(p)
            .and_then(|d| i128::from_str_radix(d, r).ok())
    };
    if let Some(n) = radix("0o", 8).or_else(|| radix("0x", 16)) {
        return Value::Number(n.to_string());
    }
    if s.starts_with('+') && !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
        let d = t.trim_start_matches('0');
        return Value::Number(if d.is_empty() { "0" } else { d }.to_owned());
    }
    Value::String(s.to_owned())
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        if self.error.is_some() || self.root.is_some() {
            return;
        }
        let at = self.byte(mark.index());
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            self.fail(at, format!("the document has more than {MAX_NODES} nodes"));
            return;
        }
        match ev {
            Event::Scalar(s, style, anchor, tag) => {
                let value = if style == TScalarStyle::Plain && tag.is_none() {
                    plain(&s)
                } else {
                    Value::String(s.clone())
                };
                let node = Node {
                    value,
                    span: Span::new(at, (at + s.len()).min(self.text_len)),
                };
                let node = tagged(node, tag.as_ref(), at);
                self.place(node, anchor);
            }
            Event::SequenceStart(anchor, tag) => {
                if self.stack.len() >= MAX_DEPTH {
                    self.fail(at, format!("nesting is deeper than {MAX_DEPTH} levels"));
                    return;
                }
                self.stack.push(Frame::Seq {
                    items: Vec::new(),
                    start: at,
                    anchor,
                    tag,
                });
            }
            Event::MappingStart(anchor, tag) => {
                if self.stack.len() >= MAX_DEPTH {
                    self.fail(at, format!("nesting is deeper than {MAX_DEPTH} levels"));
                    return;
                }
                self.stack.push(Frame::Map {
                    members: Vec::new(),
                    key: None,
                    start: at,
                    anchor,
                    tag,
                });
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let Some(frame) = self.stack.pop() else {
                    return;
                };
                let (value, start, anchor, tag) = match frame {
                    Frame::Seq {
                        items,
                        start,
                        anchor,
                        tag,
                    } => (Value::Array(items), start, anchor, tag),
                    Frame::Map {
                        members,
                        start,
                        anchor,
                        tag,
                        ..
                    } => (Value::Object(members), start, anchor, tag),
                };
                let node = Node {
                    value,
                    span: Span::new(start, at.max(start)),
                };
                let node = tagged(node, tag.as_ref(), start);
                self.place(node, anchor);
            }
            Event::Alias(id) => {
                let Some(anchored) = self.anchors.get(&id) else {
                    self.fail(at, "an alias names no anchor");
                    return;
                };
                // Weigh before copying: the copy is made only within the budget.
                let (nodes, cost) = weigh(anchored);
                self.nodes = self.nodes.saturating_add(nodes);
                if self.nodes > MAX_NODES {
                    self.fail(at, format!("the document has more than {MAX_NODES} nodes"));
                    return;
                }
                self.expanded = self.expanded.saturating_add(cost);
                if self.expanded > self.max_expansion {
                    self.fail(at, self.over_budget());
                    return;
                }
                let node = anchored.clone();
                self.place(node, 0);
            }
            Event::Nothing
            | Event::StreamStart
            | Event::StreamEnd
            | Event::DocumentStart
            | Event::DocumentEnd => {}
        }
    }
}

impl Builder {
    fn over_budget(&self) -> String {
        format!(
            "aliases expand the document beyond {} bytes (`importLimits.maxExpansion`)",
            self.max_expansion
        )
    }
}

/// The nodes of `node` and what a copy of it costs (text bytes plus [`NODE_COST`] a node).
fn weigh(node: &Node) -> (usize, usize) {
    let mut n = 0usize;
    let mut cost = 0usize;
    let mut stack = vec![node];
    while let Some(x) = stack.pop() {
        n += 1;
        cost = cost.saturating_add(NODE_COST);
        match &x.value {
            Value::Array(items) => stack.extend(items),
            Value::Object(members) => {
                for m in members {
                    cost = cost.saturating_add(m.key.len());
                    stack.push(&m.value);
                }
            }
            Value::String(s) | Value::Number(s) => cost = cost.saturating_add(s.len()),
            _ => {}
        }
    }
    (n, cost)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn to_json(text: &str) -> serde_json::Value {
        fn conv(n: &Node) -> serde_json::Value {
            match &n.value {
                Value::Null => serde_json::Value::Null,
                Value::Bool(b) => (*b).into(),
                Value::Number(s) => serde_json::from_str(s).unwrap(),
                Value::String(s) => s.clone().into(),
                Value::Array(a) => a.iter().map(conv).collect(),
                Value::Object(m) => m.iter().map(|m| (m.key.clone(), conv(&m.value))).collect(),
            }
        }
        conv(&parse(text).unwrap())
    }

    #[test]
    fn short_forms_become_intrinsics() {
        let v = to_json(
            "A: !Ref Env\nB: !Sub 'arn:${AWS::Partition}:swf'\nC: !GetAtt Role.Arn\nD: !Join [':', [a, !Ref B]]\nE: !If [IsProd, x, !Ref AWS::NoValue]\nF: !Condition IsProd\n",
        );
        assert_eq!(
            v,
            serde_json::json!({
                "A": {"Ref": "Env"},
                "B": {"Fn::Sub": "arn:${AWS::Partition}:swf"},
                "C": {"Fn::GetAtt": "Role.Arn"},
                "D": {"Fn::Join": [":", ["a", {"Ref": "B"}]]},
                "E": {"Fn::If": ["IsProd", "x", {"Ref": "AWS::NoValue"}]},
                "F": {"Condition": "IsProd"},
            })
        );
    }

    #[test]
    fn core_schema_scalars() {
        let v =
            to_json("v: 2012-10-17\nn: 3600\nf: 1.5\nt: true\nz: ~\nq: '10'\nh: 0x1F\ns: yes\n");
        assert_eq!(
            v,
            serde_json::json!({"v": "2012-10-17", "n": 3600, "f": 1.5, "t": true, "z": null, "q": "10", "h": 31, "s": "yes"})
        );
    }

    #[test]
    fn spans_point_at_the_text() {
        let text = "Resources:\n  R:\n    Type: AWS::IAM::Role\n    é: \"x\"\n    k: v\n";
        let root = parse(text).unwrap();
        let r = crate::importers::get(&root, "Resources")
            .and_then(|n| crate::importers::get(n, "R"))
            .unwrap();
        let t = crate::importers::get(r, "Type").unwrap();
        assert_eq!(&text[t.span.start..t.span.end], "AWS::IAM::Role");
        let k = crate::importers::get(r, "k").unwrap();
        assert_eq!(&text[k.span.start..k.span.end], "v");
    }

    #[test]
    fn anchors_aliases_and_limits() {
        let v = to_json("a: &x [1, 2]\nb: *x\n");
        assert_eq!(v, serde_json::json!({"a": [1, 2], "b": [1, 2]}));
        // A billion laughs is refused, not expanded.
        let mut doc = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let p = i - 1;
            doc.push_str(&format!("a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"));
        }
        let e = parse(&doc).unwrap_err();
        assert!(e.message.contains("expand the document beyond"), "{e:?}");
        assert!(parse("a: [1, 2").is_err());
        assert!(parse(&"[".repeat(500)).is_err());
    }

    /// A 1 MiB scalar named by 2,500 aliases (2.5 GB once expanded) is refused from its
    /// weight before it is copied, and the refusal says where and which limit.
    #[test]
    fn aliases_of_a_large_scalar_count_their_bytes() {
        let mut doc = format!("big: &big {}\nlist:\n", "x".repeat(1 << 20));
        for _ in 0..2_500 {
            doc.push_str("  - *big\n");
        }
        let t0 = std::time::Instant::now();
        let e = parse_within(&doc, 64 << 20).unwrap_err();
        assert!(e.message.contains("maxExpansion"), "{e:?}");
        assert!(e.offset > 1 << 20, "at the alias that passed the limit");
        assert!(t0.elapsed() < std::time::Duration::from_secs(5));
        // Within a larger budget the same document expands (the limit is the budget).
        let small = format!("big: &big {}\nlist: [*big, *big]\n", "x".repeat(1000));
        assert!(parse_within(&small, 1_000).is_err());
        assert!(parse_within(&small, 10_000).is_ok());
    }

    /// Anchors are found by id in constant time: 200,000 of them parse in linear time.
    #[test]
    fn many_anchors_parse_in_linear_time() {
        let mut doc = String::from("items:\n");
        for i in 0..200_000 {
            doc.push_str(&format!("  - &a{i} v{i}\n"));
        }
        doc.push_str("last: *a0\n");
        let t0 = std::time::Instant::now();
        let root = parse(&doc).unwrap();
        assert!(crate::importers::get(&root, "last").is_some());
        // Generous: the linear scan this replaces took 46 s on 2 cores in release.
        assert!(
            t0.elapsed() < std::time::Duration::from_secs(20),
            "{:?}",
            t0.elapsed()
        );
    }
}
