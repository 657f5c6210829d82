//! Durable state for the emulator (`serve --db FILE`): an interface of plain rows that
//! the emulator writes after each change and reads at start-up, and its SQLite
//! implementation ([`sqlite::SqliteStore`]).
//!
//! The store knows nothing of SWF: a region's state is domains (one JSON document
//! each, by name), executions (one JSON document each, by index, without their events),
//! history events (append-only, by execution and event ID) and task tokens (append-only).
//! The emulator decides what the documents hold.

pub mod sqlite;

/// Why the store failed: what, and which file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct StoreError {
    /// The database file.
    pub path: String,
    /// What went wrong.
    pub message: String,
}

/// One execution's rows: its index, its document, and history events (event ID, JSON).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecutionRows {
    /// The execution's index in its region (the order it was started in).
    pub index: u64,
    /// The execution without its events, as JSON.
    pub body: String,
    /// Its history events in event-ID order (all of them on load; the new ones in a
    /// change).
    pub events: Vec<(u64, String)>,
}

/// A region's state as rows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegionRows {
    /// The region.
    pub region: String,
    /// Domains: (name, JSON).
    pub domains: Vec<(String, String)>,
    /// Executions in index order.
    pub executions: Vec<ExecutionRows>,
    /// Task tokens: (token, JSON of what it names).
    pub tokens: Vec<(String, String)>,
}

impl RegionRows {
    /// Whether there is nothing to write.
    pub fn is_empty(&self) -> bool {
        self.domains.is_empty() && self.executions.is_empty() && self.tokens.is_empty()
    }
}

/// Where the emulator's state is kept between runs.
pub trait Store: Send + Sync + std::fmt::Debug {
    /// Every region's rows.
    fn load(&self) -> Result<Vec<RegionRows>, StoreError>;
    /// Writes one request's changes (rows replace rows of the same key; events and
    /// tokens are added) in one transaction, durable when it returns.
    fn commit(&self, changes: &RegionRows) -> Result<(), StoreError>;
    /// Forgets every region's state (a reset).
    fn clear(&self) -> Result<(), StoreError>;
    /// What it is, for the banner (`SQLite state.db`).
    fn describe(&self) -> String;
}
