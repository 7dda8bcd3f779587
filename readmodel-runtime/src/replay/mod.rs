//! The replay engine: events in global id order, through the model's handlers, into its
//! table, one transaction per batch holding the rows and the checkpoint together.
//!
//! A run is planned first ([`plan`]: what the kind and rebuild strategy allow), then
//! executed batch by batch; `--resume` continues the latest unfinished run of a model from
//! its scope's checkpoint, to the bound that run fixed when it started.

mod cache;
pub(crate) mod handler_guard;
pub mod plan;
pub(crate) mod write;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use crate::checksum;
use crate::contract::{Contract, Kind};
use crate::dead_letters::{self, BadEventPolicy};
use crate::error::{ReplayError, StoreError};
use crate::ledger::{self, NewRun, RunStatus};
use crate::rows::{BatchState, Projection, ReadModelRow, Rows};
use crate::source;
use crate::store::Conn;
use crate::versions;

use cache::RowCache;
pub use plan::Plan;
use plan::{Delete, Resolved};
pub(crate) use write::{column_list, delete_scope, entity_key};

/// How a run went.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RunReport {
    /// Model name.
    pub model: &'static str,
    /// Model version written.
    pub version: i32,
    /// Id in `replay_runs`.
    pub run_id: i64,
    /// `all`, `user:<uuid>`, `range:<from>-<to>[:user:<uuid>]`.
    pub scope: String,
    /// Whether rows were deleted first.
    pub full: bool,
    /// First event id considered.
    pub from: i64,
    /// Last event id considered.
    pub to: i64,
    /// Events read from the log (of consumed types, in scope).
    pub events_read: u64,
    /// Rows written or deleted.
    pub rows_written: u64,
    /// Wall time.
    #[serde(serialize_with = "seconds")]
    pub elapsed: Duration,
    /// `succeeded`, or `stopped` when `--max-batches` ended it early.
    pub status: RunStatus,
    /// Checksum of the rows in scope after the run.
    pub checksum: String,
    /// The run this one resumed.
    pub resumed_from: Option<i64>,
}

fn seconds<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

impl RunReport {
    /// Events read per second.
    pub fn events_per_second(&self) -> f64 {
        self.events_read as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Receives progress after each committed batch.
pub trait Progress {
    /// `last_id` of `to` is applied; `events` read so far in this run.
    fn batch(&mut self, model: &str, last_id: i64, to: i64, events: u64);
}

/// Progress that goes nowhere.
#[derive(Debug, Default)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn batch(&mut self, _: &str, _: i64, _: i64, _: u64) {}
}

/// Runs `plan` for projection `P` on one connection (`resume`: continue the latest
/// unfinished run instead).
pub(crate) fn run<P: Projection, C: Conn>(
    conn: &mut C,
    plan: &Plan,
    resume: bool,
    progress: &mut dyn Progress,
) -> Result<RunReport, ReplayError> {
    let contract = P::CONTRACT;
    let version = contract.version;
    crate::store::schema::check_table(conn, contract)?;
    let head = conn.settled_head()?;
    if let Some(user) = plan.user {
        if !source::user_has_events(conn, user)? {
            return Err(ReplayError::UnknownUser { user });
        }
    }
    let (effective, resolved, resumed_from) = if resume {
        let last = ledger::latest_run(conn, contract.name, version)?.ok_or_else(|| {
            ReplayError::NothingToResume {
                model: contract.name,
                reason: "it has no run yet".to_owned(),
            }
        })?;
        if last.status == RunStatus::Succeeded.as_str() {
            return Err(ReplayError::NothingToResume {
                model: contract.name,
                reason: format!("its last run (#{}) succeeded", last.run_id),
            });
        }
        let mut recorded: Plan =
            serde_json::from_str(&last.plan).map_err(|e| ReplayError::NothingToResume {
                model: contract.name,
                reason: format!("run #{} has an unreadable plan ({e})", last.run_id),
            })?;
        recorded.batch_size = plan.batch_size;
        recorded.max_batches = plan.max_batches;
        if plan.on_bad_event == BadEventPolicy::Park {
            recorded.on_bad_event = BadEventPolicy::Park;
        }
        let global = ledger::checkpoint(conn, contract.name, version, ledger::SCOPE_ALL)?;
        let mut resolved = plan::resolve(contract, &recorded, head, global)?;
        resolved.to = last.to_event_id;
        // Only a checkpoint written by the interrupted run (its deletion commits with the
        // first one) is its progress; an older one belongs to an earlier run, and then the
        // interrupted run's deletion never committed and must happen now.
        if let Some((done, written)) =
            ledger::checkpoint_written(conn, contract.name, version, &resolved.scope)?
        {
            if written >= last.started_at || resolved.delete == Delete::Nothing {
                resolved.delete = Delete::Nothing;
                resolved.after = done;
            }
        }
        ledger::mark_abandoned(conn, last.run_id)?;
        (recorded, resolved, Some(last.run_id))
    } else {
        let global = ledger::checkpoint(conn, contract.name, version, ledger::SCOPE_ALL)?;
        (
            plan.clone(),
            plan::resolve(contract, plan, head, global)?,
            None,
        )
    };
    execute::<P, C>(conn, version, &effective, &resolved, resumed_from, progress)
}

/// Rebuilds the whole model as `version` (a scratch version for `verify`) up to `to`.
pub(crate) fn rebuild_as<P: Projection, C: Conn>(
    conn: &mut C,
    version: i32,
    to: i64,
) -> Result<RunReport, ReplayError> {
    let contract = P::CONTRACT;
    // Events parked in the live version are parked again here, so the comparison is of
    // what the log can rebuild.
    let plan = Plan {
        full: true,
        to: Some(to),
        on_bad_event: BadEventPolicy::Park,
        ..Plan::default()
    };
    let resolved = Resolved {
        scope: ledger::SCOPE_ALL.to_owned(),
        delete: Delete::Version,
        after: contract.replay_start_version.saturating_sub(1).max(0),
        to,
        user: None,
    };
    execute::<P, C>(conn, version, &plan, &resolved, None, &mut NoProgress)
}

fn execute<P: Projection, C: Conn>(
    conn: &mut C,
    version: i32,
    plan: &Plan,
    resolved: &Resolved,
    resumed_from: Option<i64>,
    progress: &mut dyn Progress,
) -> Result<RunReport, ReplayError> {
    let started = Instant::now();
    let contract = P::CONTRACT;
    let run_id = ledger::start_run(
        conn,
        &NewRun {
            model: contract.name,
            version,
            scope: &resolved.scope,
            full: resolved.delete != Delete::Nothing,
            from: resolved.after + 1,
            to: resolved.to,
            plan,
            resumed_from,
        },
    )?;
    let mut events_read = 0u64;
    let mut rows_written = 0u64;
    let mut applied_in = Duration::ZERO;
    let outcome = (|| -> Result<(RunStatus, String), ReplayError> {
        if resolved.delete != Delete::Nothing {
            conn.transaction::<_, StoreError, _>(|c| {
                write::delete_scope(c, contract, version, resolved.delete)?;
                ledger::save_checkpoint(c, contract.name, version, &resolved.scope, resolved.after)
            })?;
        }
        let mut after = resolved.after;
        let mut batches = 0u64;
        let mut cache =
            RowCache::<P::Row>::new(resolved.delete == Delete::Version, cache::DEFAULT_CAPACITY);
        while after < resolved.to {
            if plan.max_batches.is_some_and(|max| batches >= max) {
                applied_in = started.elapsed();
                return Ok((RunStatus::Stopped, String::new()));
            }
            let batch = conn.transaction::<_, ReplayError, _>(|c| {
                apply_batch::<P, C>(c, version, resolved, plan, run_id, after, &mut cache)
            })?;
            let Some(batch) = batch else { break };
            batches += 1;
            after = batch.last_id;
            events_read += batch.events;
            rows_written += batch.rows;
            progress.batch(contract.name, after, resolved.to, events_read);
        }
        if resolved.is_whole_model() {
            if after < resolved.to {
                // The tail of the log holds no event this model consumes.
                ledger::save_checkpoint(
                    conn,
                    contract.name,
                    version,
                    &resolved.scope,
                    resolved.to,
                )?;
            }
            if version == contract.version {
                versions::activate_if_none(conn, contract.name, version)?;
            }
        } else {
            ledger::delete_checkpoint(conn, contract.name, version, &resolved.scope)?;
        }
        // The checksum is bookkeeping: keep it out of the replay's measured rate.
        applied_in = started.elapsed();
        let sum = checksum::of_rows::<P::Row, C>(conn, contract, version, resolved.user)?;
        Ok((RunStatus::Succeeded, sum.digest))
    })();
    if applied_in.is_zero() {
        applied_in = started.elapsed();
    }
    let rate = events_read as f64 / applied_in.as_secs_f64().max(1e-9);
    let finished = match &outcome {
        Ok((status, checksum)) => {
            ledger::finish_run(conn, run_id, *status, Some(checksum), None, rate)
        }
        Err(error) => ledger::finish_run(
            conn,
            run_id,
            RunStatus::Failed,
            None,
            Some(&error.to_string()),
            rate,
        ),
    };
    let (status, checksum) = outcome?;
    finished?;
    Ok(RunReport {
        model: contract.name,
        version,
        run_id,
        scope: resolved.scope.clone(),
        full: resolved.delete != Delete::Nothing,
        from: resolved.after + 1,
        to: resolved.to,
        events_read,
        rows_written,
        elapsed: applied_in,
        status,
        checksum,
        resumed_from,
    })
}

type Prefetched<R> = BTreeMap<<R as ReadModelRow>::Key, Option<R>>;

/// Loads, in a few statements, the rows a batch's handlers will read.
///
/// Which rows a handler reads is only known by running it, so the handlers first run over
/// the batch against an empty table, recording every key they ask for; those rows are
/// then loaded at once (absent ones remembered as absent). A key the real pass asks for
/// that the first pass did not (because it depended on a row's content) is loaded on its
/// own. Timeline handlers read no rows.
fn prefetch<P: Projection, C: Conn>(
    conn: &mut C,
    version: i32,
    events: &[crate::event::StoredEvent],
    cache: &RowCache<P::Row>,
) -> Result<Prefetched<P::Row>, ReplayError> {
    let contract = P::CONTRACT;
    let mut prefetched = BTreeMap::new();
    if contract.kind == Kind::Timeline || cache.is_complete() {
        return Ok(prefetched);
    }
    let mut wanted = BTreeSet::new();
    {
        let mut scratch = BatchState::<P::Row>::default();
        let mut record = |key: &<P::Row as ReadModelRow>::Key| match cache.known(key) {
            Some(known) => Ok(known),
            None => {
                wanted.insert(key.clone());
                Ok(None)
            }
        };
        for event in events {
            let mut rows = Rows::new(&mut scratch, &mut record);
            // Undecodable events, and handlers that panic on this speculative pass's
            // stand-in rows, are the real pass's to report; after a panic the scratch
            // state is unreliable, so the rest of the batch loads lazily.
            let discovered = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                handler_guard::run(|| P::apply(event, &mut rows))
            }));
            if discovered.is_err() {
                break;
            }
        }
    }
    let keys: Vec<_> = wanted.into_iter().collect();
    let found = write::load_rows::<P::Row, C>(conn, contract, version, &keys)?;
    prefetched.extend(keys.into_iter().map(|key| (key, None)));
    prefetched.extend(found.into_iter().map(|row| (row.key(), Some(row))));
    Ok(prefetched)
}

struct BatchDone {
    last_id: i64,
    events: u64,
    rows: u64,
}

fn apply_batch<P: Projection, C: Conn>(
    conn: &mut C,
    version: i32,
    resolved: &Resolved,
    plan: &Plan,
    run_id: i64,
    after: i64,
    cache: &mut RowCache<P::Row>,
) -> Result<Option<BatchDone>, ReplayError> {
    let contract: &Contract = P::CONTRACT;
    let events = source::next_batch(
        conn,
        contract,
        after,
        resolved.to,
        resolved.user,
        plan.batch_size.max(1),
    )?;
    let Some(last) = events.last() else {
        return Ok(None);
    };
    let last_id = last.id;
    let mut prefetched = prefetch::<P, C>(conn, version, &events, cache)?;
    let mut state = BatchState::<P::Row>::default();
    let mut parked = Vec::new();
    {
        let mut load = |key: &<P::Row as ReadModelRow>::Key| {
            if let Some(known) = cache.known(key) {
                return Ok(known);
            }
            match prefetched.remove(key) {
                Some(found) => Ok(found),
                None => write::load_row::<P::Row, C>(conn, contract, version, key),
            }
        };
        let mut previous = after;
        for event in &events {
            if event.id <= previous {
                return Err(ReplayError::OutOfOrder {
                    model: contract.name,
                    id: event.id,
                    previous,
                });
            }
            previous = event.id;
            let mut rows = Rows::new(&mut state, &mut load);
            let applied = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                handler_guard::run(|| P::apply(event, &mut rows))
            }))
            .map_err(|panic| ReplayError::HandlerPanicked {
                model: contract.name,
                id: event.id,
                event_type: event.event_type.clone(),
                message: handler_guard::message(&panic),
            })?;
            match applied {
                Ok(()) => {}
                // Decoding fails before the handler runs, so the event changed nothing.
                Err(source) if plan.on_bad_event == BadEventPolicy::Park => {
                    parked.push((event, source.reason));
                }
                Err(source) => {
                    return Err(ReplayError::Decode {
                        model: contract.name,
                        source,
                    })
                }
            }
            if let Some(failure) = state.failure.take() {
                return Err(failure.into());
            }
        }
    }
    let rows = write::write_rows::<P::Row, C>(conn, contract, version, resolved.user, &state)?;
    cache.absorb(state);
    for (event, reason) in &parked {
        dead_letters::park(conn, contract.name, version, event, reason)?;
    }
    ledger::advance_checkpoint(
        conn,
        contract.name,
        version,
        &resolved.scope,
        after,
        last_id,
    )?;
    let count = events.len() as i64;
    ledger::count_batch(conn, run_id, count, count - parked.len() as i64)?;
    Ok(Some(BatchDone {
        last_id,
        events: events.len() as u64,
        rows,
    }))
}
