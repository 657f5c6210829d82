//! The `swf-iam` binary: parses the command line and dispatches to [`swf_iam::cli`].

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = swf_iam::cli::Cli::parse();
    ExitCode::from(swf_iam::cli::run(cli))
}
