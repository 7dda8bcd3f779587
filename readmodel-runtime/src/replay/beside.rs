//! A full rebuild of the version readers use builds beside it: its rows, checkpoints and
//! parked events go to a scratch version (negative, so no reader ever selects it), and
//! when the rebuild reaches its bound one transaction swaps them in: the live version's
//! rows, checkpoints, leases and parked events are deleted, the scratch's (leases too,
//! when workers built it) take the live version's number, the new code's fingerprint is recorded and the run is ended. A
//! reader in its own transaction (PostgreSQL's snapshot, SQLite's WAL read) sees all the
//! old rows or all the new ones; a rebuild that fails or is killed leaves the live version
//! as it was, and its scratch rows for `--resume` to continue (the next `--full` deletes
//! them). A version nothing reads rebuilds in place.

use super::error::ReplayError;
use crate::contract::Contract;
use crate::ledger::{self, Scope};
use crate::store::rows::{delete_rows, RowSet};
use crate::store::{Conn, Statement, StoreError};
use crate::versions;

/// Added to a version (and negated) for its rebuild's scratch version; `verify` uses the
/// negated version itself, so the two never share rows.
const SCRATCH_OFFSET: i32 = 1 << 20;

/// The scratch version a full rebuild of `version` writes into.
pub(crate) fn scratch_version(version: i32) -> i32 {
    -(version + SCRATCH_OFFSET)
}

/// A rebuild beside the live version: where it writes, and what it replaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Beside {
    /// The scratch version the rebuild writes.
    pub(crate) scratch: i32,
    /// The live version it replaces.
    pub(crate) live: i32,
    /// The live version's checkpoint when the rebuild was planned: the swap is refused
    /// if another process moved it meanwhile.
    pub(crate) live_checkpoint: Option<i64>,
}

/// How `contract`'s version rebuilds beside itself: `Some` when the run rebuilds every
/// row of the version (`rebuilds_whole`) and readers use that version.
pub(crate) fn scratch_for<C: Conn>(
    conn: &mut C,
    contract: &Contract,
    rebuilds_whole: bool,
) -> Result<Option<Beside>, StoreError> {
    let version = contract.version;
    if !rebuilds_whole || versions::active(conn, contract.name)? != Some(version) {
        return Ok(None);
    }
    Ok(Some(Beside {
        scratch: scratch_version(version),
        live: version,
        live_checkpoint: ledger::checkpoint(conn, contract.name, version, Scope::All)?,
    }))
}

/// Forgets a scratch version's parked events before its rebuild starts afresh (its rows
/// and checkpoints go with the rebuild's first deletion).
pub(crate) fn clear_parked<C: Conn>(
    conn: &mut C,
    contract: &Contract,
    scratch: i32,
) -> Result<(), StoreError> {
    crate::dead_letters::clear(conn, contract.name, scratch).map(drop)
}

/// Swaps the scratch version in for the live one, in the caller's transaction. Refused
/// when the live version moved while the rebuild ran (another process keeps it current):
/// swapping would lose what it applied, and move its readers back.
pub(crate) fn swap<C: Conn>(
    conn: &mut C,
    contract: &Contract,
    beside: Beside,
) -> Result<(), ReplayError> {
    let model = contract.name;
    let Beside {
        scratch,
        live,
        live_checkpoint,
    } = beside;
    ledger::lock_checkpoint(conn, model, live, Scope::All)?;
    let checkpoint = ledger::checkpoint(conn, model, live, Scope::All)?;
    if checkpoint != live_checkpoint {
        return Err(ReplayError::LiveMovedOn {
            model,
            version: live,
            checkpoint: checkpoint.unwrap_or(0),
            was: live_checkpoint.unwrap_or(0),
        });
    }
    delete_rows(conn, contract, live, RowSet::WholeVersion)?;
    crate::dead_letters::clear(conn, model, live)?;
    ledger::delete_version_checkpoints(conn, model, live)?;
    ledger::delete_leases(conn, model, live)?;
    let table = contract.qualified_table();
    for table in [
        table.as_str(),
        "readmodels.replay_checkpoints",
        "readmodels.replay_dead_letters",
        // A rebuild by workers split the scratch version into partitions: the live
        // version keeps that split.
        "readmodels.replay_leases",
    ] {
        renumber(conn, table, model, scratch, live)?;
    }
    ledger::record_fingerprint(conn, model, live, contract.fingerprint.as_str())?;
    Ok(())
}

/// Gives `table`'s rows of `model` `from` the version `to` (a model's own table holds one
/// model: its rows have no `model` column).
fn renumber<C: Conn>(
    conn: &mut C,
    table: &str,
    model: &str,
    from: i32,
    to: i32,
) -> Result<(), StoreError> {
    let stmt = Statement::<C::Db>::new(&format!("UPDATE {table} SET model_version = "))
        .bind(&to)
        .sql(" WHERE model_version = ")
        .bind(&from);
    let stmt = if table.starts_with("readmodels.replay_") {
        stmt.sql(" AND model = ").bind(&model.to_owned())
    } else {
        stmt
    };
    conn.run(stmt).map_err(StoreError::query(format!(
        "swapping the rebuilt rows of {model} in for version {to}"
    )))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scratch_versions_never_meet_live_or_verify_versions() {
        for version in [1, 2, 7, 1000] {
            let scratch = scratch_version(version);
            assert!(scratch < 0);
            assert_ne!(scratch, -version);
            for other in [1, 2, 7, 1000] {
                assert_ne!(scratch, -other, "verify's scratch of {other}");
            }
        }
    }
}
