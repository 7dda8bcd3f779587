//! Pause points for end-to-end tests: with `READMODEL_PAUSE_AT=<point>[@n][,...]` in its
//! environment, a process stops itself (SIGSTOP) the `n`-th time (the first by default)
//! it reaches each point named, so that a test can act while it is stopped at an exact
//! place (inside a flush, between the two reads of the settled head) and let it go on
//! with SIGCONT. Races that timing alone would make flaky become deterministic steps.
//!
//! Without the variable each point costs one look at a list read once per process.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

/// The environment variable naming the points to stop at.
pub const PAUSE_VAR: &str = "READMODEL_PAUSE_AT";

/// A place where a process can be stopped for a test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Point {
    /// A worker's flush, before its leases are renewed in the flush's transaction.
    Flush,
    /// A worker's flush, after its leases were renewed (the transaction holds their rows'
    /// locks) and before its rows are written.
    FlushRenewed,
    /// A worker, after each claim of partitions.
    Claimed,
    /// The settled head, between reading the sequence and the transactions that may still
    /// commit ids below it.
    SettledHeadReads,
    /// The settled head, the first time it has to wait for such a transaction.
    SettleWait,
    /// A single process's pass, after a flush committed (a full rebuild of the version
    /// readers use has then written part of its scratch version).
    Flushed,
}

impl Point {
    /// The point's name in [`PAUSE_VAR`].
    pub fn name(self) -> &'static str {
        match self {
            Point::Flush => "flush",
            Point::FlushRenewed => "flush-renewed",
            Point::Claimed => "claimed",
            Point::SettledHeadReads => "settled-head-reads",
            Point::SettleWait => "settle-wait",
            Point::Flushed => "flushed",
        }
    }
}

/// The points armed in [`PAUSE_VAR`], each with the arrivals left before it stops.
fn armed() -> &'static [(String, AtomicU64)] {
    static ARMED: OnceLock<Vec<(String, AtomicU64)>> = OnceLock::new();
    ARMED.get_or_init(|| {
        let value = std::env::var(PAUSE_VAR).unwrap_or_default();
        value
            .split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(|item| match item.split_once('@') {
                Some((name, nth)) => (name.to_owned(), nth.parse().unwrap_or(1)),
                None => (item.to_owned(), 1),
            })
            .map(|(name, nth)| (name, AtomicU64::new(nth)))
            .collect()
    })
}

/// Stops the process (SIGSTOP) if `point` is armed and this is the arrival it waits for.
pub(crate) fn pause_at(point: Point) {
    for (name, left) in armed() {
        if name != point.name() {
            continue;
        }
        let before = left.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
        if before == Ok(1) {
            // A failed raise only means the test will not see the pause it asked for.
            let _ = signal_hook::low_level::raise(signal_hook::consts::SIGSTOP);
        }
    }
}
