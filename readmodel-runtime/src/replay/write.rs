//! Writing a batch's changed rows: deletes, then the rows whose keys are known to have no
//! row yet (PostgreSQL COPYs them), then one multi-row upsert of the rest, refusing, in a
//! by-user rebuild, a row of another user.
//!
//! The rows are sorted into a [`RowWrites`] first, apart from the connection, so that a
//! pass can hand them to the thread that writes while its own thread applies on.

use std::borrow::Borrow;
use std::sync::Arc;

use uuid::Uuid;

use super::cache::RowCache;
use super::error::ReplayError;
use crate::contract::{Contract, Kind};
use crate::dead_letters;
use crate::event::StoredEvent;
use crate::ledger::{self, Advance, Scope};
use crate::rows::{BatchState, ReadModelRow};
use crate::store::rows::{delete_row, Fresh};
use crate::store::Conn;

/// Writes a batch's changed rows as `version`; with `only_user`, refuses rows of others.
/// `cache` holds the rows of the flushes before this one (see [`RowCache::has_no_row`]).
pub(super) fn write_rows<R: ReadModelRow, C: Conn>(
    conn: &mut C,
    contract: &'static Contract,
    version: i32,
    only_user: Option<Uuid>,
    state: &mut BatchState<R>,
    cache: &RowCache<R>,
) -> Result<u64, ReplayError> {
    RowWrites::sort(contract, version, only_user, state, cache)?.write(conn)
}

/// A batch's changed rows, stamped with their version and sorted by statement. The rows
/// are shared with the batch's state, which goes on to the cache: nothing is copied.
pub(super) struct RowWrites<R: ReadModelRow> {
    contract: &'static Contract,
    version: i32,
    only_user: Option<Uuid>,
    deleted: Vec<R::Key>,
    fresh: Vec<Arc<R>>,
    upserts: Vec<Arc<R>>,
}

impl<R: ReadModelRow> RowWrites<R> {
    /// Sorts the changed rows of `state` (see [`write_rows`]), stamping them with
    /// `version`; refuses another user's row.
    pub(super) fn sort(
        contract: &'static Contract,
        version: i32,
        only_user: Option<Uuid>,
        state: &mut BatchState<R>,
        cache: &RowCache<R>,
    ) -> Result<Self, ReplayError> {
        let mut writes = RowWrites {
            contract,
            version,
            only_user,
            deleted: Vec::new(),
            fresh: Vec::new(),
            upserts: Vec::new(),
        };
        for (key, slot) in state.slots.iter_mut().filter(|(_, slot)| slot.dirty) {
            let Some(row) = &mut slot.row else {
                writes.deleted.push(key.clone());
                continue;
            };
            if let Some(user) = only_user {
                if row.user_id() != Some(user) {
                    return Err(ReplayError::OtherUsersRow {
                        model: contract.name,
                        user,
                        key: format!("{key:?}"),
                    });
                }
            }
            // `Rows` copies a shared row when a handler changes it, so a changed row is
            // the state's alone and stamping it copies nothing.
            Arc::make_mut(row).set_model_version(version);
            let row = Arc::clone(row);
            if !slot.stored && cache.has_no_row(key) {
                writes.fresh.push(row);
            } else {
                writes.upserts.push(row);
            }
        }
        Ok(writes)
    }

    /// The model whose rows these are.
    pub(super) fn contract(&self) -> &'static Contract {
        self.contract
    }

    /// The version they are written as.
    pub(super) fn version(&self) -> i32 {
        self.version
    }

    /// The keys of the rows to upsert.
    #[cfg(test)]
    pub(super) fn upserts(&self) -> Vec<R::Key> {
        self.upserts.iter().map(|row| row.key()).collect()
    }

    /// The keys of the rows known to be new.
    #[cfg(test)]
    pub(super) fn fresh(&self) -> Vec<R::Key> {
        self.fresh.iter().map(|row| row.key()).collect()
    }

    /// The rows written or deleted.
    pub(super) fn len(&self) -> u64 {
        (self.deleted.len() + self.fresh.len() + self.upserts.len()) as u64
    }

    /// Writes the rows in the caller's transaction; returns how many.
    pub(super) fn write<C: Conn>(&self, conn: &mut C) -> Result<u64, ReplayError> {
        let (contract, version) = (self.contract, self.version);
        for key in &self.deleted {
            delete_row::<R, C>(conn, contract, version, key, self.only_user)?;
        }
        // A complete cache holds every snapshot or aggregate row this run wrote, so its
        // absence proves the key new. A pass carries no timeline rows between flushes:
        // there the claim rests on a timeline key holding its event's identity (checked
        // by the derive), so each row of a rebuild is written once, and a handler that
        // writes one key from two events is caught by the guard, not by a failed run.
        let proof = match contract.kind {
            Kind::Timeline => Fresh::ByEventIdentity,
            Kind::Snapshot | Kind::Aggregate => Fresh::Proven,
        };
        conn.insert_new(contract, &borrowed(&self.fresh), proof)?;
        conn.upsert(contract, &borrowed(&self.upserts))?;
        Ok(self.len())
    }
}

fn borrowed<R>(rows: &[Arc<R>]) -> Vec<&R> {
    rows.iter().map(|row| &**row).collect()
}

/// Where a written batch (or a pass's flush) leaves a run: its scope's checkpoint moves
/// from `from` to `to`, and `events` more were read.
pub(super) struct BatchEnd {
    pub(super) scope: Scope,
    pub(super) from: i64,
    pub(super) to: i64,
    pub(super) run_id: i64,
    pub(super) events: i64,
}

/// Parks the batch's bad events, moves its checkpoint (refusing when another run moved it
/// meanwhile) and counts it into the run, in the caller's transaction, with its rows.
pub(super) fn end_batch<C: Conn, E: Borrow<StoredEvent>>(
    conn: &mut C,
    contract: &'static Contract,
    version: i32,
    end: &BatchEnd,
    parked: &[(E, String)],
) -> Result<(), ReplayError> {
    for (event, reason) in parked {
        dead_letters::park(conn, contract.name, version, event.borrow(), reason)?;
    }
    let advance =
        ledger::advance_checkpoint(conn, contract.name, version, end.scope, end.from, end.to)?;
    if let Advance::Concurrent { found } = advance {
        return Err(ReplayError::ConcurrentRun {
            model: contract.name,
            expected: end.from,
            found,
        });
    }
    let parked = parked.len() as i64;
    ledger::count_batch(conn, end.run_id, end.events, end.events - parked)?;
    Ok(())
}
