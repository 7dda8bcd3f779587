//! The reading side of a pass: its own connection reads the log in id order and hands
//! batches to the applying side through a bounded channel, so that the database reads
//! the next batch while the handlers apply the current one.
//!
//! A pass over many types (`run --all`) reads one range of the primary key and skips the
//! few other events; a pass over a few types (one model's) merges one `(event_type, id)`
//! index range per type, so it reads only its events, each once.

use std::collections::{BTreeMap, VecDeque};
use std::sync::mpsc::SyncSender;
use std::time::{Duration, Instant};

use super::super::error::ReplayError;
use super::stages::{self, Stage};
use super::Lane;
use crate::event::StoredEvent;
use crate::source::{self, PartitionGroup, UserFilter};
use crate::stop::StopFlag;
use crate::store::{with_conn, Conn, DatabaseUrl, Store, StoreError};
use crate::watch::LogWatcher;

/// Passes over at most this many types read them type by type (see [`Reading`]).
const FEW_TYPES: usize = 4;

/// How often a following reader waiting for new events looks at the stop flag.
const STOP_CHECK: Duration = Duration::from_millis(100);

/// Events read in one go, and how far the log has been read.
pub(super) struct Chunk {
    /// The events, in id order, of the pass's types.
    pub(super) events: Vec<StoredEvent>,
    /// Every event of the pass's types up to this id is in this chunk or an earlier one.
    pub(super) through: i64,
    /// The bound the reader is reading to: the span's end, or, when following, the
    /// settled head it last took (above the span's end once the log has grown).
    pub(super) bound: i64,
}

/// What the reader reads.
pub(super) struct Span<'a> {
    /// The event types any model of the pass consumes.
    pub(super) types: &'a [&'static str],
    /// Events after this id…
    pub(super) after: i64,
    /// …up to this one.
    pub(super) to: i64,
    /// Events per chunk.
    pub(super) batch_size: usize,
    /// A worker's pass: only the events of its partitions' users.
    pub(super) users: Option<&'a UserFilter>,
}

/// Following the log: the watcher that says when it grew, and the flag that ends the
/// wait.
pub(super) struct Follow<'a> {
    pub(super) watcher: &'a mut LogWatcher,
    pub(super) stop: &'a StopFlag,
}

/// Following, the reader waits for the log to grow; it stops waiting once the stop flag or
/// `applied` is set: the applying side has ended (failed on a bad event, say) and will
/// take no more chunks. Without it, a pass that failed on the last event of the log
/// waited, silent, until another event arrived.
pub(super) struct Waits<'a> {
    pub(super) follow: Follow<'a>,
    pub(super) applied: &'a StopFlag,
}

/// A model's partition count and the indexes a pass holds; `None`: all its users.
type Split = Option<(u32, Vec<u32>)>;

/// The events `lanes` need when some hold a partition of their model (a worker's): each
/// model's types for its partitions' users only, models holding the same partitions
/// together. `None` when every lane takes its model's events of every user.
pub(super) fn users_of<'l>(lanes: impl Iterator<Item = &'l dyn Lane>) -> Option<UserFilter> {
    let mut models: BTreeMap<&str, (&[&'static str], Split)> = BTreeMap::new();
    for lane in lanes {
        let contract = lane.contract();
        let held = lane.partition().map(|(index, of)| (of, vec![index]));
        match models.get_mut(contract.name) {
            None => {
                models.insert(contract.name, (contract.consumed_events, held));
            }
            Some((_, Some((_, indexes)))) if held.is_some() => {
                indexes.extend(held.into_iter().flat_map(|(_, i)| i));
            }
            Some((_, split)) => *split = None,
        }
    }
    let mut filter = UserFilter::default();
    let mut groups: BTreeMap<(u32, Vec<u32>), Vec<&'static str>> = BTreeMap::new();
    for (types, split) in models.into_values() {
        match split {
            Some((of, mut indexes)) if (indexes.len() as u32) < of => {
                indexes.sort_unstable();
                indexes.dedup();
                groups.entry((of, indexes)).or_default().extend(types);
            }
            _ => filter.whole.extend(types),
        }
    }
    if groups.is_empty() {
        return None;
    }
    filter.whole.sort_unstable();
    filter.whole.dedup();
    for ((of, indexes), mut types) in groups {
        types.sort_unstable();
        types.dedup();
        filter.groups.push(PartitionGroup { types, of, indexes });
    }
    Some(filter)
}

/// Reads `span` into `chunks` until the end or until the receiver hangs up; when
/// following, then waits for new events, takes the new settled head as the bound and
/// reads on, until the stop flag is set. A failure is sent as the last message.
pub(super) fn read(
    url: &DatabaseUrl,
    span: &Span<'_>,
    mut follow: Option<Waits<'_>>,
    chunks: SyncSender<Result<Chunk, ReplayError>>,
) {
    let mut store = match Store::open_log_reader(url) {
        Ok(store) => store,
        Err(error) => {
            let _ = chunks.send(Err(error.into()));
            return;
        }
    };
    let (mut after, mut to) = (span.after, span.to);
    loop {
        match read_to(&mut store, span, after, to, &chunks) {
            Ok(true) => after = to,
            Ok(false) => return,
            Err(error) => {
                let _ = chunks.send(Err(error));
                return;
            }
        }
        let Some(follow) = follow.as_mut() else {
            return;
        };
        match next_bound(&mut store, follow, to) {
            Ok(Some(head)) => to = head,
            // Stopped: hanging up tells the applying side there is nothing more.
            Ok(None) => return,
            Err(error) => {
                let _ = chunks.send(Err(error));
                return;
            }
        }
    }
}

/// Sends the events after `after` up to `to`; `Ok(false)` when the receiver hung up.
fn read_to(
    store: &mut Store,
    span: &Span<'_>,
    mut after: i64,
    to: i64,
    chunks: &SyncSender<Result<Chunk, ReplayError>>,
) -> Result<bool, ReplayError> {
    let mut reading = Reading::new(span, after);
    while after < to {
        let (events, through) =
            stages::timed(Stage::Read, || reading.next(store, span, after, to))?;
        after = through;
        let chunk = Chunk {
            events,
            through,
            bound: to,
        };
        if chunks.send(Ok(chunk)).is_err() {
            return Ok(false);
        }
    }
    Ok(true)
}

/// How a pass reads the log: by id over many types, type by type over few.
enum Reading {
    ById,
    ByType(Vec<TypeCursor>),
}

/// One type's index range, read ahead of the merge.
struct TypeCursor {
    event_type: &'static str,
    /// Every event of the type up to this id has been read.
    read_to: i64,
    buffered: VecDeque<StoredEvent>,
}

impl Reading {
    fn new(span: &Span<'_>, after: i64) -> Self {
        if span.types.len() > FEW_TYPES {
            return Reading::ById;
        }
        let cursors = span.types.iter().map(|&event_type| TypeCursor {
            event_type,
            read_to: after,
            buffered: VecDeque::new(),
        });
        Reading::ByType(cursors.collect())
    }

    /// The next events after `after` up to `to`, and the id through which every event of
    /// the span's types has been read. By id: `batch_size` events of one range of the
    /// primary key. By type: each type's range is read `batch_size` events at a time, and
    /// the events up to the lowest position any type has been read to are merged by id
    /// (at least one type's buffer empties each time).
    fn next(
        &mut self,
        store: &mut Store,
        span: &Span<'_>,
        after: i64,
        to: i64,
    ) -> Result<(Vec<StoredEvent>, i64), ReplayError> {
        let cursors = match self {
            Reading::ById => {
                let events = with_conn!(&mut *store, |c| source::next_of_types(
                    c,
                    span.types,
                    after,
                    to,
                    span.batch_size,
                    span.users
                ))?;
                let through = read_through(&events, span.batch_size, to);
                return Ok((events, through));
            }
            Reading::ByType(cursors) => cursors,
        };
        for cursor in cursors
            .iter_mut()
            .filter(|c| c.buffered.is_empty() && c.read_to < to)
        {
            let events = with_conn!(&mut *store, |c| source::next_of_type(
                c,
                cursor.event_type,
                cursor.read_to,
                to,
                span.batch_size,
                span.users
            ))?;
            cursor.read_to = read_through(&events, span.batch_size, to);
            cursor.buffered.extend(events);
        }
        let through = cursors.iter().map(|c| c.read_to).min().unwrap_or(to);
        let mut events = Vec::new();
        for cursor in cursors.iter_mut() {
            let ready = cursor.buffered.partition_point(|e| e.id <= through);
            events.extend(cursor.buffered.drain(..ready));
        }
        events.sort_unstable_by_key(|e| e.id);
        Ok((events, through))
    }
}

/// How far a read of at most `limit` events up to `to` has read: its last event when it
/// was full, else `to`.
fn read_through(events: &[StoredEvent], limit: usize, to: i64) -> i64 {
    match events.last() {
        Some(last) if events.len() >= limit => last.id,
        _ => to,
    }
}

/// Waits until the log has events above `to` and returns the new settled head (taken on
/// the reader's own connection, outside any transaction); `None` once the stop flag is set
/// or the applying side has ended.
/// A transaction holding event ids open past the settle timeout does not end the pass:
/// the reader warns (at most once per [`UNSETTLED_WARNING`]) and waits on, with every
/// model at the head that is settled.
fn next_bound(
    store: &mut Store,
    waits: &mut Waits<'_>,
    to: i64,
) -> Result<Option<i64>, ReplayError> {
    let mut warned: Option<Instant> = None;
    let follow = &mut waits.follow;
    loop {
        if follow.stop.is_set() || waits.applied.is_set() {
            return Ok(None);
        }
        if !follow
            .watcher
            .wait_for_events_after(to, Instant::now() + STOP_CHECK)?
        {
            continue;
        }
        match with_conn!(&mut *store, |c| c.settled_head()) {
            Ok(head) if head > to => return Ok(Some(head)),
            Ok(_) => {}
            Err(error @ StoreError::Unsettled { .. }) => {
                if warned.is_none_or(|at| at.elapsed() >= UNSETTLED_WARNING) {
                    tracing::warn!("following stays at event {to}: {error}");
                    warned = Some(Instant::now());
                }
            }
            Err(error) => return Err(error.into()),
        }
    }
}

/// How often a follower kept waiting by a transaction holding event ids says so.
const UNSETTLED_WARNING: Duration = Duration::from_secs(60);
