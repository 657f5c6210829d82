//! `swf-iam serve`: the embedded SWF emulator behind the gate, on a local port.

use super::{default_config, missing_config, EXIT_OK, EXIT_USAGE};
use crate::config::Config;
use crate::emulator::{Clock, ControlClock, Emulator, SystemClock};
use crate::gate::ops::{init_logging_with, reload_on_change, reload_on_sighup, DecisionLog};
use crate::gate::{GateLayer, GateOptions};
use crate::server::{default_max_connections, Limits};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tower::Layer;

/// How many decision-log entries the web UI keeps in memory (the oldest go first).
pub const UI_RECENT_DECISIONS: usize = 10_000;

/// The default listen address of `serve` (and the port in the README's examples).
pub const DEFAULT_LISTEN: &str = "127.0.0.1:4599";

/// Arguments of `swf-iam serve`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Configuration file [default: $SWF_IAM_CONFIG, else policies/swf-iam.json].
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Address to listen on, HOST:PORT (`localhost:4599` works; port 0 picks a free
    /// port; the banner shows it).
    #[arg(long, default_value = DEFAULT_LISTEN)]
    pub listen: String,
    /// Longest wait of PollForDecisionTask/PollForActivityTask, in seconds (SWF: 60).
    #[arg(long, default_value_t = 60)]
    pub poll_timeout: u64,
    /// Where the decision log goes: `-` (standard error), a file, or `off`.
    #[arg(long, default_value = "-")]
    pub decision_log: String,
    /// Also reload when the configuration or a policy file changes (checked every 2 s).
    #[arg(long)]
    pub watch: bool,
    /// Connection bounds.
    #[command(flatten)]
    pub connections: ConnectionArgs,
    /// `POST /moto-api/reset` and `POST /swf-iam/reset` clear the emulator (then apply
    /// the configuration's `register` again), unsigned as in moto: `auto` enables them
    /// on a loopback listener only.
    #[arg(long, value_enum, default_value = "auto")]
    pub reset_endpoint: ResetEndpoint,
    /// The emulator's clock: `real` follows the system clock, `frozen` stands still at the
    /// start time; both move forward with `POST /swf-iam/clock` `{"advance": SECONDS}` or
    /// `{"set": "ISO-8601"}` (served where the reset paths are), firing timeouts and
    /// timers as they fall due. `aws:CurrentTime` follows it.
    #[arg(long, value_enum, default_value = "real")]
    pub clock: ClockMode,
    /// Whether IAM's denials stop requests: `strict` refuses them; `soft` (observe mode)
    /// decides and logs every request and decision but lets denied ones proceed, each log
    /// line saying so; `off` neither enforces nor logs IAM. The banner says which.
    #[arg(long, value_enum, default_value = "strict")]
    pub enforce: EnforceMode,
    /// Keep the emulator's whole state in this SQLite file (created if missing): every
    /// change is written before its answer is sent, and a restart on the same file
    /// carries on where the last run stopped [default: in memory].
    #[arg(long, value_name = "FILE")]
    pub db: Option<PathBuf>,
    /// The web UI at /ui (executions, histories, access decisions, principals): `auto`
    /// serves it on a loopback listener only, as the reset endpoint.
    #[arg(long, value_enum, default_value = "auto")]
    pub ui: ResetEndpoint,
}

/// `--enforce` of `serve` and `proxy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum EnforceMode {
    /// Denied requests and decisions are refused, as AWS refuses them.
    Strict,
    /// Observe mode: decided and logged, denied ones proceed.
    Soft,
    /// Not enforced, not logged.
    Off,
}

impl EnforceMode {
    /// The gate's setting.
    pub fn gate(self) -> crate::gate::Enforce {
        match self {
            EnforceMode::Strict => crate::gate::Enforce::Strict,
            EnforceMode::Soft => crate::gate::Enforce::Soft,
            EnforceMode::Off => crate::gate::Enforce::Off,
        }
    }
}

/// How the emulator's clock runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ClockMode {
    /// With the system clock (plus whatever it has been moved forward).
    Real,
    /// Standing still at the start time, until moved.
    Frozen,
}

/// Whether the reset paths are served.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ResetEndpoint {
    /// On for a loopback listener (127.0.0.0/8, ::1), off otherwise.
    Auto,
    /// On, whatever the listener (anyone who reaches it can clear the state).
    On,
    /// Off.
    Off,
}

impl ResetEndpoint {
    /// Whether a listener on `addr` serves the reset paths.
    pub fn enabled(self, addr: SocketAddr) -> bool {
        match self {
            ResetEndpoint::Auto => addr.ip().is_loopback(),
            ResetEndpoint::On => true,
            ResetEndpoint::Off => false,
        }
    }
}

/// What a reset does, given the configuration in force.
pub type ResetFn = Arc<dyn Fn(&Config) -> crate::server::ResetFuture + Send + Sync>;

/// The bounds of every client connection, shared by `serve` and `proxy`.
#[derive(Debug, Clone, clap::Args)]
pub struct ConnectionArgs {
    /// Seconds to receive a request head, counted from accept for a connection's first
    /// request (a socket that sends nothing is closed too).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    pub header_timeout: u64,
    /// Seconds the whole request body may take after its head (408 after that).
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..))]
    pub body_timeout: u64,
    /// Seconds a keep-alive connection may stay idle between requests.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..))]
    pub idle_timeout: u64,
    /// Most client connections open at once; more are answered 503 and closed at once
    /// [default: 1024, less when the descriptor limit (ulimit -n) needs it]
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_connections: Option<u64>,
    /// Largest request body, in bytes.
    #[arg(long, default_value_t = 1 << 20, value_parser = clap::value_parser!(u64).range(1..=(64 << 20)))]
    pub max_body: u64,
    /// Most bytes all request bodies may hold together while read and served; past it a
    /// request is answered ThrottlingException at once (SDKs retry it).
    #[arg(long, default_value_t = 64 << 20, value_parser = clap::value_parser!(u64).range(1..=(1 << 34)))]
    pub max_body_total: u64,
    /// Close every connection after its response (`Connection: close`), as moto's server
    /// does: for clients whose forked processes share pooled connections (simpleflow).
    #[arg(long)]
    pub no_keep_alive: bool,
}

impl ConnectionArgs {
    /// The server limits; `descriptors_per_connection` sizes the default connection limit.
    pub fn limits(&self, descriptors_per_connection: u64) -> Limits {
        Limits {
            header_timeout: Duration::from_secs(self.header_timeout),
            idle_timeout: Duration::from_secs(self.idle_timeout),
            max_connections: self
                .max_connections
                .and_then(|n| usize::try_from(n).ok())
                .unwrap_or_else(|| default_max_connections(descriptors_per_connection)),
            keep_alive: !self.no_keep_alive,
        }
    }

    /// The gate's options (body size and deadline; the system clock).
    pub fn gate_options(&self) -> GateOptions {
        GateOptions {
            max_body: usize::try_from(self.max_body).unwrap_or(1 << 20),
            body_timeout: Duration::from_secs(self.body_timeout),
            max_body_total: usize::try_from(self.max_body_total).unwrap_or(64 << 20),
            ..GateOptions::default()
        }
    }
}

/// The decision-log destination named by `--decision-log`.
pub fn decision_log(arg: &str) -> DecisionLog {
    match arg {
        "-" => DecisionLog::Stderr,
        "off" => DecisionLog::Off,
        path => DecisionLog::File(PathBuf::from(path)),
    }
}

/// Prints where the endpoint is and a ready-to-paste example. A closed standard output
/// is not an error: the server keeps running.
pub fn banner(
    what: &str,
    addr: SocketAddr,
    config_path: &std::path::Path,
    config: &Config,
    log: &DecisionLog,
    registered: &[String],
) {
    use std::io::Write;
    let mut text = format!(
        "swf-iam {what}: SWF endpoint on http://{addr} (region {}, account {})\n",
        config.region, config.account
    );
    text.push_str(&format!(
        "configuration: {} ({} principal{}); reload with SIGHUP\n",
        config_path.display(),
        config.principals.len(),
        if config.principals.len() == 1 {
            ""
        } else {
            "s"
        }
    ));
    text.push_str(&match log {
        DecisionLog::Stderr => {
            "decision log: standard error, one JSON line per request\n".to_owned()
        }
        DecisionLog::File(p) => format!("decision log: {}\n", p.display()),
        DecisionLog::Off => "decision log: off\n".to_owned(),
    });
    if let Some(p) = config.principals.iter().find(|p| !p.access_keys.is_empty()) {
        let k = &p.access_keys[0];
        text.push_str(&format!("\nTry it as {}:\n", p.principal.arn));
        text.push_str(&format!(
            "  export AWS_ACCESS_KEY_ID={} AWS_SECRET_ACCESS_KEY={} AWS_DEFAULT_REGION={}\n",
            k.access_key_id,
            k.secret_access_key.expose(),
            config.region
        ));
        text.push_str(&format!(
            "  aws swf record-activity-task-heartbeat --task-token TOKEN --details 50% --endpoint-url http://{addr}\n"
        ));
        // The walkthrough needs what the shipped configuration registers.
        let has = |what: &str| registered.iter().any(|r| r.starts_with(what));
        if has("domain orders") && has("activity type hb") && has("workflow type wf") {
            text.push_str(&format!(
                "From nothing to an allowed and a denied heartbeat: examples/first-heartbeat.sh http://{addr}\n"
            ));
        }
    }
    if !registered.is_empty() {
        text.push_str(&format!(
            "registered at start: {} (configuration `register`)\n",
            registered.join(", ")
        ));
    }
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

/// Installs the Ctrl-C and SIGTERM handlers now, and returns a future that completes
/// when either signal arrives (so that a signal sent right after the banner is caught).
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    let ctrl_c = tokio::signal::ctrl_c();
    async move {
        #[cfg(unix)]
        if let Some(mut term) = term {
            tokio::select! {
                _ = ctrl_c => {}
                _ = term.recv() => {}
            }
            return;
        }
        let _ = ctrl_c.await;
    }
}

/// Where and how a gated server runs.
pub struct GatedServer<'a> {
    /// The banner's name for it (`serve`, `proxy to URL`).
    pub what: String,
    /// Listen address.
    pub listen: SocketAddr,
    /// The configuration file (for reloads).
    pub config_path: &'a std::path::Path,
    /// The decision log.
    pub log: &'a DecisionLog,
    /// Reload when files change.
    pub watch: bool,
    /// Called once when shutdown begins (before open connections are drained).
    pub on_shutdown: Option<Box<dyn FnOnce() + Send>>,
    /// What the reset paths do, when they are served.
    pub reset: Option<ResetFn>,
    /// What the clock path does, when it is served (`serve` only).
    pub clock: Option<crate::server::ClockHook>,
    /// Connection bounds.
    pub limits: Limits,
    /// The gate's options.
    pub gate: GateOptions,
    /// Applies the configuration's `register` before serving, and says what it did (one
    /// entry a registration: `domain orders`, `domain orders (already there)`); an error
    /// stops the server (exit 2).
    pub register: RegisterFn,
    /// More banner lines, after the `enforce:` line (`state: ...`).
    pub banner_lines: Vec<String>,
    /// Builds the web UI's hook from the gate's handle, when the UI is served.
    pub ui: Option<UiFn>,
}

/// What builds the web UI's hook from the gate's handle.
pub type UiFn = Box<dyn FnOnce(crate::gate::GateHandle) -> crate::server::UiHook + Send>;

/// What applies a configuration's `register` at start.
pub type RegisterFn = Box<
    dyn FnOnce(
            &Config,
        ) -> std::pin::Pin<
            Box<dyn std::future::Future<Output = Result<Vec<String>, String>> + Send>,
        > + Send,
>;

/// Runs the gate in front of `inner` until Ctrl-C or SIGTERM: binds, installs the
/// signal handlers (shutdown and SIGHUP reload) before printing the banner, serves.
/// Returns 0 after a clean shutdown, 2 when it cannot start.
pub fn run_gated<T>(
    s: GatedServer<'_>,
    config: Config,
    resolver: Arc<dyn crate::gate::TaskTokenResolver>,
    inner: T,
) -> u8
where
    T: tower::Service<
            http::Request<http_body_util::Full<bytes::Bytes>>,
            Response = http::Response<http_body_util::Full<bytes::Bytes>>,
            Error = std::convert::Infallible,
        > + Clone
        + Send
        + 'static,
    T::Future: Send + 'static,
{
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
        let listener = match tokio::net::TcpListener::bind(s.listen).await {
            Ok(l) => l,
            Err(e) => {
                eprintln!("swf-iam: cannot listen on {}: {e}", s.listen);
                return EXIT_USAGE;
            }
        };
        let addr = listener.local_addr().unwrap_or(s.listen);
        let signal = shutdown_signal();
        let hook = s.on_shutdown;
        let shutdown = async move {
            signal.await;
            tracing::info!(target: "swf_iam::server", "shutting down");
            if let Some(f) = hook {
                f();
            }
        };
        let layer = GateLayer::with_options(config.clone(), resolver, s.gate.clone());
        #[cfg(unix)]
        if let Err(e) = reload_on_sighup(layer.handle(), s.config_path.to_path_buf()) {
            eprintln!("swf-iam: cannot install the SIGHUP handler: {e}");
        }
        if s.watch {
            reload_on_change(
                layer.handle(),
                s.config_path.to_path_buf(),
                Duration::from_secs(2),
            );
        }
        let registered = match (s.register)(&config).await {
            Ok(r) => r,
            Err(e) => {
                eprintln!("swf-iam: {e}");
                return EXIT_USAGE;
            }
        };
        banner(&s.what, addr, s.config_path, &config, s.log, &registered);
        {
            let line = match s.gate.enforce {
                crate::gate::Enforce::Strict => "enforce: strict (denied requests are refused)\n",
                crate::gate::Enforce::Soft => "enforce: SOFT: denied requests PROCEED; the decision log says what would have been denied\n",
                crate::gate::Enforce::Off => "enforce: OFF: IAM is neither enforced nor logged\n",
            };
            let mut out = std::io::stdout().lock();
            let _ = std::io::Write::write_all(&mut out, line.as_bytes());
            for l in &s.banner_lines {
                let _ = std::io::Write::write_all(&mut out, format!("{l}\n").as_bytes());
            }
            let _ = std::io::Write::flush(&mut out);
        }
        let hook: Option<crate::server::ResetHook> = s.reset.map(|f| {
            let handle = layer.handle();
            let hook: crate::server::ResetHook = Arc::new(move || {
                // Sessions STS issued are state too: a reset forgets them.
                handle.options().sessions.clear();
                let run = f(&handle.config());
                Box::pin(async move {
                    let r = run.await;
                    tracing::info!(target: "swf_iam::server", ok = r.is_ok(), "reset");
                    r
                })
            });
            hook
        });
        if hook.is_some() {
            let mut out = std::io::stdout().lock();
            let _ = std::io::Write::write_all(
                &mut out,
                format!("reset: POST http://{addr}/moto-api/reset (or /swf-iam/reset)\n")
                    .as_bytes(),
            );
            if s.clock.is_some() {
                let _ = std::io::Write::write_all(
                    &mut out,
                    format!(
                        "clock: GET http://{addr}{path}; move it with POST {{\"advance\": SECONDS}}\n",
                        path = crate::server::CLOCK_PATH
                    )
                    .as_bytes(),
                );
            }
            let _ = std::io::Write::flush(&mut out);
        }
        let ui = s.ui.map(|f| {
            let mut out = std::io::stdout().lock();
            let _ = std::io::Write::write_all(
                &mut out,
                format!("ui: http://{addr}/ui\n").as_bytes(),
            );
            let _ = std::io::Write::flush(&mut out);
            f(layer.handle())
        });
        // STS answers requests signed for `sts`; the gate takes the rest.
        let svc = crate::sts::StsLayer::new(layer.handle()).layer(layer.layer(inner));
        crate::server::serve_full(
            listener,
            svc,
            shutdown,
            Duration::from_secs(5),
            s.limits,
            crate::server::Controls {
                reset: hook,
                clock: s.clock,
                ui,
            },
        )
        .await;
        tracing::info!(target: "swf_iam::server", "shut down");
        EXIT_OK
    })
}

/// Moves `clock` as a clock request asks: `{"advance": SECONDS}` or `{"set": "ISO-8601"}`
/// (or epoch seconds); the new time.
fn move_clock(clock: &ControlClock, v: &serde_json::Value) -> Result<f64, String> {
    let obj = v
        .as_object()
        .filter(|o| o.len() == 1)
        .ok_or("give one of {\"advance\": SECONDS} or {\"set\": \"ISO-8601\"}")?;
    match (obj.get("advance"), obj.get("set")) {
        (Some(a), None) => {
            let secs = a.as_f64().ok_or("`advance` is a number of seconds")?;
            clock.advance(secs)
        }
        (None, Some(s)) => {
            let at = match s {
                serde_json::Value::String(t) => crate::values::parse_instant(t)
                    .map(|i| i.secs as f64)
                    .ok_or_else(|| {
                        format!("`{t}` is not a time: give ISO 8601 or epoch seconds")
                    })?,
                serde_json::Value::Number(n) => n.as_f64().ok_or("`set` is a time")?,
                _ => return Err("`set` is a time: ISO 8601 or epoch seconds".into()),
            };
            clock.set(at)
        }
        _ => Err("give one of {\"advance\": SECONDS} or {\"set\": \"ISO-8601\"}".into()),
    }
}

/// Resolves `--listen`: `HOST:PORT` (a name such as `localhost`, or an address; an IPv6
/// address in brackets), to the first address it resolves to.
pub fn listen_addr(text: &str) -> Result<SocketAddr, String> {
    use std::net::ToSocketAddrs;
    text.to_socket_addrs()
        .map_err(|e| format!("--listen `{text}`: {e} (give HOST:PORT, e.g. 127.0.0.1:4599)"))?
        .next()
        .ok_or_else(|| format!("--listen `{text}` resolves to no address"))
}

/// Loads the configuration for `serve`/`proxy`: `--config`, else the default one, with
/// the same message as `check` when there is none.
pub fn load_config(given: Option<&PathBuf>) -> Result<(PathBuf, Config), String> {
    let path = given.cloned().unwrap_or_else(default_config);
    if given.is_none() && !path.exists() {
        return Err(missing_config(&path));
    }
    let config = super::load_config_file(&path)?;
    Ok((path, config))
}

/// Runs `serve` until Ctrl-C or SIGTERM: 0 after a clean shutdown, 2 on a usage error.
pub fn run(args: &Args) -> u8 {
    let listen = match listen_addr(&args.listen) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("swf-iam: {e}");
            return EXIT_USAGE;
        }
    };
    let (config_path, config) = match load_config(args.config.as_ref()) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("swf-iam: {e}");
            return EXIT_USAGE;
        }
    };
    let log = decision_log(&args.decision_log);
    let recent = args
        .ui
        .enabled(listen)
        .then(|| crate::gate::ops::RecentDecisions::new(UI_RECENT_DECISIONS));
    if let Err(e) = init_logging_with(&log, recent.clone()) {
        eprintln!("swf-iam: cannot open the decision log: {e}");
        return EXIT_USAGE;
    }
    let clock = Arc::new(match args.clock {
        ClockMode::Real => ControlClock::running(),
        ClockMode::Frozen => ControlClock::frozen(SystemClock.now().floor()),
    });
    let emulator = Emulator::new(
        &config.partition,
        &config.region,
        &config.account,
        clock.clone(),
        Duration::from_secs(args.poll_timeout),
    );
    let state_line = match &args.db {
        None => "state: in memory (lost when the server stops; --db FILE keeps it)".to_owned(),
        Some(path) => {
            let opened = std::time::Instant::now();
            let store = match crate::store::sqlite::SqliteStore::open(path) {
                Ok(s) => Arc::new(s),
                Err(e) => {
                    eprintln!("swf-iam: --db {e}");
                    return EXIT_USAGE;
                }
            };
            match emulator.attach_store(store.clone()) {
                Ok(r) => format!(
                    "state: {} ({} domain{}, {} execution{}, {} history events restored in {} ms{})",
                    crate::store::Store::describe(&*store),
                    r.domains,
                    if r.domains == 1 { "" } else { "s" },
                    r.executions,
                    if r.executions == 1 { "" } else { "s" },
                    r.events,
                    opened.elapsed().as_millis(),
                    if r.fired {
                        "; deadlines passed meanwhile fired"
                    } else {
                        ""
                    }
                ),
                Err(e) => {
                    eprintln!("swf-iam: --db {}: {e}", path.display());
                    return EXIT_USAGE;
                }
            }
        }
    };
    let registrar = emulator.clone();
    let register: RegisterFn = Box::new(move |config: &Config| {
        let mut done = Vec::new();
        for r in &config.registrations {
            match registrar.register(&config.region, r.operation, &r.body) {
                Ok(()) => done.push(r.describe()),
                // A restart on a database file finds its registrations there.
                Err(crate::swf::wire::WireError::Fault(
                    crate::swf::wire::Fault::DomainAlreadyExistsFault
                    | crate::swf::wire::Fault::TypeAlreadyExistsFault,
                    _,
                )) => done.push(format!("{} (already there)", r.describe())),
                Err(e) => {
                    let mut at = r.at.clone();
                    at.message = format!("{} failed: {}", r.operation, e);
                    return Box::pin(std::future::ready(Err(at.to_string())));
                }
            }
        }
        Box::pin(std::future::ready(Ok(done)))
    });
    let closer = emulator.clone();
    let resetter = emulator.clone();
    let reset: Option<ResetFn> = args.reset_endpoint.enabled(listen).then(|| {
        let f: ResetFn = Arc::new(move |config: &Config| {
            resetter.reset();
            let mut result = Ok(());
            for r in &config.registrations {
                if let Err(e) = resetter.register(&config.region, r.operation, &r.body) {
                    result = Err(format!("{}: {} failed: {e}", r.at, r.operation));
                    break;
                }
            }
            Box::pin(std::future::ready(result))
        });
        f
    });
    let ticker = emulator.clone();
    let moved = clock.clone();
    let clock_hook: Option<crate::server::ClockHook> =
        args.reset_endpoint.enabled(listen).then(|| {
            let f: crate::server::ClockHook = Arc::new(move |input| {
                let now = match input {
                    None => moved.now(),
                    Some(v) => {
                        let now = move_clock(&moved, &v)?;
                        // What fell due fires now, each at its deadline.
                        ticker.tick();
                        tracing::info!(target: "swf_iam::server", now = %crate::values::format_iso8601(now as i64), "clock moved");
                        now
                    }
                };
                Ok(serde_json::json!({
                    "now": crate::values::format_iso8601(now as i64),
                    "epochSeconds": now,
                    "frozen": moved.is_frozen(),
                }))
            });
            f
        });
    let keys = clock.clone();
    let mut gate = args.connections.gate_options();
    gate.key_clock = Some(Arc::new(move || keys.now() as i64));
    gate.enforce = args.enforce.gate();
    let server = GatedServer {
        what: "serve".into(),
        listen,
        config_path: &config_path,
        log: &log,
        watch: args.watch,
        on_shutdown: Some(Box::new(move || closer.close_polls())),
        reset,
        clock: clock_hook,
        limits: args.connections.limits(1),
        gate,
        register,
        banner_lines: vec![state_line],
        ui: recent.map(|recent| {
            let emulator = emulator.clone();
            let f: UiFn =
                Box::new(move |handle| crate::ui::Ui::new(emulator, handle, recent).hook());
            f
        }),
    };
    run_gated(server, config, emulator.clone(), emulator.service())
}
