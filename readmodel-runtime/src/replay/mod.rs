//! The replay engine: events in global id order, through the model's handlers, into its
//! table; rows and checkpoints commit together.
//!
//! A run is planned first ([`plan`]: what the kind and rebuild strategy allow); `drive`
//! then picks the engine. Runs of whole models, new or resumed, go through one pass over
//! the log (`pass/`: reader → applier → writer, many models at once; the repository's
//! `docs/ENGINE.md` walks through it);
//! runs of one user or one range are all or nothing, on one connection (`scoped`,
//! `execute`, `batch`). Both apply events through `apply`.
//!
//! Depends on the store, the log (`source`) and the bookkeeping tables
//! ([`ledger`](crate::ledger), `versions`, `dead_letters`, `checksum`).

// The engine's functions fit on a screen (the threshold is in clippy.toml).
#![deny(clippy::too_many_lines)]

mod apply;
mod batch;
pub(crate) mod beside;
mod cache;
pub(crate) mod drive;
pub(crate) mod engine;
mod error;
pub(crate) mod execute;
pub(crate) mod handler_guard;
pub mod partition;
pub(crate) mod pass;
pub mod plan;
mod report;
mod resume;
pub(crate) mod run_record;
pub(crate) mod scoped;
mod seen_keys;
mod write;

pub(crate) use cache::CacheShare;
pub use cache::CACHE_ROWS_VAR;
pub use error::{NoResume, ReplayError};
pub use pass::{fits_a_pass, Control};
pub(crate) use pass::{run_lanes, Fence, Lane, Share};
pub use plan::{BadEventPolicy, Flush, Plan, Start, BATCH_SIZE, PASS_BATCH_SIZE};
pub use report::{NoProgress, Progress, RunReport};
pub use seen_keys::FILTER_BYTES_VAR;
