//! `swf-iam check`: may this principal perform this action on this resource, and why.

use super::{Format, EXIT_FAIL, EXIT_OK, EXIT_USAGE};
use crate::compile::{CompiledPolicySet, LoadedPolicy, PolicySet};
use crate::config::Config;
use crate::eval::{self, Context, ContextValue, Decision, Principal, Request};
use crate::swf::arn::DomainArn;
use crate::swf::catalog;
use crate::validate::PolicyKind;
use serde_json::Value;
use std::collections::HashMap;
use std::io::{BufRead, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

const HB: &str = "swf:RecordActivityTaskHeartbeat";
const DEFAULT_CONFIG: &str = "policies/swf-iam.json";

/// Arguments of `swf-iam check`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Configuration file (default: policies/swf-iam.json when no --policy is given).
    #[arg(long, conflicts_with_all = ["policy", "boundary", "scp", "session_policy"])]
    pub config: Option<PathBuf>,
    /// Identity policy files (instead of a configuration).
    #[arg(long, num_args = 1..)]
    pub policy: Vec<PathBuf>,
    /// Permissions boundary file.
    #[arg(long)]
    pub boundary: Option<PathBuf>,
    /// SCP files, one level each, root first.
    #[arg(long, num_args = 1..)]
    pub scp: Vec<PathBuf>,
    /// Session policy file.
    #[arg(long)]
    pub session_policy: Option<PathBuf>,
    /// Principal ARN (default: the configuration's first principal, or
    /// arn:aws:iam::ACCOUNT:role/worker without one).
    #[arg(long)]
    pub principal: Option<String>,
    /// Action.
    #[arg(long, default_value = HB)]
    pub action: String,
    /// Domain name: the resource is its domain ARN in the configured partition, region and account.
    #[arg(long, conflicts_with = "resource")]
    pub domain: Option<String>,
    /// Resource ARN (or `*`).
    #[arg(long)]
    pub resource: Option<String>,
    /// Region (default: the configuration's, else us-east-1); also `aws:RequestedRegion`.
    #[arg(long)]
    pub region: Option<String>,
    /// Account of the domain (default: the configuration's, else the principal's).
    #[arg(long)]
    pub account: Option<String>,
    /// A context key; repeat a key for a multivalued key.
    #[arg(long = "context", value_name = "KEY=VALUE")]
    pub context: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Evaluate JSON requests, one per line, from FILE or - (standard input).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["domain", "resource", "context"])]
    pub requests: Option<String>,
}

/// Where policies come from: a configuration, or policy files given as flags.
struct Setup {
    partition: String,
    region: String,
    account: Option<String>,
    config: Option<Config>,
    flags: Option<Arc<CompiledPolicySet>>,
}

fn load_policy(path: &Path, kind: &PolicyKind) -> Result<LoadedPolicy, String> {
    let bytes =
        std::fs::read(path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    LoadedPolicy::load(&path.display().to_string(), &bytes, kind).map_err(|e| e.to_string())
}

fn setup(args: &Args) -> Result<Setup, String> {
    let from_flags = !args.policy.is_empty()
        || args.boundary.is_some()
        || !args.scp.is_empty()
        || args.session_policy.is_some();
    if from_flags {
        let set = PolicySet {
            identity: args
                .policy
                .iter()
                .map(|p| load_policy(p, &PolicyKind::InlineRole("check".into())))
                .collect::<Result<_, _>>()?,
            boundary: args
                .boundary
                .as_deref()
                .map(|p| load_policy(p, &PolicyKind::Boundary))
                .transpose()?,
            scps: args
                .scp
                .iter()
                .map(|p| load_policy(p, &PolicyKind::Scp).map(|l| vec![l]))
                .collect::<Result<_, _>>()?,
            session: args
                .session_policy
                .as_deref()
                .map(|p| load_policy(p, &PolicyKind::Session))
                .transpose()?,
        };
        let compiled = CompiledPolicySet::compile(&set).map_err(|e| e.to_string())?;
        return Ok(Setup {
            partition: "aws".into(),
            region: args.region.clone().unwrap_or_else(|| "us-east-1".into()),
            account: args.account.clone(),
            config: None,
            flags: Some(Arc::new(compiled)),
        });
    }
    let path = args
        .config
        .clone()
        .unwrap_or_else(|| PathBuf::from(DEFAULT_CONFIG));
    if args.config.is_none() && !path.exists() {
        return Err(format!(
            "no policies: give --config FILE or --policy FILE (the default configuration `{DEFAULT_CONFIG}` does not exist here)"
        ));
    }
    let config = Config::load(&path).map_err(|e| e.to_string())?;
    Ok(Setup {
        partition: config.partition.clone(),
        region: args.region.clone().unwrap_or_else(|| config.region.clone()),
        account: Some(
            args.account
                .clone()
                .unwrap_or_else(|| config.account.clone()),
        ),
        config: Some(config),
        flags: None,
    })
}

/// One principal ready to evaluate: its compiled policies and its base context.
struct Caller {
    principal: Principal,
    compiled: Arc<CompiledPolicySet>,
    context: Context,
}

impl Setup {
    fn caller(&self, arn: Option<&str>) -> Result<Caller, String> {
        match (&self.config, &self.flags) {
            (Some(c), _) => {
                let p = match arn {
                    Some(a) => c.principal(a).ok_or_else(|| {
                        format!("principal `{a}` is not in `{}`", c.path.display())
                    })?,
                    None => c
                        .principals
                        .first()
                        .ok_or_else(|| format!("`{}` configures no principal", c.path.display()))?,
                };
                Ok(self.with_defaults(
                    p.principal.clone(),
                    p.compiled.clone(),
                    Context::over(p.base_context.clone()),
                ))
            }
            (None, Some(set)) => {
                let default = format!(
                    "arn:aws:iam::{}:role/worker",
                    self.account.as_deref().unwrap_or("123456789012")
                );
                let principal = Principal::from_arn(arn.unwrap_or(&default), "swf-iam", None)
                    .map_err(|e| e.to_string())?;
                let mut ctx = Context::new();
                principal.fill_context(&mut ctx);
                Ok(self.with_defaults(principal, set.clone(), ctx))
            }
            (None, None) => Err("no policies".into()),
        }
    }

    fn with_defaults(
        &self,
        principal: Principal,
        compiled: Arc<CompiledPolicySet>,
        mut ctx: Context,
    ) -> Caller {
        ctx.set_request_defaults(&self.region, crate::values::now_epoch());
        Caller {
            principal,
            compiled,
            context: ctx,
        }
    }

    fn resource(
        &self,
        caller: &Caller,
        action: &str,
        domain: Option<&str>,
        resource: Option<&str>,
    ) -> Result<String, String> {
        match (domain, resource) {
            (_, Some(r)) => Ok(r.to_owned()),
            (Some(d), None) => {
                let account = self
                    .account
                    .clone()
                    .unwrap_or_else(|| caller.principal.account.clone());
                DomainArn::new(&self.partition, &self.region, &account, d)
                    .map(|a| a.to_string())
                    .map_err(|e| e.to_string())
            }
            (None, None) => match catalog::action(action) {
                Some(a) if !a.has_domain_resource() => Ok("*".into()),
                _ => Err(format!(
                    "give --domain NAME or --resource ARN for `{action}`"
                )),
            },
        }
    }
}

fn parse_context(pairs: &[String], ctx: &mut Context) -> Result<(), String> {
    let mut seen: Vec<String> = Vec::new();
    for p in pairs {
        let Some((k, v)) = p.split_once('=') else {
            return Err(format!("--context `{p}` is not KEY=VALUE"));
        };
        if k.is_empty() {
            return Err(format!("--context `{p}` has an empty key"));
        }
        let lower = k.to_ascii_lowercase();
        if seen.contains(&lower) {
            ctx.push(k, v);
        } else {
            ctx.set_single(k, v);
            seen.push(lower);
        }
    }
    Ok(())
}

/// Runs `check`: 0 allowed, 1 denied, 2 usage or input error.
pub fn run(args: &Args) -> u8 {
    let setup = match setup(args) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("swf-iam: {e}");
            return EXIT_USAGE;
        }
    };
    if let Some(src) = &args.requests {
        return run_requests(args, &setup, src);
    }
    let result = (|| {
        let mut caller = setup.caller(args.principal.as_deref())?;
        parse_context(&args.context, &mut caller.context)?;
        let resource = setup.resource(
            &caller,
            &args.action,
            args.domain.as_deref(),
            args.resource.as_deref(),
        )?;
        Ok::<_, String>((caller, resource))
    })();
    let (caller, resource) = match result {
        Ok(x) => x,
        Err(e) => {
            eprintln!("swf-iam: {e}");
            return EXIT_USAGE;
        }
    };
    let req = Request {
        principal: &caller.principal,
        action: &args.action,
        resource: &resource,
        context: &caller.context,
    };
    let decision = eval::evaluate(&caller.compiled, &req);
    match args.format {
        Format::Json | Format::Sarif => {
            println!(
                "{}",
                serde_json::to_string_pretty(&decision).unwrap_or_default()
            );
        }
        Format::Text => print!("{}", text(&decision, &caller.compiled)),
    }
    if decision.is_allowed() {
        EXIT_OK
    } else {
        EXIT_FAIL
    }
}

/// Renders a decision for people: the decision first, then the deciding statements with
/// their source lines.
pub fn text(d: &Decision, set: &CompiledPolicySet) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(out, "{}", d.decision.as_str());
    match &d.message {
        Some(m) => {
            let _ = writeln!(out, "  {m}");
        }
        None => {
            let _ = writeln!(
                out,
                "  {} may perform {} on {}",
                d.principal, d.action, d.resource
            );
        }
    }
    if let Some(c) = d.cause {
        let _ = writeln!(out, "  cause: {c}");
    }
    if !d.missing_context_keys.is_empty() {
        let _ = writeln!(
            out,
            "  missing context keys: {}",
            d.missing_context_keys.join(", ")
        );
    }
    if !d.matched_statements.is_empty() {
        let heading = match d.decision {
            eval::DecisionKind::Allowed => "allowed by",
            eval::DecisionKind::ExplicitDeny => "denied by",
            eval::DecisionKind::ImplicitDeny => "conditions not met in",
        };
        let _ = writeln!(out, "\n{heading}:");
    }
    for m in &d.matched_statements {
        let sid = m
            .sid
            .as_deref()
            .map_or(String::new(), |s| format!(" `{s}`"));
        let _ = writeln!(
            out,
            "  {} statement {}{sid} ({}) in {}",
            m.policy_type.describe(),
            m.index,
            m.effect.as_str(),
            m.policy
        );
        let source = set
            .policies
            .iter()
            .position(|p| p.name == m.policy && p.layer.policy_type() == m.policy_type)
            .and_then(|i| set.sources.get(i));
        if let Some(src) = source {
            let _ = writeln!(out, "   --> {}:{}:{}", src.name(), m.line, m.column);
            let last = m.end_line.max(m.line);
            let shown = last.min(m.line + 11);
            let width = shown.to_string().len();
            for l in m.line..=shown {
                let _ = writeln!(out, "  {l:>width$} | {}", src.line_text(l));
            }
            if shown < last {
                let _ = writeln!(out, "  {:>width$} | ...", "");
            }
        }
    }
    out
}

/// Policies given inline on a request line.
fn inline_set(v: &Value) -> Result<PolicySet, String> {
    let obj = v.as_object().ok_or("`policies` must be an object")?;
    for k in obj.keys() {
        if !["identity", "permissionsBoundary", "scps", "session"].contains(&k.as_str()) {
            return Err(format!("unknown field `policies.{k}`"));
        }
    }
    let load = |v: &Value, name: &str, kind: &PolicyKind| {
        LoadedPolicy::load(name, v.to_string().as_bytes(), kind).map_err(|e| e.to_string())
    };
    let mut set = PolicySet::default();
    if let Some(ids) = obj.get("identity") {
        for (i, p) in ids
            .as_array()
            .ok_or("`policies.identity` must be an array")?
            .iter()
            .enumerate()
        {
            set.identity.push(load(
                p,
                &format!("identity[{i}]"),
                &PolicyKind::InlineRole("check".into()),
            )?);
        }
    }
    if let Some(b) = obj.get("permissionsBoundary").filter(|b| !b.is_null()) {
        set.boundary = Some(load(b, "permissionsBoundary", &PolicyKind::Boundary)?);
    }
    if let Some(s) = obj.get("session").filter(|s| !s.is_null()) {
        set.session = Some(load(s, "session", &PolicyKind::Session)?);
    }
    if let Some(levels) = obj.get("scps") {
        for (i, level) in levels
            .as_array()
            .ok_or("`policies.scps` must be an array of levels")?
            .iter()
            .enumerate()
        {
            let mut l = Vec::new();
            for (j, p) in level
                .as_array()
                .ok_or("each SCP level must be an array")?
                .iter()
                .enumerate()
            {
                l.push(load(p, &format!("scps[{i}][{j}]"), &PolicyKind::Scp)?);
            }
            set.scps.push(l);
        }
    }
    Ok(set)
}

fn run_requests(args: &Args, setup: &Setup, src: &str) -> u8 {
    let reader: Box<dyn BufRead> = if src == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        match std::fs::File::open(src) {
            Ok(f) => Box::new(std::io::BufReader::new(f)),
            Err(e) => {
                eprintln!("swf-iam: cannot read `{src}`: {e}");
                return EXIT_USAGE;
            }
        }
    };
    let stdout = std::io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let mut callers: HashMap<String, Caller> = HashMap::new();
    let mut inline_cache: HashMap<String, Arc<CompiledPolicySet>> = HashMap::new();
    let (mut malformed, mut denied) = (false, false);
    for (n, line) in reader.lines().enumerate() {
        let line = match line {
            Ok(l) => l,
            Err(e) => {
                eprintln!("swf-iam: cannot read `{src}`: {e}");
                return EXIT_USAGE;
            }
        };
        if line.trim().is_empty() {
            continue;
        }
        match one_request(args, setup, &line, &mut callers, &mut inline_cache) {
            Ok(d) => {
                denied |= !d.is_allowed();
                let _ = serde_json::to_writer(&mut out, &d);
            }
            Err(e) => {
                malformed = true;
                let _ = serde_json::to_writer(
                    &mut out,
                    &serde_json::json!({"line": n + 1, "error": e}),
                );
            }
        }
        if out.write_all(b"\n").is_err() {
            return EXIT_USAGE;
        }
    }
    if out.flush().is_err() {
        return EXIT_USAGE;
    }
    if malformed {
        EXIT_USAGE
    } else if denied {
        EXIT_FAIL
    } else {
        EXIT_OK
    }
}

fn one_request(
    args: &Args,
    setup: &Setup,
    line: &str,
    callers: &mut HashMap<String, Caller>,
    inline_cache: &mut HashMap<String, Arc<CompiledPolicySet>>,
) -> Result<Decision, String> {
    let v: Value = serde_json::from_str(line).map_err(|e| format!("not JSON: {e}"))?;
    let obj = v.as_object().ok_or("a request must be a JSON object")?;
    for k in obj.keys() {
        if ![
            "principal",
            "action",
            "resource",
            "domain",
            "context",
            "policies",
        ]
        .contains(&k.as_str())
        {
            return Err(format!("unknown field `{k}`"));
        }
    }
    let str_field = |k: &str| -> Result<Option<&str>, String> {
        match obj.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(format!("`{k}` must be a string")),
        }
    };
    let principal = str_field("principal")?.or(args.principal.as_deref());
    let action = str_field("action")?.unwrap_or(&args.action);
    let key = principal.unwrap_or("").to_owned();
    let inline = match obj.get("policies") {
        Some(p) => {
            let k = p.to_string();
            let compiled = match inline_cache.get(&k) {
                Some(c) => c.clone(),
                None => {
                    let c = Arc::new(
                        CompiledPolicySet::compile(&inline_set(p)?).map_err(|e| e.to_string())?,
                    );
                    if inline_cache.len() >= 1024 {
                        inline_cache.clear();
                    }
                    inline_cache.insert(k, c.clone());
                    c
                }
            };
            Some(compiled)
        }
        None => None,
    };
    if inline.is_none() && !callers.contains_key(&key) {
        let c = setup.caller(principal)?;
        callers.insert(key.clone(), c);
    }
    let inline_caller;
    let caller: &Caller = match &inline {
        Some(set) => {
            let p = Principal::from_arn(
                principal.ok_or("a request with inline `policies` needs `principal`")?,
                "swf-iam",
                None,
            )
            .map_err(|e| e.to_string())?;
            let mut ctx = Context::new();
            p.fill_context(&mut ctx);
            inline_caller = setup.with_defaults(p, set.clone(), ctx);
            &inline_caller
        }
        None => callers
            .get(&key)
            .ok_or("internal error: caller not cached")?,
    };
    let resource = setup.resource(caller, action, str_field("domain")?, str_field("resource")?)?;
    let extra;
    let context = match obj.get("context") {
        None | Some(Value::Null) => &caller.context,
        Some(Value::Object(m)) => {
            let mut ctx = caller.context.clone();
            for (k, v) in m {
                match v {
                    Value::String(s) => ctx.set_single(k, s.clone()),
                    Value::Bool(b) => ctx.set_single(k, b.to_string()),
                    Value::Number(n) => ctx.set_single(k, n.to_string()),
                    Value::Array(items) => {
                        let vals = items
                            .iter()
                            .map(|i| {
                                i.as_str()
                                    .map(str::to_owned)
                                    .ok_or_else(|| format!("context `{k}`: values must be strings"))
                            })
                            .collect::<Result<Vec<_>, _>>()?;
                        ctx.set(k, ContextValue::Multi(vals));
                    }
                    _ => {
                        return Err(format!(
                            "context `{k}` must be a string, boolean, number or array of strings"
                        ))
                    }
                }
            }
            extra = ctx;
            &extra
        }
        Some(_) => return Err("`context` must be an object".into()),
    };
    let req = Request {
        principal: &caller.principal,
        action,
        resource: &resource,
        context,
    };
    Ok(eval::evaluate(&caller.compiled, &req))
}
