//! `replay run`: replay events into one model or all.

use crate::cli::commands::worker::{note, summary, Scaling};
use crate::cli::context::{Context, Migrated};
use crate::cli::output::Ran;
use crate::cli::progress::{contracts, one_pass, run_models};
use crate::cli::CliError;
use crate::code_check;
use crate::ledger::{RunStatus, Scope};
use crate::replay::RunReport;
use crate::replay::{
    fits_a_pass, BadEventPolicy, Flush, Plan, ReplayError, Start, BATCH_SIZE, PASS_BATCH_SIZE,
};
use crate::scale_out::{default_owner, run_workers};
use crate::store::Store;
use crate::versions;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Model name; repeat it to replay several models (in one pass over the log where
    /// the plan allows).
    #[arg(long, required_unless_present = "all", conflicts_with = "all")]
    model: Vec<String>,
    /// Every registered model.
    #[arg(long)]
    all: bool,
    /// Delete the rows in scope and rebuild them from the start (or --from).
    #[arg(long)]
    full: bool,
    /// First event id of a range (timelines) or of a full rebuild.
    // Negative numbers parse, so `--from -5` is refused with one clear line.
    #[arg(long, allow_negative_numbers = true)]
    from: Option<i64>,
    /// Last event id to apply (default: the log's head when the run starts).
    #[arg(long, allow_negative_numbers = true)]
    to: Option<i64>,
    /// Only this user's events and rows: delete and rebuild them.
    #[arg(long)]
    user: Option<uuid::Uuid>,
    /// Continue the model's latest unfinished run from its checkpoint. With several models
    /// (`--all`, or `--model` repeated), every model ends up built: unfinished runs are
    /// resumed, every other model catches up from its checkpoint.
    #[arg(long, conflicts_with_all = ["full", "from", "to", "user"])]
    resume: bool,
    /// Events per read batch when whole models replay in one pass [default: 2500]; per
    /// batch and transaction when one user's or one range's rows replay, model by model
    /// (--user, --from) [default: 10000].
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    batch_size: Option<u32>,
    /// Stop after this many batches (read batches in a one-pass run); `--resume`
    /// continues the run.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    max_batches: Option<u64>,
    /// An event that cannot be decoded, or whose handler panics, stops the run (`stop`),
    /// or is parked in readmodels.replay_dead_letters and skipped (`park`).
    #[arg(long, value_enum, default_value_t = OnBadEvent::Stop)]
    on_bad_event: OnBadEvent,
    /// Apply every event twice, to copies of the rows it touches, and fail on the first
    /// model, event and column where the two results differ.
    #[arg(long)]
    check_determinism: bool,
    /// Write the changed rows, with the checkpoints, once this many rows (all models
    /// together) are held in memory.
    #[arg(long, default_value_t = Flush::default().rows as u32, value_parser = clap::value_parser!(u32).range(1..))]
    flush_rows: u32,
    /// ...or once this many seconds have passed since the last write.
    #[arg(long, default_value_t = Flush::default().interval.as_secs_f64(), value_parser = seconds)]
    flush_seconds: f64,
    /// Run N workers (threads, one connection each) sharing the models, split into
    /// partitions under leases, until every partition reaches the bound (PostgreSQL;
    /// new runs of whole models: catch-up or --full).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=256))]
    workers: Option<u32>,
    #[command(flatten)]
    scaling: Scaling,
}

/// A number of seconds, 0 or more.
pub(super) fn seconds(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(value) if value.is_finite() && value >= 0.0 => Ok(value),
        _ => Err(format!("{text:?} is not a number of seconds (0 or more)")),
    }
}

/// `--on-bad-event`: the CLI's spelling of [`BadEventPolicy`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum OnBadEvent {
    /// Stop at it, leaving rows and checkpoint at the last good batch (the default).
    Stop,
    /// Park it in `readmodels.replay_dead_letters` and go on.
    Park,
}

impl From<OnBadEvent> for BadEventPolicy {
    fn from(flag: OnBadEvent) -> Self {
        match flag {
            OnBadEvent::Stop => BadEventPolicy::Stop,
            OnBadEvent::Park => BadEventPolicy::Park,
        }
    }
}

impl Args {
    fn plan(&self) -> Plan {
        let mut plan = Plan {
            full: self.full,
            from: self.from,
            to: self.to,
            user: self.user,
            batch_size: self.batch_size.map_or(BATCH_SIZE, |n| n as usize),
            max_batches: self.max_batches,
            on_bad_event: self.on_bad_event.into(),
            check_determinism: self.check_determinism,
            start: if self.resume {
                Start::Resume
            } else {
                Start::New
            },
            flush: Flush {
                rows: self.flush_rows as usize,
                interval: std::time::Duration::from_secs_f64(self.flush_seconds),
            },
            cutover_when_caught_up: false,
        };
        if self.batch_size.is_none() && fits_a_pass(&plan) {
            plan.batch_size = PASS_BATCH_SIZE;
        }
        plan
    }
}

pub(in crate::cli) fn run(cx: &Context<'_>, args: &Args) -> Result<(), CliError> {
    let url = cx.url()?;
    let mut store = cx.open(&url, Migrated::Required)?;
    let models = cx.named_models(&args.model)?;
    let started = std::time::Instant::now();
    let plan = args.plan();
    if let Some(workers) = args.workers {
        let sqlite = matches!(store, Store::Sqlite(_));
        if workers > 1 && sqlite {
            return Err(ReplayError::WorkersNeedPostgres.into());
        }
        if !sqlite {
            return run_with_workers(cx, &mut store, &url, &models, &plan, args, workers);
        }
    }
    let reports = run_models(cx, &mut store, &url, &models, &plan)?;
    let wall = started.elapsed();
    let ran = if fits_a_pass(&plan) {
        one_pass(&mut store, &reports)?
    } else {
        Ran::OneByOne
    };
    cx.out.runs(&reports, wall, ran)?;
    readers_stay(cx, &mut store, &reports)
}

/// Says, per model whose version this run built while readers use another, that they
/// stay there until a cutover, and the command that makes it.
fn readers_stay(
    cx: &Context<'_>,
    store: &mut Store,
    reports: &[RunReport],
) -> Result<(), CliError> {
    let built = reports
        .iter()
        .filter(|r| r.status == RunStatus::Succeeded && r.scope == Scope::All);
    for report in built {
        let (model, version) = (report.model, report.version);
        let active = versions::active_version(store, model)?;
        if let Some(active) = active.filter(|active| *active != version) {
            cx.out.note(|| format!("readers of {model} stay on v{active} until cutover: `replay cutover --model {model} --version {version}`"));
        }
    }
    Ok(())
}

/// `run --workers N` on PostgreSQL.
fn run_with_workers(
    cx: &Context<'_>,
    store: &mut Store,
    url: &crate::store::DatabaseUrl,
    models: &[&'static dyn crate::registry::Model],
    plan: &Plan,
    args: &Args,
    workers: u32,
) -> Result<(), CliError> {
    if !fits_a_pass(plan) || plan.start == Start::Resume || plan.max_batches.is_some() {
        let model = models.first().map_or("models", |m| m.contract().name);
        return Err(ReplayError::InvalidPlan {
            model,
            reason: "--workers runs new runs of whole models (catch-up or --full, up to --to); --user, --from, --resume and --max-batches run without it".to_owned(),
        }
        .into());
    }
    code_check::before_runs(store, &contracts(models), plan)?;
    let started = std::time::Instant::now();
    let mut config = args.scaling.config(default_owner(), plan);
    config.workers = Some(workers as usize);
    let report = run_workers(
        store,
        url,
        models,
        plan,
        args.scaling.partitions,
        &config,
        &note,
    )?;
    let wall = started.elapsed();
    let ran = one_pass(store, &report.runs)?;
    cx.out.runs(&report.runs, wall, ran)?;
    for stats in &report.workers {
        cx.out.note(|| summary(stats));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Command {
        #[command(flatten)]
        args: Args,
    }

    fn plan_of(args: &[&str]) -> Plan {
        let words = std::iter::once("run").chain(args.iter().copied());
        match Command::try_parse_from(words) {
            Ok(command) => command.args.plan(),
            Err(error) => panic!("{args:?} did not parse: {error}"),
        }
    }

    #[test]
    fn a_pass_reads_smaller_batches_than_a_model_by_model_run_by_default() {
        let user = "--user=7f1c3c5e-2f4b-4c1a-9a51-3f1e2d4c5b6a";
        let passes: [&[&str]; 6] = [
            &["--all", "--full"],
            &["--model", "a", "--model", "b"],
            &["--model", "a", "--full", "--max-batches", "3"],
            &["--all", "--resume"],
            &["--all", "--on-bad-event", "park"],
            &["--all", "--check-determinism"],
        ];
        let model_by_model: [&[&str]; 2] =
            [&["--all", "--full", user], &["--model", "a", "--from", "5"]];
        for args in passes {
            let plan = plan_of(args);
            assert!(fits_a_pass(&plan), "{args:?} runs as one pass");
            assert_eq!(plan.batch_size, PASS_BATCH_SIZE, "{args:?}");
        }
        for args in model_by_model {
            let plan = plan_of(args);
            assert!(!fits_a_pass(&plan), "{args:?} runs model by model");
            assert_eq!(plan.batch_size, BATCH_SIZE, "{args:?}");
        }
    }

    /// The help text states the defaults by hand (they differ per engine).
    #[test]
    fn the_help_text_gives_both_default_batch_sizes() {
        let help = <Command as clap::CommandFactory>::command()
            .render_long_help()
            .to_string();
        for default in [PASS_BATCH_SIZE, BATCH_SIZE] {
            assert!(help.contains(&format!("[default: {default}]")), "{help}");
        }
    }

    #[test]
    fn a_given_batch_size_holds_for_either_engine() {
        assert_eq!(plan_of(&["--all", "--batch-size", "700"]).batch_size, 700);
        let resume = ["--all", "--resume", "--batch-size", "700"];
        assert_eq!(plan_of(&resume).batch_size, 700);
    }
}
