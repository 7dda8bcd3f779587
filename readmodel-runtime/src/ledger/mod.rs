//! The runtime's bookkeeping in `readmodels`: checkpoints (last applied event per model,
//! version and [`Scope`]), the `replay_runs` ledger, workers' leases, and which code
//! built each version (`replay_fingerprints`).
//!
//! Depends only on the store layer.

mod checkpoints;
mod fingerprints;
mod leases;
mod runs;
mod scope;

pub(crate) use self::checkpoints::{
    advance_checkpoint, checkpoint, checkpoint_written, delete_checkpoint,
    delete_version_checkpoints, furthest_partition, lock_checkpoint, raise_to_partitions,
    save_checkpoint, Advance,
};
pub use self::fingerprints::RecordedFingerprint;
pub(crate) use self::fingerprints::{
    has_checkpoints, plan_rebuild, record_fingerprint, recorded_fingerprint,
};
pub(crate) use self::leases::{
    claim, claimable, delete_leases, end_if_idle_past, ensure as ensure_leases, held_by_others,
    leases, live_workers, register_worker, release, renew, renew_unlocked, Claimed,
};
pub use self::leases::{scope_of, Lease, LeaseRecord};
pub(crate) use self::runs::{
    abandon_scope, count_batch, empty_catch_ups_after, extend_run, finish_run, has_succeeded,
    latest_run, mark_abandoned, recent_runs, runs_that_did_something, start_run, NewRun,
};
pub use self::runs::{RunRecord, RunStatus, UnknownStatus};
pub use self::scope::{Scope, UnknownScope};
