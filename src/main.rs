//! The `swf-iam` binary: parses the command line and dispatches to [`swf_iam::cli`].

use clap::Parser;
use std::process::ExitCode;

/// mimalloc: the request paths (`check --requests`, the servers) allocate per request on
/// every core, where it is markedly faster than the system allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = swf_iam::cli::Cli::parse();
    ExitCode::from(swf_iam::cli::run(cli))
}
