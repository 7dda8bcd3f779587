//! The applying end of a pass: takes the reader's chunks, hands each lane its events,
//! and decides when to flush (rows and every lane's checkpoint in one transaction, queued
//! to the writer). See the module's documentation for the pipeline.

use std::collections::HashMap;
use std::sync::mpsc::{sync_channel, Receiver};
use std::time::Instant;

use super::super::error::ReplayError;
use super::super::partition::partition_of;
use super::super::plan::{Flush, Plan};
use super::super::report::Progress;
use super::reader::{self, Chunk, Follow, Span, Waits};
use super::stages::{self, Stage};
use super::writer::{self, Failure, WriteQueue, Writer};
use super::{Fence, Lane, CHUNKS_IN_FLIGHT, FLUSH};
use crate::event::StoredEvent;
use crate::metrics::{LaneFlush, Series};
use crate::source::UserFilter;
use crate::store::{DatabaseUrl, Store};

/// A pass under way.
pub(super) struct Pass<'p> {
    pub(super) lanes: Vec<Box<dyn Lane>>,
    pub(super) plan: &'p Plan,
    pub(super) label: String,
    /// Set: write what was applied and return (see [`Control::stop`]).
    pub(super) stop: crate::stop::StopFlag,
    /// Whether the reader follows the log past the first bound (see [`Control::follow`]).
    pub(super) following: bool,
    /// A worker's check in every flush.
    pub(super) fence: Option<&'p mut (dyn Fence + Send)>,
    /// Events read from the log so far.
    pub(super) log_events: u64,
}

impl<'p> Pass<'p> {
    /// Reads and applies every event up to the models' bounds (when following, until
    /// stopped); `Ok(true)` when the batch limit or the stop flag stopped it early.
    pub(super) fn run(
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
        let (types, users) = self.reading();
        let span = Span {
            types: &types,
            after,
            to,
            batch_size: self.plan.batch_size.max(1),
            users: users.as_ref(),
        };
        let applied = crate::stop::StopFlag::new();
        let waits = follow.map(|follow| Waits {
            follow,
            applied: &applied,
        });
        let outcome = std::thread::scope(|scope| {
            let (send, receive) = sync_channel(CHUNKS_IN_FLIGHT);
            let span = &span;
            scope.spawn(move || reader::read(url, span, waits, send));
            let (writer, jobs) = Writer::new(url);
            let writing_store = &mut *store;
            let writing = scope.spawn(move || writer::serve(writing_store, jobs));
            // The receiver is dropped on return, which stops a reader that is reading; one
            // waiting for the log to grow stops on the flag.
            let outcome = self.apply_all(&writer, receive, to, progress);
            applied.set();
            // Closing the queue lets the writing thread finish what was queued and end.
            drop(writer);
            let written = writing.join().unwrap_or_else(|panic| {
                Err((
                    None,
                    ReplayError::WriterStopped {
                        reason: super::super::handler_guard::message(&panic),
                    },
                ))
            });
            // The writing thread's error comes first: the applying thread's may only say
            // that the writer had stopped.
            written.and(outcome)
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

    /// The event types the pass reads and, for a worker's, the users whose events it
    /// reads: those of the lanes still short of their bounds (a following pass takes every
    /// model on past its bound).
    fn reading(&self) -> (Vec<&'static str>, Option<UserFilter>) {
        let following = self.following;
        let reading = || {
            self.lanes
                .iter()
                .filter(move |l| following || l.applied() < l.to())
                .map(|l| &**l)
        };
        let mut types: Vec<&'static str> = reading()
            .flat_map(|l| l.contract().consumed_events.iter().copied())
            .collect();
        types.sort_unstable();
        types.dedup();
        (types, reader::users_of(reading()))
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
        self.report_start(to);
        db.queue(|store| Ok(store.begin(FLUSH)?)).map_err(failed)?;
        let router = Router::new(&self.lanes);
        let budget: Flush = self.plan.flush;
        let mut last_flush = Instant::now();
        let mut chunks = chunks.into_iter().enumerate();
        while let Some((read, chunk)) = stages::timed(Stage::WaitForEvents, || chunks.next()) {
            let chunk = chunk.map_err(failed)?;
            self.log_events += chunk.events.len() as u64;
            if chunk.bound > to {
                self.extend_to(writer, chunk.bound)?;
                to = chunk.bound;
                crate::metrics::head_taken(to);
            }
            stages::timed(Stage::Apply, || self.apply_chunk(writer, &router, &chunk))?;
            let limit = self
                .plan
                .max_batches
                .is_some_and(|max| read as u64 + 1 >= max);
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

    /// Tells the metrics where each lane starts and the bound `to` the pass applies up to.
    fn report_start(&self, to: i64) {
        crate::metrics::head_taken(to);
        for lane in &self.lanes {
            let contract = lane.contract();
            let series = Series::new(contract.name, contract.version, lane.partition());
            crate::metrics::lane_started(&series, lane.applied());
        }
    }

    /// Hands each lane its events of `chunk` and applies them.
    fn apply_chunk(
        &mut self,
        writer: &Writer<'p>,
        router: &Router,
        chunk: &Chunk,
    ) -> Result<(), Failure> {
        for (i, events) in router.route(&chunk.events).iter().enumerate() {
            let lane = &mut self.lanes[i];
            let db = writer.for_lane(Some(i));
            lane.apply(&db, events, chunk.through)
                .and_then(|()| lane.spill(&db))
                .map_err(|error| (Some(i), error))?;
        }
        Ok(())
    }

    /// Commits the pass's last transaction and waits for it: the pass's outcome is known
    /// only once everything queued is written.
    fn close(&mut self, db: &WriteQueue<'_, 'p>, stopped: bool) -> Result<bool, Failure> {
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

    /// Queues every lane's remaining rows and its checkpoint, the commit of the open
    /// transaction (with the rows spilled into it since the last flush) and the opening of
    /// the next one. A worker's flush (with a fence) waits for its
    /// commit: the fence learns when its renewal was committed.
    fn flush(&mut self, writer: &Writer<'p>) -> Result<(), ReplayError> {
        let started = Instant::now();
        let db = writer.for_lane(None);
        if let Some(fence) = self.fence.take() {
            let fence = db.call(move |store| fence.renew(store).map(|()| fence))?;
            self.fence = Some(fence);
        }
        let observed = crate::metrics::installed().is_some();
        let mut figures = Vec::new();
        let mut written = Vec::with_capacity(self.lanes.len());
        for (i, lane) in self.lanes.iter_mut().enumerate() {
            let flushing = if observed { lane.flushing() } else { None };
            let rows = lane.write(&writer.for_lane(Some(i)))?;
            figures.extend(flushing.map(|lane| LaneFlush { rows, ..lane }));
            written.push(rows);
        }
        let report = move || crate::metrics::flushed(started.elapsed().as_secs_f64(), &figures);
        let committed = writer.flush_queued();
        match self.fence.as_deref_mut() {
            Some(fence) => {
                db.call(|store| Ok(store.commit(FLUSH)?))?;
                committed();
                fence.committed();
                report();
            }
            None => db.queue(move |store| {
                stages::timed(Stage::Commit, || store.commit(FLUSH))?;
                committed();
                crate::pause::pause_at(crate::pause::Point::Flushed);
                report();
                Ok(())
            })?,
        }
        for (lane, rows) in self.lanes.iter_mut().zip(written) {
            lane.committed(rows);
        }
        db.queue(|store| Ok(store.begin(FLUSH)?))
    }
}

/// Which lanes each event goes to: those consuming its type and, for a worker's
/// partition, holding its user.
struct Router {
    /// For each event type, the lanes that consume it.
    routes: HashMap<&'static str, Vec<usize>>,
    /// Each lane's partition (index, of), when it holds one.
    partitions: Vec<Option<(u32, u32)>>,
}

impl Router {
    fn new(lanes: &[Box<dyn Lane>]) -> Self {
        let mut routes: HashMap<&'static str, Vec<usize>> = HashMap::new();
        for (i, lane) in lanes.iter().enumerate() {
            for &event_type in lane.contract().consumed_events {
                routes.entry(event_type).or_default().push(i);
            }
        }
        let partitions = lanes.iter().map(|lane| lane.partition()).collect();
        Router { routes, partitions }
    }

    /// `events` split by lane, in id order.
    fn route<'e>(&self, events: &'e [StoredEvent]) -> Vec<Vec<&'e StoredEvent>> {
        let mut per_lane: Vec<Vec<&StoredEvent>> = vec![Vec::new(); self.partitions.len()];
        for event in events {
            // The event's partition, hashed once per event (and per partition count).
            let mut hashed: Option<(u32, u32)> = None;
            for &i in self
                .routes
                .get(event.event_type.as_str())
                .into_iter()
                .flatten()
            {
                if let Some((index, of)) = self.partitions[i] {
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
        per_lane
    }
}
