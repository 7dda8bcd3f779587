//! `replay run --workers N`: record each model's run (and, with `--full`, empty its
//! version), run N workers on threads of their own with one connection each until every
//! partition reaches the bound, then finish each model as a single run would.

use std::time::{Duration, Instant};

use super::error::WorkersError;
use super::worker::{work, RunBook, Until, WorkerConfig, WorkerStats};
use crate::checksum;
use crate::ledger::{self, RunStatus, Scope};
use crate::registry::Model;
use crate::replay::execute::finish_checkpoint;
use crate::replay::partition::partitions_of;
use crate::replay::plan::{self, Execution, Plan};
use crate::replay::run_record::{self, Ending, RunOf, Tally};
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
) -> Result<WorkersReport, WorkersError> {
    if !matches!(store, Store::Postgres(_)) {
        return Err(ReplayError::WorkersNeedPostgres.into());
    }
    let started = Instant::now();
    let head = with_conn!(&mut *store, |c| c.settled_head())?;
    let mut begun = Vec::with_capacity(models.len());
    for &model in models {
        let execution = with_conn!(&mut *store, |c| check(c, model, plan, head))?;
        let wanted = partitions_of(model.contract(), partitions);
        let (run, of) = with_conn!(&mut *store, |c| begin(c, model, plan, &execution, wanted))?;
        begun.push(Begun {
            model,
            execution,
            run,
            of,
        });
    }
    let bound = begun.iter().map(|b| b.execution.to).max().unwrap_or(head);
    let config = WorkerConfig {
        workers: Some(config.workers.unwrap_or(1)),
        fresh: plan.full,
        ..config.clone()
    };
    let workers = match spawn_workers(url, &begun, &config, bound, note) {
        Ok(workers) => workers,
        Err(error) => {
            fail_runs(store, &begun, &error.to_string());
            return Err(error);
        }
    };
    let elapsed = started.elapsed();
    let mut runs = Vec::with_capacity(begun.len());
    for model in &begun {
        runs.push(finish(store, model, elapsed)?);
    }
    Ok(WorkersReport { runs, workers })
}

/// A model's run begun by the coordinator: what it does, its id, its partition count.
struct Begun {
    model: &'static dyn Model,
    execution: Execution,
    run: i64,
    of: u32,
}

/// Runs `config.workers` workers on threads of their own, each with its own connection,
/// until every partition reaches `bound`; the first failure stops the others.
fn spawn_workers(
    url: &DatabaseUrl,
    begun: &[Begun],
    config: &WorkerConfig,
    bound: i64,
    note: &(dyn Fn(&str) + Sync),
) -> Result<Vec<WorkerStats>, WorkersError> {
    let split: Vec<(&'static dyn Model, u32)> = begun.iter().map(|b| (b.model, b.of)).collect();
    let book = RunBook::Shared(
        begun
            .iter()
            .map(|b| (b.model.contract().name, b.run))
            .collect(),
    );
    let stop = StopFlag::new();
    let count = config.workers.unwrap_or(1);
    let outcomes: Vec<Result<WorkerStats, WorkersError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..count)
            .map(|i| {
                let (split, book, stop) = (&split, &book, &stop);
                let config = WorkerConfig {
                    owner: format!("{}:{i}", config.owner),
                    ..config.clone()
                };
                let owner = config.owner.clone();
                let handle = scope.spawn(move || -> Result<WorkerStats, WorkersError> {
                    let mut own = Store::open_log_reader(url)?;
                    let until = Until::Bound(bound);
                    let done = work(&mut own, url, split, &config, until, book, stop, note);
                    if done.is_err() {
                        // The others stop at their next pass.
                        stop.set();
                    }
                    Ok(done?)
                });
                (owner, handle)
            })
            .collect();
        handles
            .into_iter()
            .map(|(worker, handle)| {
                handle.join().unwrap_or_else(|panic| {
                    stop.set();
                    let message = crate::replay::handler_guard::message(&panic);
                    Err(WorkersError::WorkerPanicked { worker, message })
                })
            })
            .collect()
    });
    // The first failure is the one to report: the others may only say they stopped.
    outcomes.into_iter().collect()
}

/// Records every model's run as failed with `error` (best effort: a run left `running`
/// is what `--resume` handles).
fn fail_runs(store: &mut Store, begun: &[Begun], error: &str) {
    for model in begun {
        let _ = with_conn!(&mut *store, |c| run_record::end(
            c,
            model.run,
            Ending::Failed(error),
            &Tally::default()
        ));
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
    let record = RunOf {
        contract,
        version,
        execution,
        resumed_from: None,
    };
    transaction(conn, context, |c| {
        let run = record.start(c, plan)?;
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
fn finish(store: &mut Store, begun: &Begun, elapsed: Duration) -> Result<RunReport, WorkersError> {
    let contract = begun.model.contract();
    let (version, execution) = (contract.version, &begun.execution);
    let at = with_conn!(&mut *store, |c| ledger::checkpoint(
        c,
        contract.name,
        version,
        Scope::All
    ))?;
    // The last partition's flush raised the model's checkpoint to the bound.
    if begun.of > 1 && at.unwrap_or(0) < execution.to {
        return Err(ReplayError::InvalidPlan {
            model: contract.name,
            reason: format!(
                "its partitions ended below the bound {} (checkpoint {at:?})",
                execution.to
            ),
        }
        .into());
    }
    with_conn!(&mut *store, |c| finish_checkpoint(
        c,
        contract,
        version,
        execution,
        at.unwrap_or(0)
    ))?;
    let sum: checksum::Checksum = begun.model.checksum(store, version, None)?;
    let record = with_conn!(&mut *store, |c| ledger::recent_runs(c, contract.name, 50))?
        .into_iter()
        .find(|r| r.run_id == begun.run);
    let tally = Tally {
        events_read: record.map_or(0, |r| r.events_read.max(0) as u64),
        rows_written: 0,
        elapsed,
        ..Tally::default()
    };
    let ending = Ending::Succeeded(Some(&sum.digest));
    with_conn!(&mut *store, |c| run_record::end(
        c, begun.run, ending, &tally
    ))?;
    let of = RunOf {
        contract,
        version,
        execution,
        resumed_from: None,
    };
    Ok(of.report(begun.run, &tally, RunStatus::Succeeded, sum.digest))
}
