//! The engine's policy: which engine runs a plan. Runs of whole models, new or resumed,
//! go through one pass over the log; runs of one user or one range are all or nothing
//! and run model by model. `verify`'s scratch rebuild is a pass of one model.

use super::engine::Engine;
use super::error::ReplayError;
use super::pass::{self, Control, Resumed};
use super::plan::{BadEventPolicy, Plan, Start, PASS_BATCH_SIZE};
use super::report::{NoProgress, Progress, RunReport};
use crate::ledger::RunStatus;
use crate::rows::Projection;
use crate::store::{with_conn, Conn, DatabaseUrl, Store};

/// Runs `plan` for `models`, steered by `control`.
///
/// `--resume` over several models leaves every one of them built, as an uninterrupted
/// run would: a model with an unfinished run resumes it (and then catches up, when that
/// run covered only part of the model), every other model catches up from its
/// checkpoint.
pub(crate) fn run_models(
    store: &mut Store,
    url: &DatabaseUrl,
    models: &[&dyn Engine],
    plan: &Plan,
    control: &mut Control,
    progress: &mut dyn Progress,
) -> Result<Vec<RunReport>, ReplayError> {
    if plan.start == Start::Resume {
        return resume(store, url, models, plan, control, progress);
    }
    if !pass::fits_a_pass(plan) {
        return models
            .iter()
            .map(|model| model.run_alone(store, plan, progress))
            .collect();
    }
    let head = with_conn!(&mut *store, |c| c.settled_head())?;
    let cache_share = pass::cache_share(pass::caching(models.iter().map(|m| m.contract())));
    let mut lanes = Vec::with_capacity(models.len());
    for model in models {
        lanes.push(model.lane(store, plan, head, &cache_share)?);
    }
    pass::run_prepared(store, url, lanes, plan, control, progress)
}

fn resume(
    store: &mut Store,
    url: &DatabaseUrl,
    models: &[&dyn Engine],
    plan: &Plan,
    control: &mut Control,
    progress: &mut dyn Progress,
) -> Result<Vec<RunReport>, ReplayError> {
    let several = models.len() > 1;
    let catch_up = Plan {
        start: Start::New,
        ..plan.clone()
    };
    let head = with_conn!(&mut *store, |c| c.settled_head())?;
    let cache_share = pass::cache_share(pass::caching(models.iter().map(|m| m.contract())));
    let (mut reports, mut lanes) = (Vec::new(), Vec::new());
    for model in models {
        match model.resume(store, plan, head, &cache_share, progress) {
            Ok(Resumed::Lane(lane)) => lanes.push(lane),
            Ok(Resumed::Ran(report)) => {
                let succeeded = report.status == RunStatus::Succeeded;
                reports.push(report);
                if several && succeeded {
                    lanes.push(model.lane(store, &catch_up, head, &cache_share)?);
                }
            }
            Err(ReplayError::NothingToResume { .. }) if several => {
                lanes.push(model.lane(store, &catch_up, head, &cache_share)?);
            }
            Err(error) => return Err(error),
        }
    }
    reports.extend(pass::run_prepared(
        store, url, lanes, plan, control, progress,
    )?);
    Ok(reports)
}

/// Rebuilds the whole of `P` as `version` (a scratch version for `verify`) up to `to`, in
/// a pass of its own. Events the live version parked are parked again, so that what is
/// compared is what the log can rebuild; every event is applied twice (the determinism
/// check).
pub(crate) fn rebuild_as<P: Projection>(
    store: &mut Store,
    url: &DatabaseUrl,
    version: i32,
    to: i64,
) -> Result<RunReport, ReplayError> {
    let plan = Plan {
        full: true,
        to: Some(to),
        batch_size: PASS_BATCH_SIZE,
        on_bad_event: BadEventPolicy::Park,
        check_determinism: true,
        ..Plan::default()
    };
    let lane = pass::prepare_rebuild::<P>(&plan, version, to, &pass::cache_share(1));
    let mut control = Control::default();
    let reports = pass::run_prepared(store, url, vec![lane], &plan, &mut control, &mut NoProgress)?;
    reports
        .into_iter()
        .next()
        .ok_or_else(|| ReplayError::InvalidPlan {
            model: P::CONTRACT.name,
            reason: "its rebuild reported no run".to_owned(),
        })
}
