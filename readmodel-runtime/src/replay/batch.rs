//! One batch of a run of one user's or one range's rows, in the caller's transaction:
//! read the next events, load the rows their handlers read, apply them (`apply.rs`),
//! write the changed rows and parked events, and move the checkpoint. Runs of whole
//! models go through the pass (`pass/`).

use std::cell::Cell;
use std::sync::Arc;

use super::apply::{self, load_failed, Prefetched};
use super::cache::RowCache;
use super::error::ReplayError;
use super::plan::{Execution, Plan};
use super::write::{end_batch, write_rows, BatchEnd};
use crate::event::StoredEvent;
use crate::rows::{BatchState, Projection, ReadModelRow};
use crate::source;
use crate::store::rows::{load_row, load_rows};
use crate::store::Conn;

/// What a committed batch did.
pub(super) struct BatchDone {
    /// Its last event's id: the new checkpoint.
    pub(super) last_id: i64,
    /// Events read.
    pub(super) events: u64,
    /// Rows written or deleted.
    pub(super) rows: u64,
}

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
    let events: Vec<&StoredEvent> = events.iter().collect();
    let (mut state, parked) = apply::<P, C>(conn, version, after, &events, plan, cache)?;
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

/// Loads the rows the batch's handlers read and applies them; returns the rows read or
/// changed and the events parked.
fn apply<'e, P: Projection, C: Conn>(
    conn: &mut C,
    version: i32,
    after: i64,
    events: &[&'e StoredEvent],
    plan: &Plan,
    cache: &RowCache<P::Row>,
) -> Result<(BatchState<P::Row>, apply::Parked<'e>), ReplayError> {
    let contract = P::CONTRACT;
    let prefetched = prefetch::<P, C>(conn, version, events, cache)?;
    let failure = Cell::new(None);
    // Rows are shared, not taken, from `prefetched` and the cache: the batch may be
    // applied again after a panic, or twice per event to check determinism.
    let mut load = |key: &<P::Row as ReadModelRow>::Key| {
        if let Some(known) = cache.known(key) {
            return Ok(known);
        }
        match prefetched.get(key) {
            Some(found) => Ok(found.clone()),
            None => load_row::<P::Row, C>(conn, contract, version, key)
                .map(|row| row.map(Arc::new))
                .map_err(|error| load_failed(&failure, error.into())),
        }
    };
    let mut state = BatchState::default();
    let parked = apply::apply_events::<P>(events, after, plan, &mut state, &mut load, &failure)?;
    Ok((state, parked))
}

/// Loads, in a few statements, the rows a batch's handlers will read (see
/// [`apply::keys_to_load`]).
fn prefetch<P: Projection, C: Conn>(
    conn: &mut C,
    version: i32,
    events: &[&StoredEvent],
    cache: &RowCache<P::Row>,
) -> Result<Prefetched<P::Row>, ReplayError> {
    if !apply::may_read_unknown_rows::<P>(cache.is_complete()) {
        return Ok(Prefetched::new());
    }
    let keys = apply::keys_to_load::<P>(events, |key| cache.known(key));
    let found = load_rows::<P::Row, C>(conn, P::CONTRACT, version, &keys)?;
    Ok(apply::prefetched(keys, found))
}
