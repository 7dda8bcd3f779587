//! Replaying models with a progress bar on a terminal's stderr.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::context::Context;
use super::output::Ran;
use super::CliError;
use crate::code_check;
use crate::contract::Contract;
use crate::registry::{run_models_with, Model};
use crate::replay::{Control, Plan, Progress, RunReport};
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

/// Runs `plan` for `models` (see [`crate::run_models`]) with a progress bar. Runs
/// that would add rows to a version built by other code are refused first (see
/// [`code_check`]).
pub(super) fn run_models(
    cx: &Context<'_>,
    store: &mut Store,
    url: &DatabaseUrl,
    models: &[&dyn Model],
    plan: &Plan,
) -> Result<Vec<RunReport>, CliError> {
    code_check::before_runs(store, &contracts(models), plan)?;
    let mut progress = bar(cx.quiet);
    let reports = run_models_with(
        store,
        url,
        models,
        plan,
        &mut Control::default(),
        &mut progress,
    );
    progress.0.finish_and_clear();
    Ok(reports?)
}

/// Runs `plan` for `models` steered by `control` (following the log, until its stop
/// flag is set), with a progress bar.
pub(super) fn follow_models(
    cx: &Context<'_>,
    store: &mut Store,
    url: &DatabaseUrl,
    models: &[&dyn Model],
    plan: &Plan,
    control: &mut Control,
) -> Result<Vec<RunReport>, CliError> {
    code_check::before_runs(store, &contracts(models), plan)?;
    let mut progress = bar(cx.quiet);
    let reports = run_models_with(store, url, models, plan, control, &mut progress);
    progress.0.finish_and_clear();
    Ok(reports?)
}

/// The contracts of `models`.
pub(super) fn contracts(models: &[&dyn Model]) -> Vec<&'static Contract> {
    models.iter().map(|m| m.contract()).collect()
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
