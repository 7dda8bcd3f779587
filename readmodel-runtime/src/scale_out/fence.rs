//! The worker's [`Fence`]: its leases renewed in every flush's transaction, timed; and
//! the heartbeat that renews them between flushes.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::ledger::{self, Lease};
use crate::replay::{Fence, ReplayError};
use crate::store::{DatabaseUrl, Store};

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
        let lost = ledger::renew(conn, self.owner, self.ttl, self.held)?;
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
    }
}

/// Renews `held` every quarter lease on a connection of its own until `done`, so that a
/// live worker keeps its partitions however long it takes between flushes (a slow batch,
/// a big first read). A paused or killed process stops renewing with it, and the flushes'
/// own renewal ([`LeaseFence`]) still refuses a worker whose lease was taken over.
pub(super) fn keep_alive(
    url: &DatabaseUrl,
    owner: &str,
    ttl: Duration,
    held: &[Lease],
    done: &AtomicBool,
) {
    let Ok(Store::Postgres(mut conn)) = Store::open_log_reader(url) else {
        return;
    };
    let pause = (ttl / 4).max(Duration::from_millis(10));
    let step = Duration::from_millis(10).min(pause);
    let mut last = Instant::now();
    while !done.load(Ordering::Relaxed) {
        std::thread::sleep(step);
        if last.elapsed() >= pause {
            // A failure here only costs the lease's margin; the flush's renewal decides.
            let _ = ledger::renew_unlocked(&mut conn, owner, ttl, held);
            last = Instant::now();
        }
    }
}
