//! `swf-iam suggest`: the smallest identity policy that allows what each principal did,
//! read from a decision log.

use super::out::Out;
use super::{EXIT_FAIL, EXIT_OK, EXIT_USAGE};
use std::io::BufRead;
use std::path::PathBuf;

/// Output formats of `suggest`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SuggestFormat {
    /// Policy documents, as JSON.
    Json,
    /// Terraform `aws_iam_policy_document` data blocks (HCL).
    Terraform,
}

/// Arguments of `swf-iam suggest`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The decision log (`serve`/`proxy --decision-log FILE`), or - for standard input.
    #[arg(long, value_name = "FILE")]
    pub from: PathBuf,
    /// Only these principals (role ARNs for role sessions) [default: every principal in the log].
    #[arg(long)]
    pub principal: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "json")]
    pub format: SuggestFormat,
    /// One resource for a domain used in several regions or accounts (`*` there).
    #[arg(long)]
    pub generalize: bool,
    /// Limit each action to the `swf:` condition key values its requests and decisions
    /// carried (`swf:activityType.name`, `swf:taskList.name`, ...): `StringEquals` on keys
    /// every request carried, `StringEqualsIfExists` on keys some did.
    #[arg(long)]
    pub with_conditions: bool,
    /// Compare with what each principal has in CONFIG: replay every logged request
    /// against the suggestion (with the principal's SCPs and boundary), and list what the
    /// current policies grant beyond it (the narrowing), each with a witness request.
    #[arg(long, value_name = "CONFIG")]
    pub against: Option<PathBuf>,
}

/// What `--against` found for one principal.
struct Against {
    /// Logged requests decided again under the suggestion.
    replayed: usize,
    /// Those the suggestion (with the principal's other layers) does not allow.
    not_allowed: Vec<String>,
    /// What the current policies grant beyond the suggestion.
    narrowed: Vec<crate::analyze::Change>,
    /// Why the comparison may not hold for every request.
    incomplete: Vec<String>,
}

/// Compares the suggestion `docs` for `arn` with its policies in `config`.
fn against(
    config: &crate::config::Config,
    opts: &crate::analyze::Options,
    arn: &str,
    o: &crate::suggest::Observed,
    docs: &[serde_json::Value],
) -> Result<Against, String> {
    use crate::compile::{CompiledPolicySet, LoadedPolicy};
    let pc = config
        .principal(arn)
        .ok_or_else(|| format!("`{arn}` is not in `{}`", config.path.display()))?;
    let mut suggested = pc.clone();
    suggested.policies.identity = docs
        .iter()
        .enumerate()
        .map(|(i, d)| {
            LoadedPolicy::load(
                &format!("suggestion #{}", i + 1),
                d.to_string().as_bytes(),
                &crate::validate::PolicyKind::Managed,
            )
            .map_err(|e| e.to_string())
        })
        .collect::<Result<_, _>>()?;
    suggested.compiled = std::sync::Arc::new(
        CompiledPolicySet::compile(&suggested.policies).map_err(|e| e.to_string())?,
    );
    let mut replayed = 0;
    let mut not_allowed = Vec::new();
    // Each distinct request of the log: its action, resource and `swf:` keys (a line
    // without logged keys replays without them).
    let no_keys = crate::suggest::Keys::new();
    for (resource, actions) in &o.by_resource {
        let region = crate::swf::arn::region_of(resource).unwrap_or(&config.region);
        for (action, seen) in actions {
            let unknown = (seen.unknown > 0).then_some(&no_keys);
            for keys in seen.contexts.iter().chain(unknown) {
                let mut ctx = crate::eval::Context::over(suggested.base_context.clone());
                ctx.set_request_defaults(region, opts.now);
                for (k, v) in keys {
                    ctx.set_single(k, v.as_str());
                }
                let req = crate::eval::Request {
                    principal: &suggested.principal,
                    action,
                    resource,
                    context: &ctx,
                };
                replayed += 1;
                let d = crate::eval::evaluate(&suggested.compiled, &req);
                if !d.is_allowed() {
                    not_allowed.push(
                        d.message
                            .unwrap_or_else(|| format!("{action} on {resource}")),
                    );
                }
            }
        }
    }
    let diff = crate::analyze::diff(
        Some(pc),
        Some(&suggested),
        &crate::analyze::all_actions(),
        opts,
    );
    let narrowed = diff
        .changes
        .into_iter()
        .filter(|c| c.change == crate::analyze::ChangeKind::Narrowed)
        .collect();
    Ok(Against {
        replayed,
        not_allowed,
        narrowed,
        incomplete: diff.incomplete,
    })
}

/// A Terraform name from a principal ARN: its last name, letters, digits and `_`.
fn tf_name(arn: &str) -> String {
    let last = arn.rsplit('/').next().unwrap_or(arn);
    let mut s: String = last
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if s.is_empty() || s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert(0, '_');
    }
    s
}

/// Runs `suggest`: 0 a policy for each principal asked about, 1 nothing to suggest for
/// some, 2 the log cannot be read.
pub fn run(args: &Args) -> u8 {
    let reader: Box<dyn BufRead> = if args.from.as_os_str() == "-" {
        Box::new(std::io::BufReader::new(std::io::stdin()))
    } else {
        match std::fs::File::open(&args.from) {
            Ok(f) => Box::new(std::io::BufReader::new(f)),
            Err(e) => {
                eprintln!("swf-iam: cannot read `{}`: {e}", args.from.display());
                return EXIT_USAGE;
            }
        }
    };
    let log = match crate::suggest::read_log(reader) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("swf-iam: cannot read `{}`: {e}", args.from.display());
            return EXIT_USAGE;
        }
    };
    for u in &log.unreadable {
        eprintln!("swf-iam: warning: {}: {u}", args.from.display());
    }
    let wanted: Vec<&String> = if args.principal.is_empty() {
        log.principals.keys().collect()
    } else {
        args.principal.iter().collect()
    };
    let against_config = match &args.against {
        Some(p) => match super::load_config_file(p).and_then(|c| {
            let opts = super::analysis::options(
                &c,
                &super::analysis::RequestArgs {
                    no_default_context: false,
                    now: None,
                    format: super::OutputFormat::Text,
                    time_budget: 120.0,
                    memory_budget: 2048,
                },
            )?;
            Ok((c, opts))
        }) {
            Ok(x) => Some(x),
            Err(e) => {
                eprintln!("swf-iam: --against: {e}");
                return EXIT_USAGE;
            }
        },
        None => None,
    };
    let mut failed_replay = false;
    let mut missing = Vec::new();
    let mut out = Out::new();
    let mut json_out = Vec::new();
    for arn in wanted {
        let Some(o) = log.principals.get(arn) else {
            missing.push(arn.clone());
            continue;
        };
        let suggestion = crate::suggest::suggest(
            o,
            crate::suggest::Options {
                generalize: args.generalize,
                with_conditions: args.with_conditions,
            },
        );
        for n in &suggestion.notes {
            eprintln!("swf-iam: {arn}: {n}");
        }
        let docs = suggestion.documents;
        if docs.len() > 1 {
            eprintln!(
                "swf-iam: {arn}: the suggestion passes one managed policy's 6,144 characters: split into {} policies",
                docs.len()
            );
        }
        let compared = match &against_config {
            Some((c, opts)) => match against(c, opts, arn, o, &docs) {
                Ok(a) => Some(a),
                Err(e) => {
                    eprintln!("swf-iam: --against: {e}");
                    missing.push(arn.clone());
                    continue;
                }
            },
            None => None,
        };
        if let Some(a) = &compared {
            failed_replay |= !a.not_allowed.is_empty();
            for m in &a.not_allowed {
                eprintln!("swf-iam: {arn}: a logged request the suggestion does not allow: {m}");
            }
        }
        match args.format {
            SuggestFormat::Json => {
                let mut v = serde_json::json!({
                    "principal": arn,
                    "requests": o.requests,
                    "policies": docs,
                });
                if !suggestion.notes.is_empty() {
                    v["notes"] = serde_json::json!(suggestion.notes);
                }
                if let Some(a) = &compared {
                    v["against"] = serde_json::json!({
                        "replayed": a.replayed,
                        "notAllowed": a.not_allowed,
                        "narrowed": a.narrowed,
                        "complete": a.incomplete.is_empty(),
                        "incomplete": a.incomplete,
                    });
                }
                json_out.push(v);
            }
            SuggestFormat::Terraform => {
                for (i, d) in docs.iter().enumerate() {
                    let name = if i == 0 {
                        tf_name(arn)
                    } else {
                        format!("{}_{}", tf_name(arn), i + 1)
                    };
                    out.line(&format!("# {arn}: {} requests in the log", o.requests));
                    if let (0, Some(a)) = (i, &compared) {
                        out.line(&format!(
                            "# replayed {} logged requests: {} not allowed; the current policies grant {} more action{} beyond this",
                            a.replayed,
                            a.not_allowed.len(),
                            a.narrowed.len(),
                            if a.narrowed.len() == 1 { "" } else { "s" }
                        ));
                        for c in &a.narrowed {
                            out.line(&format!("#   {} e.g. {}", c.action, c.witness));
                        }
                    }
                    out.write(&crate::suggest::terraform(&name, d));
                }
            }
        }
    }
    if args.format == SuggestFormat::Json {
        out.line(
            &serde_json::to_string_pretty(&serde_json::json!({"principals": json_out}))
                .unwrap_or_default(),
        );
    }
    out.flush();
    if failed_replay {
        return EXIT_FAIL;
    }
    if !missing.is_empty() {
        eprintln!(
            "swf-iam: no decision of {} in `{}` ({} lines read): nothing to suggest",
            missing.join(", "),
            args.from.display(),
            log.lines
        );
        return EXIT_FAIL;
    }
    EXIT_OK
}
