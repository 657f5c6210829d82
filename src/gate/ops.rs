//! Running a gate: the decision log (one JSON line per request through `tracing`) and
//! configuration reloads (on SIGHUP, and when the file changes).

use super::GateHandle;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};
use tracing_subscriber::filter::{filter_fn, EnvFilter};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::Layer;

/// Where the decision log goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecisionLog {
    /// Standard error (the default).
    Stderr,
    /// Appended to a file.
    File(PathBuf),
    /// Not written.
    Off,
}

/// A writer that appends to a shared file.
#[derive(Clone)]
struct FileWriter(Arc<Mutex<std::fs::File>>);

impl io::Write for FileWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self.0.lock() {
            Ok(mut f) => f.write(buf),
            Err(_) => Err(io::Error::other("decision log lock poisoned")),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self.0.lock() {
            Ok(mut f) => f.flush(),
            Err(_) => Err(io::Error::other("decision log lock poisoned")),
        }
    }
}

impl<'a> MakeWriter<'a> for FileWriter {
    type Writer = FileWriter;
    fn make_writer(&'a self) -> FileWriter {
        self.clone()
    }
}

/// The most recent decision-log entries, in memory (the UI's live view of the decision
/// log): at most `capacity`, the oldest dropped first, each with a sequence number.
#[derive(Debug)]
pub struct RecentDecisions {
    capacity: usize,
    entries: Mutex<(u64, std::collections::VecDeque<Arc<serde_json::Value>>)>,
}

impl RecentDecisions {
    /// An empty ring of at most `capacity` entries.
    pub fn new(capacity: usize) -> Arc<Self> {
        Arc::new(RecentDecisions {
            capacity: capacity.max(1),
            entries: Mutex::new((0, Default::default())),
        })
    }

    /// Adds one entry (its `seq` is set here).
    pub fn push(&self, mut entry: serde_json::Map<String, serde_json::Value>) {
        let Ok(mut g) = self.entries.lock() else {
            return;
        };
        g.0 += 1;
        entry.insert("seq".into(), g.0.into());
        if g.1.len() == self.capacity {
            g.1.pop_front();
        }
        g.1.push_back(Arc::new(serde_json::Value::Object(entry)));
    }

    /// The entries after sequence number `after`, oldest first, at most `limit` (the
    /// newest ones), and the newest sequence number.
    pub fn since(&self, after: u64, limit: usize) -> (Vec<Arc<serde_json::Value>>, u64) {
        let Ok(g) = self.entries.lock() else {
            return (Vec::new(), 0);
        };
        let newer: Vec<Arc<serde_json::Value>> =
            g.1.iter()
                .filter(|e| e["seq"].as_u64().is_some_and(|s| s > after))
                .cloned()
                .collect();
        let skip = newer.len().saturating_sub(limit);
        (newer.into_iter().skip(skip).collect(), g.0)
    }
}

/// The tracing layer that keeps decision-log events in a [`RecentDecisions`].
struct RecentLayer(Arc<RecentDecisions>);

struct Fields(serde_json::Map<String, serde_json::Value>);

impl tracing::field::Visit for Fields {
    fn record_str(&mut self, f: &tracing::field::Field, v: &str) {
        self.0.insert(f.name().to_owned(), v.into());
    }
    fn record_u64(&mut self, f: &tracing::field::Field, v: u64) {
        self.0.insert(f.name().to_owned(), v.into());
    }
    fn record_i64(&mut self, f: &tracing::field::Field, v: i64) {
        self.0.insert(f.name().to_owned(), v.into());
    }
    fn record_bool(&mut self, f: &tracing::field::Field, v: bool) {
        self.0.insert(f.name().to_owned(), v.into());
    }
    fn record_debug(&mut self, f: &tracing::field::Field, v: &dyn std::fmt::Debug) {
        self.0.insert(f.name().to_owned(), format!("{v:?}").into());
    }
}

impl<S: tracing::Subscriber> Layer<S> for RecentLayer {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        let mut f = Fields(serde_json::Map::new());
        let now = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        f.0.insert("epochSeconds".into(), now.into());
        event.record(&mut f);
        self.0.push(f.0);
    }
}

fn is_decision(meta: &tracing::Metadata<'_>) -> bool {
    meta.target() == "swf_iam::decision"
}

/// Whether standard error gets ANSI colour: only a terminal, and never with `NO_COLOR`.
pub fn stderr_colour() -> bool {
    use std::io::IsTerminal;
    io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// A subscriber that writes `swf_iam::decision` events as JSON lines to `decisions`
/// (time, level, and the fields: principal, operation, action, resource, decision,
/// statement, peer, latency_us) and every other event to standard error, filtered by
/// `RUST_LOG` (default `info`). Other events are text, except when the decision log
/// also goes to standard error: then they are JSON lines too, so the stream is never a
/// mix of JSON and text lines. Colour only on a terminal, never with `NO_COLOR`.
pub fn subscriber(
    decisions: &DecisionLog,
) -> io::Result<Box<dyn tracing::Subscriber + Send + Sync>> {
    subscriber_with(decisions, None)
}

/// [`subscriber`], also keeping the decision-log events in `recent` (whatever
/// `decisions` says).
pub fn subscriber_with(
    decisions: &DecisionLog,
    recent: Option<Arc<RecentDecisions>>,
) -> io::Result<Box<dyn tracing::Subscriber + Send + Sync>> {
    let filter = || EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let ring = || {
        recent
            .clone()
            .map(|r| RecentLayer(r).with_filter(filter_fn(is_decision)))
    };
    Ok(match decisions {
        DecisionLog::Stderr => Box::new(
            tracing_subscriber::registry()
                .with(ring())
                .with(
                    tracing_subscriber::fmt::layer()
                        .json()
                        .flatten_event(true)
                        .with_ansi(false)
                        .with_writer(io::stderr)
                        .with_filter(filter())
                        .with_filter(filter_fn(|m| !is_decision(m))),
                )
                .with(
                    tracing_subscriber::fmt::layer()
                        .json()
                        .flatten_event(true)
                        .with_target(false)
                        .with_ansi(false)
                        .with_writer(io::stderr)
                        .with_filter(filter_fn(is_decision)),
                ),
        ),
        other => {
            let text = tracing_subscriber::fmt::layer()
                .with_ansi(stderr_colour())
                .with_writer(io::stderr)
                .with_filter(filter())
                .with_filter(filter_fn(|m| !is_decision(m)));
            let registry = tracing_subscriber::registry().with(ring()).with(text);
            match other {
                DecisionLog::File(path) => {
                    let file = std::fs::OpenOptions::new()
                        .create(true)
                        .append(true)
                        .open(path)
                        .map_err(|e| {
                            io::Error::new(
                                e.kind(),
                                format!("cannot open `{}`: {e}", path.display()),
                            )
                        })?;
                    Box::new(
                        registry.with(
                            tracing_subscriber::fmt::layer()
                                .json()
                                .flatten_event(true)
                                .with_target(false)
                                .with_ansi(false)
                                .with_writer(FileWriter(Arc::new(Mutex::new(file))))
                                .with_filter(filter_fn(is_decision)),
                        ),
                    )
                }
                _ => Box::new(registry),
            }
        }
    })
}

/// Installs [`subscriber`] as the global default.
pub fn init_logging(decisions: &DecisionLog) -> io::Result<()> {
    init_logging_with(decisions, None)
}

/// [`init_logging`], also keeping the decision-log events in `recent`.
pub fn init_logging_with(
    decisions: &DecisionLog,
    recent: Option<Arc<RecentDecisions>>,
) -> io::Result<()> {
    tracing::subscriber::set_global_default(subscriber_with(decisions, recent)?)
        .map_err(io::Error::other)
}

/// Reloads the configuration at `path` on every SIGHUP. The signal handler is installed
/// before this returns; the loop runs on the current tokio runtime.
#[cfg(unix)]
pub fn reload_on_sighup(
    handle: GateHandle,
    path: PathBuf,
) -> io::Result<tokio::task::JoinHandle<()>> {
    let mut hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?;
    Ok(tokio::spawn(async move {
        while hup.recv().await.is_some() {
            tracing::info!(target: "swf_iam::gate", path = %path.display(), "SIGHUP: reloading the configuration");
            let _ = handle
                .reload_in_background(&path, super::RELOAD_TIMEOUT)
                .await;
        }
    }))
}

fn stamp(paths: &[PathBuf]) -> Vec<Option<SystemTime>> {
    paths
        .iter()
        .map(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok())
        .collect()
}

/// Reloads the configuration when it, or a policy file it names, changes (checked every
/// `interval` by modification time — cheap, no watcher needed).
pub fn reload_on_change(
    handle: GateHandle,
    path: PathBuf,
    interval: Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let files = |h: &GateHandle, path: &Path| -> Vec<PathBuf> {
            let cfg = h.config();
            let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
            let mut v = vec![path.to_path_buf()];
            for p in &cfg.principals {
                let set = &p.policies;
                for pol in set
                    .scps
                    .iter()
                    .flatten()
                    .chain(&set.identity)
                    .chain(&set.boundary)
                    .chain(&set.session)
                {
                    if !pol.name.contains('#') {
                        v.push(dir.join(&pol.name));
                    }
                }
            }
            v.sort();
            v.dedup();
            v
        };
        let mut watched = files(&handle, &path);
        let mut last = stamp(&watched);
        loop {
            tokio::time::sleep(interval).await;
            let now = stamp(&watched);
            if now != last {
                last = now;
                if handle
                    .reload_in_background(&path, super::RELOAD_TIMEOUT)
                    .await
                    .is_ok()
                {
                    watched = files(&handle, &path);
                    last = stamp(&watched);
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ring_keeps_the_newest_entries_and_answers_after_a_sequence_number() {
        let r = RecentDecisions::new(3);
        for i in 0..5 {
            let mut m = serde_json::Map::new();
            m.insert("i".into(), i.into());
            r.push(m);
        }
        let (all, last) = r.since(0, 100);
        assert_eq!(last, 5);
        let seqs: Vec<u64> = all.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
        assert_eq!(seqs, [3, 4, 5]);
        let (newer, _) = r.since(4, 100);
        assert_eq!(newer.len(), 1);
        assert_eq!(newer[0]["i"], 4);
        let (limited, _) = r.since(0, 2);
        assert_eq!(
            limited
                .iter()
                .map(|e| e["seq"].as_u64().unwrap())
                .collect::<Vec<_>>(),
            [4, 5]
        );
    }
}
