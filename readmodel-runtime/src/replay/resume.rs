//! `--resume`: continue the latest unfinished run of a model version with the plan it
//! recorded, from its scope's checkpoint to the bound it fixed when it started.

use super::error::{NoResume, ReplayError};
use super::execute::Run;
use super::plan::{self, BadEventPolicy, Plan};
use crate::contract::Contract;
use crate::ledger::{self, RunStatus, Scope};
use crate::store::rows::RowSet;
use crate::store::Conn;

/// The run that continues the latest unfinished one, and the scratch version it writes
/// when it rebuilds the version readers use beside it (`replay::beside`: its progress is
/// the scratch's checkpoint); marks that one abandoned.
pub(super) fn prepare<C: Conn>(
    conn: &mut C,
    contract: &'static Contract,
    plan: &Plan,
    head: i64,
) -> Result<(Run, Option<super::beside::Beside>), ReplayError> {
    let (model, version) = (contract.name, contract.version);
    let nothing = |reason| ReplayError::NothingToResume { model, reason };
    let last =
        ledger::latest_run(conn, model, version)?.ok_or_else(|| nothing(NoResume::NeverRun))?;
    if last.status == RunStatus::Succeeded {
        return Err(nothing(NoResume::LastSucceeded {
            run_id: last.run_id,
        }));
    }
    let mut recorded: Plan = serde_json::from_str(&last.plan).map_err(|e| {
        nothing(NoResume::UnreadablePlan {
            run_id: last.run_id,
            error: e.to_string(),
        })
    })?;
    recorded.batch_size = plan.batch_size;
    recorded.max_batches = plan.max_batches;
    recorded.check_determinism = plan.check_determinism;
    if plan.on_bad_event == BadEventPolicy::Park {
        recorded.on_bad_event = BadEventPolicy::Park;
    }
    let global = ledger::checkpoint(conn, model, version, Scope::All)?;
    let mut execution = plan::resolve(contract, &recorded, head, global)?;
    execution.to = last.to_event_id;
    let whole = execution.delete == Some(RowSet::WholeVersion) && execution.is_whole_model();
    let scratch = super::beside::scratch_for(conn, contract, whole)?;
    // Only a checkpoint written by the interrupted run (its deletion commits with the
    // first one) is its progress; an older one belongs to an earlier run, and then the
    // interrupted run's deletion never committed and must happen now.
    if let Some((done, written)) = ledger::checkpoint_written(
        conn,
        model,
        scratch.map_or(version, |b| b.scratch),
        execution.scope,
    )? {
        if written >= last.started_at || execution.delete.is_none() {
            execution.delete = None;
            execution.after = done;
        }
    }
    super::partition::refuse_if_workers_ahead(conn, contract, version, global, &execution)?;
    ledger::mark_abandoned(conn, last.run_id)?;
    let run = Run {
        plan: recorded,
        execution,
        resumed_from: Some(last.run_id),
    };
    Ok((run, scratch))
}
