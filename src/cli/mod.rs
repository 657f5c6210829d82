//! The command-line interface: one module per subcommand, each with a clap `Args`
//! struct and a `run` that returns the process exit code.

pub mod analysis;
pub mod check;
pub mod inputs;
pub mod out;
pub mod principals;
pub mod proxy;
pub mod serve;
pub mod suggest;
pub mod test;
pub mod validate;

use clap::{Parser, Subcommand, ValueEnum};

/// Exit code: success (valid, allowed, all passed).
pub const EXIT_OK: u8 = 0;
/// Exit code: the answer is negative (errors found, denied, cases failed).
pub const EXIT_FAIL: u8 = 1;
/// Exit code: usage or input error.
pub const EXIT_USAGE: u8 = 2;
/// Exit code: the analysis could not answer for every request (`diff`, `who-can`): an
/// incomplete answer never passes a gate, and is told apart from "found some".
pub const EXIT_INCOMPLETE: u8 = 3;

/// Loads a configuration, showing each source entry it had to leave out as a warning
/// on standard error (the rest of the file loaded).
pub fn load_config_file(path: &std::path::Path) -> Result<crate::config::Config, String> {
    let config = crate::config::Config::load(path).map_err(|e| e.to_string())?;
    for s in &config.skipped {
        eprintln!("swf-iam: warning: {s}");
    }
    Ok(config)
}

/// swf-iam: decide, as AWS IAM would, whether a caller may perform an Amazon SWF action.
#[derive(Debug, Parser)]
#[command(name = "swf-iam", version, about, long_about = None)]
pub struct Cli {
    /// The subcommand.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Validate IAM policy documents as IAM's CreatePolicy would, plus swf-iam's own checks.
    Validate(validate::Args),
    /// Decide, as IAM would, whether a principal may perform an action, and explain why.
    Check(Box<check::Args>),
    /// Run permission case files (expected decisions), optionally against snapshots.
    Test(test::Args),
    /// Run the embedded SWF emulator behind the gate on a local port.
    Serve(serve::Args),
    /// Put the gate in front of another SWF endpoint (moto's server, LocalStack).
    Proxy(proxy::Args),
    /// Where each principal may perform each SWF action, over every possible request.
    Access(analysis::AccessArgs),
    /// Which principals may perform an action on a domain, and under which conditions.
    WhoCan(analysis::WhoCanArgs),
    /// What a configuration change widens or narrows, each change with a witness request.
    Diff(analysis::DiffArgs),
    /// List the principals a configuration defines and imports, and what is unresolved.
    Principals(principals::Args),
    /// The smallest identity policy that allows what each principal did, from a decision log.
    Suggest(suggest::Args),
}

/// Output formats of `validate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Human-readable text.
    Text,
    /// JSON.
    Json,
    /// SARIF 2.1.0.
    Sarif,
}

/// Output formats of `check` and `test`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Human-readable text.
    Text,
    /// JSON.
    Json,
}

/// The configuration file used when `--config` is not given: `$SWF_IAM_CONFIG`, else
/// `policies/swf-iam.json` (relative to the working directory).
pub fn default_config() -> std::path::PathBuf {
    match std::env::var_os("SWF_IAM_CONFIG") {
        Some(p) if !p.is_empty() => p.into(),
        _ => DEFAULT_CONFIG.into(),
    }
}

/// The default configuration path, relative to the working directory.
pub const DEFAULT_CONFIG: &str = "policies/swf-iam.json";

/// Why there is no configuration to load: what was looked for and how to give one.
pub fn missing_config(path: &std::path::Path) -> String {
    format!(
        "the configuration `{}` does not exist here: give --config FILE, set SWF_IAM_CONFIG, or run from a directory with {DEFAULT_CONFIG}",
        path.display()
    )
}

/// Why `--principal ARN` names nobody: not an ARN at all, or not in the configuration.
pub fn principal_not_found(arn: &str, config: &std::path::Path) -> String {
    if crate::eval::Principal::from_arn(arn, "swf-iam", None).is_err() {
        format!(
            "principal `{arn}` is not an ARN: give one such as arn:aws:iam::123456789012:role/NAME"
        )
    } else {
        format!("principal `{arn}` is not in `{}`", config.display())
    }
}

/// Runs the parsed command line and returns the exit code.
pub fn run(cli: Cli) -> u8 {
    match cli.command {
        Command::Validate(args) => validate::run(&args),
        Command::Check(args) => check::run(&args),
        Command::Test(args) => test::run(&args),
        Command::Serve(args) => serve::run(&args),
        Command::Proxy(args) => proxy::run(&args),
        Command::Access(args) => analysis::run_access(&args),
        Command::WhoCan(args) => analysis::run_who_can(&args),
        Command::Diff(args) => analysis::run_diff(&args),
        Command::Principals(args) => principals::run(&args),
        Command::Suggest(args) => suggest::run(&args),
    }
}
