//! `swf-iam proxy`: the gate in front of another SWF endpoint.

use super::serve::{
    decision_log, listen_addr, load_config, run_gated, ConnectionArgs, GatedServer, RegisterFn,
    ResetEndpoint, ResetFn,
};
use super::EXIT_USAGE;
use crate::config::Secret;
use crate::gate::ops::init_logging;
use crate::proxy::{ProxyOptions, ProxyResolver, ProxyService, TokenBook};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Arguments of `swf-iam proxy`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The SWF endpoint to protect, e.g. http://127.0.0.1:5000 (moto's server).
    #[arg(long)]
    pub upstream: http::Uri,
    /// Configuration file [default: $SWF_IAM_CONFIG, else policies/swf-iam.json].
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Address to listen on, HOST:PORT (port 0 picks a free port; the banner shows it).
    #[arg(long, default_value = "127.0.0.1:4600")]
    pub listen: String,
    /// Seconds to wait for the upstream before answering ServiceUnavailableException.
    #[arg(long, default_value_t = 70)]
    pub upstream_timeout: u64,
    /// Wrap task tokens in envelopes signed with the key in this file (shared by every
    /// replica, so that any of them can resolve any token).
    #[arg(long)]
    pub envelope_key_file: Option<PathBuf>,
    /// Seconds a learned task token stays known.
    #[arg(long, default_value_t = 86_400)]
    pub token_ttl: u64,
    /// How many learned task tokens are kept.
    #[arg(long, default_value_t = 100_000)]
    pub max_tokens: usize,
    /// Seconds learned domain tags are trusted before the upstream is asked again (for
    /// callers whose policies read aws:ResourceTag).
    #[arg(long, default_value_t = 5.0, value_name = "SECS")]
    pub tag_ttl: f64,
    /// Refuse a whole RespondDecisionTaskCompleted that has a denied decision (default:
    /// remove the denied decisions and forward the rest).
    #[arg(long)]
    pub strict_decisions: bool,
    /// Where the decision log goes: `-` (standard error), a file, or `off`.
    #[arg(long, default_value = "-")]
    pub decision_log: String,
    /// Also reload when the configuration or a policy file changes (checked every 2 s).
    #[arg(long)]
    pub watch: bool,
    /// Connection bounds (upstream requests in flight are bounded by the same limit).
    #[command(flatten)]
    pub connections: ConnectionArgs,
    /// `POST /moto-api/reset` and `POST /swf-iam/reset` reset the upstream (its
    /// `/moto-api/reset`) and clear the token book, unsigned as in moto: `auto` enables
    /// them on a loopback listener only.
    #[arg(long, value_enum, default_value = "auto")]
    pub reset_endpoint: ResetEndpoint,
    /// Whether IAM's denials stop requests (`strict`), only show in the decision log
    /// (`soft`, observe mode: denied ones are forwarded), or neither (`off`).
    #[arg(long, value_enum, default_value = "strict")]
    pub enforce: super::serve::EnforceMode,
}

/// Runs `proxy` until Ctrl-C or SIGTERM: 0 after a clean shutdown, 2 on a usage error.
pub fn run(args: &Args) -> u8 {
    let listen = match listen_addr(&args.listen) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("swf-iam: {e}");
            return EXIT_USAGE;
        }
    };
    if args.upstream.scheme_str() != Some("http") || args.upstream.authority().is_none() {
        eprintln!(
            "swf-iam: --upstream must be an http:// URL with a host, not `{}`",
            args.upstream
        );
        return EXIT_USAGE;
    }
    let (config_path, config) = match load_config(args.config.as_ref()) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("swf-iam: {e}");
            return EXIT_USAGE;
        }
    };
    let log = decision_log(&args.decision_log);
    if let Err(e) = init_logging(&log) {
        eprintln!("swf-iam: cannot open the decision log: {e}");
        return EXIT_USAGE;
    }
    let key = match &args.envelope_key_file {
        Some(p) => match std::fs::read_to_string(p) {
            Ok(k) if k.trim().len() >= 16 => Some(Secret::new(k.trim())),
            Ok(_) => {
                eprintln!(
                    "swf-iam: the envelope key in `{}` must have at least 16 characters",
                    p.display()
                );
                return EXIT_USAGE;
            }
            Err(e) => {
                eprintln!("swf-iam: cannot read `{}`: {e}", p.display());
                return EXIT_USAGE;
            }
        },
        None => None,
    };
    let mut opts = ProxyOptions::new(args.upstream.clone());
    opts.timeout = Duration::from_secs(args.upstream_timeout.max(1));
    opts.token_ttl = Duration::from_secs(args.token_ttl);
    opts.max_tokens = args.max_tokens;
    opts.envelope_key = key;
    opts.strict_decisions = args.strict_decisions;
    // Each client connection may hold one upstream connection: two descriptors each.
    let limits = args.connections.limits(2);
    opts.max_upstream = limits.max_connections;
    if !(args.tag_ttl.is_finite() && (0.0..=86_400.0).contains(&args.tag_ttl)) {
        eprintln!(
            "swf-iam: --tag-ttl {} is not a number of seconds in [0, 86400]",
            args.tag_ttl
        );
        return EXIT_USAGE;
    }
    opts.tag_ttl = Duration::from_secs_f64(args.tag_ttl);
    let book = Arc::new(TokenBook::new(&opts));
    let service = ProxyService::new(opts, book);
    let resolver = Arc::new(ProxyResolver(service.clone()));
    let resetter = service.clone();
    let reset: Option<ResetFn> = args.reset_endpoint.enabled(listen).then(|| {
        let f: ResetFn = Arc::new(move |config| {
            let s = resetter.clone();
            let config = config.clone();
            Box::pin(async move {
                s.reset_upstream().await?;
                // As `serve` does: what the configuration registers is there again.
                s.register_upstream(&config).await.map(|_| ())
            })
        });
        f
    });
    let registrar = service.clone();
    let register: RegisterFn = Box::new(move |config| {
        let config = config.clone();
        Box::pin(async move { registrar.register_upstream(&config).await })
    });
    let server = GatedServer {
        what: format!("proxy to {}", args.upstream),
        listen,
        config_path: &config_path,
        log: &log,
        watch: args.watch,
        on_shutdown: None,
        reset,
        clock: None,
        limits,
        gate: crate::gate::GateOptions {
            enforce: args.enforce.gate(),
            ..args.connections.gate_options()
        },
        register,
        banner_lines: Vec::new(),
        ui: None,
    };
    run_gated(server, config, resolver, service)
}
