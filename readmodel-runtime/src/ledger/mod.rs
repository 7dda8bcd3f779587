//! The runtime's bookkeeping in `readmodels`: checkpoints (last applied event per model,
//! version and [`Scope`]) and the `replay_runs` ledger.
//!
//! Depends only on the store layer.

mod checkpoints;
mod leases;
mod runs;
mod scope;

pub(crate) use self::checkpoints::{
    advance_checkpoint, checkpoint, checkpoint_written, delete_checkpoint,
    delete_version_checkpoints, furthest_partition, raise_to_partitions, save_checkpoint, Advance,
};
pub(crate) use self::leases::{
    claim, claimable, delete_leases, end_if_idle_past, ensure as ensure_leases, held_by_others,
    leases, live_workers, register_worker, release, renew, renew_unlocked, Claimed,
};
pub use self::leases::{scope_of, Lease, LeaseRecord};
pub(crate) use self::runs::{
    abandon_scope, count_batch, extend_run, finish_run, has_succeeded, latest_run, mark_abandoned,
    recent_runs, start_run, NewRun,
};
pub use self::runs::{RunRecord, RunStatus, UnknownStatus};
pub use self::scope::{Scope, UnknownScope};
