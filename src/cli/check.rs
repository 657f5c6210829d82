//! `swf-iam check`: may this principal perform this action on this resource, and why.
//!
//! The request context has two modes. By default it holds the principal's own keys and
//! the request defaults a call to SWF carries (`aws:RequestedRegion` — the resource
//! ARN's region, else the configured one —, `aws:CurrentTime`/`aws:EpochTime` at
//! `--now`, `aws:SecureTransport` true, `aws:ViaAWSService` false), then `--context`.
//! With `--no-default-context` it holds the principal's own keys and exactly the
//! `--context` keys given, as IAM's policy simulator evaluates `ContextEntries`.

use super::out::Out;
use super::{default_config, missing_config, OutputFormat, EXIT_FAIL, EXIT_OK, EXIT_USAGE};
use crate::compile::{CompiledPolicySet, LoadedPolicy, PolicySet};
use crate::config::Config;
use crate::eval::{self, Context, ContextValue, Decision, Principal, Request};
use crate::swf::arn::{check_region, region_of};
use crate::swf::catalog;
use crate::validate::PolicyKind;
use serde_json::Value;
use std::collections::HashMap;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::sync::Arc;

const HB: &str = "swf:RecordActivityTaskHeartbeat";

/// Arguments of `swf-iam check`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Configuration file [default: $SWF_IAM_CONFIG, else policies/swf-iam.json, when no
    /// --policy is given]
    #[arg(long, conflicts_with_all = ["policy", "boundary", "scp", "session_policy"])]
    pub config: Option<PathBuf>,
    /// Identity policy files (instead of a configuration).
    #[arg(long, num_args = 1..)]
    pub policy: Vec<PathBuf>,
    /// Permissions boundary file (with --policy).
    #[arg(long, requires = "policy")]
    pub boundary: Option<PathBuf>,
    /// SCP files, one level each, root first (with --policy).
    #[arg(long, num_args = 1.., requires = "policy")]
    pub scp: Vec<PathBuf>,
    /// Session policy file (with --policy).
    #[arg(long, requires = "policy")]
    pub session_policy: Option<PathBuf>,
    /// Principal ARN [default: the configuration's first principal, or
    /// arn:aws:iam::ACCOUNT:role/worker with --policy]
    #[arg(long)]
    pub principal: Option<String>,
    /// The action: one `service:Action`; an `swf:` action must exist in SWF.
    #[arg(long, default_value = HB)]
    pub action: String,
    /// Domain name: the resource is its domain ARN in the configured partition, region and
    /// account (only for actions with a domain resource).
    #[arg(long, conflicts_with = "resource")]
    pub domain: Option<String>,
    /// Resource ARN, or `*` [default: `*` for actions without a domain resource].
    #[arg(long)]
    pub resource: Option<String>,
    /// Region of --domain ARNs and of requests on `*` [default: the configuration's, else
    /// us-east-1]. A --resource ARN's own region is the requested region.
    #[arg(long)]
    pub region: Option<String>,
    /// Account of the domain [default: the configuration's, else the principal's].
    #[arg(long)]
    pub account: Option<String>,
    /// A context key; repeat a key for a multivalued key. Values of typed keys
    /// (aws:SourceIp, dates, booleans, numbers) are checked.
    #[arg(long = "context", value_name = "KEY=VALUE")]
    pub context: Vec<String>,
    /// The time of the request (aws:CurrentTime, aws:EpochTime): ISO 8601 or epoch
    /// seconds [default: now].
    #[arg(long, value_name = "TIMESTAMP")]
    pub now: Option<String>,
    /// Evaluate only the principal's keys and the --context keys given (IAM's policy
    /// simulator with ContextEntries): no region, time or transport defaults.
    #[arg(long)]
    pub no_default_context: bool,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: OutputFormat,
    /// The role's trust policy file, for `sts:AssumeRole` (and `sts:TagSession`,
    /// `sts:SetSourceIdentity`) on a role the configuration does not define [default:
    /// the configured role's `trustPolicy`].
    #[arg(long, value_name = "FILE")]
    pub trust_policy: Option<PathBuf>,
    /// Evaluate JSON requests, one per line, from FILE or - (standard input); lines with
    /// their own `policies` need no configuration.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["domain", "resource", "context"])]
    pub requests: Option<String>,
}

/// Where policies come from: a configuration, policy files given as flags, or neither
/// (`--requests` lines that carry their own policies).
struct Setup {
    partition: String,
    region: String,
    account: Option<String>,
    config: Option<Config>,
    flags: Option<Arc<CompiledPolicySet>>,
    /// Why there are no policies, when there are none.
    none: Option<String>,
    /// `--region`, when given (it must agree with a `--resource` ARN's region).
    given_region: Option<String>,
}

fn load_policy(path: &Path, kind: &PolicyKind) -> Result<LoadedPolicy, String> {
    let bytes = crate::files::read_bounded(path, crate::files::MAX_POLICY_FILE_BYTES)
        .map_err(|e| e.to_string())?;
    let name = path.display().to_string();
    let policy = LoadedPolicy::load(&name, &bytes, kind).map_err(|e| e.to_string())?;
    // The policy loads and decides; what `validate` would warn about is one line each
    // (an action that does not exist decides nothing, silently otherwise).
    let report = crate::validate(&name, &bytes, kind);
    for f in report
        .findings
        .iter()
        .filter(|f| f.severity != crate::Severity::Suggestion)
    {
        let at = f
            .span
            .map(|sp| {
                let lc = report.source.line_col(sp.start);
                format!("{name}:{}:{}", lc.line, lc.column)
            })
            .unwrap_or_else(|| name.clone());
        let detail = f
            .detail
            .as_deref()
            .map_or(String::new(), |d| format!("; {d}"));
        eprintln!(
            "swf-iam: {}[{}]: {at}: {}{detail} (swf-iam validate {name})",
            f.severity.as_str(),
            f.code,
            f.message
        );
    }
    Ok(policy)
}

fn setup(args: &Args) -> Result<Setup, String> {
    if let Some(r) = &args.region {
        check_region(r).map_err(|e| format!("--region: {e}"))?;
    }
    if !args.policy.is_empty() {
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
                .transpose()?
                .into_iter()
                .collect(),
        };
        let compiled = CompiledPolicySet::compile(&set).map_err(|e| e.to_string())?;
        return Ok(Setup {
            partition: "aws".into(),
            region: args.region.clone().unwrap_or_else(|| "us-east-1".into()),
            account: args.account.clone(),
            config: None,
            flags: Some(Arc::new(compiled)),
            none: None,
            given_region: None,
        });
    }
    let path = args.config.clone().unwrap_or_else(default_config);
    if args.config.is_none() && !path.exists() {
        let why = format!("no policies: {}, or --policy FILE", missing_config(&path));
        if args.requests.is_some() {
            // Lines may carry their own policies; those that do not get this error.
            return Ok(Setup {
                partition: "aws".into(),
                region: args.region.clone().unwrap_or_else(|| "us-east-1".into()),
                account: args.account.clone(),
                config: None,
                flags: None,
                none: Some(why),
                given_region: None,
            });
        }
        return Err(why);
    }
    let config = super::load_config_file(&path)?;
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
        none: None,
        given_region: None,
    })
}

/// One principal ready to evaluate: its compiled policies and its own keys.
struct Caller {
    principal: Principal,
    compiled: Arc<CompiledPolicySet>,
    context: Context,
}

/// How a request's context is filled beyond the principal's keys.
#[derive(Debug, Clone, Copy)]
struct Defaults {
    /// Whether the request defaults are set (not with `--no-default-context`).
    on: bool,
    /// `aws:CurrentTime`/`aws:EpochTime`, epoch seconds.
    now: i64,
}

/// Parses `--now` / `"now"`: ISO 8601 or epoch seconds, to whole epoch seconds.
pub(crate) fn parse_now(text: &str) -> Result<i64, String> {
    crate::values::parse_instant(text)
        .map(|i| i.secs)
        .ok_or_else(|| {
            format!("`{text}` is not a time: give ISO 8601 (2026-12-01T10:00:00Z) or epoch seconds")
        })
}

impl Setup {
    fn caller(&self, arn: Option<&str>) -> Result<Caller, String> {
        match (&self.config, &self.flags) {
            (Some(c), _) => {
                let p = match arn {
                    Some(a) => c
                        .principal(a)
                        .ok_or_else(|| super::principal_not_found(a, &c.path))?,
                    None => c
                        .principals
                        .first()
                        .ok_or_else(|| format!("`{}` configures no principal", c.path.display()))?,
                };
                if !p.missing.is_empty() {
                    return Err(format!(
                        "principal `{}` cannot be decided: not every policy of it is known:\n{}",
                        p.principal.arn,
                        p.missing
                            .iter()
                            .map(|m| format!("  - {m}"))
                            .collect::<Vec<_>>()
                            .join("\n")
                    ));
                }
                Ok(Caller {
                    principal: p.principal.clone(),
                    compiled: p.compiled.clone(),
                    context: Context::over(p.base_context.clone()),
                })
            }
            (None, Some(set)) => self.flag_caller(arn, set.clone()),
            (None, None) => Err(self.none.clone().unwrap_or_else(|| "no policies".into())),
        }
    }

    fn flag_caller(
        &self,
        arn: Option<&str>,
        set: Arc<CompiledPolicySet>,
    ) -> Result<Caller, String> {
        let default = format!(
            "arn:aws:iam::{}:role/worker",
            self.account.as_deref().unwrap_or("123456789012")
        );
        let principal = Principal::from_arn(arn.unwrap_or(&default), "swf-iam", None)
            .map_err(|e| e.to_string())?;
        let mut ctx = Context::new();
        principal.fill_context(&mut ctx);
        Ok(Caller {
            principal,
            compiled: set,
            context: ctx,
        })
    }

    /// The request's context: the caller's keys, the defaults (the requested region is
    /// the resource's region where it has one), then the given keys.
    fn context(
        &self,
        caller: &Caller,
        resource: &str,
        defaults: Defaults,
        given: &[(String, ContextValue)],
    ) -> Context {
        let mut ctx = caller.context.clone();
        if defaults.on {
            ctx.set_request_defaults(region_of(resource).unwrap_or(&self.region), defaults.now);
        }
        for (k, v) in given {
            ctx.set(k, v.clone());
        }
        ctx
    }

    /// The resource of a request, checked: `--resource` as given (an ARN or `*`), or the
    /// ARN of `--domain`, or `*` for an action without a domain resource.
    fn resource(
        &self,
        caller: &Caller,
        action: &str,
        domain: Option<&str>,
        resource: Option<&str>,
    ) -> Result<String, String> {
        let swf = catalog::action(action).filter(|_| action.contains(':'));
        let account = self
            .account
            .clone()
            .unwrap_or_else(|| caller.principal.account.clone());
        let r = catalog::request_resource(
            swf,
            action,
            domain,
            resource,
            catalog::Place {
                partition: &self.partition,
                region: &self.region,
                account: &account,
                domain_input: "--domain",
                resource_input: "--resource",
            },
        )
        .map_err(|e| e.message)?;
        if resource.is_some() {
            if let (Some(given), Some(own)) = (&self.given_region, region_of(&r)) {
                if given != own {
                    return Err(format!(
                        "--region {given} disagrees with the resource's region `{own}` (the requested region is the resource's)"
                    ));
                }
            }
        }
        Ok(r)
    }
}

/// Reads `KEY=VALUE` pairs (a repeated key is multivalued), checking typed values.
fn parse_context(pairs: &[String]) -> Result<Vec<(String, ContextValue)>, String> {
    let mut out: Vec<(String, ContextValue)> = Vec::new();
    for p in pairs {
        let Some((k, v)) = p.split_once('=') else {
            return Err(format!("--context `{p}` is not KEY=VALUE"));
        };
        if k.is_empty() {
            return Err(format!("--context `{p}` has an empty key"));
        }
        crate::keys::check_request_value(k, v).map_err(|e| format!("--context {e}"))?;
        match out.iter_mut().find(|(o, _)| o.eq_ignore_ascii_case(k)) {
            Some((_, ContextValue::Multi(vals))) => vals.push(v.to_owned()),
            Some((_, slot)) => {
                let first = match slot {
                    ContextValue::Single(s) => std::mem::take(s),
                    ContextValue::Multi(_) => String::new(),
                };
                *slot = ContextValue::Multi(vec![first, v.to_owned()]);
            }
            None => out.push((k.to_owned(), ContextValue::Single(v.to_owned()))),
        }
    }
    Ok(out)
}

/// Runs `check`: 0 allowed, 1 denied, 2 usage or input error.
pub fn run(args: &Args) -> u8 {
    let setup = match setup(args) {
        Ok(mut s) => {
            s.given_region = args.region.clone();
            s
        }
        Err(e) => {
            eprintln!("swf-iam: {e}");
            return EXIT_USAGE;
        }
    };
    let defaults = match &args.now {
        Some(t) => match parse_now(t) {
            Ok(now) => Defaults {
                on: !args.no_default_context,
                now,
            },
            Err(e) => {
                eprintln!("swf-iam: --now {e}");
                return EXIT_USAGE;
            }
        },
        None => Defaults {
            on: !args.no_default_context,
            now: crate::values::now_epoch(),
        },
    };
    if let Some(src) = &args.requests {
        return run_requests(args, &setup, src, defaults);
    }
    let result = (|| {
        let action = catalog::request_action(&args.action).map_err(|e| format!("--action {e}"))?;
        let caller = setup.caller(args.principal.as_deref())?;
        let given = parse_context(&args.context)?;
        let resource = setup.resource(
            &caller,
            &action,
            args.domain.as_deref(),
            args.resource.as_deref(),
        )?;
        let ctx = setup.context(&caller, &resource, defaults, &given);
        Ok::<_, String>((caller, action, resource, ctx))
    })();
    let (caller, action, resource, ctx) = match result {
        Ok(x) => x,
        Err(e) => {
            eprintln!("swf-iam: {e}");
            return EXIT_USAGE;
        }
    };
    let req = Request {
        principal: &caller.principal,
        action: &action,
        resource: &resource,
        context: &ctx,
    };
    let (decision, trust) = if is_role_action(&action) {
        let trust = match setup.trust_of(&resource, args.trust_policy.as_deref()) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("swf-iam: {e}");
                return EXIT_USAGE;
            }
        };
        let d = eval::trust::decide_assume(&eval::trust::AssumeRequest {
            caller: &caller.principal,
            caller_policies: &caller.compiled,
            action: &action,
            role_arn: &resource,
            trust: Some(&trust),
            context: &ctx,
        });
        (d, Some(trust))
    } else {
        (eval::evaluate(&caller.compiled, &req), None)
    };
    let mut out = Out::new();
    match args.format {
        OutputFormat::Json => {
            out.line(&serde_json::to_string_pretty(&decision).unwrap_or_default());
        }
        OutputFormat::Text => out.write(&text_with_trust(
            &decision,
            &caller.compiled,
            trust.as_deref(),
        )),
    }
    out.flush();
    if decision.is_allowed() {
        EXIT_OK
    } else {
        EXIT_FAIL
    }
}

use crate::eval::trust::is_role_action;

impl Setup {
    /// The trust policy of role `role_arn`: from `--trust-policy`, else the configured
    /// role's.
    fn trust_of(
        &self,
        role_arn: &str,
        file: Option<&Path>,
    ) -> Result<Arc<crate::compile::trust::CompiledTrustPolicy>, String> {
        let is_role_arn = Principal::from_arn(role_arn, "x", None).is_ok_and(|p| {
            p.principal_type == eval::PrincipalType::AssumedRole && p.caller_arn != role_arn
        });
        if !is_role_arn {
            return Err(format!(
                "`{role_arn}` is not a role ARN: give --resource arn:aws:iam::ACCOUNT:role/NAME"
            ));
        }
        if let Some(f) = file {
            let p =
                load_policy(f, &PolicyKind::Trust).map_err(|e| format!("--trust-policy {e}"))?;
            return Ok(Arc::new(
                crate::compile::trust::CompiledTrustPolicy::compile(&p),
            ));
        }
        let Some(c) = &self.config else {
            return Err(format!(
                "the trust policy of `{role_arn}` is not known: give --trust-policy FILE"
            ));
        };
        c.role_trust(role_arn)
            .map_err(|e| format!("{e} (give --trust-policy FILE to decide against one)"))
    }
}

/// Renders a decision for people: the decision first, then the deciding statements with
/// their source lines.
pub fn text(d: &Decision, set: &CompiledPolicySet) -> String {
    text_with_trust(d, set, None)
}

/// [`text`] for a decision that may name statements of a role's trust policy.
pub fn text_with_trust(
    d: &Decision,
    set: &CompiledPolicySet,
    trust: Option<&crate::compile::trust::CompiledTrustPolicy>,
) -> String {
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
        let source = match trust {
            Some(t) if m.policy_type == crate::compile::PolicyType::TrustPolicy => {
                Some(t.origin.as_ref().map_or(&t.source, |o| &*o.file))
            }
            _ => set
                .policies
                .iter()
                .position(|p| p.name == m.policy && p.layer.policy_type() == m.policy_type)
                .and_then(|i| match set.origins.get(i) {
                    Some(Some(o)) => Some(&*o.file),
                    _ => set.sources.get(i),
                }),
        };
        if let Some(src) = source {
            let _ = writeln!(out, "   --> {}:{}:{}", src.name(), m.line, m.column);
            let last = m.end_line.max(m.line);
            let shown = last.min(m.line + 11);
            let width = shown.to_string().len();
            for l in m.line..=shown {
                let _ = writeln!(
                    out,
                    "  {l:>width$} | {}",
                    crate::text::excerpt(src.line_text(l), 0, 0).text
                );
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
        set.session = vec![load(s, "session", &PolicyKind::Session)?];
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

/// Lines a batch of `check --requests` holds: read, then decided on every core, then
/// written in their order.
const REQUEST_BATCH: usize = 16_384;

/// One worker's caches: compiled callers by principal, compiled inline policies by text.
#[derive(Default)]
struct RequestCaches {
    callers: HashMap<String, Caller>,
    inline: HashMap<String, Arc<CompiledPolicySet>>,
}

/// What a run of lines came to: their output, and whether any was denied or malformed.
#[derive(Default)]
struct Answered {
    text: String,
    denied: bool,
    malformed: bool,
}

/// Decides `lines` (numbered from `first`) and writes their answers, in order.
fn answer_lines(
    args: &Args,
    setup: &Setup,
    defaults: Defaults,
    lines: &[String],
    first: usize,
    caches: &mut RequestCaches,
) -> Answered {
    let mut a = Answered {
        text: String::with_capacity(lines.len() * 256),
        ..Answered::default()
    };
    let mut buf = Vec::with_capacity(1024);
    for (i, line) in lines.iter().enumerate() {
        let number = first + i;
        let answer = if line.trim().is_empty() {
            Err("empty line: each line is one JSON request".to_owned())
        } else {
            one_request(
                args,
                setup,
                line,
                defaults,
                &mut caches.callers,
                &mut caches.inline,
            )
        };
        buf.clear();
        match answer {
            Ok(d) => {
                a.denied |= !d.is_allowed();
                // `{"line": N, ...the decision...}` without building a JSON value.
                match serde_json::to_writer(&mut buf, &d)
                    .ok()
                    .and_then(|()| std::str::from_utf8(&buf).ok())
                    .and_then(|t| t.strip_prefix('{'))
                {
                    Some(rest) => {
                        a.text.push_str("{\"line\":");
                        a.text.push_str(&number.to_string());
                        a.text.push(',');
                        a.text.push_str(rest);
                    }
                    None => {
                        a.text.push_str(&serde_json::json!({"line": number, "error": "internal error: the decision cannot be written"}).to_string());
                        a.malformed = true;
                    }
                }
            }
            Err(e) => {
                a.malformed = true;
                a.text
                    .push_str(&serde_json::json!({"line": number, "error": e}).to_string());
            }
        }
        a.text.push('\n');
    }
    a
}

/// `check --requests`: reads the lines in batches, decides each batch on every core
/// (each worker with its own caches), and writes the answers in the lines' order.
fn run_requests(args: &Args, setup: &Setup, src: &str, defaults: Defaults) -> u8 {
    let mut reader: Box<dyn BufRead> = if src == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        match std::fs::File::open(src) {
            Ok(f) => Box::new(std::io::BufReader::with_capacity(1 << 20, f)),
            Err(e) => {
                eprintln!("swf-iam: cannot read `{src}`: {e}");
                return EXIT_USAGE;
            }
        }
    };
    let workers = std::thread::available_parallelism()
        .map_or(1, std::num::NonZeroUsize::get)
        .clamp(1, 16);
    let mut caches: Vec<RequestCaches> = (0..workers).map(|_| RequestCaches::default()).collect();
    let mut out = Out::new();
    let (mut malformed, mut denied) = (false, false);
    let mut next = 1;
    let mut batch: Vec<String> = Vec::with_capacity(REQUEST_BATCH);
    loop {
        // Read a batch (a read error ends the run with the lines before it answered).
        batch.clear();
        let mut read_error = None;
        while batch.len() < REQUEST_BATCH {
            let mut line = String::new();
            match reader.read_line(&mut line) {
                Ok(0) => break,
                Ok(_) => {
                    if line.ends_with('\n') {
                        line.pop();
                        if line.ends_with('\r') {
                            line.pop();
                        }
                    }
                    batch.push(line);
                }
                Err(e) => {
                    read_error = Some(e);
                    break;
                }
            }
        }
        if batch.is_empty() && read_error.is_none() {
            break;
        }
        let chunk = batch.len().div_ceil(workers).max(1);
        let answered: Vec<Answered> = if workers == 1 || batch.len() < 256 {
            vec![answer_lines(
                args,
                setup,
                defaults,
                &batch,
                next,
                &mut caches[0],
            )]
        } else {
            std::thread::scope(|scope| {
                let handles: Vec<_> = batch
                    .chunks(chunk)
                    .zip(caches.iter_mut())
                    .enumerate()
                    .map(|(i, (lines, cache))| {
                        let first = next + i * chunk;
                        scope
                            .spawn(move || answer_lines(args, setup, defaults, lines, first, cache))
                    })
                    .collect();
                handles
                    .into_iter()
                    .map(|h| {
                        h.join().unwrap_or_else(|_| Answered {
                            text: serde_json::json!({"error": "internal error: a worker failed"})
                                .to_string()
                                + "\n",
                            denied: false,
                            malformed: true,
                        })
                    })
                    .collect()
            })
        };
        for a in &answered {
            denied |= a.denied;
            malformed |= a.malformed;
            out.write(&a.text);
        }
        next += batch.len();
        if let Some(e) = read_error {
            out.flush();
            eprintln!("swf-iam: cannot read `{src}` at line {next}: {e}");
            return EXIT_USAGE;
        }
        if out.closed() || batch.len() < REQUEST_BATCH {
            break;
        }
    }
    out.flush();
    if malformed {
        EXIT_USAGE
    } else if denied {
        EXIT_FAIL
    } else {
        EXIT_OK
    }
}

/// Reads a request line's `context` object into typed key values.
fn line_context(v: Option<&Value>) -> Result<Vec<(String, ContextValue)>, String> {
    let mut out = Vec::new();
    match v {
        None | Some(Value::Null) => {}
        Some(Value::Object(m)) => {
            for (k, v) in m {
                let value = match v {
                    Value::String(s) => ContextValue::Single(s.clone()),
                    Value::Bool(b) => ContextValue::Single(b.to_string()),
                    Value::Number(n) => ContextValue::Single(n.to_string()),
                    Value::Array(items) => ContextValue::Multi(
                        items
                            .iter()
                            .map(|i| {
                                i.as_str()
                                    .map(str::to_owned)
                                    .ok_or_else(|| format!("context `{k}`: values must be strings"))
                            })
                            .collect::<Result<Vec<_>, _>>()?,
                    ),
                    _ => {
                        return Err(format!(
                            "context `{k}` must be a string, boolean, number or array of strings"
                        ))
                    }
                };
                let values: Vec<&str> = match &value {
                    ContextValue::Single(s) => vec![s.as_str()],
                    ContextValue::Multi(m) => m.iter().map(String::as_str).collect(),
                };
                for one in values {
                    crate::keys::check_request_value(k, one).map_err(|e| format!("context {e}"))?;
                }
                out.push((k.clone(), value));
            }
        }
        Some(_) => return Err("`context` must be an object".into()),
    }
    Ok(out)
}

fn one_request(
    args: &Args,
    setup: &Setup,
    line: &str,
    defaults: Defaults,
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
            "now",
            "defaultContext",
        ]
        .contains(&k.as_str())
        {
            return Err(format!(
                "unknown field `{k}`; expected one of principal, action, resource, domain, context, policies, now, defaultContext"
            ));
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
    let action = catalog::request_action(str_field("action")?.unwrap_or(&args.action))
        .map_err(|e| format!("action {e}"))?;
    let mut defaults = defaults;
    if let Some(t) = str_field("now")? {
        defaults.now = parse_now(t).map_err(|e| format!("now: {e}"))?;
    }
    match obj.get("defaultContext") {
        None | Some(Value::Null) => {}
        Some(Value::Bool(b)) => defaults.on = *b,
        Some(_) => return Err("`defaultContext` must be true or false".into()),
    }
    let given = line_context(obj.get("context"))?;
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
            let arn = principal.ok_or("a request with inline `policies` needs `principal`")?;
            inline_caller = setup.flag_caller(Some(arn), set.clone())?;
            &inline_caller
        }
        None => callers
            .get(&key)
            .ok_or("internal error: caller not cached")?,
    };
    let resource = setup.resource(
        caller,
        &action,
        str_field("domain")?,
        str_field("resource")?,
    )?;
    let ctx = setup.context(caller, &resource, defaults, &given);
    if is_role_action(&action) {
        let trust = setup.trust_of(&resource, args.trust_policy.as_deref())?;
        return Ok(eval::trust::decide_assume(&eval::trust::AssumeRequest {
            caller: &caller.principal,
            caller_policies: &caller.compiled,
            action: &action,
            role_arn: &resource,
            trust: Some(&trust),
            context: &ctx,
        }));
    }
    let req = Request {
        principal: &caller.principal,
        action: &action,
        resource: &resource,
        context: &ctx,
    };
    Ok(eval::evaluate(&caller.compiled, &req))
}
