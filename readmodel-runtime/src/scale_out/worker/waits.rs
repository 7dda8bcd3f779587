//! What a worker does besides passes: waiting for what others hold (and saying so),
//! following the settled head through a long writer, activating what it built, and
//! reconnecting when the database ended its connection.

use std::time::{Duration, Instant};

use super::{postgres, RunBook, Worker};
use crate::ledger::{self, Scope};
use crate::replay::ReplayError;
use crate::stop::StopFlag;
use crate::store::{with_conn, Conn, DatabaseUrl, Store, StoreError};

impl Worker<'_> {
    /// After a pass failed with `error`: when the database ended the worker's connection
    /// (the server ends a flush's transaction left idle for a lease, see
    /// `ledger::end_if_idle_past`: the worker was paused inside it; or the server went
    /// away), opens a new one and goes on, trying again every poll interval while the
    /// database cannot be reached (unhealthy meanwhile, see `metrics`) until `stop`; the
    /// next renewal finds which leases were lost meanwhile. Any other failure is returned.
    pub(super) fn reconnect(
        &mut self,
        store: &mut Store,
        url: &DatabaseUrl,
        error: ReplayError,
        stop: &StopFlag,
        note: &(dyn Fn(&str) + Sync),
    ) -> Result<(), ReplayError> {
        let alive = diesel::RunQueryDsl::execute(diesel::sql_query("SELECT 1"), postgres(store)?);
        if alive.is_ok() {
            return Err(error);
        }
        note(&format!(
            "worker {}: the database ended its connection ({error}); what it applied since its last flush was rolled back; reconnecting",
            self.config.owner
        ));
        crate::metrics::database_unreachable(Some(error.to_string()));
        let mut said = false;
        loop {
            match self.reopen(url) {
                Ok(fresh) => {
                    *store = fresh;
                    crate::metrics::database_unreachable(None);
                    crate::metrics::beat();
                    if said {
                        note(&format!("worker {}: reconnected", self.config.owner));
                    }
                    return Ok(());
                }
                Err(error) if stop.is_set() => return Err(error),
                Err(error) => {
                    if !said {
                        note(&format!(
                            "worker {}: cannot reach the database ({error}); trying again every {:.1}s",
                            self.config.owner,
                            self.config.poll.as_secs_f64()
                        ));
                        said = true;
                    }
                    crate::metrics::database_unreachable(Some(error.to_string()));
                    std::thread::sleep(self.config.poll);
                }
            }
        }
    }

    /// A new connection for the worker, named as its own.
    fn reopen(&self, url: &DatabaseUrl) -> Result<Store, ReplayError> {
        let mut fresh = Store::open_log_reader(url)?;
        ledger::register_worker(postgres(&mut fresh)?, &self.config.owner)?;
        Ok(fresh)
    }

    /// Says, once a wait for partitions other workers hold has lasted [`WAIT_NOTE`], and
    /// every [`WAIT_NOTE`] after, what the worker waits for and when the first of their
    /// leases expires (a standalone worker only: `run --workers`' threads wait for each
    /// other).
    pub(super) fn wait_note(
        &self,
        store: &mut Store,
        bound: i64,
        waiting: &mut Waiting,
        note: &(dyn Fn(&str) + Sync),
    ) -> Result<(), ReplayError> {
        let since = *waiting.since.get_or_insert_with(Instant::now);
        let due = waiting.noted.map_or(since, |noted| noted) + WAIT_NOTE;
        if matches!(self.runs, RunBook::Shared(_)) || Instant::now() < due {
            return Ok(());
        }
        let keys = self.keys();
        let (partitions, seconds) =
            ledger::held_by_others(postgres(store)?, &self.config.owner, &keys, bound)?;
        if partitions > 0 {
            note(&format!(
                "worker {}: waiting {}s for {partitions} partitions below event {bound} that other workers hold; the first of their leases expires in {:.1}s unless renewed",
                self.config.owner,
                since.elapsed().as_secs(),
                seconds.max(0.0)
            ));
        }
        waiting.noted = Some(Instant::now());
        Ok(())
    }

    /// Activates each model's version unless one is active: every partition has reached
    /// the worker's bound, as a run's model has at its end.
    pub(super) fn activate(&self, store: &mut Store) -> Result<(), ReplayError> {
        for (model, _) in self.models {
            let contract = model.contract();
            with_conn!(&mut *store, |c| crate::versions::activate_if_none(
                c,
                contract.name,
                contract.version
            ))?;
        }
        Ok(())
    }

    /// Whether every model's own checkpoint has reached `bound`.
    pub(super) fn all_reached(&self, store: &mut Store, bound: i64) -> Result<bool, ReplayError> {
        for (model, _) in self.models {
            let contract = model.contract();
            let version = self.config.version_of(contract);
            let at = with_conn!(&mut *store, |c| ledger::checkpoint(
                c,
                contract.name,
                version,
                Scope::All
            ))?;
            if at.unwrap_or(0) < bound {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

/// How long a standalone worker waits for partitions others hold before saying so.
pub(super) const WAIT_NOTE: Duration = Duration::from_secs(5);

/// A wait for partitions other workers hold: since when, and when it was last said.
#[derive(Default)]
pub(super) struct Waiting {
    since: Option<Instant>,
    noted: Option<Instant>,
}

/// The settled head; a follower whose wait for it times out (a transaction holding event
/// ids stays open) says so and goes on with the head it had, `previous`, instead of
/// failing: it follows what is settled.
pub(super) fn settled_or(
    store: &mut Store,
    previous: i64,
    note: &(dyn Fn(&str) + Sync),
) -> Result<i64, ReplayError> {
    match with_conn!(&mut *store, |c| c.settled_head()) {
        Ok(head) => Ok(head),
        Err(error @ StoreError::Unsettled { .. }) => {
            note(&format!("warning: {error}"));
            Ok(previous)
        }
        Err(error) => Err(error.into()),
    }
}
