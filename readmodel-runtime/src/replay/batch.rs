//! One batch, in the caller's transaction: read the next events, load the rows their
//! handlers read, apply the handlers in id order, write the changed rows, park
//! undecodable events, and move the checkpoint.

use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use super::cache::RowCache;
use super::handler_guard;
use super::plan::{BadEventPolicy, Execution, Plan};
use super::write::{end_batch, write_rows, BatchEnd};
use super::ReplayError;
use crate::contract::Kind;
use crate::determinism::apply_twice;
use crate::event::StoredEvent;
use crate::rows::{BatchState, LoadFailed, Projection, ReadModelRow, Rows};
use crate::source;
use crate::store::rows::{load_row, load_rows};
use crate::store::{Conn, StoreError};

/// What a committed batch did.
pub(super) struct BatchDone {
    /// Its last event's id: the new checkpoint.
    pub(super) last_id: i64,
    /// Events read.
    pub(super) events: u64,
    /// Rows written or deleted.
    pub(super) rows: u64,
}

type Prefetched<R> = BTreeMap<<R as ReadModelRow>::Key, Option<Arc<R>>>;

/// Applies the batch of events after `after`; `None` when there is none.
pub(super) fn apply_batch<P: Projection, C: Conn>(
    conn: &mut C,
    version: i32,
    execution: &Execution,
    plan: &Plan,
    run_id: i64,
    after: i64,
    cache: &mut RowCache<P::Row>,
) -> Result<Option<BatchDone>, ReplayError> {
    let contract = P::CONTRACT;
    let events = source::next_batch(
        conn,
        contract,
        after,
        execution.to,
        execution.user,
        plan.batch_size.max(1),
    )?;
    let Some(last_id) = events.last().map(|e| e.id) else {
        return Ok(None);
    };
    let prefetched = prefetch::<P, C>(conn, version, &events, cache)?;
    let (mut state, parked) =
        apply_events::<P, C>(conn, version, after, &events, plan, cache, prefetched)?;
    let rows = write_rows::<P::Row, C>(conn, contract, version, execution.user, &mut state, cache)?;
    cache.absorb(state);
    let end = BatchEnd {
        scope: execution.scope,
        from: after,
        to: last_id,
        run_id,
        events: events.len() as i64,
    };
    end_batch(conn, contract, version, &end, &parked)?;
    Ok(Some(BatchDone {
        last_id,
        events: events.len() as u64,
        rows,
    }))
}

/// Runs each event's handler in id order against the batch's rows; returns the rows
/// read or changed, and the events parked under [`BadEventPolicy::Park`] with their
/// reasons.
///
/// Under `Park`, a handler that panics may have half-changed rows before it did: its
/// event is parked with the panic message and the batch's in-memory application starts
/// over from the batch's start without the parked events (nothing is written before the
/// whole batch applies).
fn apply_events<'e, P: Projection, C: Conn>(
    conn: &mut C,
    version: i32,
    after: i64,
    events: &'e [StoredEvent],
    plan: &Plan,
    cache: &RowCache<P::Row>,
    prefetched: Prefetched<P::Row>,
) -> Result<(BatchState<P::Row>, Parked<'e>), ReplayError> {
    let contract = P::CONTRACT;
    let failure = Cell::new(None::<StoreError>);
    // Rows are cloned out of `prefetched` rather than taken, so that a batch redone after
    // a panic reads the same rows again.
    let mut load = |key: &<P::Row as ReadModelRow>::Key| {
        if let Some(known) = cache.known(key) {
            return Ok(known);
        }
        match prefetched.get(key) {
            Some(found) => Ok(found.clone()),
            None => load_row::<P::Row, C>(conn, contract, version, key)
                .map(|row| row.map(Arc::new))
                .map_err(|error| {
                    failure.set(Some(error));
                    LoadFailed
                }),
        }
    };
    // By id: a batch redone after a panic skips them, and parks nothing twice.
    let mut parked = BTreeMap::<i64, (&'e StoredEvent, String)>::new();
    'batch: loop {
        let mut state = BatchState::<P::Row>::default();
        let mut previous = after;
        for event in events {
            if event.id <= previous {
                return Err(ReplayError::OutOfOrder {
                    model: contract.name,
                    id: event.id,
                    previous,
                });
            }
            previous = event.id;
            if parked.contains_key(&event.id) {
                continue;
            }
            let applied = handler_guard::catch(|| {
                if plan.check_determinism {
                    apply_twice::<P>(event, &mut state, &mut load)
                } else {
                    Ok(P::apply(event, &mut Rows::new(&mut state, &mut load)))
                }
            });
            let applied = match applied {
                Ok(checked) => checked?,
                Err(panic) if plan.on_bad_event == BadEventPolicy::Park => {
                    let message = handler_guard::message(&panic);
                    let reason = format!("the handler panicked: {message}");
                    parked.insert(event.id, (event, reason));
                    failure.take();
                    continue 'batch;
                }
                Err(panic) => {
                    return Err(ReplayError::HandlerPanicked {
                        model: contract.name,
                        id: event.id,
                        event_type: event.event_type.clone(),
                        message: handler_guard::message(&panic),
                    })
                }
            };
            match applied {
                Ok(()) => {}
                // Decoding fails before the handler runs, so the event changed nothing.
                Err(source) if plan.on_bad_event == BadEventPolicy::Park => {
                    parked.insert(event.id, (event, source.reason.to_string()));
                }
                Err(source) => {
                    return Err(ReplayError::Decode {
                        model: contract.name,
                        source,
                    })
                }
            }
            if let Some(error) = failure.take() {
                return Err(error.into());
            }
        }
        return Ok((state, parked.into_values().collect()));
    }
}

/// Events set aside under [`BadEventPolicy::Park`], with the reason of each.
type Parked<'e> = Vec<(&'e StoredEvent, String)>;

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
    events: &[StoredEvent],
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
            if handler_guard::catch(|| P::apply(event, &mut rows)).is_err() {
                break;
            }
        }
    }
    let keys: Vec<_> = wanted.into_iter().collect();
    let found = load_rows::<P::Row, C>(conn, contract, version, &keys)?;
    prefetched.extend(keys.into_iter().map(|key| (key, None)));
    prefetched.extend(
        found
            .into_iter()
            .map(|row| (row.key(), Some(Arc::new(row)))),
    );
    Ok(prefetched)
}
