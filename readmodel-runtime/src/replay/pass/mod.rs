//! One pass over the log for many models: each event is read once (on a reading thread)
//! and handed to every model that consumes it, each from its own checkpoint; changed rows
//! are written (on a writing thread) with every model's checkpoint in one transaction per
//! flush. The pipeline step by step, in the one place it is described:
//! `docs/ENGINE.md`, "One pass over the log".

mod checksums;
mod control;
mod flush;
mod lane;
mod reader;
mod writer;

use std::collections::HashMap;
use std::sync::mpsc::{sync_channel, Receiver};
use std::time::Instant;

use self::reader::{Chunk, Follow, Span};
use self::writer::Writer;
use super::partition::partition_of;
use super::plan::{BadEventPolicy, Flush, Plan, Start};
use super::{Progress, ReplayError, RunReport};
use crate::contract::Contract;
use crate::event::StoredEvent;
use crate::store::{with_conn, Conn, DatabaseUrl, Store};

pub use self::control::Control;
pub(crate) use self::lane::{prepare, prepare_share};
pub use self::lane::{ChecksumJob, Lane, Share};
pub use self::writer::Db;

/// Rows the caches of all models of a pass may carry between flushes together. A 10M-event
/// rebuild of the 19 LifeOS models fills its caches (a 1M-event one does not): it peaked
/// at 106.7 MiB with 250,000 rows, 100.3 with 150,000, and 94.8 with 100,000 (and the log
/// reader's cache cut from 2 MiB to 512 KiB), in 188–203 s each.
pub(crate) const CACHE_ROWS: usize = 100_000;

/// What the pass's transactions are for, in errors.
const FLUSH: &str = "writing the rows and checkpoints of a pass";

/// Read batches in flight between the reading and the applying thread.
const CHUNKS_IN_FLIGHT: usize = 2;

/// Whether `plan` can run as one pass: new runs of whole models (catch-up or `--full`,
/// up to `--to`), stopping at a bad event. Runs of one user, of a range, resumed runs,
/// `--on-bad-event park` and `--check-determinism` go model by model.
pub fn fits_a_pass(plan: &Plan) -> bool {
    plan.start == Start::New
        && plan.user.is_none()
        && plan.from.is_none()
        // Parking a panicking handler's event (the batch redone without it) and the
        // double-apply check live in the model-by-model engine.
        && plan.on_bad_event == BadEventPolicy::Stop
        && !plan.check_determinism
}

/// What a pass over the log needs of a model: its contract, and its lane. The registry's
/// `Model` extends it, so the engine does not depend on the registry above it.
pub trait PassModel: Send + Sync {
    /// Its contract.
    fn contract(&self) -> &'static Contract;
    /// Checks `plan` for this model and prepares its share of a pass over the log
    /// ([`run_pass`]); nothing is written. `cache_rows` bounds the rows it carries
    /// between flushes.
    #[doc(hidden)]
    fn lane(
        &self,
        store: &mut Store,
        plan: &Plan,
        head: i64,
        cache_rows: usize,
    ) -> Result<Box<dyn Lane>, ReplayError>;
    /// Prepares a worker's lane of one partition of this model (`share`), from that
    /// partition's checkpoint (or the model's, when further) to `to`; nothing is written.
    #[doc(hidden)]
    fn share_lane(
        &self,
        store: &mut Store,
        plan: &Plan,
        to: i64,
        cache_rows: usize,
        share: Share,
    ) -> Result<Box<dyn Lane>, ReplayError>;
}

/// What a worker adds to a pass: a check in each flush's transaction, before the lanes
/// write, that the worker still holds what it writes (its partitions' leases).
pub trait Fence {
    /// Renews the worker's hold on its lanes in the open transaction; an error (the lease
    /// lost) rolls the flush back and ends the pass.
    fn renew(&mut self, store: &mut Store) -> Result<(), ReplayError>;
    /// The flush whose transaction [`Fence::renew`] checked has committed.
    fn committed(&mut self) {}
}

/// Runs `lanes` (already started: a worker's partitions) in one pass over the log, each
/// to its bound, steered by `control` (stopped by its flag; following the log with its
/// watcher), checking `fence` in every flush. Returns the lanes with the outcome:
/// `Ok(true)` when stopped early (the lanes' positions are flushed); on a failure every
/// lane is back at its last flush (nothing of the failed flush committed) and no run is
/// ended (the caller decides).
pub fn run_lanes(
    store: &mut Store,
    url: &DatabaseUrl,
    lanes: Vec<Box<dyn Lane>>,
    plan: &Plan,
    control: &mut Control,
    fence: &mut (dyn Fence + Send),
    progress: &mut dyn Progress,
) -> (Vec<Box<dyn Lane>>, Result<bool, ReplayError>) {
    let label = match lanes.as_slice() {
        [one] => one.contract().name.to_owned(),
        many => format!("{} partitions", many.len()),
    };
    let mut pass = Pass {
        lanes,
        plan,
        label,
        stop: control.stop.clone(),
        following: control.follow.is_some(),
        fence: Some(fence),
    };
    let follow = control.follow.as_mut().map(|watcher| Follow {
        watcher,
        stop: &control.stop,
    });
    let outcome = pass
        .run(store, url, follow, progress)
        .map_err(|(_, error)| error);
    (pass.lanes, outcome)
}

/// Runs `plan` for `models` in one pass over the log (see [`fits_a_pass`]); `url` opens
/// the reading connection. On a failure every model's run is recorded as failed, each
/// model's rows and checkpoint left at its last flush (so `--resume` or a catch-up
/// continues it), and the error returned.
pub fn run_pass(
    store: &mut Store,
    url: &DatabaseUrl,
    models: &[&dyn PassModel],
    plan: &Plan,
    progress: &mut dyn Progress,
) -> Result<Vec<RunReport>, ReplayError> {
    run_pass_with(store, url, models, plan, &mut Control::default(), progress)
}

/// [`run_pass`], steered by `control`: stopped by its flag (every run recorded `stopped`
/// after what was applied is written), and following the log when it has a watcher
/// (see [`Control`]). A stopped pass returns `Ok` with `stopped` reports.
pub fn run_pass_with(
    store: &mut Store,
    url: &DatabaseUrl,
    models: &[&dyn PassModel],
    plan: &Plan,
    control: &mut Control,
    progress: &mut dyn Progress,
) -> Result<Vec<RunReport>, ReplayError> {
    let started = Instant::now();
    let head = with_conn!(&mut *store, |c| c.settled_head())?;
    let cache_rows =
        (CACHE_ROWS / models.len().max(1)).clamp(1_000, super::cache::DEFAULT_CAPACITY);
    let mut lanes = Vec::with_capacity(models.len());
    for model in models {
        lanes.push(model.lane(store, plan, head, cache_rows)?);
    }
    for i in 0..lanes.len() {
        if let Err(error) = lanes[i].start(store) {
            let message = stopped_by(lanes[i].contract().name, &error);
            for lane in &mut lanes[..i] {
                lane.fail(store, &message, started.elapsed());
            }
            return Err(error);
        }
    }
    let mut pass = Pass {
        lanes,
        plan,
        label: label(models),
        stop: control.stop.clone(),
        following: control.follow.is_some(),
        fence: None,
    };
    let follow = control.follow.as_mut().map(|watcher| Follow {
        watcher,
        stop: &control.stop,
    });
    let outcome = pass.run(store, url, follow, progress);
    // A run's rate counts applying and writing, not reading its rows back.
    let elapsed = started.elapsed();
    if matches!(outcome, Ok(false)) {
        checksums::compute(url, &mut pass.lanes);
    }
    match outcome {
        Ok(stopped) => pass
            .lanes
            .iter_mut()
            .map(|lane| lane.finish(store, stopped, elapsed))
            .collect(),
        Err((failed, error)) => {
            let message = match failed {
                Some(i) => stopped_by(pass.lanes[i].contract().name, &error),
                None => error.to_string(),
            };
            let own = error.to_string();
            for (i, lane) in pass.lanes.iter_mut().enumerate() {
                let text = if Some(i) == failed { &own } else { &message };
                lane.fail(store, text, elapsed);
            }
            Err(error)
        }
    }
}

fn stopped_by(model: &str, error: &ReplayError) -> String {
    format!("the pass stopped when {model} failed: {error}")
}

fn label(models: &[&dyn PassModel]) -> String {
    match models {
        [one] => one.contract().name.to_owned(),
        many => format!("{} models", many.len()),
    }
}

/// A pass under way.
struct Pass<'p> {
    lanes: Vec<Box<dyn Lane>>,
    plan: &'p Plan,
    label: String,
    /// Set: write what was applied and return (see [`Control::stop`]).
    stop: crate::stop::StopFlag,
    /// Whether the reader follows the log past the first bound (see [`Control::follow`]).
    following: bool,
    /// A worker's check in every flush.
    fence: Option<&'p mut (dyn Fence + Send)>,
}

/// Which lane failed (none: the reading or a flush), and why.
type Failure = (Option<usize>, ReplayError);

impl<'p> Pass<'p> {
    /// Reads and applies every event up to the models' bounds (when following, until
    /// stopped); `Ok(true)` when the batch limit or the stop flag stopped it early.
    fn run(
        &mut self,
        store: &mut Store,
        url: &DatabaseUrl,
        follow: Option<Follow<'_>>,
        progress: &mut dyn Progress,
    ) -> Result<bool, Failure> {
        let after = self.lanes.iter().map(|l| l.applied()).min().unwrap_or(0);
        let to = self.lanes.iter().map(|l| l.to()).max().unwrap_or(0);
        if after >= to && !self.following {
            return Ok(false);
        }
        let following = self.following;
        let mut types: Vec<&'static str> = self
            .lanes
            .iter()
            // A following pass takes every model on past its bound.
            .filter(|l| following || l.applied() < l.to())
            .flat_map(|l| l.contract().consumed_events.iter().copied())
            .collect();
        types.sort_unstable();
        types.dedup();
        let span = Span {
            types: &types,
            after,
            to,
            batch_size: self.plan.batch_size.max(1),
        };
        let outcome = std::thread::scope(|scope| {
            let (send, receive) = sync_channel(CHUNKS_IN_FLIGHT);
            let span = &span;
            scope.spawn(move || reader::read(url, span, follow, send));
            let (writer, jobs) = Writer::new();
            let writing_store = &mut *store;
            let writing = scope.spawn(move || writer::serve(writing_store, jobs));
            // The receiver is dropped on return, which stops the reader.
            let applied = self.apply_all(&writer, receive, to, progress);
            // Closing the queue lets the writing thread finish what was queued and end.
            drop(writer);
            let written = writing.join().unwrap_or_else(|panic| {
                Err((
                    None,
                    ReplayError::WriterStopped {
                        reason: super::handler_guard::message(&panic),
                    },
                ))
            });
            // The writing thread's error comes first: the applying thread's may only say
            // that the writer had stopped.
            written.and(applied)
        });
        if outcome.is_err() {
            // A rollback that fails leaves nothing committed either.
            let _ = store.rollback(FLUSH);
            for lane in &mut self.lanes {
                lane.discard();
            }
        }
        outcome
    }

    /// Applies the reader's chunks in one open transaction that each flush commits (and
    /// reopens), writing through `writer`; `Ok(true)` when stopped by the batch limit. On
    /// a failure the caller rolls the transaction back: every model is left at its last
    /// flush.
    fn apply_all(
        &mut self,
        writer: &Writer<'p>,
        chunks: Receiver<Result<Chunk, ReplayError>>,
        mut to: i64,
        progress: &mut dyn Progress,
    ) -> Result<bool, Failure> {
        let db = writer.for_lane(None);
        let failed = |error| (None, error);
        db.queue(|store| Ok(store.begin(FLUSH)?)).map_err(failed)?;
        let routes = self.routes();
        let partitions: Vec<Option<(u32, u32)>> =
            self.lanes.iter().map(|lane| lane.partition()).collect();
        let budget: Flush = self.plan.flush;
        let mut last_flush = Instant::now();
        for (read, chunk) in chunks.into_iter().enumerate() {
            let chunk = chunk.map_err(failed)?;
            if chunk.bound > to {
                self.extend_to(writer, chunk.bound)?;
                to = chunk.bound;
            }
            let mut per_lane: Vec<Vec<&StoredEvent>> = vec![Vec::new(); self.lanes.len()];
            for event in &chunk.events {
                // The event's partition, hashed once per event (and per partition count).
                let mut hashed: Option<(u32, u32)> = None;
                for &i in routes.get(event.event_type.as_str()).into_iter().flatten() {
                    if let Some((index, of)) = partitions[i] {
                        let part = match hashed {
                            Some((seen_of, part)) if seen_of == of => part,
                            _ => {
                                let part = partition_of(event.user_id, of);
                                hashed = Some((of, part));
                                part
                            }
                        };
                        if part != index {
                            continue;
                        }
                    }
                    per_lane[i].push(event);
                }
            }
            for (i, events) in per_lane.iter().enumerate() {
                let lane = &mut self.lanes[i];
                let db = writer.for_lane(Some(i));
                lane.apply(&db, events, chunk.through)
                    .and_then(|()| lane.spill(&db))
                    .map_err(|error| (Some(i), error))?;
            }
            let batches = read as u64 + 1;
            let limit = self.plan.max_batches.is_some_and(|max| batches >= max);
            // Following, reaching the bound is when readers must see the new events.
            let done = chunk.through >= to;
            let stop = self.stop.is_set();
            let pending: usize = self.lanes.iter().map(|l| l.pending_rows()).sum();
            if done
                || limit
                || stop
                || pending >= budget.rows
                || last_flush.elapsed() >= budget.interval
            {
                self.flush(writer).map_err(failed)?;
                last_flush = Instant::now();
                let events = self.lanes.iter().map(|l| l.events_read()).sum::<u64>();
                progress.batch(&self.label, chunk.through, to, events);
            }
            if limit || stop {
                return self.close(&db, true);
            }
            if done && !self.following {
                return self.close(&db, false);
            }
        }
        // The reader hung up: at the end of its span, or, following, because the stop
        // flag was set while it waited (what was applied then is flushed already).
        if self.stop.is_set() {
            self.flush(writer).map_err(failed)?;
            return self.close(&db, true);
        }
        self.close(&db, false)
    }

    /// Commits the pass's last transaction and waits for it: the pass's outcome is known
    /// only once everything queued is written.
    fn close(&mut self, db: &Db<'_, 'p>, stopped: bool) -> Result<bool, Failure> {
        db.call(|store| Ok(store.commit(FLUSH)?))
            .map_err(|error| (None, error))?;
        Ok(stopped)
    }

    /// Moves every lane's bound up to `to` (a following pass's new settled head).
    fn extend_to(&mut self, writer: &Writer<'p>, to: i64) -> Result<(), Failure> {
        for (i, lane) in self.lanes.iter_mut().enumerate() {
            lane.extend_to(&writer.for_lane(Some(i)), to)
                .map_err(|error| (Some(i), error))?;
        }
        Ok(())
    }

    /// For each event type, the lanes that consume it.
    fn routes(&self) -> HashMap<&'static str, Vec<usize>> {
        let mut routes: HashMap<&'static str, Vec<usize>> = HashMap::new();
        for (i, lane) in self.lanes.iter().enumerate() {
            for &event_type in lane.contract().consumed_events {
                routes.entry(event_type).or_default().push(i);
            }
        }
        routes
    }

    /// Queues every lane's remaining rows and its checkpoint, the commit of the open
    /// transaction (with the rows spilled into it since the last flush) and the opening of
    /// the next one. A worker's flush (with a fence) waits for its
    /// commit: the fence learns when its renewal was committed.
    fn flush(&mut self, writer: &Writer<'p>) -> Result<(), ReplayError> {
        let db = writer.for_lane(None);
        if let Some(fence) = self.fence.take() {
            let fence = db.call(move |store| fence.renew(store).map(|()| fence))?;
            self.fence = Some(fence);
        }
        let mut written = Vec::with_capacity(self.lanes.len());
        for (i, lane) in self.lanes.iter_mut().enumerate() {
            written.push(lane.write(&writer.for_lane(Some(i)))?);
        }
        match self.fence.as_deref_mut() {
            Some(fence) => {
                db.call(|store| Ok(store.commit(FLUSH)?))?;
                fence.committed();
            }
            None => db.queue(|store| Ok(store.commit(FLUSH)?))?,
        }
        for (lane, rows) in self.lanes.iter_mut().zip(written) {
            lane.committed(rows);
        }
        db.queue(|store| Ok(store.begin(FLUSH)?))
    }
}
