//! Switching readers between side-by-side model versions: `cutover` makes a caught-up
//! version the active one atomically, `drop` deletes an inactive version's rows.

use crate::contract::Contract;
use crate::ledger::{self, Scope};
use crate::replay::ReplayError;
use crate::store::rows::{delete_rows, RowSet};
use crate::store::{transaction, visible_head, Conn};
use crate::versions::{active, set_active};

/// Makes `version` the active version of `contract`'s model, atomically; returns the
/// previously active one. Refused when the version never completed a whole-model run, or
/// its checkpoint is behind the log's head.
pub(crate) fn cutover<C: Conn>(
    conn: &mut C,
    contract: &Contract,
    version: i32,
) -> Result<Option<i32>, ReplayError> {
    let model = contract.name;
    let context = || format!("cutting {model} over to version {version}");
    transaction(conn, context, |c| {
        if !ledger::has_succeeded(c, model, version)? {
            return Err(ReplayError::CutoverNeverBuilt { model, version });
        }
        let head = visible_head(c)?;
        let checkpoint = ledger::checkpoint(c, model, version, Scope::All)?.unwrap_or(0);
        if checkpoint < head {
            return Err(ReplayError::CutoverBehind {
                model,
                version,
                checkpoint,
                head,
            });
        }
        let previous = active(c, model)?;
        set_active(c, model, version)?;
        Ok(previous)
    })
}

/// Deletes an inactive version's rows and checkpoints; returns how many rows. Refused for
/// the active version, and for a version nothing records (no row, run or checkpoint).
pub(crate) fn drop_version<C: Conn>(
    conn: &mut C,
    contract: &Contract,
    version: i32,
) -> Result<usize, ReplayError> {
    let model = contract.name;
    let context = || format!("dropping {model} version {version}");
    transaction(conn, context, |c| {
        if active(c, model)? == Some(version) {
            return Err(ReplayError::DropActive { model, version });
        }
        let deleted = delete_rows(c, contract, version, RowSet::WholeVersion)?;
        if deleted == 0
            && ledger::latest_run(c, model, version)?.is_none()
            && ledger::checkpoint(c, model, version, Scope::All)?.is_none()
        {
            return Err(ReplayError::DropUnknownVersion { model, version });
        }
        ledger::delete_version_checkpoints(c, model, version)?;
        Ok(deleted)
    })
}
