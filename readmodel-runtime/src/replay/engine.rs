//! What the engine needs of a model, behind an object-safe face so that one run can hold
//! models of different row types. The registry's public `Model` extends it; it is not
//! public itself (a sealed supertrait), so the engine's internals are free to change.

use super::cache::CacheShare;
use super::error::ReplayError;
use super::pass::{Lane, Resumed, Share};
use super::plan::Plan;
use super::report::{Progress, RunReport};
use crate::contract::Contract;
use crate::store::Store;

/// A model as the engine drives it. Implemented for every registered model by the
/// registry's bridge (`ModelOps`); nothing else implements it.
pub trait Engine: Send + Sync {
    /// Its contract.
    fn contract(&self) -> &'static Contract;
    /// Checks a new run of the whole model under `plan` and prepares its lane of a pass
    /// over the log up to `head`; nothing is written. `cache_share` bounds the rows it
    /// carries between flushes and the filters of the keys it dropped.
    fn lane(
        &self,
        store: &mut Store,
        plan: &Plan,
        head: i64,
        cache_share: &CacheShare,
    ) -> Result<Box<dyn Lane>, ReplayError>;
    /// Continues the model's latest unfinished run: a lane when it was a run of the whole
    /// model; run to its end at once (all or nothing) when it was one user's or one
    /// range's.
    fn resume(
        &self,
        store: &mut Store,
        plan: &Plan,
        head: i64,
        cache_share: &CacheShare,
        progress: &mut dyn Progress,
    ) -> Result<Resumed, ReplayError>;
    /// Prepares a worker's lane of one partition of this model (`share`), from that
    /// partition's checkpoint (or the model's, when further) to `to`; nothing is written.
    fn share_lane(
        &self,
        store: &mut Store,
        plan: &Plan,
        to: i64,
        cache_share: &CacheShare,
        share: Share,
    ) -> Result<Box<dyn Lane>, ReplayError>;
    /// Runs `plan` for one user's or one range's rows, all or nothing, in one transaction.
    fn run_alone(
        &self,
        store: &mut Store,
        plan: &Plan,
        progress: &mut dyn Progress,
    ) -> Result<RunReport, ReplayError>;
}
