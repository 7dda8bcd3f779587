//! The worker's [`Fence`]: its leases renewed in every flush's transaction, timed; and
//! the heartbeat that renews them between flushes.

use std::time::{Duration, Instant};

use diesel::PgConnection;

use crate::ledger::{self, Lease};
use crate::metrics::{LeaseEvent, Series};
use crate::pause::{pause_at, Point};
use crate::replay::{Fence, ReplayError};
use crate::stop::StopFlag;
use crate::store::{DatabaseUrl, Store, StoreError};

/// Renews `held` for `owner` in each flush; counts and times renewals and flushes.
pub(super) struct LeaseFence<'a> {
    pub(super) owner: &'a str,
    pub(super) ttl: Duration,
    pub(super) held: &'a [Lease],
    pub(super) renewals: u64,
    pub(super) renewing: Duration,
    pub(super) flushing: Duration,
    flush_started: Option<Instant>,
}

impl<'a> LeaseFence<'a> {
    pub(super) fn new(owner: &'a str, ttl: Duration, held: &'a [Lease]) -> Self {
        Self {
            owner,
            ttl,
            held,
            renewals: 0,
            renewing: Duration::ZERO,
            flushing: Duration::ZERO,
            flush_started: None,
        }
    }
}

impl Fence for LeaseFence<'_> {
    fn renew(&mut self, store: &mut Store) -> Result<(), ReplayError> {
        let Store::Postgres(conn) = store else {
            return Err(ReplayError::WorkersNeedPostgres);
        };
        let started = Instant::now();
        self.flush_started = Some(started);
        pause_at(Point::Flush);
        // Before the renewal takes the lease rows' locks: they are let go with the
        // transaction if the worker stops (paused) inside the flush for a lease.
        ledger::end_if_idle_past(conn, self.ttl)?;
        let lost = ledger::renew(conn, self.owner, self.ttl, self.held)?;
        pause_at(Point::FlushRenewed);
        self.renewing += started.elapsed();
        self.renewals += 1;
        match lost {
            None => Ok(()),
            Some(lease) => Err(ReplayError::LeaseLost {
                model: lease.model,
                partition: lease.partition,
                token: lease.token,
            }),
        }
    }

    fn committed(&mut self) {
        if let Some(started) = self.flush_started.take() {
            self.flushing += started.elapsed();
        }
        renewed(self.held);
    }
}

/// What the heartbeat thread of a pass watches.
pub(super) struct Watch<'a> {
    pub(super) owner: &'a str,
    pub(super) ttl: Duration,
    /// The leases of the pass.
    pub(super) held: &'a [Lease],
    /// The worker's models (name, version) and their partitions in all.
    pub(super) models: &'a [(&'static str, i32)],
    pub(super) total: usize,
    /// `run --workers N`'s N; `None`: count the live workers.
    pub(super) workers: Option<usize>,
    /// A following pass ends for a rebalance when the worker holds more or less than its
    /// share; a pass to a bound only when it holds more (a newcomer's share).
    pub(super) following: bool,
    /// The worker's stop flag (SIGTERM/SIGINT)…
    pub(super) stop: &'a StopFlag,
    /// …passed on to the pass's own.
    pub(super) pass_stop: &'a StopFlag,
}

/// The heartbeat of a pass, on a connection of its own until `done`: renews the leases
/// every quarter lease, so that a live worker keeps its partitions however long it takes
/// between flushes (a slow batch, a big first read); a paused or killed process stops
/// renewing with it, and the flushes' own renewal ([`LeaseFence`]) still refuses a worker
/// whose lease was taken over. It passes the worker's stop flag on to the pass, and ends
/// the pass when the worker's share should change (looked at every quarter lease): workers
/// started together each claim all they can see, and the first to look gives back its
/// surplus to the others at once instead of at the end of its pass.
pub(super) fn keep_alive(url: &DatabaseUrl, watch: &Watch<'_>, done: &StopFlag) {
    let Ok(Store::Postgres(mut conn)) = Store::open_log_reader(url) else {
        return;
    };
    let pause = (watch.ttl / 4).max(Duration::from_millis(10));
    let step = Duration::from_millis(10).min(pause);
    let (mut renewed, mut looked) = (Instant::now(), Instant::now());
    while !done.is_set() {
        std::thread::sleep(step);
        if watch.stop.is_set() {
            watch.pass_stop.set();
        }
        if renewed.elapsed() >= pause {
            // A failure here only costs the lease's margin; the flush's renewal decides.
            let _ = ledger::renew_unlocked(&mut conn, watch.owner, watch.ttl, watch.held);
            renewed = Instant::now();
        }
        if looked.elapsed() >= pause {
            looked = Instant::now();
            if share_changes(&mut conn, watch).unwrap_or(false) {
                watch.pass_stop.set();
            }
        }
    }
}

/// Whether the worker holds more than its share, or, following, less while a partition
/// is free.
fn share_changes(conn: &mut PgConnection, watch: &Watch<'_>) -> Result<bool, StoreError> {
    let workers = match watch.workers {
        Some(n) => n.max(1),
        None => ledger::live_workers(conn, watch.owner)?,
    };
    let share = watch.total.div_ceil(workers);
    let held = watch.held.len();
    Ok(held > share
        || (watch.following && held < share && ledger::claimable(conn, watch.models)? > 0))
}

/// Tells the metrics that `held` were renewed.
pub(super) fn renewed(held: &[Lease]) {
    for lease in held {
        crate::metrics::lease(LeaseEvent::Renewed, &series_of(lease));
    }
    crate::metrics::beat();
}

/// A lease's series in the metrics.
pub(super) fn series_of(lease: &Lease) -> Series {
    Series::new(
        &lease.model,
        lease.version,
        Some((lease.partition, lease.partitions)),
    )
}
