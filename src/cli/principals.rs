//! `swf-iam principals`: what a configuration defines and imports, and what its sources
//! leave unresolved.

use super::out::Out;
use super::{default_config, missing_config, OutputFormat, EXIT_FAIL, EXIT_OK, EXIT_USAGE};
use crate::config::PrincipalConfig;
use std::fmt::Write as _;
use std::path::PathBuf;

/// Arguments of `swf-iam principals`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The configuration (default: $SWF_IAM_CONFIG, else policies/swf-iam.json).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: OutputFormat,
}

fn policies(p: &PrincipalConfig) -> Vec<String> {
    p.policies
        .identity
        .iter()
        .map(|l| match &l.arn {
            Some(a) if !l.name.contains(a.as_str()) => format!("{} ({a})", l.name),
            _ => l.name.clone(),
        })
        .collect()
}

/// Runs `principals`: 0 when every principal's policies are known, 1 when some are
/// not (or a source entry was left out), 2 when the configuration cannot be loaded.
pub fn run(args: &Args) -> u8 {
    let path = args.config.clone().unwrap_or_else(default_config);
    if !path.exists() {
        eprintln!("swf-iam: {}", missing_config(&path));
        return EXIT_USAGE;
    }
    let config = match super::load_config_file(&path) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("swf-iam: {e}");
            return EXIT_USAGE;
        }
    };
    let unresolved = config
        .principals
        .iter()
        .filter(|p| !p.missing.is_empty())
        .count();
    let mut out = Out::new();
    match args.format {
        OutputFormat::Json => {
            let v = serde_json::json!({
                "principals": config.principals.iter().map(|p| serde_json::json!({
                    "arn": p.principal.arn,
                    "caller": p.principal.caller_arn,
                    "definedBy": p.origin,
                    "tags": p.principal.tags.iter().map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone()))).collect::<serde_json::Map<_, _>>(),
                    "policies": policies(p),
                    "permissionsBoundary": p.policies.boundary.as_ref().map(|b| b.arn.clone().unwrap_or_else(|| b.name.clone())),
                    "accessKeys": p.access_keys.iter().map(|k| k.access_key_id.clone()).collect::<Vec<_>>(),
                    "trustPolicy": p.trust.as_ref().map(|t| t.name.clone()),
                    "trustMissing": p.trust_missing,
                    "maxSessionDuration": p.is_role().then_some(p.max_session_duration),
                    "mfaDevices": p.mfa_devices.iter().map(|d| d.serial_number.clone()).collect::<Vec<_>>(),
                    "resolved": p.missing.is_empty(),
                    "missing": p.missing,
                })).collect::<Vec<_>>(),
                "serviceControlPolicies": config.sources.iter().flat_map(|s| s.scps.iter().map(move |scp| serde_json::json!({
                    "name": scp.name,
                    "source": s.file.name(),
                    "targets": scp.targets,
                    "resolved": s.policies.get(scp.policy).is_some_and(|p| p.text.is_ok()),
                }))).collect::<Vec<_>>(),
                "leftOut": config.skipped,
            });
            out.line(&serde_json::to_string_pretty(&v).unwrap_or_default());
        }
        OutputFormat::Text => {
            let mut s = String::new();
            for p in &config.principals {
                let _ = write!(s, "{}", p.principal.arn);
                if let Some(o) = &p.origin {
                    let _ = write!(s, "  ({o})");
                }
                s.push('\n');
                if p.principal.caller_arn != p.principal.arn {
                    let _ = writeln!(s, "  caller:   {}", p.principal.caller_arn);
                }
                if !p.principal.tags.is_empty() {
                    let tags: Vec<String> = p
                        .principal
                        .tags
                        .iter()
                        .map(|(k, v)| format!("{k}={v}"))
                        .collect();
                    let _ = writeln!(s, "  tags:     {}", tags.join(", "));
                }
                for (i, pol) in policies(p).iter().enumerate() {
                    let _ = writeln!(
                        s,
                        "  {} {pol}",
                        if i == 0 { "policies:" } else { "         " }
                    );
                }
                if let Some(b) = &p.policies.boundary {
                    let _ = writeln!(s, "  boundary: {}", b.arn.as_deref().unwrap_or(&b.name));
                }
                if p.is_role() {
                    match (&p.trust, &p.trust_missing) {
                        (_, Some(why)) => {
                            let _ =
                                writeln!(s, "  trust:    not known ({why}): nobody may assume it");
                        }
                        (Some(t), None) => {
                            let _ = writeln!(
                                s,
                                "  trust:    {} ({} statement{}); sessions up to {} s",
                                t.name,
                                t.statements.len(),
                                if t.statements.len() == 1 { "" } else { "s" },
                                p.max_session_duration
                            );
                        }
                        (None, None) => {
                            let _ = writeln!(s, "  trust:    none: nobody may assume it");
                        }
                    }
                }
                if !p.mfa_devices.is_empty() {
                    let serials: Vec<&str> = p
                        .mfa_devices
                        .iter()
                        .map(|d| d.serial_number.as_str())
                        .collect();
                    let _ = writeln!(s, "  mfa:      {}", serials.join(", "));
                }
                if !p.access_keys.is_empty() {
                    let keys: Vec<&str> = p
                        .access_keys
                        .iter()
                        .map(|k| k.access_key_id.as_str())
                        .collect();
                    let _ = writeln!(s, "  keys:     {}", keys.join(", "));
                }
                if !p.missing.is_empty() {
                    let _ = writeln!(s, "  UNRESOLVED (every request of it is denied):");
                    for m in &p.missing {
                        let _ = writeln!(s, "    - {m}");
                    }
                }
            }
            for src in &config.sources {
                for scp in &src.scps {
                    let _ = writeln!(
                        s,
                        "service control policy {} ({}), attached to {}",
                        scp.name,
                        src.file.name(),
                        if scp.targets.is_empty() {
                            "nothing".to_owned()
                        } else {
                            scp.targets.join(", ")
                        }
                    );
                }
            }
            for skipped in &config.skipped {
                let _ = writeln!(s, "LEFT OUT: {skipped}");
            }
            let _ = writeln!(
                s,
                "{} principal{}, {} with unresolved policies{}",
                config.principals.len(),
                if config.principals.len() == 1 {
                    ""
                } else {
                    "s"
                },
                unresolved,
                if config.skipped.is_empty() {
                    String::new()
                } else {
                    format!(", {} source entries left out", config.skipped.len())
                }
            );
            out.write(&s);
        }
    }
    out.flush();
    if unresolved > 0 || !config.skipped.is_empty() {
        EXIT_FAIL
    } else {
        EXIT_OK
    }
}
