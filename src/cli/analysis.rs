//! `swf-iam access`, `who-can` and `diff`: every request at once (see [`crate::analyze`]).

use super::out::Out;
use super::{
    default_config, missing_config, OutputFormat, EXIT_FAIL, EXIT_INCOMPLETE, EXIT_OK, EXIT_USAGE,
};
use crate::analyze::{self, Access, ActionAccess, ChangeKind, Extent, Options, PrincipalAccess};
use crate::config::{Config, PrincipalConfig};
use crate::pattern::Pattern;
use crate::swf::catalog::{SwfAction, ACTIONS};
use crate::testing::{self, SnapshotStatus};
use serde_json::json;
use std::path::{Path, PathBuf};

const HB: &str = "swf:RecordActivityTaskHeartbeat";

/// What every analysis command shares: how requests look.
#[derive(Debug, Clone, clap::Args)]
pub struct RequestArgs {
    /// Decide requests as IAM's policy simulator with ContextEntries: no region, time or
    /// transport defaults, and every key not the principal's may be absent.
    #[arg(long)]
    pub no_default_context: bool,
    /// The time of requests where no policy tests it: ISO 8601 or epoch seconds
    /// [default: now].
    #[arg(long, value_name = "TIMESTAMP")]
    pub now: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: OutputFormat,
    /// Seconds the whole analysis may take; past them it stops with `complete: false`
    /// and says so.
    #[arg(long, value_name = "SECONDS", default_value_t = 120.0)]
    pub time_budget: f64,
    /// Resident memory the process may reach, in MiB; past it the analysis stops with
    /// `complete: false` and says so.
    #[arg(long, value_name = "MIB", default_value_t = 2048)]
    pub memory_budget: u64,
}

/// Arguments of `swf-iam access`.
#[derive(Debug, clap::Args)]
pub struct AccessArgs {
    /// Configuration file [default: $SWF_IAM_CONFIG, else policies/swf-iam.json].
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Principal ARN (repeat for several) [default: every configured principal].
    #[arg(long)]
    pub principal: Vec<String>,
    /// SWF action or IAM action pattern (`swf:Poll*`; repeat for several) [default: the
    /// whole catalog].
    #[arg(long)]
    pub action: Vec<String>,
    /// Compare each principal's access surface with an insta snapshot in DIR.
    #[arg(long, value_name = "DIR")]
    pub snapshot: Option<PathBuf>,
    /// With --snapshot: write new and changed snapshots instead of failing.
    #[arg(long, requires = "snapshot")]
    pub accept: bool,
    /// How requests look.
    #[command(flatten)]
    pub request: RequestArgs,
}

/// Arguments of `swf-iam who-can`.
#[derive(Debug, clap::Args)]
pub struct WhoCanArgs {
    /// The SWF action.
    #[arg(default_value = HB)]
    pub action: String,
    /// The SWF action, named as `check` and `access` name it (the same as ACTION).
    #[arg(long = "action", value_name = "ACTION", conflicts_with = "action")]
    pub action_named: Option<String>,
    /// The domain.
    #[arg(long)]
    pub domain: Option<String>,
    /// Configuration file [default: $SWF_IAM_CONFIG, else policies/swf-iam.json].
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// How requests look.
    #[command(flatten)]
    pub request: RequestArgs,
}

/// What `diff` fails on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FailOn {
    /// Some request is newly allowed (IAM Access Analyzer's CheckNoNewAccess).
    Widened,
    /// Some request is no longer allowed.
    Narrowed,
    /// Either.
    Any,
}

/// Arguments of `swf-iam diff`.
#[derive(Debug, clap::Args)]
pub struct DiffArgs {
    /// The configuration before the change.
    #[arg(long)]
    pub before: PathBuf,
    /// The configuration after the change.
    #[arg(long)]
    pub after: PathBuf,
    /// Exit 1 when a change of this kind is found.
    #[arg(long, value_enum, default_value = "widened")]
    pub fail_on: FailOn,
    /// SWF action or IAM action pattern (repeat for several) [default: the whole catalog].
    #[arg(long)]
    pub action: Vec<String>,
    /// How requests look.
    #[command(flatten)]
    pub request: RequestArgs,
}

fn load(path: &Path) -> Result<Config, String> {
    if !path.exists() {
        return Err(missing_config(path));
    }
    super::load_config_file(path)
}

pub(crate) fn options(c: &Config, r: &RequestArgs) -> Result<Options, String> {
    let now = match &r.now {
        Some(t) => super::check::parse_now(t).map_err(|e| format!("--now {e}"))?,
        None => crate::values::now_epoch(),
    };
    if !(r.time_budget.is_finite() && r.time_budget > 0.0 && r.time_budget <= 86_400.0) {
        return Err(format!(
            "--time-budget {} is not a number of seconds in (0, 86400]",
            r.time_budget
        ));
    }
    if r.memory_budget == 0 || r.memory_budget > 1 << 30 {
        return Err(format!(
            "--memory-budget {} is not a size in MiB in [1, 2^30]",
            r.memory_budget
        ));
    }
    let budget = analyze::Budget::within(
        std::time::Duration::from_secs_f64(r.time_budget),
        r.memory_budget << 20,
    );
    Ok(Options {
        partition: c.partition.clone(),
        account: c.account.clone(),
        regions: c.regions.clone(),
        default_region: c.region.clone(),
        request_defaults: !r.no_default_context,
        now,
        domain: None,
        limits: analyze::Limits {
            budget,
            ..analyze::Limits::default()
        },
        cache: Default::default(),
    })
}

/// The catalog actions `patterns` name (IAM wildcards, any case); all with none.
/// `noun` is how the caller names the input in messages (`--action`, `the action`).
fn actions(patterns: &[String], noun: &str) -> Result<Vec<&'static SwfAction>, String> {
    if patterns.is_empty() {
        return Ok(analyze::all_actions());
    }
    let mut out: Vec<&'static SwfAction> = Vec::new();
    for p in patterns {
        let Some(rest) = p
            .get(..4)
            .filter(|s| s.eq_ignore_ascii_case("swf:"))
            .and(p.get(4..))
        else {
            return Err(format!("{noun} `{p}` is not an SWF action (`swf:Name`)"));
        };
        let pat = Pattern::new(&rest.to_ascii_lowercase());
        let hits: Vec<&'static SwfAction> = ACTIONS
            .iter()
            .filter(|a| pat.matches_with(a.name, &crate::pattern::NoVars, true))
            .collect();
        if hits.is_empty() {
            let hint = crate::swf::catalog::nearest(rest).map_or(String::new(), |a| {
                format!(" (did you mean `swf:{}`?)", a.name)
            });
            return Err(format!("{noun} `{p}` names no SWF action{hint}"));
        }
        for h in hits {
            if !out.iter().any(|a| a.name == h.name) {
                out.push(h);
            }
        }
    }
    Ok(out)
}

/// One extent in words: `on `orders` when aws:SourceIp in 10.0.0.0/8`.
pub fn extent_text(e: &Extent, regions: usize, has_domain: bool) -> String {
    let mut parts = Vec::new();
    if regions > 1 {
        parts.push(format!("in {}", e.region));
    }
    if !e.domains.is_empty() {
        parts.push(format!(
            "on {}",
            e.domains
                .iter()
                .map(|d| d.description.as_str())
                .collect::<Vec<_>>()
                .join(" or ")
        ));
    } else if has_domain {
        parts.push("on any domain".into());
    }
    if !e.when.is_empty() {
        parts.push(format!(
            "when {}",
            e.when
                .iter()
                .map(|c| format!("{} {}", c.key, c.values.join(" or ")))
                .collect::<Vec<_>>()
                .join(" and ")
        ));
    }
    if parts.is_empty() {
        "always".into()
    } else {
        parts.join(" ")
    }
}

fn has_domain(action: &str) -> bool {
    crate::swf::catalog::action(action).is_some_and(SwfAction::has_domain_resource)
}

/// A principal's access surface as text (what `access` prints and snapshots).
pub fn access_text(p: &PrincipalAccess, regions: usize) -> String {
    access_text_with(p, regions, &[])
}

/// The roles a principal may assume, as text.
fn assumable_text(roles: &[analyze::AssumeAccess]) -> String {
    let mut s = String::new();
    for a in roles {
        match a.access {
            Access::Never => {}
            Access::Always => s.push_str(&format!(
                "  may assume {}: always
",
                a.role
            )),
            Access::Conditional => {
                s.push_str(&format!(
                    "  may assume {}: for some requests
",
                    a.role
                ));
                if let Some(w) = &a.witness {
                    s.push_str(&format!(
                        "      e.g. {w}
"
                    ));
                }
            }
        }
        for r in &a.incomplete {
            s.push_str(&format!(
                "    incomplete ({}): {r}
",
                a.role
            ));
        }
    }
    s
}

/// The roles of `config` (with a trust policy) that `p` may assume, for every request.
fn assumable(config: &Config, p: &PrincipalConfig, opts: &Options) -> Vec<analyze::AssumeAccess> {
    let mut roles: Vec<&PrincipalConfig> = config
        .principals
        .iter()
        .filter(|r| r.is_role() && (r.trust.is_some() || r.trust_missing.is_some()))
        .filter(|r| r.principal.arn != p.principal.arn)
        .collect();
    roles.sort_by(|a, b| a.principal.arn.cmp(&b.principal.arn));
    roles
        .into_iter()
        .map(|r| analyze::assume_access(p, r, opts))
        .filter(|a| a.access != Access::Never || !a.complete)
        .collect()
}

/// [`access_text`] followed by the roles the principal may assume.
pub fn access_text_with(
    p: &PrincipalAccess,
    regions: usize,
    roles: &[analyze::AssumeAccess],
) -> String {
    let mut s = format!("{}\n", p.principal);
    let mut never = Vec::new();
    for a in &p.actions {
        match a.access {
            Access::Never => never.push(a.action.as_str()),
            Access::Always => s.push_str(&format!("  {}: always\n", a.action)),
            Access::Conditional => {
                s.push_str(&format!("  {}:\n", a.action));
                for e in &a.allowed {
                    s.push_str(&format!(
                        "    {}\n      e.g. {}\n",
                        extent_text(e, regions, has_domain(&a.action)),
                        e.witness
                    ));
                }
            }
        }
        if !a.complete {
            for r in &a.incomplete {
                s.push_str(&format!("    incomplete: {r}\n"));
            }
        }
    }
    if !never.is_empty() {
        s.push_str(&format!("  never: {}\n", never.join(", ")));
    }
    s.push_str(&assumable_text(roles));
    s
}

fn select<'a>(c: &'a Config, arns: &[String]) -> Result<Vec<&'a PrincipalConfig>, String> {
    if arns.is_empty() {
        let mut v: Vec<&PrincipalConfig> = c.principals.iter().collect();
        v.sort_by(|a, b| a.principal.arn.cmp(&b.principal.arn));
        return Ok(v);
    }
    arns.iter()
        .map(|a| {
            c.principal(a)
                .ok_or_else(|| crate::cli::principal_not_found(a, &c.path))
        })
        .collect()
}

/// Runs `access`: 0 answered (snapshots matched), 1 a snapshot differs, 2 input error.
pub fn run_access(args: &AccessArgs) -> u8 {
    let path = args.config.clone().unwrap_or_else(default_config);
    let prepared = load(&path).and_then(|c| {
        let opts = options(&c, &args.request)?;
        let acts = actions(&args.action, "--action")?;
        Ok((c, opts, acts))
    });
    let (config, opts, acts) = match prepared {
        Ok(x) => x,
        Err(e) => {
            eprintln!("swf-iam: {e}");
            return EXIT_USAGE;
        }
    };
    let chosen = match select(&config, &args.principal) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("swf-iam: {e}");
            return EXIT_USAGE;
        }
    };
    // A snapshot must not depend on when it was taken: where a policy reads the time,
    // the time is asked for.
    if args.snapshot.is_some() && args.request.now.is_none() {
        if let Some(p) = chosen.iter().find(|p| p.compiled.reads_time()) {
            eprintln!(
                "swf-iam: a policy of {} tests the time (aws:CurrentTime or aws:EpochTime): give --now TIMESTAMP so that its snapshot does not depend on when it is taken",
                p.principal.arn
            );
            return EXIT_USAGE;
        }
    }
    let results: Vec<PrincipalAccess> = chosen
        .iter()
        .map(|p| analyze::access(p, &acts, &opts))
        .collect();
    let assumes: Vec<Vec<analyze::AssumeAccess>> = chosen
        .iter()
        .map(|p| assumable(&config, p, &opts))
        .collect();
    let complete = results.iter().all(|p| p.actions.iter().all(|a| a.complete))
        && assumes.iter().flatten().all(|a| a.complete);
    let mut code = EXIT_OK;
    let mut snaps = Vec::new();
    if let Some(dir) = &args.snapshot {
        for (p, roles) in results.iter().zip(&assumes) {
            let name = testing::snapshot_name(Path::new("access"), &p.principal);
            let text = access_text_with(p, opts.regions.len(), roles);
            match testing::write_snapshot(
                dir,
                &name,
                &path.display().to_string(),
                &format!("access of {}", p.principal),
                &text,
                args.accept,
            ) {
                Ok(s) => {
                    if matches!(s, SnapshotStatus::New | SnapshotStatus::Changed) {
                        code = EXIT_FAIL;
                        eprintln!(
                            "swf-iam: access of {} {}: wrote {}.new (accept with --accept or `cargo insta review`)",
                            p.principal,
                            if s == SnapshotStatus::New { "has no snapshot yet" } else { "differs from its snapshot" },
                            dir.join(&name).display()
                        );
                    }
                    snaps.push((p.principal.clone(), s));
                }
                Err(e) => {
                    eprintln!(
                        "swf-iam: cannot write snapshots in `{}`: {e}",
                        dir.display()
                    );
                    return EXIT_USAGE;
                }
            }
        }
    }
    let mut out = Out::new();
    match args.request.format {
        OutputFormat::Json => {
            let principals: Vec<serde_json::Value> = results
                .iter()
                .zip(&assumes)
                .map(|(p, roles)| {
                    let mut v = serde_json::to_value(p).unwrap_or_default();
                    v["assumes"] = serde_json::to_value(roles).unwrap_or_default();
                    if let Some((_, s)) = snaps.iter().find(|(a, _)| *a == p.principal) {
                        v["snapshot"] = serde_json::to_value(s).unwrap_or_default();
                    }
                    v
                })
                .collect();
            let v = json!({"complete": complete, "principals": principals});
            out.line(&serde_json::to_string_pretty(&v).unwrap_or_default());
        }
        OutputFormat::Text => {
            for (i, (p, roles)) in results.iter().zip(&assumes).enumerate() {
                if i > 0 {
                    out.line("");
                }
                out.write(&access_text_with(p, opts.regions.len(), roles));
            }
            if !complete {
                out.line("\nincomplete: some answers may not hold for every request (see above)");
            }
        }
    }
    code
}

/// Runs `who-can`: 0 some principal may, 1 none may, 2 input error.
pub fn run_who_can(args: &WhoCanArgs) -> u8 {
    let path = args.config.clone().unwrap_or_else(default_config);
    let prepared = load(&path).and_then(|c| {
        let mut opts = options(&c, &args.request)?;
        let action = args
            .action_named
            .clone()
            .unwrap_or_else(|| args.action.clone());
        let acts = actions(std::slice::from_ref(&action), "the action")?;
        let [one] = acts.as_slice() else {
            return Err(format!(
                "`{action}` names {} actions; who-can takes one",
                acts.len()
            ));
        };
        let one: &'static SwfAction = one;
        match (&args.domain, one.has_domain_resource()) {
            (Some(d), true) if one.fixed_domain().is_some_and(|f| f != d) => {
                return Err(format!(
                    "`swf:{}` is authorized on the domain named `{}` of each region: drop --domain",
                    one.name,
                    one.fixed_domain().unwrap_or_default()
                ))
            }
            (_, true) if one.fixed_domain().is_some() => {}
            (Some(d), true) => {
                crate::swf::arn::check_domain_name(d).map_err(|e| format!("--domain: {e}"))?;
                opts.domain = Some(d.clone());
            }
            (None, true) => {
                return Err(format!(
                    "`swf:{}` is authorized on a domain: give --domain NAME",
                    one.name
                ))
            }
            (Some(_), false) => {
                return Err(format!(
                    "`swf:{}` has no domain resource: drop --domain",
                    one.name
                ))
            }
            (None, false) => {}
        }
        Ok((c, opts, one))
    });
    let (config, opts, action) = match prepared {
        Ok(x) => x,
        Err(e) => {
            eprintln!("swf-iam: {e}");
            return EXIT_USAGE;
        }
    };
    let mut rows: Vec<(String, ActionAccess)> = Vec::new();
    let mut principals: Vec<&PrincipalConfig> = config.principals.iter().collect();
    principals.sort_by(|a, b| a.principal.arn.cmp(&b.principal.arn));
    for p in principals {
        let r = analyze::access(p, &[action], &opts);
        if let Some(a) = r.actions.into_iter().next() {
            rows.push((r.principal, a));
        }
    }
    // Through roles: the principals that reach one of those that may, by AssumeRole hops.
    let mut sorted: Vec<&PrincipalConfig> = config.principals.iter().collect();
    sorted.sort_by(|a, b| a.principal.arn.cmp(&b.principal.arn));
    let has_trust = sorted
        .iter()
        .any(|p| p.trust.is_some() || p.trust_missing.is_some());
    let (through, chain_incomplete) = if has_trust {
        let (edges, mut inc) = analyze::assume_graph(&sorted, &opts);
        let targets: Vec<bool> = sorted
            .iter()
            .map(|p| {
                rows.iter()
                    .any(|(arn, a)| *arn == p.principal.arn && a.access != Access::Never)
            })
            .collect();
        let (found, cut) = analyze::chains(&sorted, &edges, &targets);
        inc.extend(cut);
        let through: Vec<(String, Vec<analyze::Hop>)> = sorted
            .iter()
            .zip(found)
            .filter(|(p, _)| {
                !rows
                    .iter()
                    .any(|(arn, a)| *arn == p.principal.arn && a.access != Access::Never)
            })
            .flat_map(|(p, cs)| cs.into_iter().map(move |c| (p.principal.arn.clone(), c)))
            .collect();
        (through, inc)
    } else {
        (Vec::new(), Vec::new())
    };
    let any = rows.iter().any(|(_, a)| a.access != Access::Never) || !through.is_empty();
    let complete = rows.iter().all(|(_, a)| a.complete) && chain_incomplete.is_empty();
    let name = format!("swf:{}", action.name);
    let mut out = Out::new();
    match args.request.format {
        OutputFormat::Json => {
            let list: Vec<serde_json::Value> = rows
                .iter()
                .map(|(p, a)| {
                    json!({"principal": p, "access": a.access, "allowed": a.allowed,
                           "complete": a.complete, "incomplete": a.incomplete})
                })
                .collect();
            let chains: Vec<serde_json::Value> = through
                .iter()
                .map(|(p, hops)| json!({"principal": p, "hops": hops}))
                .collect();
            let v = json!({"action": name, "domain": opts.domain, "complete": complete,
                           "principals": list, "throughRoles": chains,
                           "chainsIncomplete": chain_incomplete});
            out.line(&serde_json::to_string_pretty(&v).unwrap_or_default());
        }
        OutputFormat::Text => {
            let on = opts
                .domain
                .as_ref()
                .map_or(String::new(), |d| format!(" on domain `{d}`"));
            out.line(&format!("who can {name}{on}:"));
            let mut never = Vec::new();
            for (p, a) in &rows {
                match a.access {
                    Access::Never => never.push(p.as_str()),
                    Access::Always => out.line(&format!("  {p}: always")),
                    Access::Conditional => {
                        out.line(&format!("  {p}:"));
                        for e in &a.allowed {
                            let mut e = e.clone();
                            e.domains.clear();
                            out.line(&format!(
                                "    {}\n      e.g. {}",
                                extent_text(&e, opts.regions.len(), false),
                                e.witness
                            ));
                        }
                    }
                }
                for r in &a.incomplete {
                    out.line(&format!("    incomplete: {r}"));
                }
            }
            for (p, hops) in &through {
                let path: Vec<&str> = std::iter::once(p.as_str())
                    .chain(hops.iter().map(|h| h.role.as_str()))
                    .collect();
                out.line(&format!("  {p}: through {}", path.join(" -> ")));
                for h in hops {
                    let w = h
                        .witness
                        .as_ref()
                        .map_or(String::new(), |w| format!("\n        e.g. {w}"));
                    out.line(&format!(
                        "      assumes {} ({}){w}",
                        h.role,
                        match h.access {
                            Access::Always => "always",
                            _ => "for some requests",
                        }
                    ));
                }
            }
            for r in &chain_incomplete {
                out.line(&format!("  incomplete: {r}"));
            }
            if !any {
                out.line("  nobody");
            }
            let never: Vec<&str> = never
                .into_iter()
                .filter(|n| !through.iter().any(|(p, _)| p == n))
                .collect();
            if !never.is_empty() {
                out.line(&format!("cannot: {}", never.join(", ")));
            }
        }
    }
    if any {
        EXIT_OK
    } else if !complete {
        eprintln!(
            "swf-iam: who-can: nobody was found, but the analysis is incomplete (see `incomplete:` above): exit {EXIT_INCOMPLETE}, not \"nobody may\""
        );
        EXIT_INCOMPLETE
    } else {
        EXIT_FAIL
    }
}

/// Runs `diff`: 0 no change of the `--fail-on` kind, 1 some, 2 input error, 3 none found
/// but the comparison is incomplete.
pub fn run_diff(args: &DiffArgs) -> u8 {
    let prepared = (|| -> Result<_, String> {
        let named = |flag: &str, path: &Path| {
            if path.exists() {
                load(path).map_err(|e| format!("{flag}: {e}"))
            } else {
                Err(format!("{flag}: `{}` does not exist", path.display()))
            }
        };
        // Both configurations are read, validated and compiled at once, one a core.
        let (before, after) = std::thread::scope(|s| {
            let b = s.spawn(|| named("--before", &args.before));
            let a = named("--after", &args.after);
            let b = b
                .join()
                .unwrap_or_else(|_| Err("--before: internal error while loading".into()));
            (b, a)
        });
        let (before, after) = (before?, after?);
        for (what, b, a) in [
            ("partition", &before.partition, &after.partition),
            ("account", &before.account, &after.account),
        ] {
            if b != a {
                return Err(format!(
                    "the configurations disagree on the {what} (`{b}` before, `{a}` after): diff compares the same domains"
                ));
            }
        }
        if before.regions != after.regions {
            return Err(format!(
                "the configurations disagree on the regions ({:?} before, {:?} after): diff compares the same domains",
                before.regions, after.regions
            ));
        }
        let opts = options(&after, &args.request)?;
        let acts = actions(&args.action, "--action")?;
        Ok((before, after, opts, acts))
    })();
    let (before, after, opts, acts) = match prepared {
        Ok(x) => x,
        Err(e) => {
            eprintln!("swf-iam: {e}");
            return EXIT_USAGE;
        }
    };
    let b = analyze::by_arn(&before.principals);
    let a = analyze::by_arn(&after.principals);
    let mut arns: Vec<&str> = b.keys().chain(a.keys()).copied().collect();
    arns.sort_unstable();
    arns.dedup();
    let mut changes = Vec::new();
    let mut incomplete = Vec::new();
    // Principals are compared on every core; the answer keeps their (sorted) order.
    let workers = std::thread::available_parallelism()
        .map_or(1, std::num::NonZeroUsize::get)
        .clamp(1, 16);
    let chunk = arns.len().div_ceil(workers).max(1);
    let parts: Vec<Vec<analyze::PrincipalDiff>> = std::thread::scope(|s| {
        let handles: Vec<_> = arns
            .chunks(chunk)
            .map(|part| {
                let (b, a, acts, opts) = (&b, &a, &acts, &opts);
                s.spawn(move || {
                    part.iter()
                        .map(|arn| {
                            analyze::diff(b.get(arn).copied(), a.get(arn).copied(), acts, opts)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_default())
            .collect()
    });
    let compared: usize = parts.iter().map(Vec::len).sum();
    if compared != arns.len() {
        incomplete.push(format!(
            "internal error: {} of {} principals were not compared",
            arns.len() - compared,
            arns.len()
        ));
    }
    for d in parts.into_iter().flatten() {
        changes.extend(d.changes);
        incomplete.extend(d.incomplete);
    }
    incomplete.extend(changes.iter().flat_map(|c| c.incomplete.iter().cloned()));
    incomplete.sort();
    incomplete.dedup();
    let widened = changes
        .iter()
        .filter(|c| c.change == ChangeKind::Widened)
        .count();
    let narrowed = changes.len() - widened;
    let mut out = Out::new();
    match args.request.format {
        OutputFormat::Json => {
            let v = json!({"changes": changes, "widened": widened, "narrowed": narrowed,
                           "complete": incomplete.is_empty(), "incomplete": incomplete});
            out.line(&serde_json::to_string_pretty(&v).unwrap_or_default());
        }
        OutputFormat::Text => {
            for c in &changes {
                let word = match c.change {
                    ChangeKind::Widened => "widened ",
                    ChangeKind::Narrowed => "narrowed",
                };
                out.line(&format!("{word} {} {}", c.principal, c.action));
                for e in &c.extent {
                    out.line(&format!(
                        "    {}",
                        extent_text(e, opts.regions.len(), has_domain(&c.action))
                    ));
                }
                out.line(&format!(
                    "    witness ({} before, {} after): {}",
                    c.before.as_str(),
                    c.after.as_str(),
                    c.witness
                ));
            }
            out.line(&format!(
                "{} change{} ({widened} widened, {narrowed} narrowed){}",
                changes.len(),
                if changes.len() == 1 { "" } else { "s" },
                if incomplete.is_empty() {
                    "; every request compared".to_owned()
                } else {
                    format!("; incomplete: {}", incomplete.join("; "))
                }
            ));
        }
    }
    let fail = match args.fail_on {
        FailOn::Widened => widened > 0,
        FailOn::Narrowed => narrowed > 0,
        FailOn::Any => !changes.is_empty(),
    };
    if fail {
        EXIT_FAIL
    } else if !incomplete.is_empty() {
        // Changes of the gated kind may hide where the comparison gave up: never a pass.
        eprintln!(
            "swf-iam: diff: the comparison is incomplete, so no `--fail-on {}` answer can be given; not analysed: {}",
            match args.fail_on {
                FailOn::Widened => "widened",
                FailOn::Narrowed => "narrowed",
                FailOn::Any => "any",
            },
            incomplete.join("; ")
        );
        EXIT_INCOMPLETE
    } else {
        EXIT_OK
    }
}
