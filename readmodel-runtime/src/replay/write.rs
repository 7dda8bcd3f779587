//! Writing a batch's changed rows: deletes, then the rows whose keys are known to have no
//! row yet (PostgreSQL COPYs them), then one multi-row upsert of the rest, refusing, in a
//! by-user rebuild, a row of another user.

use uuid::Uuid;

use super::cache::RowCache;
use super::ReplayError;
use crate::contract::{Contract, Kind};
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
    state: &BatchState<R>,
    cache: &RowCache<R>,
) -> Result<u64, ReplayError> {
    let mut upserts = Vec::new();
    let mut fresh = Vec::new();
    let mut written = 0u64;
    for (key, slot) in state.slots.iter().filter(|(_, slot)| slot.dirty) {
        let Some(row) = &slot.row else {
            delete_row::<R, C>(conn, contract, version, key, only_user)?;
            written += 1;
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
        let mut row = row.clone();
        row.set_model_version(version);
        if cache.has_no_row(key) {
            fresh.push(row);
        } else {
            upserts.push(row);
        }
    }
    written += (fresh.len() + upserts.len()) as u64;
    // A complete cache holds every snapshot or aggregate row this run wrote, so its
    // absence proves the key new. A pass carries no timeline rows between flushes: there
    // the claim rests on a timeline key holding its event's identity (checked by the
    // derive), so each row of a rebuild is written once, and a handler that writes one
    // key from two events is caught by the guard, not by a failed run.
    let proof = match contract.kind {
        Kind::Timeline => Fresh::ByEventIdentity,
        Kind::Snapshot | Kind::Aggregate => Fresh::Proven,
    };
    conn.insert_new(contract, &fresh, proof)?;
    conn.upsert(contract, &upserts)?;
    Ok(written)
}
