//! `swf-iam test`: run permission case files, optionally against stored snapshots.

use super::out::Out;
use super::{inputs, OutputFormat, EXIT_FAIL, EXIT_OK, EXIT_USAGE};
use crate::testing::{self, describe_matched, SnapshotStatus};
use std::path::PathBuf;

/// Arguments of `swf-iam test`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: OutputFormat,
    /// Also compare each case's explanation with an insta snapshot in DIR.
    #[arg(long, value_name = "DIR")]
    pub snapshot: Option<PathBuf>,
    /// With --snapshot: write new and changed snapshots instead of failing.
    #[arg(long, requires = "snapshot")]
    pub accept: bool,
    /// Report which policy statements decided at least one case, and which none did.
    #[arg(long)]
    pub coverage: bool,
    /// With --coverage: also write SARIF (a note on each statement no case decided).
    #[arg(long, value_name = "FILE", requires = "coverage")]
    pub coverage_sarif: Option<PathBuf>,
    /// With --coverage: fail (exit 1) when fewer than PERCENT of the statements decided a
    /// case.
    #[arg(long, value_name = "PERCENT", requires = "coverage")]
    pub fail_under: Option<f64>,
    /// Case files, directories (every *.json below) or glob patterns.
    #[arg(required = true)]
    pub paths: Vec<String>,
}

/// Runs `test`: 0 all passed, 1 some failed, 2 malformed input or usage error.
pub fn run(args: &Args) -> u8 {
    let inputs = match inputs::expand(&args.paths) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("swf-iam: {e}");
            return EXIT_USAGE;
        }
    };
    if let Some(p) = args.fail_under {
        if !(0.0..=100.0).contains(&p) {
            eprintln!("swf-iam: --fail-under {p} is not a percentage from 0 to 100");
            return EXIT_USAGE;
        }
    }
    let mut coverage = testing::Coverage::default();
    let (mut passed, mut failed, mut malformed) = (0usize, 0usize, 0usize);
    let mut out = Out::new();
    let mut files_json = Vec::new();
    for input in &inputs {
        let inputs::Input::File(path) = input else {
            eprintln!("swf-iam: `-` is not supported by `test`: give case files");
            return EXIT_USAGE;
        };
        let file = match testing::load(path) {
            Ok(f) => f,
            Err(e) => {
                malformed += 1;
                eprintln!("swf-iam: {e}");
                files_json.push(
                    serde_json::json!({"path": path.display().to_string(), "error": e.to_string()}),
                );
                continue;
            }
        };
        let mut cases_json = Vec::new();
        if args.coverage {
            coverage.add_config(&file);
        }
        for mut result in testing::run(&file) {
            if args.coverage {
                coverage.record(&file, &result);
            }
            let snapshot = match &args.snapshot {
                Some(dir) => match testing::check_snapshot(dir, path, &result, args.accept) {
                    Ok(s) => Some(s),
                    Err(e) => {
                        eprintln!(
                            "swf-iam: cannot write snapshots in `{}`: {e}",
                            dir.display()
                        );
                        return EXIT_USAGE;
                    }
                },
                None => None,
            };
            match snapshot {
                Some(SnapshotStatus::New) => result.failures.push(format!(
                    "no snapshot yet: wrote {}.new (accept with --accept or `cargo insta review`)",
                    testing::snapshot_name(path, &result.name)
                )),
                Some(SnapshotStatus::Changed) => result.failures.push(format!(
                    "explanation differs from snapshot {}: wrote {}.new",
                    testing::snapshot_name(path, &result.name),
                    testing::snapshot_name(path, &result.name)
                )),
                _ => {}
            }
            if result.passed() {
                passed += 1;
            } else {
                failed += 1;
            }
            if args.format == OutputFormat::Text && !out.closed() {
                let stmts: Vec<String> = result
                    .decision
                    .matched_statements
                    .iter()
                    .map(describe_matched)
                    .collect();
                if result.passed() {
                    out.line(&format!(
                        "ok     {}:{} {} ({})",
                        path.display(),
                        result.line,
                        result.name,
                        result.decision.decision.as_str()
                    ));
                } else {
                    out.line(&format!(
                        "FAILED {}:{} {}",
                        path.display(),
                        result.line,
                        result.name
                    ));
                    for f in &result.failures {
                        out.line(&format!("         {f}"));
                    }
                    out.line(&format!(
                        "         deciding statements: {}",
                        if stmts.is_empty() {
                            "none".to_owned()
                        } else {
                            stmts.join(", ")
                        }
                    ));
                    if let Some(m) = &result.decision.message {
                        out.line(&format!("         {m}"));
                    }
                }
            }
            let mut v = serde_json::to_value(&result).unwrap_or_default();
            if let Some(obj) = v.as_object_mut() {
                obj.insert("passed".into(), result.passed().into());
                if let Some(s) = snapshot {
                    obj.insert(
                        "snapshot".into(),
                        serde_json::to_value(s).unwrap_or_default(),
                    );
                }
            }
            cases_json.push(v);
        }
        files_json
            .push(serde_json::json!({"path": path.display().to_string(), "cases": cases_json}));
    }
    if args.coverage && args.format == OutputFormat::Text && !out.closed() {
        out.write(&coverage.text());
    }
    if let Some(path) = &args.coverage_sarif {
        let text = serde_json::to_string_pretty(&coverage.sarif()).unwrap_or_default();
        if let Err(e) = std::fs::write(path, text + "\n") {
            eprintln!("swf-iam: cannot write `{}`: {e}", path.display());
            return EXIT_USAGE;
        }
    }
    let under = args.fail_under.filter(|p| coverage.percent() < *p);
    match args.format {
        // With input errors there is no pass/fail line: the run did not test everything.
        OutputFormat::Text if malformed > 0 => eprintln!(
            "swf-iam: {malformed} case file{} could not be loaded; {passed} case{} of the other files ran without failing and {failed} failed",
            if malformed == 1 { "" } else { "s" },
            if passed == 1 { "" } else { "s" },
        ),
        OutputFormat::Text => out.line(&format!("{passed} passed, {failed} failed")),
        OutputFormat::Json => out.line(
            &serde_json::to_string_pretty(&serde_json::json!({
                "files": files_json,
                "summary": {"passed": passed, "failed": failed, "malformed": malformed > 0},
                "coverage": args.coverage.then(|| coverage.json()),
            }))
            .unwrap_or_default(),
        ),
    }
    out.flush();
    if let Some(p) = under {
        eprintln!(
            "swf-iam: coverage {:.1}% is under --fail-under {p}%",
            coverage.percent()
        );
    }
    if malformed > 0 {
        EXIT_USAGE
    } else if failed > 0 || under.is_some() {
        EXIT_FAIL
    } else {
        EXIT_OK
    }
}
