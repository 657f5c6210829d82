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
    let mut missing = Vec::new();
    let mut out = Out::new();
    let mut json_out = Vec::new();
    for arn in wanted {
        let Some(o) = log.principals.get(arn) else {
            missing.push(arn.clone());
            continue;
        };
        let docs = crate::suggest::suggest(o, args.generalize);
        if docs.len() > 1 {
            eprintln!(
                "swf-iam: {arn}: the suggestion passes one managed policy's 6,144 characters: split into {} policies",
                docs.len()
            );
        }
        match args.format {
            SuggestFormat::Json => json_out.push(serde_json::json!({
                "principal": arn,
                "requests": o.requests,
                "policies": docs,
            })),
            SuggestFormat::Terraform => {
                for (i, d) in docs.iter().enumerate() {
                    let name = if i == 0 {
                        tf_name(arn)
                    } else {
                        format!("{}_{}", tf_name(arn), i + 1)
                    };
                    out.line(&format!("# {arn}: {} requests in the log", o.requests));
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
