//! The worker's [`Fence`]: its leases renewed in every flush's transaction, timed.

use std::time::{Duration, Instant};

use crate::ledger::{self, Lease};
use crate::replay::{Fence, ReplayError};
use crate::store::Store;

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
