//! What a worker holds: claiming its share of partitions (and the runs that go with
//! them), renewing them between passes, dropping those it lost, and letting them go.

use std::time::Instant;

use super::super::fence::{renewed, series_of};
use super::{postgres, Held, Pass, RunBook, Worker};
use crate::ledger::{self, Lease, RunStatus, Scope};
use crate::metrics::LeaseEvent;
use crate::pause::{pause_at, Point};
use crate::registry::Model;
use crate::replay::plan::Execution;
use crate::replay::run_record::{self, Ending, RunOf, Tally};
use crate::replay::ReplayError;
use crate::store::{with_conn, Store, StoreError};

impl Worker<'_> {
    /// Drops the partition whose lease a pass lost, failing its run.
    pub(super) fn lost(
        &mut self,
        store: &mut Store,
        model: String,
        partition: u32,
        token: i64,
        note: &(dyn Fn(&str) + Sync),
    ) -> Pass {
        let line = format!(
            "worker {}: lost the lease on partition {partition} of {model} (token {token}) to another worker; its last flush was rolled back",
            self.config.owner
        );
        note(&line);
        self.stats.lost.push(line.clone());
        let (lost, kept): (Vec<Held>, Vec<Held>) = std::mem::take(&mut self.held)
            .into_iter()
            .partition(|h| h.lease.model == model && h.lease.partition == partition);
        for held in &lost {
            crate::metrics::lease(LeaseEvent::Lost, &series_of(&held.lease));
        }
        self.held = kept;
        self.end_runs(store, &lost, RunStatus::Failed, Some(&line));
        Pass::LeaseLost
    }

    /// Renews the leases held between passes (an idle worker flushes nothing); drops the
    /// ones lost meanwhile.
    pub(super) fn heartbeat(
        &mut self,
        store: &mut Store,
        note: &(dyn Fn(&str) + Sync),
    ) -> Result<(), ReplayError> {
        loop {
            let leases: Vec<Lease> = self.held.iter().map(|h| h.lease.clone()).collect();
            let conn = postgres(store)?;
            let Some(lost) = ledger::renew(conn, &self.config.owner, self.config.lease, &leases)?
            else {
                renewed(&leases);
                return Ok(());
            };
            crate::metrics::lease(LeaseEvent::Lost, &series_of(&lost));
            let line = format!(
                "worker {}: lost the lease on partition {} of {} (token {}) to another worker while idle",
                self.config.owner, lost.partition, lost.model, lost.token
            );
            note(&line);
            self.stats.lost.push(line.clone());
            let (gone, kept): (Vec<Held>, Vec<Held>) = std::mem::take(&mut self.held)
                .into_iter()
                .partition(|h| h.lease == lost);
            self.held = kept;
            self.end_runs(store, &gone, RunStatus::Failed, Some(&line));
        }
    }

    /// The models' (name, version).
    pub(super) fn keys(&self) -> Vec<(&'static str, i32)> {
        self.models
            .iter()
            .map(|(m, _)| (m.contract().name, self.config.version_of(m.contract())))
            .collect()
    }

    /// The partitions of all the models.
    pub(super) fn total(&self) -> usize {
        self.models.iter().map(|(_, of)| *of as usize).sum()
    }

    /// Claims up to the fair share of partitions (with `below`, only those whose
    /// checkpoint is below it), or releases the surplus; new runs go to `target`.
    pub(super) fn rebalance(
        &mut self,
        store: &mut Store,
        below: Option<i64>,
        target: i64,
    ) -> Result<(), ReplayError> {
        let total = self.total();
        let conn = postgres(store)?;
        let workers = match self.config.workers {
            Some(n) => n.max(1),
            None => ledger::live_workers(conn, &self.config.owner)?,
        };
        let share = total.div_ceil(workers);
        if self.held.len() > share {
            let surplus = self.held.split_off(share);
            self.let_go(store, surplus, RunStatus::Stopped, None);
            return Ok(());
        }
        let keys = self.keys();
        let claimed = ledger::claim(
            conn,
            &self.config.owner,
            self.config.lease,
            &keys,
            below,
            share - self.held.len(),
        )?;
        self.stats.claimed += claimed.len() as u64;
        pause_at(Point::Claimed);
        for ledger::Claimed { lease, previous } in claimed {
            crate::metrics::lease(LeaseEvent::Claimed, &series_of(&lease));
            if let Some(previous) = previous {
                self.abandon(store, &lease, &previous)?;
            }
            let Some(&(model, _)) = self
                .models
                .iter()
                .find(|(m, _)| m.contract().name == lease.model)
            else {
                continue;
            };
            let run = self.run_for(store, model, &lease, target)?;
            self.held.push(Held {
                lease,
                model,
                run,
                events: 0,
                since: Instant::now(),
            });
        }
        // Flushes write (and lock) each model's own checkpoint in lane order: one order
        // for every worker keeps two workers' flushes from deadlocking.
        self.held.sort_by(|a, b| {
            (&a.lease.model, a.lease.partition).cmp(&(&b.lease.model, b.lease.partition))
        });
        Ok(())
    }

    /// The run `lease`'s events count into: the coordinator's, or a new one.
    pub(super) fn run_for(
        &self,
        store: &mut Store,
        model: &'static dyn Model,
        lease: &Lease,
        target: i64,
    ) -> Result<i64, ReplayError> {
        let contract = model.contract();
        if let RunBook::Shared(runs) = self.runs {
            return Ok(runs.get(contract.name).copied().unwrap_or(0));
        }
        let scope = lease.scope();
        let from = with_conn!(&mut *store, |c| {
            let global = ledger::checkpoint(c, contract.name, lease.version, Scope::All)?;
            let own = match scope {
                Scope::All => None,
                scope => ledger::checkpoint(c, contract.name, lease.version, scope)?,
            };
            Ok::<_, StoreError>(global.max(own).unwrap_or(0).max(contract.start_after()))
        })?;
        let execution = Execution {
            scope,
            delete: None,
            after: from,
            to: target,
            user: None,
        };
        let run = RunOf {
            contract,
            version: lease.version,
            execution: &execution,
            resumed_from: None,
        };
        Ok(with_conn!(&mut *store, |c| run.start(c, &self.config.plan))?)
    }

    /// Marks the runs that worker `previous` left `running` on `lease`'s partition (it was
    /// killed, or paused past its lease) as abandoned. The coordinator of `run --workers`
    /// ends its own runs.
    pub(super) fn abandon(
        &self,
        store: &mut Store,
        lease: &Lease,
        previous: &str,
    ) -> Result<(), ReplayError> {
        if let RunBook::Shared(_) = self.runs {
            return Ok(());
        }
        let why = format!(
            "worker {previous} stopped renewing its lease on partition {} of {}; worker {} took it over (token {})",
            lease.partition, lease.model, self.config.owner, lease.token
        );
        let (model, version, scope) = (&lease.model, lease.version, lease.scope());
        with_conn!(&mut *store, |c| ledger::abandon_scope(
            c, model, version, scope, &why
        ))?;
        Ok(())
    }

    /// Releases `held` and ends their runs with `status`. Best effort: a lease that
    /// cannot be released expires.
    pub(super) fn let_go(
        &mut self,
        store: &mut Store,
        held: Vec<Held>,
        status: RunStatus,
        error: Option<&str>,
    ) {
        if let Store::Postgres(conn) = &mut *store {
            let leases: Vec<Lease> = held.iter().map(|h| h.lease.clone()).collect();
            let _ = ledger::release(conn, &self.config.owner, &leases);
        }
        self.end_runs(store, &held, status, error);
    }

    /// Ends the worker's own runs of `held` (not the coordinator's).
    pub(super) fn end_runs(
        &self,
        store: &mut Store,
        held: &[Held],
        status: RunStatus,
        error: Option<&str>,
    ) {
        for h in held {
            // Another worker reports the partition from now on.
            crate::metrics::lane_ended(&series_of(&h.lease));
        }
        if let RunBook::Shared(_) = self.runs {
            return;
        }
        for h in held {
            let ending = match (status, error) {
                (_, Some(error)) => Ending::Failed(error),
                (RunStatus::Succeeded, None) => Ending::Succeeded(None),
                _ => Ending::Stopped,
            };
            let tally = Tally {
                events_read: h.events,
                rows_written: 0,
                elapsed: h.since.elapsed(),
                ..Tally::default()
            };
            let _ = with_conn!(&mut *store, |c| run_record::end(c, h.run, ending, &tally));
        }
    }
}
