//! Writing a batch's changed rows: deletes, then one multi-row upsert, refusing, in a
//! by-user rebuild, a row of another user.

use uuid::Uuid;

use super::ReplayError;
use crate::contract::Contract;
use crate::rows::{BatchState, ReadModelRow};
use crate::store::rows::delete_row;
use crate::store::Conn;

/// Writes a batch's changed rows as `version`; with `only_user`, refuses rows of others.
pub(super) fn write_rows<R: ReadModelRow, C: Conn>(
    conn: &mut C,
    contract: &'static Contract,
    version: i32,
    only_user: Option<Uuid>,
    state: &BatchState<R>,
) -> Result<u64, ReplayError> {
    let mut upserts = Vec::new();
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
        upserts.push(row);
    }
    conn.upsert(contract, &upserts)?;
    written += upserts.len() as u64;
    Ok(written)
}
