//! `replay run --workers N`: record each model's run (and, with `--full`, empty its
//! version), run N workers on threads of their own with one connection each until every
//! partition reaches the bound, then finish each model as a single run would.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use super::worker::{work, RunBook, Until, WorkerConfig, WorkerStats};
use crate::checksum;
use crate::ledger::{self, NewRun, RunStatus, Scope};
use crate::registry::Model;
use crate::replay::execute::finish_checkpoint;
use crate::replay::partition::partitions_of;
use crate::replay::plan::{self, Execution, Plan};
use crate::replay::{ReplayError, RunReport};
use crate::stop::StopFlag;
use crate::store::rows::{delete_rows, RowSet};
use crate::store::{transaction, with_conn, Conn, DatabaseUrl, Store};

/// What `run --workers N` did: each model's run, and each worker's figures.
#[derive(Debug, Clone)]
pub struct WorkersReport {
    /// One run per model, as a single-process run reports it.
    pub runs: Vec<RunReport>,
    /// One entry per worker.
    pub workers: Vec<WorkerStats>,
}

/// Runs `plan` (a new run of whole models: catch-up or `--full`, up to `--to`) for
/// `models` with `config.workers` workers, each model split into `partitions` when it
/// can be. PostgreSQL only.
pub fn run_workers(
    store: &mut Store,
    url: &DatabaseUrl,
    models: &[&'static dyn Model],
    plan: &Plan,
    partitions: u32,
    config: &WorkerConfig,
    note: &(dyn Fn(&str) + Sync),
) -> Result<WorkersReport, ReplayError> {
    if !matches!(store, Store::Postgres(_)) {
        return Err(ReplayError::WorkersNeedPostgres);
    }
    let started = Instant::now();
    let head = with_conn!(&mut *store, |c| c.settled_head())?;
    let mut prepared = Vec::with_capacity(models.len());
    for &model in models {
        prepared.push(with_conn!(&mut *store, |c| check(c, model, plan, head))?);
    }
    let bound = prepared.iter().map(|e| e.to).max().unwrap_or(head);
    let mut split = Vec::with_capacity(models.len());
    let mut runs = HashMap::new();
    for (&model, execution) in models.iter().zip(&prepared) {
        let wanted = partitions_of(model.contract(), partitions);
        let (run, of) = with_conn!(&mut *store, |c| begin(c, model, plan, execution, wanted))?;
        runs.insert(model.contract().name, run);
        split.push((model, of));
    }
    let book = RunBook::Shared(runs.clone());
    let stop = StopFlag::new();
    let config = WorkerConfig {
        workers: Some(config.workers.unwrap_or(1)),
        fresh: plan.full,
        ..config.clone()
    };
    let count = config.workers.unwrap_or(1);
    let outcomes: Vec<Result<WorkerStats, ReplayError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..count)
            .map(|i| {
                let (split, book, stop) = (&split, &book, &stop);
                let config = WorkerConfig {
                    owner: format!("{}:{i}", config.owner),
                    ..config.clone()
                };
                scope.spawn(move || {
                    let mut own = Store::open_log_reader(url)?;
                    let until = Until::Bound(bound);
                    let done = work(&mut own, url, split, &config, until, book, stop, note);
                    if done.is_err() {
                        // The others stop at their next pass.
                        stop.set();
                    }
                    done
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err(panicked())))
            .collect()
    });
    let mut workers = Vec::with_capacity(count);
    let mut failure = None;
    for outcome in outcomes {
        match outcome {
            Ok(stats) => workers.push(stats),
            Err(error) => failure = failure.or(Some(error)),
        }
    }
    let elapsed = started.elapsed();
    if failure.is_none() && stop.is_set() {
        failure = Some(panicked());
    }
    if let Some(error) = failure {
        let text = error.to_string();
        for run in runs.values() {
            let _ = with_conn!(&mut *store, |c| ledger::finish_run(
                c,
                *run,
                RunStatus::Failed,
                None,
                Some(&text),
                0.0
            ));
        }
        return Err(error);
    }
    let mut reports = Vec::with_capacity(models.len());
    for ((&model, execution), (_, of)) in models.iter().zip(&prepared).zip(&split) {
        let run = runs[model.contract().name];
        reports.push(finish(store, model, execution, run, *of, elapsed)?);
    }
    Ok(WorkersReport {
        runs: reports,
        workers,
    })
}

fn panicked() -> ReplayError {
    ReplayError::InvalidPlan {
        model: "workers",
        reason: "a worker thread panicked".to_owned(),
    }
}

/// Checks `plan` for `model` against the log's `head` and its checkpoint, as a run would
/// (workers' partitions may be ahead: their workers continue from there).
fn check<C: Conn>(
    conn: &mut C,
    model: &dyn Model,
    plan: &Plan,
    head: i64,
) -> Result<Execution, ReplayError> {
    let contract = model.contract();
    crate::store::schema::check_table(conn, contract)?;
    let global = ledger::checkpoint(conn, contract.name, contract.version, Scope::All)?;
    let execution = plan::resolve(contract, plan, head, global)?;
    if execution.scope != Scope::All {
        return Err(ReplayError::InvalidPlan {
            model: contract.name,
            reason: "--workers runs whole models: catch-up or --full".to_owned(),
        });
    }
    Ok(execution)
}

/// Records the model's run and, for a full rebuild, deletes its version's rows,
/// checkpoints and leases, in one transaction; creates its leases. Returns the run and
/// the number of partitions in use.
fn begin<C: Conn>(
    conn: &mut C,
    model: &dyn Model,
    plan: &Plan,
    execution: &Execution,
    partitions: u32,
) -> Result<(i64, u32), ReplayError> {
    let contract = model.contract();
    let version = contract.version;
    let context = || format!("starting the workers' run of {}", contract.name);
    transaction(conn, context, |c| {
        let run = ledger::start_run(
            c,
            &NewRun {
                model: contract.name,
                version,
                scope: Scope::All,
                full: execution.delete.is_some(),
                from: execution.after + 1,
                to: execution.to,
                plan_json: serde_json::to_string(plan).unwrap_or_else(|_| "{}".to_owned()),
                resumed_from: None,
            },
        )?;
        if execution.delete.is_some() {
            delete_rows(c, contract, version, RowSet::WholeVersion)?;
            ledger::delete_version_checkpoints(c, contract.name, version)?;
            ledger::delete_leases(c, contract.name, version)?;
            ledger::save_checkpoint(c, contract.name, version, Scope::All, execution.after)?;
        }
        let of = ledger::ensure_leases(c, contract.name, version, partitions)?;
        Ok::<_, ReplayError>((run, of))
    })
}

/// Ends the model's run: its checkpoint at the bound, its checksum, the ledger row.
fn finish(
    store: &mut Store,
    model: &dyn Model,
    execution: &Execution,
    run: i64,
    partitions: u32,
    elapsed: Duration,
) -> Result<RunReport, ReplayError> {
    let contract = model.contract();
    let version = contract.version;
    let at = with_conn!(&mut *store, |c| ledger::checkpoint(
        c,
        contract.name,
        version,
        Scope::All
    ))?;
    // The last partition's flush raised the model's checkpoint to the bound.
    if partitions > 1 && at.unwrap_or(0) < execution.to {
        return Err(ReplayError::InvalidPlan {
            model: contract.name,
            reason: format!(
                "its partitions ended below the bound {} (checkpoint {at:?})",
                execution.to
            ),
        });
    }
    with_conn!(&mut *store, |c| finish_checkpoint(
        c,
        contract,
        version,
        execution,
        at.unwrap_or(0)
    ))?;
    let sum: checksum::Checksum = model.checksum(store, version, None)?;
    let record = with_conn!(&mut *store, |c| ledger::recent_runs(c, contract.name, 50))?
        .into_iter()
        .find(|r| r.run_id == run);
    let events_read = record.map_or(0, |r| r.events_read.max(0) as u64);
    let rate = events_read as f64 / elapsed.as_secs_f64().max(1e-9);
    with_conn!(&mut *store, |c| ledger::finish_run(
        c,
        run,
        RunStatus::Succeeded,
        Some(&sum.digest),
        None,
        rate
    ))?;
    Ok(RunReport {
        model: contract.name,
        version,
        run_id: run,
        scope: Scope::All,
        full: execution.delete.is_some(),
        from: execution.after + 1,
        to: execution.to,
        events_read,
        rows_written: 0,
        elapsed,
        status: RunStatus::Succeeded,
        checksum: sum.digest,
        resumed_from: None,
    })
}
