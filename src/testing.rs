//! Permission cases as data: case files, running them, and stable renderings of a
//! decision's explanation for snapshot tests.
//!
//! A case file names a configuration and the decisions a team expects:
//!
//! ```json
//! {
//!   "config": "../swf-iam.json",
//!   "context": {"aws:SourceIp": "10.1.2.3"},
//!   "cases": [
//!     {"name": "worker heartbeats on orders",
//!      "principal": "arn:aws:iam::123456789012:role/heartbeat-worker",
//!      "action": "swf:RecordActivityTaskHeartbeat", "domain": "orders",
//!      "expect": "allowed",
//!      "expectStatements": [{"policy": "identity/worker.json", "sid": "HeartbeatOrders"}]}
//!   ]
//! }
//! ```
//!
//! `config` is a path relative to the case file, or the configuration inline. The
//! top-level `context` applies to every case; a case's own `context` adds to it.
//! `action` defaults to `swf:RecordActivityTaskHeartbeat`. Give `domain` or
//! `resource` (actions without a resource type use `*`). `expect` is required.
//! `expectStatements`, when given, lists statements that must each be among the
//! deciding statements (so an allow can be pinned to its identity statement without
//! listing every SCP and boundary statement that also allowed); `expectOnlyStatements`
//! must match the deciding statements one to one. Each entry matches on the fields it
//! names (`policy`, `sid`, `index`, `effect`).
//!
//! `now` (file or case level; ISO 8601 or epoch seconds) pins `aws:CurrentTime` and
//! `aws:EpochTime`, so a case and its snapshot do not change with the clock.
//! `"defaultContext": false` (file or case level) evaluates only the principal's keys
//! and the given `context`, as IAM's policy simulator does; by default the request
//! defaults of `swf-iam check` are set (the requested region is the resource's).
//!
//! In a Rust test, render a decision with [`explanation_text`] or [`explanation_json`]
//! and snapshot it with insta:
//!
//! ```
//! use swf_iam::testing::{explanation_text, load, run};
//!
//! let file = load(std::path::Path::new("policies/cases/worker.json")).unwrap();
//! for result in run(&file) {
//!     assert!(result.passed(), "{}: {:?}", result.name, result.failures);
//!     let text = explanation_text(&result.decision);
//!     assert!(text.starts_with("decision: "));
//!     // insta::assert_snapshot!(result.name.clone(), text);
//! }
//! ```

use crate::config::{Config, ConfigError, PrincipalConfig};
use crate::eval::{self, Context, ContextValue, Decision, DecisionKind, MatchedStatement, Request};
use crate::json::{self, Node, Value};
use crate::policy::model::Effect;
use crate::swf::arn::region_of;
use crate::swf::catalog;
use crate::text::{Pointer, SourceFile};
use serde::Serialize;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// A case file that cannot be used, with where and why.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CaseError {
    /// The file cannot be read.
    #[error("cannot read `{path}`: {message}")]
    Io {
        /// The path.
        path: String,
        /// The OS error.
        message: String,
    },
    /// The file is malformed.
    #[error("{0}")]
    Invalid(crate::text::Located),
    /// The configuration it names is invalid.
    #[error("{0}")]
    Config(#[from] ConfigError),
}

/// What a case expects of one deciding statement: every given field must match.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ExpectedStatement {
    /// Policy name (as in the configuration).
    pub policy: Option<String>,
    /// `Sid`.
    pub sid: Option<String>,
    /// Position in the policy.
    pub index: Option<usize>,
    /// Effect.
    pub effect: Option<Effect>,
}

impl ExpectedStatement {
    fn matches(&self, m: &MatchedStatement) -> bool {
        self.policy.as_ref().is_none_or(|p| *p == m.policy)
            && self.sid.as_ref().is_none_or(|s| m.sid.as_ref() == Some(s))
            && self.index.is_none_or(|i| i == m.index)
            && self.effect.is_none_or(|e| e == m.effect)
    }
}

/// One permission case.
#[derive(Debug, Clone)]
pub struct Case {
    /// Its name (unique in the file).
    pub name: String,
    /// The principal ARN (default: the configuration's first principal).
    pub principal: Option<String>,
    /// The action.
    pub action: String,
    /// The resource ARN (built from `domain` when that was given).
    pub resource: String,
    /// Context keys of this case (after the file's).
    pub context: Vec<(String, ContextValue)>,
    /// The pinned time of the request (`now` of the case, else of the file), epoch
    /// seconds; `None` runs at the current time.
    pub now: Option<i64>,
    /// Whether the request defaults are set (`defaultContext`, default true): with
    /// `false` only the principal's keys and the given `context` are evaluated.
    pub default_context: bool,
    /// The expected decision.
    pub expect: DecisionKind,
    /// The expected deciding statements, if given: each must be among the deciding
    /// statements (`expectStatements`), or they must be exactly the deciding statements
    /// (`expectOnlyStatements`, see `only_statements`).
    pub expect_statements: Option<Vec<ExpectedStatement>>,
    /// Whether `expect_statements` must match the deciding statements one to one.
    pub only_statements: bool,
    /// 1-based line of the case in its file.
    pub line: usize,
}

/// A loaded case file.
#[derive(Debug, Clone)]
pub struct CaseFile {
    /// Its path.
    pub path: PathBuf,
    /// The configuration the cases run against.
    pub config: Config,
    /// The cases, in file order.
    pub cases: Vec<Case>,
}

/// The outcome of one case.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CaseResult {
    /// The case's name.
    pub name: String,
    /// 1-based line of the case.
    pub line: usize,
    /// The expected decision.
    pub expected: DecisionKind,
    /// The actual decision with its explanation.
    pub decision: Decision,
    /// Why the case failed (empty when it passed).
    pub failures: Vec<String>,
}

impl CaseResult {
    /// Whether the case passed.
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

struct Reader<'a> {
    source: &'a SourceFile,
}

impl Reader<'_> {
    fn err(&self, node: &Node, pointer: &Pointer, message: impl Into<String>) -> CaseError {
        self.err_at(node.span.start, pointer, message)
    }

    fn err_at(&self, offset: usize, pointer: &Pointer, message: impl Into<String>) -> CaseError {
        CaseError::Invalid(self.source.locate(offset, pointer, message))
    }

    fn object<'n>(
        &self,
        node: &'n Node,
        pointer: &Pointer,
        allowed: &[&str],
    ) -> Result<&'n [json::Member], CaseError> {
        let Value::Object(members) = &node.value else {
            return Err(self.err(
                node,
                pointer,
                format!("expected an object, not {}", node.value.type_name()),
            ));
        };
        for (i, m) in members.iter().enumerate() {
            let p = pointer.key(&m.key);
            if !allowed.contains(&m.key.as_str()) {
                return Err(self.err_at(
                    m.key_span.start,
                    &p,
                    format!(
                        "unknown field `{}`; expected one of {}",
                        m.key,
                        allowed.join(", ")
                    ),
                ));
            }
            if members[..i].iter().any(|o| o.key == m.key) {
                return Err(self.err_at(
                    m.key_span.start,
                    &p,
                    format!("duplicate field `{}`", m.key),
                ));
            }
        }
        Ok(members)
    }

    fn string<'n>(&self, node: &'n Node, pointer: &Pointer) -> Result<&'n str, CaseError> {
        match &node.value {
            Value::String(s) => Ok(s),
            other => Err(self.err(
                node,
                pointer,
                format!("expected a string, not {}", other.type_name()),
            )),
        }
    }

    fn context(
        &self,
        node: &Node,
        pointer: &Pointer,
    ) -> Result<Vec<(String, ContextValue)>, CaseError> {
        let Value::Object(members) = &node.value else {
            return Err(self.err(node, pointer, "`context` must be an object of keys"));
        };
        let mut out = Vec::new();
        for m in members {
            let p = pointer.key(&m.key);
            let v = match &m.value.value {
                Value::String(s) => ContextValue::Single(s.clone()),
                Value::Bool(b) => ContextValue::Single(b.to_string()),
                Value::Number(n) => ContextValue::Single(n.clone()),
                Value::Array(items) => ContextValue::Multi(
                    items
                        .iter()
                        .enumerate()
                        .map(|(i, it)| self.string(it, &p.index(i)).map(str::to_owned))
                        .collect::<Result<_, _>>()?,
                ),
                _ => {
                    return Err(self.err(
                        &m.value,
                        &p,
                        "a context value is a string, boolean, number or array of strings",
                    ))
                }
            };
            let values: Vec<&str> = match &v {
                ContextValue::Single(s) => vec![s.as_str()],
                ContextValue::Multi(m) => m.iter().map(String::as_str).collect(),
            };
            for one in values {
                crate::keys::check_request_value(&m.key, one)
                    .map_err(|e| self.err(&m.value, &p, e))?;
            }
            out.push((m.key.clone(), v));
        }
        Ok(out)
    }

    fn now(&self, node: &Node, pointer: &Pointer) -> Result<i64, CaseError> {
        let text = match &node.value {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.clone(),
            other => {
                return Err(self.err(
                    node,
                    pointer,
                    format!(
                        "`now` is a time (ISO 8601 or epoch seconds), not {}",
                        other.type_name()
                    ),
                ))
            }
        };
        crate::values::parse_instant(&text)
            .map(|i| i.secs)
            .ok_or_else(|| {
                self.err(
                    node,
                    pointer,
                    format!("`{text}` is not a time: give ISO 8601 (2026-12-01T10:00:00Z) or epoch seconds"),
                )
            })
    }

    fn boolean(&self, node: &Node, pointer: &Pointer) -> Result<bool, CaseError> {
        match &node.value {
            Value::Bool(b) => Ok(*b),
            other => Err(self.err(
                node,
                pointer,
                format!("expected true or false, not {}", other.type_name()),
            )),
        }
    }
}

/// Loads and checks a case file (and the configuration it names).
pub fn load(path: &Path) -> Result<CaseFile, CaseError> {
    let bytes =
        crate::files::read_bounded(path, crate::files::MAX_CONFIG_FILE_BYTES).map_err(|e| {
            CaseError::Io {
                path: path.display().to_string(),
                message: e.to_string(),
            }
        })?;
    let source = SourceFile::new(
        path.display().to_string(),
        String::from_utf8_lossy(&bytes).into_owned(),
    );
    let r = Reader { source: &source };
    let root = json::parse(&bytes).map_err(|e| {
        r.err_at(
            e.offset,
            &Pointer::root(),
            format!("not valid JSON: {}", e.kind),
        )
    })?;
    let top = Pointer::root();
    // A configuration given where a case file is expected: say so, not "unknown field".
    if let json::Value::Object(m) = &root.value {
        let is_config = |k: &str| {
            matches!(
                k,
                "principals" | "partition" | "region" | "regions" | "account" | "scps" | "sources"
            )
        };
        if !m.iter().any(|x| x.key == "cases") && m.iter().any(|x| is_config(&x.key)) {
            return Err(r.err(
                &root,
                &top,
                "this is a swf-iam configuration, not a case file: a case file has `cases` and names its configuration in `config` (`swf-iam test` runs case files; `swf-iam check --config` reads configurations)",
            ));
        }
    }
    let members = r.object(
        &root,
        &top,
        &["config", "context", "now", "defaultContext", "cases"],
    )?;
    let get = |k: &str| members.iter().find(|m| m.key == k);
    let Some(cfg) = get("config") else {
        return Err(r.err(
            &root,
            &top,
            "a case file needs `config`: a path relative to it, or the configuration inline",
        ));
    };
    let config = match &cfg.value.value {
        Value::String(rel) => {
            let full = path.parent().unwrap_or(Path::new(".")).join(rel);
            if !full.exists() {
                return Err(r.err(
                    &cfg.value,
                    &top.key("config"),
                    format!("configuration `{}` does not exist", full.display()),
                ));
            }
            Config::load(&full)?
        }
        Value::Object(_) => Config::from_node(path, &source, &cfg.value, &top.key("config"))?,
        other => {
            return Err(r.err(
                &cfg.value,
                &top.key("config"),
                format!("`config` is a path or an object, not {}", other.type_name()),
            ))
        }
    };
    let file_context = match get("context") {
        Some(m) => r.context(&m.value, &top.key("context"))?,
        None => Vec::new(),
    };
    let file_now = get("now")
        .map(|m| r.now(&m.value, &top.key("now")))
        .transpose()?;
    let file_defaults = get("defaultContext")
        .map(|m| r.boolean(&m.value, &top.key("defaultContext")))
        .transpose()?
        .unwrap_or(true);
    let Some(cases_m) = get("cases") else {
        return Err(r.err(&root, &top, "a case file needs `cases`"));
    };
    let cp = top.key("cases");
    let Value::Array(items) = &cases_m.value.value else {
        return Err(r.err(&cases_m.value, &cp, "`cases` must be an array"));
    };
    if items.is_empty() {
        return Err(r.err(
            &cases_m.value,
            &cp,
            "`cases` is empty: a case file must test something",
        ));
    }
    let defaults = FileDefaults {
        context: &file_context,
        now: file_now,
        default_context: file_defaults,
    };
    let mut cases: Vec<Case> = Vec::new();
    for (i, it) in items.iter().enumerate() {
        let p = cp.index(i);
        let case = case(&r, it, &p, &config, &defaults)?;
        if cases.iter().any(|c| c.name == case.name) {
            return Err(r.err(it, &p, format!("two cases are named `{}`", case.name)));
        }
        cases.push(case);
    }
    Ok(CaseFile {
        path: path.to_path_buf(),
        config,
        cases,
    })
}

/// What a case file's top level gives every case.
struct FileDefaults<'a> {
    context: &'a [(String, ContextValue)],
    now: Option<i64>,
    default_context: bool,
}

/// One case of a case file (at `p`), checked against its configuration.
fn case(
    r: &Reader<'_>,
    it: &Node,
    p: &Pointer,
    config: &Config,
    file: &FileDefaults<'_>,
) -> Result<Case, CaseError> {
    let p = p.clone();
    let m = r.object(
        it,
        &p,
        &[
            "name",
            "principal",
            "action",
            "domain",
            "resource",
            "context",
            "now",
            "defaultContext",
            "expect",
            "expectStatements",
            "expectOnlyStatements",
        ],
    )?;
    let get = |k: &str| m.iter().find(|x| x.key == k);
    let name = match get("name") {
        Some(n) => r.string(&n.value, &p.key("name"))?.to_owned(),
        None => return Err(r.err(it, &p, "a case needs `name`")),
    };
    let Some(expect_m) = get("expect") else {
        return Err(r.err(it, &p, format!("case `{name}` expects nothing: add \"expect\": \"allowed\" | \"explicitDeny\" | \"implicitDeny\"")));
    };
    let expect = match r.string(&expect_m.value, &p.key("expect"))? {
        "allowed" => DecisionKind::Allowed,
        "explicitDeny" => DecisionKind::ExplicitDeny,
        "implicitDeny" => DecisionKind::ImplicitDeny,
        other => {
            return Err(r.err(
                &expect_m.value,
                &p.key("expect"),
                format!("`expect` is `allowed`, `explicitDeny` or `implicitDeny`, not `{other}`"),
            ))
        }
    };
    let principal = get("principal")
        .map(|x| r.string(&x.value, &p.key("principal")).map(str::to_owned))
        .transpose()?;
    if let Some(arn) = &principal {
        if config.principal(arn).is_none() {
            let x = get("principal").map_or(it, |x| &x.value);
            return Err(r.err(
                x,
                &p.key("principal"),
                format!("principal `{arn}` is not in the configuration"),
            ));
        }
    } else if config.principals.is_empty() {
        return Err(r.err(it, &p, "the configuration has no principal"));
    }
    let action = match get("action") {
        Some(a) => catalog::request_action(r.string(&a.value, &p.key("action"))?)
            .map_err(|e| r.err(&a.value, &p.key("action"), e))?,
        None => "swf:RecordActivityTaskHeartbeat".to_owned(),
    };
    let swf = catalog::action(&action);
    let domain = get("domain");
    let resource = get("resource");
    let domain_name = domain
        .map(|d| r.string(&d.value, &p.key("domain")))
        .transpose()?;
    let resource_arn = resource
        .map(|x| r.string(&x.value, &p.key("resource")))
        .transpose()?;
    let resource = catalog::request_resource(
        swf,
        &action,
        domain_name,
        resource_arn,
        catalog::Place {
            partition: &config.partition,
            region: &config.region,
            account: &config.account,
            domain_input: "`domain`",
            resource_input: "`resource`",
        },
    )
    .map_err(|e| {
        let (node, at) = match e.input {
            catalog::ResourceInput::Domain => (domain.map_or(it, |d| &d.value), p.key("domain")),
            catalog::ResourceInput::Resource => {
                (resource.map_or(it, |x| &x.value), p.key("resource"))
            }
            catalog::ResourceInput::Request => (it, p.clone()),
        };
        r.err(node, &at, format!("case `{name}`: {}", e.message))
    })?;
    let mut context = file.context.to_vec();
    if let Some(c) = get("context") {
        context.extend(r.context(&c.value, &p.key("context"))?);
    }
    let now = get("now")
        .map(|m| r.now(&m.value, &p.key("now")))
        .transpose()?
        .or(file.now);
    // A case whose decision can change with the clock must pin the time.
    let decider = match &principal {
        Some(arn) => config.principal(arn),
        None => config.principals.first(),
    };
    let pinned_by_context = ["aws:CurrentTime", "aws:EpochTime"]
        .iter()
        .all(|k| context.iter().any(|(c, _)| c.eq_ignore_ascii_case(k)));
    if now.is_none() && !pinned_by_context && decider.is_some_and(|pc| pc.compiled.reads_time()) {
        return Err(r.err(
            it,
            &p,
            format!("case `{name}`: a policy of its principal tests the time (aws:CurrentTime or aws:EpochTime), so its decision would change with the clock: pin `now` in the case or at the top of the file"),
        ));
    }
    let default_context = get("defaultContext")
        .map(|m| r.boolean(&m.value, &p.key("defaultContext")))
        .transpose()?
        .unwrap_or(file.default_context);
    let (expect_statements, only) =
        expected_statements(r, get("expectStatements"), get("expectOnlyStatements"), &p)?;
    Ok(Case {
        name,
        principal,
        action,
        resource,
        context,
        now,
        default_context,
        expect,
        expect_statements,
        only_statements: only,
        line: r.source.line_col(it.span.start).line,
    })
}

/// A case's `expectStatements` or `expectOnlyStatements` (never both; an empty
/// `expectStatements` expects nothing and is refused), and whether it is the latter.
fn expected_statements(
    r: &Reader<'_>,
    each: Option<&json::Member>,
    exactly: Option<&json::Member>,
    p: &Pointer,
) -> Result<(Option<Vec<ExpectedStatement>>, bool), CaseError> {
    let (field, only) = match (each, exactly) {
        (Some(_), Some(x)) => {
            return Err(r.err(
                &x.value,
                &p.key("expectOnlyStatements"),
                "give `expectStatements` (each must decide) or `expectOnlyStatements` (exactly these decide), not both",
            ))
        }
        (Some(x), None) => (Some(("expectStatements", x)), false),
        (None, Some(x)) => (Some(("expectOnlyStatements", x)), true),
        (None, None) => (None, false),
    };
    let expect_statements = match field {
        None => None,
        Some((fname, x)) => {
            let sp = p.key(fname);
            let Value::Array(list) = &x.value.value else {
                return Err(r.err(&x.value, &sp, format!("`{fname}` must be an array")));
            };
            // "Each of none must decide" holds of every decision: a case that cannot
            // fail is an error, as one that expects nothing is.
            if list.is_empty() && !only {
                return Err(r.err(
                    &x.value,
                    &sp,
                    "`expectStatements: []` expects nothing and can never fail: list the statements that must decide, or write `expectOnlyStatements: []` to require that no statement decides",
                ));
            }
            let mut out = Vec::new();
            for (j, e) in list.iter().enumerate() {
                let ep = sp.index(j);
                let em = r.object(e, &ep, &["policy", "sid", "index", "effect"])?;
                let mut want = ExpectedStatement::default();
                for f in em {
                    let fp = ep.key(&f.key);
                    match f.key.as_str() {
                        "policy" => want.policy = Some(r.string(&f.value, &fp)?.to_owned()),
                        "sid" => want.sid = Some(r.string(&f.value, &fp)?.to_owned()),
                        "effect" => {
                            want.effect = Some(match r.string(&f.value, &fp)? {
                                "Allow" => Effect::Allow,
                                "Deny" => Effect::Deny,
                                _ => {
                                    return Err(r.err(
                                        &f.value,
                                        &fp,
                                        "`effect` is `Allow` or `Deny`",
                                    ))
                                }
                            })
                        }
                        _ => {
                            want.index = Some(match &f.value.value {
                                Value::Number(n) => n.parse().map_err(|_| {
                                    r.err(&f.value, &fp, "`index` is a whole number")
                                })?,
                                _ => return Err(r.err(&f.value, &fp, "`index` is a whole number")),
                            })
                        }
                    }
                }
                if want == ExpectedStatement::default() {
                    return Err(r.err(
                        e,
                        &ep,
                        "an expected statement names at least one of policy, sid, index, effect",
                    ));
                }
                out.push(want);
            }
            Some(out)
        }
    };
    Ok((expect_statements, only))
}

/// The principal and request context of a case: the configuration's principal with its
/// keys, the default keys of `swf-iam check` (region, `now`, TLS), then the file's and
/// the case's `context`. `None` if the principal is not configured.
pub fn prepare<'a>(
    file: &'a CaseFile,
    case: &Case,
    now: i64,
) -> Option<(&'a PrincipalConfig, Context)> {
    let pc = match &case.principal {
        Some(arn) => file.config.principal(arn),
        None => file.config.principals.first(),
    }?;
    let mut ctx = Context::over(pc.base_context.clone());
    if case.default_context {
        let region = region_of(&case.resource).unwrap_or(&file.config.region);
        ctx.set_request_defaults(region, case.now.unwrap_or(now));
    }
    for (k, v) in &case.context {
        ctx.set(k, v.clone());
    }
    Some((pc, ctx))
}

/// A file's path without `.` and `..` steps (`policies/cases/../x.json` → `policies/x.json`).
fn display_path(name: &str) -> String {
    crate::files::lexical(Path::new(name)).display().to_string()
}

/// One statement a coverage report counts, and how many cases it decided.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatementCoverage {
    /// The policy's name (as explanations name it).
    pub policy: String,
    /// The policy's layer.
    pub policy_type: crate::compile::PolicyType,
    /// The file that holds the policy's text.
    pub file: String,
    /// The statement's position in its policy.
    pub index: usize,
    /// Its `Sid`, if any.
    pub sid: Option<String>,
    /// Its line in `file`.
    pub line: usize,
    /// Its column in `file`.
    pub column: usize,
    /// The cases it decided (an allow it granted, a deny it made).
    pub cases: usize,
}

/// Which statements of the configurations that case files run against decided at least
/// one case (`swf-iam test --coverage`). A statement decides a case when it is among the
/// case's deciding statements and applied: an `Allow` that granted it, a `Deny` that
/// denied it; a statement whose conditions failed did not.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Coverage {
    /// Every statement, keyed by (configuration, policy, layer, index), in that order.
    #[serde(skip)]
    by_key: std::collections::BTreeMap<(String, String, String, usize), StatementCoverage>,
}

impl Coverage {
    /// Adds every statement of `file`'s configuration (each principal's policies and
    /// each role's trust policy; a policy shared by principals counts once).
    pub fn add_config(&mut self, file: &CaseFile) {
        let cfg = file.config.path.display().to_string();
        for pc in &file.config.principals {
            let set = &pc.compiled;
            for st in &set.statements {
                let Some(p) = set.policies.get(st.policy as usize) else {
                    continue;
                };
                let source = display_path(match set.origins.get(st.policy as usize) {
                    Some(Some(o)) => o.file.name(),
                    _ => set
                        .sources
                        .get(st.policy as usize)
                        .map_or(p.name.as_str(), |s| s.name()),
                });
                let ty = p.layer.policy_type();
                self.by_key
                    .entry((
                        cfg.clone(),
                        p.name.clone(),
                        format!("{ty:?}"),
                        st.index as usize,
                    ))
                    .or_insert_with(|| StatementCoverage {
                        policy: p.name.clone(),
                        policy_type: ty,
                        file: source,
                        index: st.index as usize,
                        sid: st.sid.as_deref().map(str::to_owned),
                        line: st.line,
                        column: st.column,
                        cases: 0,
                    });
            }
            if let Some(t) = &pc.trust {
                let source =
                    display_path(t.origin.as_ref().map_or(t.source.name(), |o| o.file.name()));
                let ty = crate::compile::PolicyType::TrustPolicy;
                for st in &t.statements {
                    self.by_key
                        .entry((
                            cfg.clone(),
                            t.name.clone(),
                            format!("{ty:?}"),
                            st.index as usize,
                        ))
                        .or_insert_with(|| StatementCoverage {
                            policy: t.name.clone(),
                            policy_type: ty,
                            file: source.clone(),
                            index: st.index as usize,
                            sid: st.sid.as_deref().map(str::to_owned),
                            line: st.line,
                            column: st.column,
                            cases: 0,
                        });
                }
            }
        }
    }

    /// Counts the statements that decided `result` (a case of `file`).
    pub fn record(&mut self, file: &CaseFile, result: &CaseResult) {
        let cfg = file.config.path.display().to_string();
        for m in result
            .decision
            .matched_statements
            .iter()
            .filter(|m| m.applied)
        {
            let key = (
                cfg.clone(),
                m.policy.clone(),
                format!("{:?}", m.policy_type),
                m.index,
            );
            if let Some(c) = self.by_key.get_mut(&key) {
                c.cases += 1;
            }
        }
    }

    /// Every statement, by configuration, policy and position.
    pub fn statements(&self) -> impl Iterator<Item = &StatementCoverage> {
        self.by_key.values()
    }

    /// (statements that decided a case, all statements).
    pub fn counts(&self) -> (usize, usize) {
        let covered = self.by_key.values().filter(|c| c.cases > 0).count();
        (covered, self.by_key.len())
    }

    /// The share of statements that decided a case, in percent (100 with none).
    pub fn percent(&self) -> f64 {
        match self.counts() {
            (_, 0) => 100.0,
            (c, n) => c as f64 * 100.0 / n as f64,
        }
    }

    /// The report as text: the total, then per file the uncovered statements.
    pub fn text(&self) -> String {
        let (covered, total) = self.counts();
        let mut out = format!(
            "coverage: {covered} of {total} statements decided at least one case ({:.1}%)\n",
            self.percent()
        );
        let mut files: Vec<&str> = self.by_key.values().map(|c| c.file.as_str()).collect();
        files.sort_unstable();
        files.dedup();
        for f in files {
            let of_file: Vec<&StatementCoverage> =
                self.by_key.values().filter(|c| c.file == f).collect();
            let hit = of_file.iter().filter(|c| c.cases > 0).count();
            let _ = writeln!(out, "  {f}: {hit} of {}", of_file.len());
            for c in of_file.iter().filter(|c| c.cases == 0) {
                let sid = c
                    .sid
                    .as_deref()
                    .map_or(String::new(), |s| format!(" `{s}`"));
                let _ = writeln!(
                    out,
                    "    {}:{}:{} {} statement {}{sid} decided no case",
                    f,
                    c.line,
                    c.column,
                    c.policy_type.describe(),
                    c.index
                );
            }
        }
        out
    }

    /// The report as JSON.
    pub fn json(&self) -> serde_json::Value {
        let (covered, total) = self.counts();
        serde_json::json!({
            "covered": covered,
            "total": total,
            "percent": self.percent(),
            "statements": self.by_key.values().collect::<Vec<_>>(),
        })
    }

    /// SARIF 2.1.0: one note per statement that decided no case, on its line.
    pub fn sarif(&self) -> serde_json::Value {
        let results: Vec<serde_json::Value> = self
            .by_key
            .values()
            .filter(|c| c.cases == 0)
            .map(|c| {
                serde_json::json!({
                    "ruleId": "uncovered-statement",
                    "level": "note",
                    "message": {"text": format!(
                        "{} statement {}{} of {} decided no permission case",
                        c.policy_type.describe(),
                        c.index,
                        c.sid.as_deref().map_or(String::new(), |s| format!(" `{s}`")),
                        c.policy
                    )},
                    "locations": [{"physicalLocation": {
                        "artifactLocation": {"uri": c.file},
                        "region": {"startLine": c.line, "startColumn": c.column}
                    }}]
                })
            })
            .collect();
        serde_json::json!({
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "version": "2.1.0",
            "runs": [{
                "tool": {"driver": {
                    "name": "swf-iam",
                    "version": env!("CARGO_PKG_VERSION"),
                    "rules": [{
                        "id": "uncovered-statement",
                        "shortDescription": {"text": "A statement no permission case exercises"},
                    }]
                }},
                "results": results
            }]
        })
    }
}

/// Runs every case of a file at the current time.
pub fn run(file: &CaseFile) -> Vec<CaseResult> {
    let now = crate::values::now_epoch();
    file.cases
        .iter()
        .map(|case| run_case(file, case, now))
        .collect()
}

fn run_case(file: &CaseFile, case: &Case, now: i64) -> CaseResult {
    let Some((pc, ctx)) = prepare(file, case, now) else {
        let req_principal = case.principal.clone().unwrap_or_default();
        return CaseResult {
            name: case.name.clone(),
            line: case.line,
            expected: case.expect,
            decision: Decision {
                decision: DecisionKind::ImplicitDeny,
                cause: Some("OPERATION_NOT_PERMITTED"),
                principal: req_principal,
                action: case.action.clone(),
                resource: case.resource.clone(),
                deny_layer: None,
                matched_statements: Vec::new(),
                missing_context_keys: Vec::new(),
                message: None,
                error: Some("principal not configured".into()),
            },
            failures: vec!["the principal is not in the configuration".into()],
        };
    };
    let req = Request {
        principal: &pc.principal,
        action: &case.action,
        resource: &case.resource,
        context: &ctx,
    };
    let mut failures = Vec::new();
    let decision = if eval::trust::is_role_action(&case.action) {
        // Decided with the role's trust policy: a role without one is assumed by nobody.
        let trust = file.config.role_trust(&case.resource);
        if let Err(e) = &trust {
            if !e.contains("has no `trustPolicy`") {
                failures.push(e.clone());
            }
        }
        eval::trust::decide_assume(&eval::trust::AssumeRequest {
            caller: &pc.principal,
            caller_policies: &pc.compiled,
            action: &case.action,
            role_arn: &case.resource,
            trust: trust.as_deref().ok(),
            context: &ctx,
        })
    } else {
        eval::evaluate(&pc.compiled, &req)
    };
    if !pc.missing.is_empty() {
        // A deny on part of the policies proves nothing: the case cannot pass.
        failures.push(format!(
            "not every policy of the principal is known: {}",
            pc.missing.join("; ")
        ));
    }
    if decision.decision != case.expect {
        failures.push(format!(
            "expected {}, got {}",
            case.expect.as_str(),
            decision.decision.as_str()
        ));
    }
    if let Some(want) = &case.expect_statements {
        let got = &decision.matched_statements;
        let all_found = want.iter().all(|w| got.iter().any(|g| w.matches(g)));
        let exact = !case.only_statements
            || (got.iter().all(|g| want.iter().any(|w| w.matches(g))) && want.len() == got.len());
        if !all_found || !exact {
            failures.push(format!(
                "expected {}deciding statements [{}], got [{}]",
                if case.only_statements {
                    "exactly these "
                } else {
                    "among the "
                },
                want.iter()
                    .map(describe_expected)
                    .collect::<Vec<_>>()
                    .join(", "),
                got.iter()
                    .map(describe_matched)
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }
    CaseResult {
        name: case.name.clone(),
        line: case.line,
        expected: case.expect,
        decision,
        failures,
    }
}

fn describe_expected(e: &ExpectedStatement) -> String {
    let mut parts = Vec::new();
    if let Some(p) = &e.policy {
        parts.push(p.clone());
    }
    if let Some(s) = &e.sid {
        parts.push(format!("`{s}`"));
    }
    if let Some(i) = e.index {
        parts.push(format!("#{i}"));
    }
    if let Some(x) = e.effect {
        parts.push(x.as_str().to_owned());
    }
    parts.join(" ")
}

/// A deciding statement in one line: `identity/worker.json #0 `HeartbeatOrders` Allow`.
pub fn describe_matched(m: &MatchedStatement) -> String {
    m.describe()
}

/// A decision's explanation as stable text (no times, no absolute paths), for snapshots.
pub fn explanation_text(d: &Decision) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "decision: {}", d.decision.as_str());
    if let Some(c) = d.cause {
        let _ = writeln!(out, "cause: {c}");
    }
    let _ = writeln!(out, "principal: {}", d.principal);
    let _ = writeln!(out, "action: {}", d.action);
    let _ = writeln!(out, "resource: {}", d.resource);
    if let Some(l) = d.deny_layer {
        let _ = writeln!(
            out,
            "deny layer: {}",
            serde_json::to_value(l)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default()
        );
    }
    if let Some(m) = &d.message {
        let _ = writeln!(out, "message: {m}");
    }
    if let Some(e) = &d.error {
        let _ = writeln!(out, "error: {e}");
    }
    if !d.missing_context_keys.is_empty() {
        let _ = writeln!(
            out,
            "missing context keys: {}",
            d.missing_context_keys.join(", ")
        );
    }
    if !d.matched_statements.is_empty() {
        let _ = writeln!(out, "statements:");
        for m in &d.matched_statements {
            let _ = writeln!(
                out,
                "  - {} {}{} at {}:{}",
                m.policy_type.describe(),
                describe_matched(m),
                if m.applied {
                    ""
                } else {
                    " (conditions not met)"
                },
                m.line,
                m.column
            );
        }
    }
    out
}

/// A decision's explanation as JSON (the `swf-iam check --format json` shape), for snapshots.
pub fn explanation_json(d: &Decision) -> serde_json::Value {
    serde_json::to_value(d).unwrap_or(serde_json::Value::Null)
}

/// What happened to one case's snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum SnapshotStatus {
    /// The stored snapshot matched.
    Matched,
    /// No snapshot was stored: a `.snap.new` was written (a failure).
    New,
    /// The stored snapshot differs: a `.snap.new` was written (a failure).
    Changed,
    /// `--accept`: the snapshot was written.
    Accepted,
}

/// The snapshot file name of a case: `<case file stem>__<case name, slugged>.snap`.
pub fn snapshot_name(file: &Path, case: &str) -> String {
    let stem = file
        .file_stem()
        .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
    let slug: String = case
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("{stem}__{slug}.snap")
}

/// A snapshot in insta's `.snap` format: a YAML header, then the content.
pub fn snapshot_file(source: &str, description: &str, content: &str) -> String {
    let q = |s: &str| serde_json::to_string(s).unwrap_or_default();
    format!(
        "---\nsource: {}\ndescription: {}\nexpression: explanation\n---\n{}\n",
        q(source),
        q(description),
        content.trim_end()
    )
}

/// The content of an insta `.snap` file (what follows its header).
pub fn snapshot_content(file: &str) -> &str {
    let body = file
        .strip_prefix("---\n")
        .and_then(|rest| rest.split_once("\n---\n").map(|(_, b)| b));
    body.unwrap_or(file).trim_end()
}

/// Compares a case's explanation with the snapshot in `dir`; writes `.snap.new` on a
/// difference (or the `.snap` itself with `accept`).
pub fn check_snapshot(
    dir: &Path,
    file: &Path,
    result: &CaseResult,
    accept: bool,
) -> std::io::Result<SnapshotStatus> {
    let name = snapshot_name(file, &result.name);
    let content = explanation_text(&result.decision);
    write_snapshot(
        dir,
        &name,
        &file.display().to_string(),
        &result.name,
        &content,
        accept,
    )
}

/// Compares `content` with snapshot `name` in `dir` (insta's format, `source` and
/// `description` in its header): matched, or `.snap.new` written on a difference, or
/// with `accept` the `.snap` itself written.
pub fn write_snapshot(
    dir: &Path,
    name: &str,
    source: &str,
    description: &str,
    content: &str,
    accept: bool,
) -> std::io::Result<SnapshotStatus> {
    let path = dir.join(name);
    let new_path = dir.join(format!("{name}.new"));
    let rendered = snapshot_file(source, description, content);
    let stored = match std::fs::read_to_string(&path) {
        Ok(s) => Some(s),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(e),
    };
    if stored.as_deref().map(snapshot_content) == Some(content.trim_end()) {
        if new_path.exists() {
            std::fs::remove_file(&new_path)?;
        }
        return Ok(SnapshotStatus::Matched);
    }
    std::fs::create_dir_all(dir)?;
    if accept {
        std::fs::write(&path, rendered)?;
        if new_path.exists() {
            std::fs::remove_file(&new_path)?;
        }
        return Ok(SnapshotStatus::Accepted);
    }
    std::fs::write(&new_path, rendered)?;
    Ok(if stored.is_some() {
        SnapshotStatus::Changed
    } else {
        SnapshotStatus::New
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_format_round_trips() {
        let f = snapshot_file("cases/a.json", "worker \"beats\"", "decision: allowed\n");
        assert!(
            f.starts_with("---\nsource: \"cases/a.json\"\ndescription: \"worker \\\"beats\\\"\"\n")
        );
        assert_eq!(snapshot_content(&f), "decision: allowed");
        assert_eq!(
            snapshot_name(Path::new("x/worker.json"), "Worker heartbeats on orders!"),
            "worker__worker_heartbeats_on_orders_.snap"
        );
    }
}
