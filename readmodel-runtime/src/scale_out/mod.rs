//! Scale-out: several workers, each with its own connection, share the models of a
//! database (PostgreSQL), each model split into partitions held under leases.
//!
//! - Partitions ([`replay::partition`](crate::replay::partition)): a model whose every row
//!   belongs to one user is split by a stable hash of `user_id` into P partitions (default
//!   16); any other model is one partition. Each partition has its own checkpoint
//!   (`partition:<i>/<P>`); the model's own checkpoint (what `status`, `cutover` and
//!   readers use) follows the slowest partition, and the version becomes active (when
//!   none is) once every partition has reached the bound.
//! - Leases ([`ledger`](crate::ledger), `readmodels.replay_leases`): a worker claims free or
//!   expired partitions, or those of an owner whose process is gone, with
//!   `FOR UPDATE SKIP LOCKED`, renews them in every flush's transaction matching its
//!   fencing token (a worker that lost a partition while paused cannot commit), and
//!   releases them when done. A flush's transaction lasts no longer idle than a lease, so
//!   a worker paused inside one holds nothing the others need once its leases expire.
//! - Fair share: a worker holds at most ceil(partitions / workers) leases, `workers` being
//!   `--workers N` for `run`, or, for standalone `worker`s, the workers connected to the
//!   database (each names its connection `readmodel-worker:<owner>` in
//!   `pg_stat_activity`); one holding more ends its pass and releases the surplus (checked
//!   every quarter lease). Claims go by partition index first.
//! - One worker runs one pass over the log for all the lanes it holds, reading only the
//!   events of its partitions' users (an event is read once per worker, not once per
//!   partition, and not by the workers of other partitions), and handing each event to the
//!   lanes of its type and its user's partition.
//!
//! [`run_workers`] is `replay run --workers N` (threads in one process, to a bound);
//! [`work`] is one worker's loop, used by it and by `replay worker`.

// The engine's functions fit on a screen (the threshold is in clippy.toml).
#![deny(clippy::too_many_lines)]

mod coordinator;
mod error;
mod fence;
mod worker;

pub use coordinator::{run_workers, WorkersReport};
pub use error::WorkersError;
pub use worker::{default_owner, work, RunBook, Until, WorkerConfig, WorkerStats};
