//! Policy JSON text → [`PolicyDocument`], gathering every grammar problem as a [`Finding`].
//!
//! The parser is lenient on purpose: an element of the wrong shape is reported and
//! left out, and parsing goes on, so that one run reports all problems of a document.
//! Grammar problems are IAM's step 1 (`Syntax errors in policy.`); the parser adds
//! swf-iam's own detail and the exact place.

use super::model::*;
use crate::diagnostic::{Finding, IamStep, Severity, MSG_SYNTAX};
use crate::json::{self, Member, Node, Value};
use crate::text::{Pointer, Span};
use std::collections::HashMap;

/// The result of parsing: the document as far as it could be read, and the findings.
#[derive(Debug, Clone)]
pub struct Parsed {
    /// The document; `None` when the text is not a JSON object at all.
    pub document: Option<PolicyDocument>,
    /// Grammar findings, in document order.
    pub findings: Vec<Finding>,
}

impl Parsed {
    /// Whether any finding is an error.
    pub fn has_errors(&self) -> bool {
        self.findings.iter().any(|f| f.severity == Severity::Error)
    }
}

const TOP_ELEMENTS: &[&str] = &["Version", "Id", "Statement", "Conditions"];
const STATEMENT_ELEMENTS: &[&str] = &[
    "Sid",
    "Effect",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Principal",
    "NotPrincipal",
    "Condition",
];

/// Parses policy text. Never fails and never panics: problems are findings.
pub fn parse(input: &[u8]) -> Parsed {
    let mut p = PolicyParser {
        findings: Vec::new(),
    };
    let document = match json::parse(input) {
        Ok(root) => {
            p.duplicates(&root, &Pointer::root());
            p.document(&root)
        }
        Err(e) => {
            p.findings.push(
                Finding::new(
                    Severity::Error,
                    "syntax",
                    MSG_SYNTAX,
                    Some(Span::new(e.offset, e.offset)),
                    Pointer::root(),
                )
                .with_detail(format!("not valid JSON: {}", e.kind))
                .at_step(IamStep::Syntax),
            );
            None
        }
    };
    Parsed {
        document,
        findings: p.findings,
    }
}

struct PolicyParser {
    findings: Vec<Finding>,
}

fn loc(node: &Node, pointer: &Pointer) -> Loc {
    Loc {
        span: node.span,
        pointer: pointer.clone(),
    }
}

fn suggest<'a>(name: &str, known: &[&'a str]) -> Option<&'a str> {
    known.iter().copied().find(|k| k.eq_ignore_ascii_case(name))
}

impl PolicyParser {
    fn syntax(&mut self, span: Span, pointer: &Pointer, detail: String) {
        self.findings.push(
            Finding::new(
                Severity::Error,
                "syntax",
                MSG_SYNTAX,
                Some(span),
                pointer.clone(),
            )
            .with_detail(detail)
            .at_step(IamStep::Syntax),
        );
    }

    /// Reports every object member name that repeats within one object.
    fn duplicates(&mut self, node: &Node, pointer: &Pointer) {
        match &node.value {
            Value::Object(members) => {
                let mut seen: HashMap<&str, Span> = HashMap::new();
                for m in members {
                    let child = pointer.key(&m.key);
                    if let Some(first) = seen.get(m.key.as_str()) {
                        self.findings.push(
                            Finding::new(
                                Severity::Error,
                                "duplicate-key",
                                format!("duplicate member `{}` in one object", m.key),
                                Some(m.key_span),
                                child.clone(),
                            )
                            .with_detail(
                                "IAM's handling of duplicate members is undocumented; \
                                 swf-iam refuses to pick one",
                            )
                            .with_related(*first, "first defined here"),
                        );
                    } else {
                        seen.insert(&m.key, m.key_span);
                    }
                    self.duplicates(&m.value, &child);
                }
            }
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    self.duplicates(item, &pointer.index(i));
                }
            }
            _ => {}
        }
    }

    fn string(&mut self, m: &Member, pointer: &Pointer) -> Option<Spanned<String>> {
        match &m.value.value {
            Value::String(s) => Some(Spanned {
                value: s.clone(),
                loc: loc(&m.value, pointer),
            }),
            other => {
                self.syntax(
                    m.value.span,
                    pointer,
                    format!("`{}` must be a string, not {}", m.key, other.type_name()),
                );
                None
            }
        }
    }

    fn document(&mut self, root: &Node) -> Option<PolicyDocument> {
        let root_ptr = Pointer::root();
        let Value::Object(members) = &root.value else {
            self.syntax(
                root.span,
                &root_ptr,
                format!(
                    "a policy must be a JSON object, not {}",
                    root.value.type_name()
                ),
            );
            return None;
        };
        let mut doc = PolicyDocument {
            version: None,
            id: None,
            statements: Vec::new(),
            loc: loc(root, &root_ptr),
            statement_loc: None,
            conditions_element: None,
        };
        let mut saw_statement = false;
        for m in members {
            let ptr = root_ptr.key(&m.key);
            match m.key.as_str() {
                "Version" => {
                    if let Some(v) = self.string(m, &ptr) {
                        if v.value != "2012-10-17" && v.value != "2008-10-17" {
                            self.syntax(
                                m.value.span,
                                &ptr,
                                format!("unsupported `Version` `{}`: use \"2012-10-17\"", v.value),
                            );
                        }
                        doc.version = Some(v);
                    }
                }
                "Id" => doc.id = self.string(m, &ptr),
                "Conditions" => {
                    doc.conditions_element = Some(loc(&m.value, &ptr));
                    self.findings.push(
                        Finding::new(
                            Severity::Warning,
                            "top-level-conditions",
                            "top-level `Conditions` element is accepted and ignored",
                            Some(m.key_span),
                            ptr,
                        )
                        .with_detail("conditions belong in each statement's `Condition`"),
                    );
                }
                "Statement" => {
                    saw_statement = true;
                    doc.statement_loc = Some(loc(&m.value, &ptr));
                    match &m.value.value {
                        Value::Object(_) => {
                            if let Some(s) = self.statement(&m.value, 0, &ptr) {
                                doc.statements.push(s);
                            }
                        }
                        Value::Array(items) => {
                            if items.is_empty() {
                                self.syntax(
                                    m.value.span,
                                    &ptr,
                                    "`Statement` must not be an empty array".into(),
                                );
                            }
                            for (i, item) in items.iter().enumerate() {
                                if let Some(s) = self.statement(item, i, &ptr.index(i)) {
                                    doc.statements.push(s);
                                }
                            }
                        }
                        other => self.syntax(
                            m.value.span,
                            &ptr,
                            format!(
                                "`Statement` must be an object or an array of objects, not {}",
                                other.type_name()
                            ),
                        ),
                    }
                }
                name => {
                    let hint = match suggest(name, TOP_ELEMENTS) {
                        Some(k) => format!(
                            "unknown element `{name}`: element names are case-sensitive, write `{k}`"
                        ),
                        None => format!(
                            "unknown top-level element `{name}`; expected one of `Version`, `Id`, `Statement`"
                        ),
                    };
                    self.syntax(m.key_span, &ptr, hint);
                }
            }
        }
        if !saw_statement {
            self.syntax(root.span, &root_ptr, "missing `Statement`".into());
        }
        Some(doc)
    }

    fn string_list(&mut self, m: &Member, pointer: &Pointer) -> Option<StringList> {
        let (items, is_array): (Vec<Spanned<String>>, bool) = match &m.value.value {
            Value::String(s) => (
                vec![Spanned {
                    value: s.clone(),
                    loc: loc(&m.value, pointer),
                }],
                false,
            ),
            Value::Array(nodes) => {
                let mut items = Vec::with_capacity(nodes.len());
                let mut ok = true;
                let mut nulls = 0;
                for (i, n) in nodes.iter().enumerate() {
                    let ip = pointer.index(i);
                    match &n.value {
                        Value::String(s) => items.push(Spanned {
                            value: s.clone(),
                            loc: loc(n, &ip),
                        }),
                        // IAM accepts a `null` entry and it matches nothing.
                        Value::Null => nulls += 1,
                        other => {
                            ok = false;
                            self.syntax(
                                n.span,
                                &ip,
                                format!(
                                    "entries of `{}` must be strings, not {}",
                                    m.key,
                                    other.type_name()
                                ),
                            );
                        }
                    }
                }
                return Some(StringList {
                    items,
                    loc: loc(&m.value, pointer),
                    key_span: m.key_span,
                    is_array: true,
                    malformed: !ok,
                    nulls,
                });
            }
            other => {
                self.syntax(
                    m.value.span,
                    pointer,
                    format!(
                        "`{}` must be a string or an array of strings, not {}",
                        m.key,
                        other.type_name()
                    ),
                );
                return Some(StringList {
                    items: Vec::new(),
                    loc: loc(&m.value, pointer),
                    key_span: m.key_span,
                    is_array: false,
                    malformed: true,
                    nulls: 0,
                });
            }
        };
        Some(StringList {
            items,
            loc: loc(&m.value, pointer),
            key_span: m.key_span,
            is_array,
            malformed: false,
            nulls: 0,
        })
    }

    fn statement(&mut self, node: &Node, index: usize, pointer: &Pointer) -> Option<Statement> {
        let Value::Object(members) = &node.value else {
            self.syntax(
                node.span,
                pointer,
                format!(
                    "a statement must be an object, not {}",
                    node.value.type_name()
                ),
            );
            return None;
        };
        let mut st = Statement {
            index,
            loc: loc(node, pointer),
            sid: None,
            effect: None,
            action: None,
            not_action: None,
            resource: None,
            not_resource: None,
            principal: None,
            principals: None,
            conditions: Vec::new(),
        };
        let mut present = [false; 9];
        for m in members {
            let ptr = pointer.key(&m.key);
            if let Some(i) = STATEMENT_ELEMENTS.iter().position(|e| *e == m.key) {
                present[i] = true;
            }
            match m.key.as_str() {
                "Sid" => st.sid = self.string(m, &ptr),
                "Effect" => {
                    if let Some(e) = self.string(m, &ptr) {
                        let lower = e.value.to_ascii_lowercase();
                        if lower != "allow" && lower != "deny" {
                            self.syntax(
                                m.value.span,
                                &ptr,
                                format!("`Effect` must be `Allow` or `Deny`, not `{}`", e.value),
                            );
                        }
                        st.effect = Some(e);
                    }
                }
                "Action" => st.action = self.string_list(m, &ptr),
                "NotAction" => st.not_action = self.string_list(m, &ptr),
                "Resource" => st.resource = self.string_list(m, &ptr),
                "NotResource" => st.not_resource = self.string_list(m, &ptr),
                "Principal" | "NotPrincipal" => {
                    st.principal = Some(loc(&m.value, &ptr));
                    st.principals = self.principal_element(m, &ptr);
                }
                "Condition" => st.conditions = self.condition(m, &ptr),
                name => {
                    let hint = match suggest(name, STATEMENT_ELEMENTS) {
                        Some(k) => format!(
                            "unknown element `{name}`: element names are case-sensitive, write `{k}`"
                        ),
                        None => format!("unknown statement element `{name}`"),
                    };
                    self.syntax(m.key_span, &ptr, hint);
                }
            }
        }
        if !present[1] {
            self.syntax(node.span, pointer, "statement has no `Effect`".into());
        }
        if present[2] && present[3] {
            self.syntax(
                node.span,
                pointer,
                "a statement may have `Action` or `NotAction`, not both".into(),
            );
        }
        if present[6] && present[7] {
            self.syntax(
                node.span,
                pointer,
                "a statement may have `Principal` or `NotPrincipal`, not both".into(),
            );
        }
        if present[4] && present[5] {
            self.syntax(
                node.span,
                pointer,
                "a statement may have `Resource` or `NotResource`, not both".into(),
            );
        }
        Some(st)
    }

    /// `Principal`/`NotPrincipal`: `"*"` or an object of string lists.
    fn principal_element(&mut self, m: &Member, pointer: &Pointer) -> Option<PrincipalElement> {
        let negated = m.key == "NotPrincipal";
        let at = loc(&m.value, pointer);
        match &m.value.value {
            Value::String(s) if s == "*" => Some(PrincipalElement {
                negated,
                loc: at,
                star: true,
                entries: Vec::new(),
                malformed: false,
            }),
            Value::Object(members) => {
                let mut entries = Vec::with_capacity(members.len());
                for pm in members {
                    let pp = pointer.key(&pm.key);
                    let values = self.string_list(pm, &pp)?;
                    entries.push(PrincipalEntry {
                        kind: Spanned {
                            value: pm.key.clone(),
                            loc: Loc {
                                span: pm.key_span,
                                pointer: pp,
                            },
                        },
                        values,
                    });
                }
                Some(PrincipalElement {
                    negated,
                    loc: at,
                    star: false,
                    entries,
                    malformed: false,
                })
            }
            // IAM's trust-policy check names it ("Invalid principal in policy").
            _ => Some(PrincipalElement {
                negated,
                loc: at,
                star: false,
                entries: Vec::new(),
                malformed: true,
            }),
        }
    }

    fn condition(&mut self, m: &Member, pointer: &Pointer) -> Vec<ConditionOperator> {
        let Value::Object(ops) = &m.value.value else {
            self.syntax(
                m.value.span,
                pointer,
                format!(
                    "`Condition` must be an object of operators, not {}",
                    m.value.value.type_name()
                ),
            );
            return Vec::new();
        };
        let mut out = Vec::with_capacity(ops.len());
        for op in ops {
            let op_ptr = pointer.key(&op.key);
            let Value::Object(keys) = &op.value.value else {
                self.syntax(
                    op.value.span,
                    &op_ptr,
                    format!(
                        "the value of condition operator `{}` must be an object of keys, not {}",
                        op.key,
                        op.value.value.type_name()
                    ),
                );
                continue;
            };
            let operator = Operator::parse(&op.key);
            let name = Spanned {
                value: op.key.clone(),
                loc: Loc {
                    span: op.key_span,
                    pointer: op_ptr.clone(),
                },
            };
            if operator.is_none() {
                if keys.is_empty() {
                    self.findings.push(
                        Finding::new(
                            Severity::Warning,
                            "unknown-operator-ignored",
                            format!(
                                "unknown condition operator `{}` with no keys is ignored",
                                op.key
                            ),
                            Some(op.key_span),
                            op_ptr.clone(),
                        )
                        .with_detail(
                            "IAM accepts an unknown operator only when its key map is empty",
                        ),
                    );
                } else {
                    let base = op
                        .key
                        .trim_start_matches("ForAnyValue:")
                        .trim_start_matches("ForAllValues:");
                    let hint = match BaseOperator::ALL
                        .iter()
                        .find(|b| b.name().eq_ignore_ascii_case(base.trim_end_matches("IfExists")))
                    {
                        Some(b) => format!(
                            "unknown condition operator `{}`: operator names are case-sensitive, write `{}`",
                            op.key,
                            b.name()
                        ),
                        None => format!("unknown condition operator `{}`", op.key),
                    };
                    self.syntax(op.key_span, &op_ptr, hint);
                }
            }
            let mut ckeys = Vec::with_capacity(keys.len());
            for k in keys {
                let k_ptr = op_ptr.key(&k.key);
                let scalar = |n: &Node| -> Option<String> {
                    match &n.value {
                        Value::String(s) => Some(s.clone()),
                        Value::Bool(b) => Some(b.to_string()),
                        Value::Number(t) => Some(t.clone()),
                        _ => None,
                    }
                };
                let values = match &k.value.value {
                    Value::Array(items) => {
                        let mut vals = Vec::with_capacity(items.len());
                        for (i, it) in items.iter().enumerate() {
                            let ip = k_ptr.index(i);
                            match scalar(it) {
                                Some(v) => vals.push(Spanned {
                                    value: v,
                                    loc: loc(it, &ip),
                                }),
                                None => self.syntax(
                                    it.span,
                                    &ip,
                                    format!(
                                        "condition values must be strings, booleans or numbers, not {}",
                                        it.value.type_name()
                                    ),
                                ),
                            }
                        }
                        vals
                    }
                    _ => match scalar(&k.value) {
                        Some(v) => vec![Spanned {
                            value: v,
                            loc: loc(&k.value, &k_ptr),
                        }],
                        None => {
                            self.syntax(
                                k.value.span,
                                &k_ptr,
                                format!(
                                    "the value of condition key `{}` must be a string, boolean, number or array of them, not {}",
                                    k.key,
                                    k.value.value.type_name()
                                ),
                            );
                            continue;
                        }
                    },
                };
                ckeys.push(ConditionKey {
                    key: Spanned {
                        value: k.key.clone(),
                        loc: Loc {
                            span: k.key_span,
                            pointer: k_ptr.clone(),
                        },
                    },
                    values,
                    loc: loc(&k.value, &k_ptr),
                });
            }
            out.push(ConditionOperator {
                name,
                operator,
                keys: ckeys,
            });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn details(src: &str) -> Vec<String> {
        parse(src.as_bytes())
            .findings
            .into_iter()
            .map(|f| format!("{} {} {}", f.code, f.pointer, f.detail.unwrap_or_default()))
            .collect()
    }

    #[test]
    fn single_statement_object_is_a_list_of_one() {
        let p = parse(
            br#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"swf:*","Resource":"*"}}"#,
        );
        assert!(p.findings.is_empty(), "{:?}", p.findings);
        let d = p.document.unwrap();
        assert_eq!(d.statements.len(), 1);
        assert_eq!(d.language(), Version::V2012_10_17);
        assert_eq!(d.statements[0].effect(), Some(Effect::Allow));
        assert!(!d.statements[0].action.as_ref().unwrap().is_array);
    }

    #[test]
    fn every_problem_is_reported_with_its_pointer() {
        let d = details(
            r#"{"Version":"2012-10-17","statement":[],"Statement":[
                {"Effect":"Permit","Action":["swf:*",3],"Resource":"*","NotResource":"*"},
                {"Effect":"Allow","Acton":"x","Resource":"*","Condition":{"StringEquals":{"k":{"a":1}}}},
                "oops"]}"#,
        );
        assert_eq!(
            d,
            vec![
                "syntax /statement unknown element `statement`: element names are case-sensitive, write `Statement`",
                "syntax /Statement/0/Effect `Effect` must be `Allow` or `Deny`, not `Permit`",
                "syntax /Statement/0/Action/1 entries of `Action` must be strings, not number",
                "syntax /Statement/0 a statement may have `Resource` or `NotResource`, not both",
                "syntax /Statement/1/Acton unknown statement element `Acton`",
                "syntax /Statement/1/Condition/StringEquals/k the value of condition key `k` must be a string, boolean, number or array of them, not object",
                "syntax /Statement/2 a statement must be an object, not string",
            ]
        );
    }

    #[test]
    fn duplicate_keys_name_both_places() {
        let src = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Effect":"Deny","Action":"*","Resource":"*"}}"#;
        let p = parse(src.as_bytes());
        let f = p
            .findings
            .iter()
            .find(|f| f.code == "duplicate-key")
            .unwrap();
        assert_eq!(f.pointer.as_str(), "/Statement/Effect");
        assert_eq!(f.related.len(), 1);
        assert!(f.related[0].span.start < f.span.unwrap().start);
    }

    #[test]
    fn condition_values_accept_bool_and_number_and_keep_text() {
        let p = parse(
            br#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"*","Resource":"*",
            "Condition":{"Bool":{"aws:SecureTransport":false},"NumericLessThan":{"k":[3600, "7"]}}}}"#,
        );
        assert!(p.findings.is_empty(), "{:?}", p.findings);
        let st = &p.document.unwrap().statements[0];
        assert_eq!(st.conditions[0].keys[0].values[0].value, "false");
        assert_eq!(st.conditions[1].keys[0].values[0].value, "3600");
    }

    #[test]
    fn unknown_operator_without_keys_is_only_a_warning() {
        let p = parse(
            br#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"Foo":{}}}}"#,
        );
        assert!(!p.has_errors());
        assert_eq!(p.findings[0].code, "unknown-operator-ignored");
        let p = parse(
            br#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"stringequals":{"a":"b"}}}}"#,
        );
        assert_eq!(
            p.findings[0].detail.as_deref(),
            Some("unknown condition operator `stringequals`: operator names are case-sensitive, write `StringEquals`")
        );
    }

    #[test]
    fn not_json_reports_offset() {
        let p = parse(b"{\"Version\": ");
        assert!(p.document.is_none());
        assert_eq!(p.findings[0].message, MSG_SYNTAX);
        assert_eq!(p.findings[0].span, Some(Span::new(12, 12)));
    }
}
