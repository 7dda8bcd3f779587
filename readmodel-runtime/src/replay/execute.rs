//! Executing a checked plan: record the run, delete the rows it rebuilds, apply batches
//! up to its bound, then record how it ended with the rows' checksum.

use std::time::Instant;

use super::batch::apply_batch;
use super::cache::{self, RowCache};
use super::error::ReplayError;
use super::plan::{Execution, Plan};
use super::report::{Progress, RunReport};
use super::run_record::{self, Ending, RunOf, Tally};
use crate::checksum;
use crate::ledger::{self, RunStatus};
use crate::rows::Projection;
use crate::store::rows::{delete_rows, RowSet};
use crate::store::{transaction, Conn};
use crate::versions;

/// One run to execute: the plan recorded with it, what it does, and what it continues.
pub(super) struct Run {
    /// The plan, recorded in `replay_runs` for `--resume`.
    pub(super) plan: Plan,
    /// The plan checked against the model, the log and the checkpoint.
    pub(super) execution: Execution,
    /// The interrupted run this one continues.
    pub(super) resumed_from: Option<i64>,
}

/// Executes `run` as `version` of `P`, recording it in `replay_runs` whatever happens.
pub(super) fn execute<P: Projection, C: Conn>(
    conn: &mut C,
    version: i32,
    run: &Run,
    progress: &mut dyn Progress,
) -> Result<RunReport, ReplayError> {
    let started = Instant::now();
    let record = RunOf {
        contract: P::CONTRACT,
        version,
        execution: &run.execution,
        resumed_from: run.resumed_from,
    };
    let run_id = record.start(conn, &run.plan)?;
    let mut tally = Tally::default();
    let outcome = replay::<P, C>(conn, version, run, run_id, progress, started, &mut tally);
    if tally.elapsed.is_zero() {
        tally.elapsed = started.elapsed();
    }
    let failure = outcome.as_ref().err().map(ToString::to_string);
    let ending = match (&outcome, &failure) {
        (Ok((RunStatus::Stopped, _)), _) => Ending::Stopped,
        (Ok((_, checksum)), _) => Ending::Succeeded(Some(checksum)),
        (Err(_), error) => Ending::Failed(error.as_deref().unwrap_or_default()),
    };
    let ended = run_record::end(conn, run_id, ending, &tally);
    let (status, checksum) = outcome?;
    ended?;
    Ok(record.report(run_id, &tally, status, checksum))
}

/// Deletes, applies every batch, and finishes the checkpoint; returns how the run ended
/// and the checksum of the rows in scope (empty when stopped early).
///
/// A run of one user's or one range's rows is all or nothing, in one transaction (each
/// batch a savepoint in it): a refusal half-way, such as a handler writing another user's
/// row, leaves those rows as they were instead of deleted. A whole-model run commits batch
/// by batch, so a crash keeps its progress for `--resume`.
fn replay<P: Projection, C: Conn>(
    conn: &mut C,
    version: i32,
    run: &Run,
    run_id: i64,
    progress: &mut dyn Progress,
    started: Instant,
    tally: &mut Tally,
) -> Result<(RunStatus, String), ReplayError> {
    if run.execution.is_whole_model() {
        return replay_rows::<P, C>(conn, version, run, run_id, progress, started, tally);
    }
    let context = || format!("rebuilding {} of {}", run.execution.scope, P::CONTRACT.name);
    transaction(conn, context, |c| {
        replay_rows::<P, C>(c, version, run, run_id, progress, started, tally)
    })
}

fn replay_rows<P: Projection, C: Conn>(
    conn: &mut C,
    version: i32,
    run: &Run,
    run_id: i64,
    progress: &mut dyn Progress,
    started: Instant,
    tally: &mut Tally,
) -> Result<(RunStatus, String), ReplayError> {
    let contract = P::CONTRACT;
    let (plan, execution) = (&run.plan, &run.execution);
    if let Some(rows) = execution.delete {
        delete_in_scope::<C>(conn, contract, version, execution, rows)?;
    }
    let mut after = execution.after;
    let mut batches = 0u64;
    let complete = execution.delete == Some(RowSet::WholeVersion);
    let share = cache::CacheShare::new(cache::DEFAULT_CAPACITY);
    let mut cache = RowCache::<P::Row>::new(complete, &share);
    while after < execution.to {
        if plan.max_batches.is_some_and(|max| batches >= max) {
            tally.elapsed = started.elapsed();
            return Ok((RunStatus::Stopped, String::new()));
        }
        let context = || format!("applying a batch of {} after event {after}", contract.name);
        let batch = transaction(conn, context, |c| {
            apply_batch::<P, C>(c, version, execution, plan, run_id, after, &mut cache)
        })?;
        let Some(batch) = batch else { break };
        batches += 1;
        after = batch.last_id;
        tally.events_read += batch.events;
        tally.rows_written += batch.rows;
        progress.batch(contract.name, after, execution.to, tally.events_read);
    }
    finish_checkpoint(conn, contract, version, execution, after)?;
    // The checksum is bookkeeping: keep it out of the replay's measured rate.
    tally.elapsed = started.elapsed();
    let sum = checksum::of_rows::<P::Row, C>(conn, contract, version, execution.user)?;
    Ok((RunStatus::Succeeded, sum.digest))
}

/// Deletes the rows the run rebuilds, with its first checkpoint, in one transaction.
pub(super) fn delete_in_scope<C: Conn>(
    conn: &mut C,
    contract: &crate::Contract,
    version: i32,
    execution: &Execution,
    rows: RowSet,
) -> Result<(), ReplayError> {
    let context = || format!("deleting the rows of {} to rebuild", contract.name);
    transaction(conn, context, |c| {
        delete_rows(c, contract, version, rows)?;
        if rows == RowSet::WholeVersion {
            // Workers' partitions of the version start afresh too.
            ledger::delete_version_checkpoints(c, contract.name, version)?;
            ledger::delete_leases(c, contract.name, version)?;
        }
        ledger::save_checkpoint(c, contract.name, version, execution.scope, execution.after)
    })?;
    Ok(())
}

/// After the last batch: a whole-model run's checkpoint reaches its bound and its version
/// becomes active if none is; a partial run's own checkpoint is removed.
pub(crate) fn finish_checkpoint<C: Conn>(
    conn: &mut C,
    contract: &crate::Contract,
    version: i32,
    execution: &Execution,
    after: i64,
) -> Result<(), ReplayError> {
    if !execution.is_whole_model() {
        ledger::delete_checkpoint(conn, contract.name, version, execution.scope)?;
        return Ok(());
    }
    if after < execution.to {
        // The tail of the log holds no event this model consumes.
        ledger::save_checkpoint(conn, contract.name, version, execution.scope, execution.to)?;
    }
    if version == contract.version {
        versions::activate_if_none(conn, contract.name, version)?;
    }
    Ok(())
}
