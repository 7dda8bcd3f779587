//! `replay run --workers N`: record each model's run (and, with `--full`, empty its
//! version), run N workers on threads of their own with one connection each until every
//! partition reaches the bound, then finish each model as a single run would. A full
//! rebuild of the version readers use builds beside it, as a single run does (see
//! [`crate::replay::beside`]): the workers write its scratch version, and the coordinator
//! swaps it in, in one transaction with the run's end.

use std::time::{Duration, Instant};

use super::error::WorkersError;
use super::worker::{work, RunBook, Until, WorkerConfig, WorkerStats};
use crate::checksum;
use crate::ledger::{self, RunStatus, Scope};
use crate::registry::Model;
use crate::replay::beside::{self, Beside};
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
        let (execution, beside) = with_conn!(&mut *store, |c| check(c, model, plan, head))?;
        let wanted = partitions_of(model.contract(), partitions);
        let mut model = Begun {
            model,
            execution,
            run: 0,
            of: 0,
            beside,
        };
        (model.run, model.of) = with_conn!(&mut *store, |c| begin(c, &model, plan, wanted))?;
        begun.push(model);
    }
    let bound = begun.iter().map(|b| b.execution.to).max().unwrap_or(head);
    let config = WorkerConfig {
        workers: Some(config.workers.unwrap_or(1)),
        fresh: plan.full,
        beside: begun
            .iter()
            .filter_map(|b| Some((b.model.contract().name, b.beside?.scratch)))
            .collect(),
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
    for (i, model) in begun.iter().enumerate() {
        match finish(store, model, elapsed) {
            Ok(run) => runs.push(run),
            Err(error) => {
                fail_runs(store, &begun[i..], &error.to_string());
                return Err(error);
            }
        }
    }
    Ok(WorkersReport { runs, workers })
}

/// A model's run begun by the coordinator: what it does, its id, its partition count,
/// and whether it rebuilds beside the version readers use.
struct Begun {
    model: &'static dyn Model,
    execution: Execution,
    run: i64,
    of: u32,
    beside: Option<Beside>,
}

impl Begun {
    /// The version the workers write: the model's, or the scratch version beside it.
    fn target(&self) -> i32 {
        self.beside
            .map_or(self.model.contract().version, |b| b.scratch)
    }
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
/// (workers' partitions may be ahead: their workers continue from there); a full rebuild
/// of the version readers use is to build beside it.
fn check<C: Conn>(
    conn: &mut C,
    model: &dyn Model,
    plan: &Plan,
    head: i64,
) -> Result<(Execution, Option<Beside>), ReplayError> {
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
    let whole = execution.delete == Some(RowSet::WholeVersion);
    let beside = beside::scratch_for(conn, contract, whole)?;
    Ok((execution, beside))
}

/// Records the model's run and, for a full rebuild, deletes the rows, checkpoints,
/// leases (and, beside the live version, parked events) of the version it writes, in one
/// transaction; creates that version's leases. Returns the run and the number of
/// partitions in use.
fn begin<C: Conn>(
    conn: &mut C,
    model: &Begun,
    plan: &Plan,
    partitions: u32,
) -> Result<(i64, u32), ReplayError> {
    let (contract, execution) = (model.model.contract(), &model.execution);
    let target = model.target();
    let context = || format!("starting the workers' run of {}", contract.name);
    let record = RunOf {
        contract,
        version: contract.version,
        execution,
        resumed_from: None,
    };
    transaction(conn, context, |c| {
        let run = record.start(c, plan)?;
        if execution.delete.is_some() {
            if model.beside.is_some() {
                beside::clear_parked(c, contract, target)?;
            }
            delete_rows(c, contract, target, RowSet::WholeVersion)?;
            ledger::delete_version_checkpoints(c, contract.name, target)?;
            ledger::delete_leases(c, contract.name, target)?;
            ledger::save_checkpoint(c, contract.name, target, Scope::All, execution.after)?;
        }
        let of = ledger::ensure_leases(c, contract.name, target, partitions)?;
        Ok::<_, ReplayError>((run, of))
    })
}

/// Ends the model's run: its checkpoint at the bound, its checksum, the ledger row; a
/// rebuild beside the live version is swapped in, in the same transaction as the end.
fn finish(store: &mut Store, begun: &Begun, elapsed: Duration) -> Result<RunReport, WorkersError> {
    let contract = begun.model.contract();
    let (version, execution) = (begun.target(), &begun.execution);
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
    let context = || format!("ending the workers' run of {}", contract.name);
    with_conn!(&mut *store, |c| transaction(c, context, |c| {
        finish_checkpoint(c, contract, version, execution, at.unwrap_or(0))?;
        if let Some(beside) = begun.beside {
            beside::swap(c, contract, beside)?;
        }
        let ending = Ending::Succeeded(Some(&sum.digest));
        run_record::end(c, begun.run, ending, &tally)?;
        Ok::<_, ReplayError>(())
    }))?;
    let of = RunOf {
        contract,
        version: contract.version,
        execution,
        resumed_from: None,
    };
    Ok(of.report(begun.run, &tally, RunStatus::Succeeded, sum.digest))
}
