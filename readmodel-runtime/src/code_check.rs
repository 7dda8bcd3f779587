//! One program per version: a model version's rows are built by one code
//! [`Fingerprint`](crate::Fingerprint), recorded in the ledger, and a run that would add
//! rows from other code to them is refused before anything is written.
//!
//! [`before_runs`] is called once, when the `replay` commands that build rows (`run`,
//! `follow`, `worker`, `dead-letters --retry`) have planned their runs and before any
//! starts. Per model:
//! - a full rebuild of the whole version is allowed whatever built the rows; its
//!   fingerprint is recorded when its rows are deleted (see `ledger::fingerprints`);
//! - any other run (catch-up, `--resume`, by user, by range) of a version built by other
//!   code is refused with [`CodeChanged`](CodeCheckError::CodeChanged), naming the three
//!   ways out;
//! - a version not built yet (no checkpoint), or built before fingerprints were recorded,
//!   gets this binary's fingerprint.
//!
//! [`accept`] records this binary's fingerprint for a version after `verify` found that
//! it rebuilds exactly the live rows (`replay verify --accept`).

use crate::contract::Contract;
use crate::ledger;
use crate::replay::plan::{self, Plan, Start};
use crate::replay::ReplayError;
use crate::store::rows::RowSet;
use crate::store::{transaction, with_conn, Conn, Store, StoreError};

/// Why runs were refused before they started.
#[derive(Debug, thiserror::Error)]
pub enum CodeCheckError {
    /// The version's rows were built by code with another fingerprint.
    #[error("{model} v{version} was built by other code (fingerprint {recorded}; this binary's is {ours}): bump `version` to build this code beside it, rebuild its rows with this code with `replay run --model {model} --full`, or, if the change leaves rows as they are, prove it with `replay verify --model {model} --accept`")]
    CodeChanged {
        /// The model.
        model: &'static str,
        /// The version.
        version: i32,
        /// The fingerprint recorded for it.
        recorded: String,
        /// This binary's.
        ours: String,
    },
    /// The plan is one the engine refuses (checked here first, so that nothing is
    /// recorded for it).
    #[error(transparent)]
    Replay(#[from] ReplayError),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Checks, before any of them starts, that the runs `plan` asks of `contracts` add no
/// rows from this binary's code to rows built by other code; records this binary's
/// fingerprint where it builds a version (see the module's documentation). One
/// transaction: a refusal records nothing.
pub fn before_runs(
    store: &mut Store,
    contracts: &[&'static Contract],
    plan: &Plan,
) -> Result<(), CodeCheckError> {
    let head = store.log_head()?;
    with_conn!(store, |c| {
        transaction(
            c,
            || "checking which code built the models".to_owned(),
            |c| {
                contracts
                    .iter()
                    .try_for_each(|contract| check(c, contract, plan, head))
            },
        )
    })
}

fn check<C: Conn>(
    conn: &mut C,
    contract: &'static Contract,
    plan: &Plan,
    head: i64,
) -> Result<(), CodeCheckError> {
    let (model, version) = (contract.name, contract.version);
    let ours = contract.fingerprint.as_str();
    if rebuilds_whole_version(conn, contract, plan, head)? {
        return Ok(ledger::plan_rebuild(conn, model, version, ours)?);
    }
    let recorded = ledger::recorded_fingerprint(conn, model, version)?;
    if plan.start == Start::Resume && resumes_own_rebuild_beside(conn, contract, &recorded)? {
        return Ok(());
    }
    match recorded {
        Some(recorded) if recorded.fingerprint == ours => Ok(()),
        Some(recorded) if ledger::has_checkpoints(conn, model, version)? => {
            Err(CodeCheckError::CodeChanged {
                model,
                version,
                recorded: recorded.fingerprint,
                ours: ours.to_owned(),
            })
        }
        _ => Ok(ledger::record_fingerprint(conn, model, version, ours)?),
    }
}

/// Whether `plan` deletes and rebuilds every row of the version (`--full` without
/// `--user`), as the engine will resolve it.
fn rebuilds_whole_version<C: Conn>(
    conn: &mut C,
    contract: &Contract,
    plan: &Plan,
    head: i64,
) -> Result<bool, CodeCheckError> {
    if !plan.full || plan.start == Start::Resume {
        return Ok(false);
    }
    let checkpoint = ledger::checkpoint(conn, contract.name, contract.version, ledger::Scope::All)?;
    let execution = plan::resolve(contract, plan, head, checkpoint)?;
    Ok(execution.delete == Some(RowSet::WholeVersion))
}

/// Whether `--resume` continues a full rebuild beside the live version (see
/// `replay::beside`) that this binary's code started: its scratch rows are this code's,
/// and the live rows, other code's until the swap, are replaced whole.
fn resumes_own_rebuild_beside<C: Conn>(
    conn: &mut C,
    contract: &Contract,
    recorded: &Option<ledger::RecordedFingerprint>,
) -> Result<bool, StoreError> {
    let (model, version) = (contract.name, contract.version);
    let ours = contract.fingerprint.as_str();
    if recorded.as_ref().and_then(|r| r.rebuilding.as_deref()) != Some(ours) {
        return Ok(false);
    }
    let unfinished_full = ledger::latest_run(conn, model, version)?.is_some_and(|run| {
        run.full_rebuild
            && run.scope == ledger::Scope::All
            && run.status != ledger::RunStatus::Succeeded
    });
    Ok(unfinished_full && crate::versions::active(conn, model)? == Some(version))
}

/// Records this binary's fingerprint as the code of `contract`'s version: `verify` found
/// that it rebuilds exactly the live rows. Returns the fingerprint recorded before.
pub fn accept(
    store: &mut Store,
    contract: &'static Contract,
) -> Result<Option<String>, StoreError> {
    let (model, version) = (contract.name, contract.version);
    let ours = contract.fingerprint.as_str();
    with_conn!(store, |c| {
        transaction(
            c,
            || format!("recording the fingerprint of {model}"),
            |c| {
                let before = ledger::recorded_fingerprint(c, model, version)?;
                ledger::record_fingerprint(c, model, version, ours)?;
                Ok::<_, StoreError>(before.map(|r| r.fingerprint))
            },
        )
    })
}

/// The fingerprint recorded for `contract`'s version, if any.
pub fn recorded(
    store: &mut Store,
    contract: &Contract,
) -> Result<Option<ledger::RecordedFingerprint>, StoreError> {
    with_conn!(store, |c| ledger::recorded_fingerprint(
        c,
        contract.name,
        contract.version
    ))
}
