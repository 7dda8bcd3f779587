//! One model in a pass: its run, the rows its handlers changed since the last flush, and
//! the rows carried from one flush to the next.

use std::cell::Cell;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use super::super::apply::{self, load_failed, Prefetched};
use super::super::beside;
use super::super::cache::{CacheShare, RowCache};
use super::super::error::ReplayError;
use super::super::execute::{self, delete_in_scope, finish_checkpoint};
use super::super::partition;
use super::super::plan::{self, BadEventPolicy, Execution, Plan};
use super::super::report::{Progress, RunReport};
use super::super::resume;
use super::super::run_record::{self, Ending, RunOf, Tally};
use super::super::write::{BatchEnd, RowWrites};
use super::flush::FlushJob;
use super::stages::{self, Stage};
use super::writer::WriteQueue;
use crate::checksum;
use crate::contract::{Contract, Kind};
use crate::event::StoredEvent;
use crate::ledger::{self, RunStatus, Scope};
use crate::metrics::{LaneFlush, Series};
use crate::rows::{BatchState, Projection, ReadModelRow};
use crate::store::rows::{load_row, load_rows, RowSet};
use crate::store::temp_files;
use crate::store::{transaction, user_index, with_conn, Conn, Store};

/// One model's share of a pass over the log, behind an object-safe face so that a pass
/// can hold models of different row types. Created by [`Model::lane`](crate::Model::lane).
#[doc(hidden)]
pub trait Lane {
    /// The model's contract.
    fn contract(&self) -> &'static Contract;
    /// Records the run and deletes the rows it rebuilds (with its first checkpoint).
    fn start(&mut self, store: &mut Store) -> Result<(), ReplayError>;
    /// Events with ids above this one are still to be applied.
    fn applied(&self) -> i64;
    /// The last event id of the run.
    fn to(&self) -> i64;
    /// Applies `events` (this model's types, in id order) that lie in its range, and
    /// moves its position to `through` (or its bound).
    fn apply(
        &mut self,
        db: &WriteQueue<'_, '_>,
        events: &[&StoredEvent],
        through: i64,
    ) -> Result<(), ReplayError>;
    /// Events applied so far.
    fn events_read(&self) -> u64;
    /// Rows held since the last flush (read or changed).
    fn pending_rows(&self) -> usize;
    /// Writes, in the pass's open transaction, the rows no later event can change
    /// (a timeline's: its handlers never read rows), so that memory holds only rows that
    /// may still change before the flush.
    fn spill(&mut self, db: &WriteQueue<'_, '_>) -> Result<(), ReplayError>;
    /// Queues the changed rows, parked events and checkpoint for writing in the pass's
    /// transaction; returns the rows written.
    fn write(&mut self, db: &WriteQueue<'_, '_>) -> Result<u64, ReplayError>;
    /// The transaction of [`Lane::write`] committed with `rows` written.
    fn committed(&mut self, rows: u64);
    /// Forgets what was applied since the last flush (it will not be written).
    fn discard(&mut self);
    /// Ends the run: checkpoint to its bound, checksum and ledger row; `stopped` when the
    /// batch limit ended it early.
    fn finish(
        &mut self,
        store: &mut Store,
        stopped: bool,
        elapsed: Duration,
    ) -> Result<RunReport, ReplayError>;
    /// The checksum of the rows a run of the whole model ends with, to compute on another
    /// connection before [`Lane::finish`] (`None`: the lane has none to give).
    fn checksum_job(&self) -> Option<ChecksumJob> {
        None
    }
    /// The digest [`Lane::checksum_job`] computed, for [`Lane::finish`] to record.
    fn checksummed(&mut self, _digest: String) {}
    /// Frees the rows carried between flushes (and the filters of dropped keys): the
    /// pass is over, and what follows it (the `user_id` indexes, the checksums on
    /// connections of their own) should not find them still held.
    fn release_cache(&mut self) {}
    /// Leaves out the `(user_id, model_version)` index of the model's table while the
    /// run fills it, when the run rebuilds the whole model into a table with no row (see
    /// `store::user_index`).
    fn defer_user_index(&mut self, _store: &mut Store) -> Result<(), ReplayError> {
        Ok(())
    }
    /// Builds the index [`Lane::defer_user_index`] left out, whatever ended the run.
    fn build_user_index(&mut self, _store: &mut Store) -> Result<(), ReplayError> {
        Ok(())
    }
    /// Records the run as failed with `error`.
    fn fail(&mut self, store: &mut Store, error: &str, elapsed: Duration);
    /// Moves the run's bound up to `to` (a following pass: the new settled head), in the
    /// ledger too, within the pass's open transaction.
    fn extend_to(&mut self, db: &WriteQueue<'_, '_>, to: i64) -> Result<(), ReplayError>;
    /// The partition (index, of) whose users' events this lane applies, when the model is
    /// split; the pass hands it only those.
    fn partition(&self) -> Option<(u32, u32)> {
        None
    }
    /// What the next flush commits, for the metrics (its rows: none yet); `None` when
    /// the lane has not moved since its last flush.
    fn flushing(&self) -> Option<LaneFlush>;
}

/// Computes a model version's checksum on the connection it is given.
#[doc(hidden)]
pub(crate) type ChecksumJob = Box<dyn FnOnce(&mut Store) -> Result<String, ReplayError> + Send>;

/// A worker's share of a model: one partition of it (see `replay::partition`), whose
/// events it applies from the partition's own checkpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Share {
    /// The partition, `0..of`.
    pub index: u32,
    /// How many partitions the model is split into (1: the whole model).
    pub of: u32,
    /// The run its events count into, recorded and ended by the worker (or, for
    /// `run --workers`, by the coordinator: one per model).
    pub run: i64,
    /// The version's rows were deleted for this rebuild: a partition still at the start
    /// holds no row, so no row needs loading.
    pub fresh: bool,
    /// The version its rows and checkpoints go to: the model's, or the scratch version of
    /// a full rebuild beside the version readers use (`run --full --workers N`).
    pub version: i32,
}

/// A model's lane: prepared by [`prepare`], started by [`Lane::start`].
pub(crate) struct ModelLane<P: Projection> {
    /// The version whose rows the lane writes: the model's, or the scratch version a full
    /// rebuild of the live one builds beside it.
    version: i32,
    /// The live version a rebuild beside it swaps into when it reaches its bound (see
    /// `replay::beside`); its run is recorded under the live version.
    beside: Option<beside::Beside>,
    plan: Plan,
    execution: Execution,
    run_id: i64,
    /// The checkpoint committed last.
    flushed: i64,
    /// The scope's checkpoint as stored, which the next flush moves by compare-and-set.
    /// It is `flushed` but for a worker's partition whose own row lags the model's
    /// checkpoint (a single-process run moved the model past it): the lane starts at the
    /// model's, and its first flush moves the partition's row up from where it was.
    stored: i64,
    /// The position applied (in memory) so far.
    applied: i64,
    state: BatchState<P::Row>,
    cache: RowCache<P::Row>,
    parked: Vec<(StoredEvent, String)>,
    /// Rows written by [`Lane::spill`] since the last flush (not yet committed).
    spilled: u64,
    unflushed_events: i64,
    events_read: u64,
    rows_written: u64,
    /// Flushes that moved the checkpoint, and bad events they parked.
    flushes: u64,
    parked_total: u64,
    /// Bad events the flush being written parks.
    parked_flushing: u64,
    /// The rows' checksum, computed on another connection after the pass.
    checksum: Option<String>,
    /// A worker's partition; `None` for a run of the whole model.
    share: Option<Share>,
    /// The interrupted run this one continues (`--resume`).
    resumed_from: Option<i64>,
    /// The table's user index is left out until the run ends.
    deferred_user_index: bool,
    /// The run rebuilds the whole model from its start: its rows are new to the
    /// planner, whose statistics are gathered before they are read back.
    rebuilt_from_start: bool,
    _model: PhantomData<fn() -> P>,
}

/// Checks `plan` for `P` against the log's `head` and the model's checkpoint; nothing is
/// written. `cache_share` bounds the rows carried between flushes and the filters of
/// the keys dropped.
pub(crate) fn prepare<P: Projection>(
    store: &mut Store,
    plan: &Plan,
    head: i64,
    cache_share: &CacheShare,
) -> Result<Box<dyn Lane>, ReplayError> {
    let contract = P::CONTRACT;
    let version = contract.version;
    let (execution, scratch) = with_conn!(store, |c| {
        crate::store::schema::check_table(c, contract)?;
        let global = ledger::checkpoint(c, contract.name, version, Scope::All)?;
        let execution = plan::resolve(contract, plan, head, global)?;
        partition::refuse_if_workers_ahead(c, contract, version, global, &execution)?;
        let whole = execution.delete == Some(RowSet::WholeVersion) && execution.is_whole_model();
        (execution, beside::scratch_for(c, contract, whole)?)
    });
    let complete = execution.delete == Some(RowSet::WholeVersion);
    let stored = execution.after;
    let lane = ModelLane::<P>::new(plan, execution, stored, complete, cache_share, 0, None);
    Ok(Box::new(lane.beside(scratch)))
}

/// A lane rebuilding the whole of `P` as `version` (a scratch version for `verify`) up
/// to `to` under `plan`; nothing is written.
pub(crate) fn prepare_rebuild<P: Projection>(
    plan: &Plan,
    version: i32,
    to: i64,
    cache_share: &CacheShare,
) -> Box<dyn Lane> {
    let after = P::CONTRACT.start_after();
    let execution = Execution {
        scope: Scope::All,
        delete: Some(RowSet::WholeVersion),
        after,
        to: to.max(after),
        user: None,
    };
    let mut lane = ModelLane::<P>::new(plan, execution, after, true, cache_share, 0, None);
    lane.version = version;
    Box::new(lane)
}

/// What continuing a model's latest unfinished run gives.
pub enum Resumed {
    /// A run of the whole model, to continue in a pass.
    Lane(Box<dyn Lane>),
    /// A run of one user's or one range's rows, run to its end already (all or nothing).
    Ran(RunReport),
}

/// Continues `P`'s latest unfinished run with the plan it recorded (see
/// `replay::resume`), marking that one abandoned.
pub(crate) fn prepare_resumed<P: Projection>(
    store: &mut Store,
    plan: &Plan,
    head: i64,
    cache_share: &CacheShare,
    progress: &mut dyn Progress,
) -> Result<Resumed, ReplayError> {
    let contract = P::CONTRACT;
    let (run, scratch) = with_conn!(store, |c| {
        crate::store::schema::check_table(c, contract)?;
        resume::prepare(c, contract, plan, head)
    })?;
    if !run.execution.is_whole_model() {
        let report = with_conn!(store, |c| execute::execute::<P, _>(
            c,
            contract.version,
            &run,
            progress
        ))?;
        return Ok(Resumed::Ran(report));
    }
    let complete = run.execution.delete == Some(RowSet::WholeVersion);
    let stored = run.execution.after;
    let mut lane = ModelLane::<P>::new(
        &run.plan,
        run.execution,
        stored,
        complete,
        cache_share,
        0,
        None,
    );
    lane.resumed_from = run.resumed_from;
    Ok(Resumed::Lane(Box::new(lane.beside(scratch))))
}

/// Prepares a worker's lane of one partition of `P` (`share`), from the partition's
/// checkpoint or the model's, whichever is further, to `to`; nothing is written.
pub(crate) fn prepare_share<P: Projection>(
    store: &mut Store,
    plan: &Plan,
    to: i64,
    cache_share: &CacheShare,
    share: Share,
) -> Result<Box<dyn Lane>, ReplayError> {
    let contract = P::CONTRACT;
    let version = share.version;
    let scope = ledger::scope_of(share.index, share.of);
    let (global, own) = with_conn!(store, |c| {
        crate::store::schema::check_table(c, contract)?;
        let global = ledger::checkpoint(c, contract.name, version, Scope::All)?;
        let own = match scope {
            Scope::All => None,
            scope => ledger::checkpoint(c, contract.name, version, scope)?,
        };
        Ok::<_, ReplayError>((global, own))
    })?;
    let after = global.max(own).unwrap_or(0).max(contract.start_after());
    let execution = Execution {
        scope,
        delete: None,
        after,
        to: to.max(after),
        user: None,
    };
    let complete = share.fresh && after == contract.start_after();
    // Without a row of its own, the first flush inserts one.
    let stored = own.unwrap_or(after);
    let mut lane = ModelLane::<P>::new(
        plan,
        execution,
        stored,
        complete,
        cache_share,
        share.run,
        Some(share),
    );
    lane.version = version;
    Ok(Box::new(lane))
}

impl<P: Projection> ModelLane<P> {
    /// A lane of run `run_id` (0: recorded by [`Lane::start`]) positioned at
    /// `execution.after`; `complete`: the table holds no row of the version but those
    /// this lane writes (nothing to load).
    fn new(
        plan: &Plan,
        execution: Execution,
        stored: i64,
        complete: bool,
        cache_share: &CacheShare,
        run_id: i64,
        share: Option<Share>,
    ) -> Self {
        ModelLane {
            version: P::CONTRACT.version,
            beside: None,
            plan: plan.clone(),
            flushed: execution.after,
            stored,
            applied: execution.after,
            execution,
            run_id,
            state: BatchState::default(),
            cache: RowCache::new(complete, cache_share),
            parked: Vec::new(),
            spilled: 0,
            unflushed_events: 0,
            events_read: 0,
            rows_written: 0,
            flushes: 0,
            parked_total: 0,
            parked_flushing: 0,
            checksum: None,
            share,
            resumed_from: None,
            deferred_user_index: false,
            rebuilt_from_start: false,
            _model: PhantomData,
        }
    }
}

impl<P: Projection> ModelLane<P> {
    /// The lane writing into a scratch version (when `beside` is given) and swapping it
    /// in for the model's version at its end.
    fn beside(mut self, beside: Option<beside::Beside>) -> Self {
        if let Some(beside) = beside {
            self.version = beside.scratch;
            self.beside = Some(beside);
        }
        self
    }
}

impl<P: Projection> Lane for ModelLane<P> {
    fn contract(&self) -> &'static Contract {
        P::CONTRACT
    }

    fn start(&mut self, store: &mut Store) -> Result<(), ReplayError> {
        let contract = P::CONTRACT;
        if self.shares_a_run() {
            return Ok(());
        }
        // A rebuild killed before building the index it deferred left the table without it.
        with_conn!(store, |c| user_index::restore(c, contract))?;
        let execution = &self.execution;
        self.run_id = with_conn!(store, |c| self.record().start(c, &self.plan))?;
        if let (Some(_), Some(_)) = (self.beside, execution.delete) {
            with_conn!(store, |c| beside::clear_parked(c, contract, self.version))?;
        }
        if let Some(rows) = execution.delete {
            let deleted = with_conn!(store, |c| delete_in_scope(
                c,
                contract,
                self.version,
                execution,
                rows
            ));
            if let Err(error) = deleted {
                self.fail(store, &error.to_string(), Duration::ZERO);
                return Err(error);
            }
        }
        Ok(())
    }

    fn applied(&self) -> i64 {
        self.applied
    }

    fn to(&self) -> i64 {
        self.execution.to
    }

    fn apply(
        &mut self,
        db: &WriteQueue<'_, '_>,
        events: &[&StoredEvent],
        through: i64,
    ) -> Result<(), ReplayError> {
        let (after, upto) = (self.applied, through.min(self.execution.to));
        if upto <= after {
            return Ok(());
        }
        let start = events.partition_point(|e| e.id <= after);
        let end = events.partition_point(|e| e.id <= upto);
        let events = &events[start..end];
        self.apply_events(db, events)?;
        self.applied = upto;
        self.unflushed_events += events.len() as i64;
        self.events_read += events.len() as u64;
        Ok(())
    }

    fn events_read(&self) -> u64 {
        self.events_read
    }

    fn pending_rows(&self) -> usize {
        self.state.slots.len()
    }

    fn spill(&mut self, db: &WriteQueue<'_, '_>) -> Result<(), ReplayError> {
        // A worker writes only in its flushes: a write gives its open transaction an id,
        // and a worker paused with one would hold back every reader's settled head (and
        // lock rows its successor writes) until it resumed.
        if P::CONTRACT.kind != Kind::Timeline || self.state.slots.is_empty() || self.share.is_some()
        {
            return Ok(());
        }
        let (contract, version, user) = (P::CONTRACT, self.version, self.execution.user);
        let writes = RowWrites::sort(contract, version, user, &mut self.state, &self.cache)?;
        let rows = writes.len();
        self.spilled += rows;
        self.state = BatchState::default();
        db.queue_rows(rows, move |store| {
            with_conn!(store, |c| writes.write(c)).map(drop)
        })
    }

    fn write(&mut self, db: &WriteQueue<'_, '_>) -> Result<u64, ReplayError> {
        if self.applied == self.flushed {
            return Ok(0);
        }
        self.parked_flushing = self.parked.len() as u64;
        let flush = self.flush_job()?;
        let rows = flush.writes.len();
        db.queue_rows(rows, move |store| with_conn!(store, |c| flush.write(c)))?;
        Ok(rows + std::mem::take(&mut self.spilled))
    }

    fn committed(&mut self, rows: u64) {
        if self.applied != self.flushed {
            self.flushes += 1;
            self.parked_total += std::mem::take(&mut self.parked_flushing);
        }
        self.rows_written += rows;
        self.flushed = self.applied;
        self.stored = self.applied;
        self.unflushed_events = 0;
        self.parked.clear();
        let state = std::mem::take(&mut self.state);
        // Timeline handlers never read rows: carrying theirs would only cost memory.
        if P::CONTRACT.kind != Kind::Timeline {
            let proving = self.cache.is_complete();
            self.cache.absorb(state);
            if proving && !self.cache.is_complete() {
                tracing::debug!(
                    model = P::CONTRACT.name,
                    after = self.applied,
                    "the filter budget is spent: keys not cached are loaded from now on"
                );
                stages::stopped_proving(P::CONTRACT.name);
            }
        }
    }

    fn discard(&mut self) {
        self.parked_flushing = 0;
        self.state = BatchState::default();
        self.cache.distrust();
        self.spilled = 0;
        self.parked.clear();
        self.events_read -= self.unflushed_events as u64;
        self.unflushed_events = 0;
        self.applied = self.flushed;
    }

    fn release_cache(&mut self) {
        // Forgetting every row frees them; a cache that forgot proves no key absent, so
        // a lane that went on would load what it needs (none does: the pass is over).
        let filters = self.cache.filters();
        stages::filters(filters.peak(), filters.total());
        self.cache.distrust();
    }

    fn finish(
        &mut self,
        store: &mut Store,
        stopped: bool,
        elapsed: Duration,
    ) -> Result<RunReport, ReplayError> {
        let tally = self.tally(elapsed);
        let ended = if stopped {
            Ok(None)
        } else if let Some(share) = self.share {
            with_conn!(store, |c| self.complete_share(c, share)).map(|()| None)
        } else {
            with_conn!(store, |c| self.complete(c, &tally)).map(Some)
        };
        let checksum = match ended {
            Ok(checksum) => checksum,
            Err(error) => {
                self.fail(store, &error.to_string(), elapsed);
                return Err(error);
            }
        };
        let (status, ending) = match (stopped, &checksum) {
            (true, _) => (RunStatus::Stopped, Ending::Stopped),
            (false, sum) => (RunStatus::Succeeded, Ending::Succeeded(sum.as_deref())),
        };
        // A rebuild beside the live version ended its run in the swap's transaction.
        let swapped = self.beside.is_some() && !stopped;
        if !self.shares_a_run() && !swapped {
            with_conn!(store, |c| run_record::end(c, self.run_id, ending, &tally))?;
        }
        let checksum = checksum.unwrap_or_default();
        Ok(self.record().report(self.run_id, &tally, status, checksum))
    }

    fn extend_to(&mut self, db: &WriteQueue<'_, '_>, to: i64) -> Result<(), ReplayError> {
        if to <= self.execution.to {
            return Ok(());
        }
        let run_id = self.run_id;
        db.queue(move |store| {
            with_conn!(store, |c| ledger::extend_run(c, run_id, to))?;
            Ok(())
        })?;
        self.execution.to = to;
        Ok(())
    }

    fn defer_user_index(&mut self, store: &mut Store) -> Result<(), ReplayError> {
        let execution = &self.execution;
        // A first catch-up builds the whole model from its start, as `--full` does.
        let from_start = execution.delete == Some(RowSet::WholeVersion)
            || (execution.is_whole_model() && execution.after == P::CONTRACT.start_after());
        if from_start && !self.shares_a_run() {
            self.rebuilt_from_start = true;
            self.deferred_user_index = with_conn!(store, |c| user_index::defer(c, P::CONTRACT))?;
        }
        Ok(())
    }

    fn build_user_index(&mut self, store: &mut Store) -> Result<(), ReplayError> {
        if std::mem::take(&mut self.deferred_user_index) {
            with_conn!(store, |c| user_index::restore(c, P::CONTRACT))?;
        }
        Ok(())
    }

    fn fail(&mut self, store: &mut Store, error: &str, elapsed: Duration) {
        // A shared run is the coordinator's to end.
        if self.shares_a_run() {
            return;
        }
        let tally = self.tally(elapsed);
        // The run's own error is what the operator sees; a ledger that cannot be updated
        // leaves the run `running`, which `--resume` handles.
        let _ = with_conn!(store, |c| run_record::end(
            c,
            self.run_id,
            Ending::Failed(error),
            &tally
        ));
    }

    fn checksum_job(&self) -> Option<ChecksumJob> {
        if self.share.is_some() {
            return None;
        }
        let (version, analyze) = (self.version, self.rebuilt_from_start);
        Some(Box::new(move |store: &mut Store| {
            if analyze {
                with_conn!(store, |c| user_index::gather_statistics(c, P::CONTRACT))?;
            }
            let sum = with_conn!(store, |c| checksum::of_rows::<P::Row, _>(
                c,
                P::CONTRACT,
                version,
                None
            ))?;
            Ok(sum.digest)
        }))
    }

    fn checksummed(&mut self, digest: String) {
        self.checksum = Some(digest);
    }

    fn partition(&self) -> Option<(u32, u32)> {
        self.share
            .filter(|share| share.of > 1)
            .map(|share| (share.index, share.of))
    }

    fn flushing(&self) -> Option<LaneFlush> {
        (self.applied != self.flushed).then(|| LaneFlush {
            series: Series::new(P::CONTRACT.name, self.version, self.partition()),
            checkpoint: self.applied,
            events: self.unflushed_events.max(0) as u64,
            rows: 0,
            parked: self.parked.len() as u64,
        })
    }
}

impl<P: Projection> ModelLane<P> {
    /// Runs each event's handler in id order against the rows held since the last flush
    /// (see `apply::apply_events`).
    fn apply_events(
        &mut self,
        db: &WriteQueue<'_, '_>,
        events: &[&StoredEvent],
    ) -> Result<(), ReplayError> {
        let contract = P::CONTRACT;
        let version = self.version;
        let mut prefetched = self.prefetch(db, events)?;
        // Applying again (after a panic, under `--on-bad-event park`) or twice (the
        // determinism check) asks for the same rows again: shared, they are still here;
        // taken, they would be loaded from the table again. Otherwise they are taken, so
        // that a handler changing one copies nothing.
        let share = self.plan.on_bad_event == BadEventPolicy::Park || self.plan.check_determinism;
        let cache = &mut self.cache;
        let failure = Cell::new(None::<ReplayError>);
        let mut load = |key: &<P::Row as ReadModelRow>::Key| {
            let known = if share {
                cache.known(key)
            } else {
                cache.take(key)
            };
            if let Some(known) = known {
                return Ok(known);
            }
            let found = if share {
                prefetched.get(key).cloned()
            } else {
                prefetched.remove(key)
            };
            if let Some(found) = found {
                return Ok(found);
            }
            let key = key.clone();
            stages::loaded(contract.name);
            stages::timed(Stage::Load, || {
                db.read(move |store| {
                    let row =
                        with_conn!(store, |c| load_row::<P::Row, _>(c, contract, version, &key))?;
                    Ok(row.map(Arc::new))
                })
            })
            .map_err(|error| load_failed(&failure, error))
        };
        let parked = apply::apply_events::<P>(
            events,
            self.applied,
            &self.plan,
            &mut self.state,
            &mut load,
            &failure,
        )?;
        self.parked
            .extend(parked.into_iter().map(|(event, why)| (event.clone(), why)));
        Ok(())
    }

    /// Loads at once the rows the handlers of `events` will read that neither the rows
    /// held since the last flush nor the cache know (see `apply::keys_to_load`).
    fn prefetch(
        &self,
        db: &WriteQueue<'_, '_>,
        events: &[&StoredEvent],
    ) -> Result<Prefetched<P::Row>, ReplayError> {
        if !apply::may_read_unknown_rows::<P>(self.cache.is_complete()) {
            return Ok(Prefetched::new());
        }
        let (held, cache) = (&self.state, &self.cache);
        let keys = apply::keys_to_load::<P>(events, |key| match held.slots.get(key) {
            Some(slot) => Some(slot.row.clone()),
            None => cache.known(key),
        });
        let (contract, version) = (P::CONTRACT, self.version);
        // Nothing to load: no round trip to the writing thread (it would wait for every
        // job queued before it).
        if keys.is_empty() {
            return Ok(Prefetched::new());
        }
        stages::loaded(contract.name);
        stages::timed(Stage::Load, || {
            db.read(move |store| {
                let found = with_conn!(store, |c| load_rows::<P::Row, _>(
                    c, contract, version, &keys
                ))?;
                Ok(apply::prefetched(keys, found))
            })
        })
    }

    /// Moves the checkpoint to the run's bound; returns the checksum of the rows. A
    /// rebuild beside the live version swaps in and ends its run in one transaction.
    fn complete<C: Conn>(&mut self, conn: &mut C, tally: &Tally) -> Result<String, ReplayError> {
        let contract = P::CONTRACT;
        let digest = match self.checksum.take() {
            Some(digest) => digest,
            None => {
                if self.rebuilt_from_start {
                    user_index::gather_statistics(conn, contract)?;
                }
                checksum::of_rows::<P::Row, C>(conn, contract, self.version, None)?.digest
            }
        };
        let (execution, scratch, applied) = (&self.execution, self.version, self.applied);
        let Some(beside) = self.beside else {
            finish_checkpoint(conn, contract, scratch, execution, applied)?;
            return Ok(digest);
        };
        let context = || format!("swapping the rebuilt {} in", contract.name);
        // The swap renumbers every row of the table in one transaction: its statement
        // journal goes to files (see `store::temp_files`).
        temp_files::in_files(conn, context, |conn| {
            transaction(conn, context, |c| {
                finish_checkpoint(c, contract, scratch, execution, applied)?;
                beside::swap(c, contract, beside)?;
                let ending = Ending::Succeeded(Some(&digest));
                run_record::end(c, self.run_id, ending, tally)?;
                Ok::<_, ReplayError>(())
            })
        })?;
        Ok(digest)
    }

    /// The run as `replay_runs` records it.
    fn record(&self) -> RunOf<'_> {
        RunOf {
            contract: P::CONTRACT,
            version: self.beside.map_or(self.version, |b| b.live),
            execution: &self.execution,
            resumed_from: self.resumed_from,
        }
    }

    /// What the lane has done, over `elapsed`.
    fn tally(&self, elapsed: Duration) -> Tally {
        Tally {
            events_read: self.events_read,
            rows_written: self.rows_written,
            flushes: self.flushes,
            parked: self.parked_total,
            elapsed,
        }
    }

    /// Whether the lane's events count into a run it did not record (a worker's).
    fn shares_a_run(&self) -> bool {
        self.share.is_some()
    }

    /// Refuses rows held for writing that belong to another partition's user.
    fn check_share(&self) -> Result<(), ReplayError> {
        let Some((index, of)) = self.partition() else {
            return Ok(());
        };
        let held = self.state.slots.iter().filter(|(_, slot)| slot.dirty);
        for (key, slot) in held {
            let Some(user) = slot.row.as_ref().and_then(|row| row.user_id()) else {
                continue;
            };
            let found = partition::partition_of(user, of);
            if found != index {
                return Err(ReplayError::ForeignPartitionRow {
                    model: P::CONTRACT.name,
                    partition: index,
                    of,
                    user: user.to_string(),
                    found,
                    key: format!("{key:?}"),
                    event: self.applied,
                });
            }
        }
        Ok(())
    }

    /// A partition's end: its checkpoint reaches the bound and the model's own follows
    /// the slowest partition; an unsplit model's checkpoint reaches the bound as in a run
    /// of the whole model. No checksum: the model's rows are not all this lane's.
    fn complete_share<C: Conn>(&self, conn: &mut C, share: Share) -> Result<(), ReplayError> {
        let contract = P::CONTRACT;
        let execution = &self.execution;
        if share.of <= 1 {
            return finish_checkpoint(conn, contract, self.version, execution, self.applied);
        }
        if self.applied < execution.to {
            ledger::save_checkpoint(
                conn,
                contract.name,
                self.version,
                execution.scope,
                execution.to,
            )?;
        }
        ledger::raise_to_partitions(conn, contract.name, self.version, share.of)?;
        Ok(())
    }

    /// What was applied since the last flush, to write in the pass's transaction.
    fn flush_job(&mut self) -> Result<FlushJob<P::Row>, ReplayError> {
        let contract = P::CONTRACT;
        self.check_share()?;
        let execution = &self.execution;
        let writes = RowWrites::sort(
            contract,
            self.version,
            execution.user,
            &mut self.state,
            &self.cache,
        )?;
        // A whole model written up to its bound is built: readers may use its version, as
        // after a succeeded run. A pass that follows the log never succeeds (it is
        // stopped), so this is where its model first becomes readable; a worker's
        // partition, once every partition has reached its bound (see `FlushJob`).
        let activate = self.applied >= execution.to
            && (execution.is_whole_model() || self.share.is_some())
            && self.version == contract.version;
        Ok(FlushJob {
            writes,
            parked: std::mem::take(&mut self.parked),
            end: BatchEnd {
                scope: execution.scope,
                from: self.stored,
                to: self.applied,
                run_id: self.run_id,
                events: self.unflushed_events,
            },
            partitions: self.partition().map(|(_, of)| of),
            activate,
            cutover: activate && self.plan.cutover_when_caught_up,
        })
    }
}
