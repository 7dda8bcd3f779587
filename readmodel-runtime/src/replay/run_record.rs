//! A run's row in `replay_runs`, kept the same way by every engine (the pass's lanes,
//! the all-or-nothing engine, the workers and their coordinator): recorded when it
//! starts, with the plan `--resume` reads back; ended once, with its status and rate;
//! reported as a [`RunReport`].

use std::time::Duration;

use super::plan::{Execution, Plan};
use super::report::RunReport;
use crate::contract::Contract;
use crate::ledger::{self, NewRun, RunStatus};
use crate::store::{Conn, StoreError};

/// Which run: the model's version, what the run does, and the run it continues.
pub(crate) struct RunOf<'a> {
    pub(crate) contract: &'static Contract,
    pub(crate) version: i32,
    pub(crate) execution: &'a Execution,
    pub(crate) resumed_from: Option<i64>,
}

/// What a run has done.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Tally {
    pub(crate) events_read: u64,
    pub(crate) rows_written: u64,
    /// Flushes that wrote the run's rows and checkpoint.
    pub(crate) flushes: u64,
    /// Bad events parked.
    pub(crate) parked: u64,
    /// Time spent replaying (not reading the rows back for their checksum).
    pub(crate) elapsed: Duration,
}

impl Tally {
    /// Events applied per second.
    pub(crate) fn rate(&self) -> f64 {
        self.events_read as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// How a run ended.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Ending<'a> {
    /// Up to its bound; the rows' checksum when the run covered rows it can vouch for.
    Succeeded(Option<&'a str>),
    /// Early, by `--max-batches` or the stop flag, after what was applied was written.
    Stopped,
    /// With this error.
    Failed(&'a str),
}

impl RunOf<'_> {
    /// Records the run as started under `plan`; returns its id.
    pub(crate) fn start<C: Conn>(&self, conn: &mut C, plan: &Plan) -> Result<i64, StoreError> {
        let execution = self.execution;
        ledger::start_run(
            conn,
            &NewRun {
                model: self.contract.name,
                version: self.version,
                scope: execution.scope,
                full: execution.delete.is_some(),
                from: execution.after + 1,
                to: execution.to,
                plan_json: serde_json::to_string(plan).unwrap_or_else(|_| "{}".to_owned()),
                resumed_from: self.resumed_from,
            },
        )
    }

    /// The report of run `run_id`, ended with `status` after `tally`.
    pub(crate) fn report(
        &self,
        run_id: i64,
        tally: &Tally,
        status: RunStatus,
        checksum: String,
    ) -> RunReport {
        let execution = self.execution;
        RunReport {
            model: self.contract.name,
            version: self.version,
            run_id,
            scope: execution.scope,
            full: execution.delete.is_some(),
            from: execution.after + 1,
            to: execution.to,
            events_read: tally.events_read,
            rows_written: tally.rows_written,
            flushes: tally.flushes,
            bad_events_parked: tally.parked,
            elapsed: tally.elapsed,
            status,
            checksum,
            resumed_from: self.resumed_from,
        }
    }
}

/// Ends run `run_id` as `ending` says, with its rate over `tally`.
pub(crate) fn end<C: Conn>(
    conn: &mut C,
    run_id: i64,
    ending: Ending<'_>,
    tally: &Tally,
) -> Result<(), StoreError> {
    let (status, checksum, error) = match ending {
        Ending::Succeeded(checksum) => (RunStatus::Succeeded, checksum, None),
        Ending::Stopped => (RunStatus::Stopped, None, None),
        Ending::Failed(error) => (RunStatus::Failed, None, Some(error)),
    };
    ledger::finish_run(conn, run_id, status, checksum, error, tally.rate())
}
