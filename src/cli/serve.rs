//! `swf-iam serve`: the embedded SWF emulator behind the gate, on a local port.

use super::{EXIT_OK, EXIT_USAGE};
use crate::config::Config;
use crate::emulator::{Emulator, SystemClock};
use crate::gate::ops::{init_logging, reload_on_change, reload_on_sighup, DecisionLog};
use crate::gate::GateLayer;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tower::Layer;

/// The default listen address of `serve` (and the port in the README's examples).
pub const DEFAULT_LISTEN: &str = "127.0.0.1:4599";

/// Arguments of `swf-iam serve`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Configuration file.
    #[arg(long, default_value = "policies/swf-iam.json")]
    pub config: PathBuf,
    /// Address to listen on (port 0 picks a free port; the banner shows it).
    #[arg(long, default_value = DEFAULT_LISTEN)]
    pub listen: SocketAddr,
    /// Longest wait of PollForDecisionTask/PollForActivityTask, in seconds (SWF: 60).
    #[arg(long, default_value_t = 60)]
    pub poll_timeout: u64,
    /// Where the decision log goes: `-` (standard error), a file, or `off`.
    #[arg(long, default_value = "-")]
    pub decision_log: String,
    /// Also reload when the configuration or a policy file changes (checked every 2 s).
    #[arg(long)]
    pub watch: bool,
}

/// The decision-log destination named by `--decision-log`.
pub fn decision_log(arg: &str) -> DecisionLog {
    match arg {
        "-" => DecisionLog::Stderr,
        "off" => DecisionLog::Off,
        path => DecisionLog::File(PathBuf::from(path)),
    }
}

/// Prints where the endpoint is and a ready-to-paste example.
pub fn banner(
    what: &str,
    addr: SocketAddr,
    config_path: &std::path::Path,
    config: &Config,
    log: &DecisionLog,
) {
    println!(
        "swf-iam {what}: SWF endpoint on http://{addr} (region {}, account {})",
        config.region, config.account
    );
    println!(
        "configuration: {} ({} principal{}); reload with SIGHUP",
        config_path.display(),
        config.principals.len(),
        if config.principals.len() == 1 {
            ""
        } else {
            "s"
        }
    );
    match log {
        DecisionLog::Stderr => println!("decision log: standard error, one JSON line per request"),
        DecisionLog::File(p) => println!("decision log: {}", p.display()),
        DecisionLog::Off => println!("decision log: off"),
    }
    if let Some(p) = config.principals.iter().find(|p| !p.access_keys.is_empty()) {
        let k = &p.access_keys[0];
        println!();
        println!("Try it as {}:", p.principal.arn);
        println!(
            "  export AWS_ACCESS_KEY_ID={} AWS_SECRET_ACCESS_KEY={} AWS_DEFAULT_REGION={}",
            k.access_key_id,
            k.secret_access_key.expose(),
            config.region
        );
        println!("  aws swf record-activity-task-heartbeat --task-token TOKEN --details 50% --endpoint-url http://{addr}");
    }
}

/// Waits for Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate());
        match term {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Runs `serve` until Ctrl-C or SIGTERM: 0 after a clean shutdown, 2 on a usage error.
pub fn run(args: &Args) -> u8 {
    let log = decision_log(&args.decision_log);
    if let Err(e) = init_logging(&log) {
        eprintln!("swf-iam: cannot open the decision log: {e}");
        return EXIT_USAGE;
    }
    let config = match Config::load(&args.config) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("swf-iam: {e}");
            return EXIT_USAGE;
        }
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("swf-iam: cannot start the runtime: {e}");
            return EXIT_USAGE;
        }
    };
    rt.block_on(async {
        let listener = match tokio::net::TcpListener::bind(args.listen).await {
            Ok(l) => l,
            Err(e) => {
                eprintln!("swf-iam: cannot listen on {}: {e}", args.listen);
                return EXIT_USAGE;
            }
        };
        let addr = listener.local_addr().unwrap_or(args.listen);
        let emulator = Emulator::new(
            &config.partition,
            &config.region,
            &config.account,
            Arc::new(SystemClock),
            Duration::from_secs(args.poll_timeout),
        );
        banner("serve", addr, &args.config, &config, &log);
        let layer = GateLayer::new(config, emulator.clone());
        #[cfg(unix)]
        if let Err(e) = reload_on_sighup(layer.handle(), args.config.clone()) {
            eprintln!("swf-iam: cannot install the SIGHUP handler: {e}");
        }
        if args.watch {
            reload_on_change(layer.handle(), args.config.clone(), Duration::from_secs(2));
        }
        let svc = layer.layer(emulator.service());
        crate::server::serve(listener, svc, shutdown_signal(), Duration::from_secs(5)).await;
        eprintln!("swf-iam: shut down");
        EXIT_OK
    })
}
