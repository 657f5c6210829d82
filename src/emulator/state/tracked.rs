//! The state's collections, each remembering what changed since the store last took it
//! (`serve --db`): every mutable access marks its entry, so no change can be missed by
//! forgetting to mark it.

use super::{Domain, Execution, TokenRef};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::{Deref, Index, IndexMut};

/// The executions, in start order, with the indexes changed since [`Execs::take_dirty`].
#[derive(Debug, Default)]
pub(super) struct Execs {
    items: Vec<Execution>,
    dirty: BTreeSet<usize>,
    /// How many events of each execution the store holds.
    pub(super) saved_events: Vec<usize>,
}

impl Deref for Execs {
    type Target = [Execution];
    fn deref(&self) -> &[Execution] {
        &self.items
    }
}

impl Index<usize> for Execs {
    type Output = Execution;
    fn index(&self, i: usize) -> &Execution {
        &self.items[i]
    }
}

impl IndexMut<usize> for Execs {
    fn index_mut(&mut self, i: usize) -> &mut Execution {
        self.dirty.insert(i);
        &mut self.items[i]
    }
}

impl Execs {
    /// Adds a new execution.
    pub(super) fn push(&mut self, e: Execution) {
        self.dirty.insert(self.items.len());
        self.items.push(e);
    }

    /// Execution `i`, marked changed.
    pub(super) fn get_mut(&mut self, i: usize) -> Option<&mut Execution> {
        if i < self.items.len() {
            self.dirty.insert(i);
        }
        self.items.get_mut(i)
    }

    /// The newest execution, marked changed.
    pub(super) fn last_mut(&mut self) -> Option<&mut Execution> {
        let i = self.items.len().checked_sub(1)?;
        self.get_mut(i)
    }

    /// Every execution, not marked: the caller marks what it changes ([`Execs::mark`]).
    pub(super) fn iter_mut_unmarked(&mut self) -> std::slice::IterMut<'_, Execution> {
        self.items.iter_mut()
    }

    /// Marks execution `i` changed.
    pub(super) fn mark(&mut self, i: usize) {
        self.dirty.insert(i);
    }

    /// The indexes changed since the last call.
    pub(super) fn take_dirty(&mut self) -> BTreeSet<usize> {
        std::mem::take(&mut self.dirty)
    }

    /// Executions restored from the store: nothing is changed.
    pub(super) fn restored(items: Vec<Execution>) -> Self {
        let saved_events = items.iter().map(|e| e.events.len()).collect();
        Execs {
            items,
            dirty: BTreeSet::new(),
            saved_events,
        }
    }
}

/// The domains by name, with the names changed since [`Domains::take_dirty`].
#[derive(Debug, Default)]
pub(super) struct Domains {
    items: BTreeMap<String, Domain>,
    dirty: BTreeSet<String>,
}

impl Deref for Domains {
    type Target = BTreeMap<String, Domain>;
    fn deref(&self) -> &BTreeMap<String, Domain> {
        &self.items
    }
}

impl Domains {
    /// Adds (or replaces) a domain.
    pub(super) fn insert(&mut self, name: String, d: Domain) {
        self.dirty.insert(name.clone());
        self.items.insert(name, d);
    }

    /// Domain `name`, marked changed.
    pub(super) fn get_mut(&mut self, name: &str) -> Option<&mut Domain> {
        let d = self.items.get_mut(name)?;
        self.dirty.insert(name.to_owned());
        Some(d)
    }

    /// The names changed since the last call.
    pub(super) fn take_dirty(&mut self) -> BTreeSet<String> {
        std::mem::take(&mut self.dirty)
    }

    /// Domains restored from the store: nothing is changed.
    pub(super) fn restored(items: BTreeMap<String, Domain>) -> Self {
        Domains {
            items,
            dirty: BTreeSet::new(),
        }
    }
}

/// The task tokens handed out (never forgotten: a stale token still names its task),
/// with those added since [`Tokens::take_new`].
#[derive(Debug, Default)]
pub(super) struct Tokens {
    items: HashMap<String, TokenRef>,
    new: Vec<String>,
}

impl Deref for Tokens {
    type Target = HashMap<String, TokenRef>;
    fn deref(&self) -> &HashMap<String, TokenRef> {
        &self.items
    }
}

impl Tokens {
    /// Records a token handed out.
    pub(super) fn insert(&mut self, token: String, r: TokenRef) {
        self.new.push(token.clone());
        self.items.insert(token, r);
    }

    /// The tokens added since the last call.
    pub(super) fn take_new(&mut self) -> Vec<String> {
        std::mem::take(&mut self.new)
    }

    /// Tokens restored from the store: none is new.
    pub(super) fn restored(items: HashMap<String, TokenRef>) -> Self {
        Tokens {
            items,
            new: Vec::new(),
        }
    }
}
