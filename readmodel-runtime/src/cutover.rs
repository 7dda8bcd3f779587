//! Switching readers between side-by-side model versions: `cutover` makes a caught-up
//! version the active one atomically, `drop` deletes an inactive version's rows.

use crate::contract::Contract;
use crate::ledger::{self, Scope};
use crate::store::rows::{delete_rows, RowSet};
use crate::store::{transaction, visible_head, Conn, StoreError};
use crate::versions::{active, set_active};

/// Why `cutover` or `drop` refused, or failed.
#[derive(Debug, thiserror::Error)]
pub enum CutoverError {
    /// `cutover` to a version that never completed a whole-model run and that no worker
    /// built.
    #[error("cannot cut {model} over to version {version}: it has never completed a run; build it first with `replay run --model {model} --full` (from a binary declaring version {version})")]
    NeverBuilt {
        /// The model.
        model: &'static str,
        /// The version asked for.
        version: i32,
    },
    /// `cutover` to a version whose checkpoint is behind the log.
    #[error("cannot cut {model} over to version {version}: it is behind the log (checkpoint {checkpoint}, head {head}); catch it up with `replay run --model {model}` first")]
    Behind {
        /// The model.
        model: &'static str,
        /// The version asked for.
        version: i32,
        /// Its checkpoint.
        checkpoint: i64,
        /// The log's head.
        head: i64,
    },
    /// `cutover` to a version that another build (a binary declaring that version) keeps
    /// current, whose checkpoint is behind the log: this binary cannot catch it up.
    #[error("cannot cut {model} over to version {version}: it is behind the log (checkpoint {checkpoint}, head {head}); v{version} is built by another build (this binary builds v{ours}): catch it up there (`replay run --model {model}` or its `replay follow`, from the binary declaring version {version}), then run this again")]
    BehindElsewhere {
        /// The model.
        model: &'static str,
        /// The version asked for.
        version: i32,
        /// Its checkpoint.
        checkpoint: i64,
        /// The log's head.
        head: i64,
        /// The version this binary builds.
        ours: i32,
    },
    /// `drop` of the active version.
    #[error("cannot drop {model} version {version}: it is the active version; cut over to another version first")]
    DropActive {
        /// The model.
        model: &'static str,
        /// The version asked for.
        version: i32,
    },
    /// `drop` of a version no row, run or checkpoint records: a typo, not a deletion.
    #[error("{model} has no version {version} to drop: no row, run or checkpoint records it; nothing was deleted")]
    DropUnknownVersion {
        /// The model.
        model: &'static str,
        /// The version asked for.
        version: i32,
    },
    /// Storage.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Makes `version` the active version of `contract`'s model, atomically; returns the
/// previously active one. Refused when the version was never built (no whole-model run
/// completed, it is not active, and no worker built a partition of it), or its checkpoint
/// is behind the log's head.
pub(crate) fn cutover<C: Conn>(
    conn: &mut C,
    contract: &Contract,
    version: i32,
) -> Result<Option<i32>, CutoverError> {
    let model = contract.name;
    let context = || format!("cutting {model} over to version {version}");
    transaction(conn, context, |c| {
        // Workers build a split version partition by partition, and never record a run of
        // the whole model: theirs is built once its own checkpoint, which follows the
        // slowest partition, reaches the head (checked below).
        let built = ledger::has_succeeded(c, model, version)?
            || active(c, model)? == Some(version)
            || ledger::furthest_partition(c, model, version)?.is_some();
        if !built {
            return Err(CutoverError::NeverBuilt { model, version });
        }
        let head = visible_head(c)?;
        let checkpoint = ledger::checkpoint(c, model, version, Scope::All)?.unwrap_or(0);
        if checkpoint < head && version != contract.version {
            return Err(CutoverError::BehindElsewhere {
                model,
                version,
                checkpoint,
                head,
                ours: contract.version,
            });
        }
        if checkpoint < head {
            return Err(CutoverError::Behind {
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
) -> Result<usize, CutoverError> {
    let model = contract.name;
    let context = || format!("dropping {model} version {version}");
    transaction(conn, context, |c| {
        if active(c, model)? == Some(version) {
            return Err(CutoverError::DropActive { model, version });
        }
        let deleted = delete_rows(c, contract, version, RowSet::WholeVersion)?;
        if deleted == 0
            && ledger::latest_run(c, model, version)?.is_none()
            && ledger::checkpoint(c, model, version, Scope::All)?.is_none()
        {
            return Err(CutoverError::DropUnknownVersion { model, version });
        }
        ledger::delete_version_checkpoints(c, model, version)?;
        Ok(deleted)
    })
}
