//! Runs of one model on one connection with the all-or-nothing engine (`execute.rs`,
//! `batch.rs`): one user's or one range's rows.

use super::error::ReplayError;
use super::plan::{self, Plan};
use super::report::{Progress, RunReport};
use super::{execute, partition};
use crate::ledger::{self, Scope};
use crate::rows::Projection;
use crate::source;
use crate::store::Conn;

/// Runs `plan` (one user's or one range's rows: see `fits_a_pass`) for projection `P`
/// on one connection, all or nothing.
pub(crate) fn run<P: Projection, C: Conn>(
    conn: &mut C,
    plan: &Plan,
    progress: &mut dyn Progress,
) -> Result<RunReport, ReplayError> {
    let contract = P::CONTRACT;
    let version = contract.version;
    crate::store::schema::check_table(conn, contract)?;
    let head = conn.settled_head()?;
    if let Some(user) = plan.user {
        if !source::user_has_events(conn, user)? {
            return Err(ReplayError::UnknownUser { user });
        }
    }
    let global = ledger::checkpoint(conn, contract.name, version, Scope::All)?;
    let execution = plan::resolve(contract, plan, head, global)?;
    partition::refuse_if_workers_ahead(conn, contract, version, global, &execution)?;
    let run = execute::Run {
        plan: plan.clone(),
        execution,
        resumed_from: None,
    };
    execute::execute::<P, C>(conn, version, &run, progress)
}
