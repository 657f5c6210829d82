//! swf-iam's integration tests: one binary, one module per area.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly on the first unexpected value"
)]

#[path = "../common/swfkit.rs"]
mod swfkit;

#[path = "../common/gatekit.rs"]
mod gatekit;

mod analysis_props;
mod aws_cli;
mod boto3;
mod cli_analysis;
mod cli_check;
mod cli_first_hour;
mod cli_test;
mod cli_validate;
mod clock;
mod crosscheck;
mod domain_resources;
mod durable;
mod emulator_rules;
mod emulator_sdk;
mod enforce;
mod eval_cases;
mod eval_props;
mod eval_spec;
mod gate;
mod gate_sdk;
mod hostile;
mod hostile_sources;
mod parse_props;
mod proxy_attacks;
mod proxy_moto;
mod role_sessions;
mod simpleflow;
mod sources;
mod suggest;
mod ui;
mod validate_cases;
