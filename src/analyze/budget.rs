//! The time and memory an analysis may spend: checked as it goes, so that a hostile or
//! just very large policy ends in `complete: false` with the reason, never in a machine
//! out of memory or a CI job that never ends.

use std::time::{Duration, Instant};

/// What an analysis may spend. [`Budget::default`] is unbounded (library callers choose);
/// the command line always sets both bounds ([`Budget::within`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Budget {
    /// When to stop, if ever.
    pub deadline: Option<Instant>,
    /// How long the budget was when it was set (for the message).
    pub time: Option<Duration>,
    /// Most resident memory of the process, in bytes, if bounded (read from
    /// `/proc/self/status`; where that cannot be read, only time is bounded).
    pub max_memory: Option<u64>,
}

impl Budget {
    /// A budget of `time` from now and `max_memory` bytes of resident memory.
    pub fn within(time: Duration, max_memory: u64) -> Self {
        Budget {
            deadline: Instant::now().checked_add(time),
            time: Some(time),
            max_memory: Some(max_memory),
        }
    }

    /// Why the budget is spent, if it is (time first, then memory).
    pub fn spent(&self) -> Option<String> {
        if let (Some(d), Some(t)) = (self.deadline, self.time) {
            if Instant::now() >= d {
                return Some(format!(
                    "the time budget of {} s was spent (--time-budget)",
                    t.as_secs_f64()
                ));
            }
        }
        let max = self.max_memory?;
        let rss = resident_bytes()?;
        (rss > max).then(|| {
            format!(
                "the memory budget of {} MiB was reached (--memory-budget)",
                max >> 20
            )
        })
    }
}

/// The process's resident memory in bytes (`VmRSS`), where the system says it.
pub fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line
        .trim_start_matches("VmRSS:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb * 1024)
}

/// Checks a [`Budget`] every few hundred steps of a loop (a check reads the clock and,
/// for memory, a small `/proc` file), and remembers once it is spent.
#[derive(Debug)]
pub struct Meter {
    budget: Budget,
    steps: u32,
    spent: Option<String>,
}

impl Meter {
    /// How many steps pass between two checks.
    const EVERY: u32 = 256;

    /// A meter of `budget`, checked at once (a budget spent before the loop starts stops
    /// it at its first step).
    pub fn new(budget: Budget) -> Self {
        Meter {
            spent: budget.spent(),
            budget,
            steps: 0,
        }
    }

    /// One step; `true` when the loop must stop.
    pub fn step(&mut self) -> bool {
        if self.spent.is_some() {
            return true;
        }
        self.steps = self.steps.wrapping_add(1);
        if self.steps % Self::EVERY == 0 {
            self.spent = self.budget.spent();
        }
        self.spent.is_some()
    }

    /// Why the loop stopped, if it did.
    pub fn reason(&self) -> Option<&str> {
        self.spent.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unbounded_budget_is_never_spent() {
        let mut m = Meter::new(Budget::default());
        assert!((0..10_000).all(|_| !m.step()));
        assert_eq!(m.reason(), None);
    }

    #[test]
    fn a_past_deadline_stops_at_once_and_says_why() {
        let b = Budget::within(Duration::ZERO, u64::MAX);
        let mut m = Meter::new(b);
        assert!(m.step());
        assert!(m.reason().unwrap().contains("time budget of 0 s"));
    }

    #[test]
    fn memory_over_the_budget_stops_where_proc_is_readable() {
        let Some(rss) = resident_bytes() else {
            // No /proc here: memory cannot be read, and the budget says nothing of it.
            assert_eq!(Budget::within(Duration::from_secs(60), 1).spent(), None);
            return;
        };
        assert!(rss > 0);
        let b = Budget::within(Duration::from_secs(60), 1);
        assert!(b.spent().unwrap().contains("memory budget"));
        assert_eq!(
            Budget::within(Duration::from_secs(60), u64::MAX).spent(),
            None
        );
    }
}
