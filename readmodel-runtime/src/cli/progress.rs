//! Replaying models, in one pass or one after another, with a progress bar on a
//! terminal's stderr.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::context::Context;
use super::output::Ran;
use super::CliError;
use crate::ledger::{RunStatus, Scope};
use crate::registry::Model;
use crate::replay::{
    fits_a_pass, run_pass, run_pass_with, Control, PassModel, Plan, Progress, ReplayError,
    RunReport, Start,
};
use crate::store::{DatabaseUrl, Store};

struct Bar(ProgressBar);

impl Progress for Bar {
    fn batch(&mut self, model: &str, last_id: i64, to: i64, _events: u64) {
        self.0.set_length(to.max(0) as u64);
        self.0.set_position(last_id.max(0) as u64);
        self.0.set_message(model.to_owned());
    }
}

fn bar(quiet: bool) -> Bar {
    let target = if quiet || !std::io::stderr().is_terminal() {
        ProgressDrawTarget::hidden()
    } else {
        ProgressDrawTarget::stderr()
    };
    let bar = ProgressBar::with_draw_target(None, target);
    bar.set_style(
        ProgressStyle::with_template("{msg:24} [{bar:30}] event {pos}/{len} {per_sec} eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    Bar(bar)
}

/// Runs `plan` for `models`: in one pass over the log when the plan allows (see
/// [`fits_a_pass`]), else for each model in turn, stopping at the first failure.
///
/// `--resume` over several models leaves every one of them built, as an uninterrupted
/// run would: a model with an unfinished run resumes it (and then catches up, when that
/// run covered only part of the model), every other model catches up from its
/// checkpoint.
pub(super) fn run_models(
    cx: &Context<'_>,
    store: &mut Store,
    url: &DatabaseUrl,
    models: &[&dyn Model],
    plan: &Plan,
) -> Result<Vec<RunReport>, CliError> {
    if fits_a_pass(plan) {
        let mut progress = bar(cx.quiet);
        let members: Vec<&dyn PassModel> = models.iter().map(|m| *m as &dyn PassModel).collect();
        let reports = run_pass(store, url, &members, plan, &mut progress);
        progress.0.finish_and_clear();
        return Ok(reports?);
    }
    let mut reports = Vec::with_capacity(models.len());
    let several = plan.start == Start::Resume && models.len() > 1;
    let catch_up = Plan {
        start: Start::New,
        ..plan.clone()
    };
    for model in models {
        match replay_one(cx, store, *model, plan) {
            Err(ReplayError::NothingToResume { .. }) if several => {
                reports.push(replay_one(cx, store, *model, &catch_up)?);
            }
            Ok(report) => {
                let partial = report.scope != Scope::All;
                let succeeded = report.status == RunStatus::Succeeded;
                reports.push(report);
                if several && partial && succeeded {
                    reports.push(replay_one(cx, store, *model, &catch_up)?);
                }
            }
            Err(error) => return Err(error.into()),
        }
    }
    Ok(reports)
}

/// Runs `plan` for `models` in one pass steered by `control` (following the log, until
/// its stop flag is set).
pub(super) fn follow_models(
    cx: &Context<'_>,
    store: &mut Store,
    url: &DatabaseUrl,
    models: &[&dyn Model],
    plan: &Plan,
    control: &mut Control,
) -> Result<Vec<RunReport>, CliError> {
    let mut progress = bar(cx.quiet);
    let members: Vec<&dyn PassModel> = models.iter().map(|m| *m as &dyn PassModel).collect();
    let reports = run_pass_with(store, url, &members, plan, control, &mut progress);
    progress.0.finish_and_clear();
    Ok(reports?)
}

fn replay_one(
    cx: &Context<'_>,
    store: &mut Store,
    model: &dyn Model,
    plan: &Plan,
) -> Result<RunReport, ReplayError> {
    let mut progress = bar(cx.quiet);
    let report = model.replay(store, plan, &mut progress);
    progress.0.finish_and_clear();
    report
}

/// Runs that went through the log in one pass: how many events of the log it went over.
pub(super) fn one_pass(store: &mut Store, reports: &[RunReport]) -> Result<Ran, CliError> {
    let first = reports.iter().map(|r| r.from).min();
    let last = reports.iter().map(|r| r.to).max();
    let log_events = match (first, last) {
        (Some(first), Some(last)) if first <= last => store.log_events_between(first, last)?,
        _ => 0,
    };
    Ok(Ran::OnePass { log_events })
}
