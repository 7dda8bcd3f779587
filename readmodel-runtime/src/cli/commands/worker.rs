//! `replay worker`: a long-running worker that claims a fair share of the models'
//! partitions, catches them up and keeps them current (PostgreSQL); start one on each
//! machine. Also the options `run --workers N` shares with it.

use std::time::Duration;

use crate::cli::context::{Context, Migrated};
use crate::cli::progress::contracts;
use crate::cli::service::{say_to_operator, MetricsArgs};
use crate::cli::CliError;
use crate::code_check;
use crate::ledger;
use crate::registry::Model;
use crate::replay::partition::{partitions_of, DEFAULT_PARTITIONS};
use crate::replay::{Flush, Plan, ReplayError, PASS_BATCH_SIZE};
use crate::scale_out::{self, RunBook, Until, WorkerConfig, WorkerStats};
use crate::stop::StopFlag;
use crate::store::{with_conn, DatabaseUrl, Store};

/// How workers share models: partitions and leases.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct Scaling {
    /// Partitions of each model whose rows all belong to one user (`rebuild = "partial"`
    /// with `user_id`); any other model is one partition. The first worker of a model
    /// version sets it; `run --full` resets it.
    #[arg(long, default_value_t = DEFAULT_PARTITIONS, value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub(crate) partitions: u32,
    /// Seconds a worker's lease on a partition lasts without renewal; a killed worker's
    /// partitions are taken over after it.
    #[arg(long, default_value_t = 30.0, value_parser = lease_seconds)]
    pub(crate) lease_seconds: f64,
}

/// Lease seconds: above 0.
fn lease_seconds(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(value) if value.is_finite() && value >= 0.1 => Ok(value),
        _ => Err(format!(
            "{text:?} is not a lease length in seconds (0.1 or more)"
        )),
    }
}

/// Poll seconds: above 0 (a worker polling without a pause would keep a core busy).
fn poll_seconds(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(value) if value.is_finite() && value > 0.0 => Ok(value),
        _ => Err(format!("{text:?} is not a number of seconds above 0")),
    }
}

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Model name; repeat it for several.
    #[arg(long, required_unless_present = "all", conflicts_with = "all")]
    model: Vec<String>,
    /// Every registered model.
    #[arg(long)]
    all: bool,
    #[command(flatten)]
    scaling: Scaling,
    /// Exit once every partition has reached the log's settled head at start (instead of
    /// following the log).
    #[arg(long)]
    exit_when_caught_up: bool,
    /// Once this binary's version of a model has caught up (every partition at the settled
    /// head, and not behind the version readers use), switch readers to it atomically
    /// (blue/green, as `follow --cutover-when-caught-up`).
    #[arg(long)]
    cutover_when_caught_up: bool,
    /// Seconds an idle worker waits before looking for new events and free partitions.
    #[arg(long, default_value_t = 1.0, value_parser = poll_seconds)]
    poll_seconds: f64,
    /// Events per read batch.
    #[arg(long, default_value_t = PASS_BATCH_SIZE as u32, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    batch_size: u32,
    /// This worker's name in the leases (default: host:pid).
    #[arg(long)]
    owner: Option<String>,
    #[command(flatten)]
    service: MetricsArgs,
}

impl Scaling {
    /// A worker's configuration with `plan`'s batches.
    pub(crate) fn config(&self, owner: String, plan: &Plan) -> WorkerConfig {
        WorkerConfig {
            owner,
            lease: Duration::from_secs_f64(self.lease_seconds),
            plan: plan.clone(),
            poll: Duration::from_secs(1),
            workers: None,
            fresh: false,
            beside: Default::default(),
        }
    }
}

/// Prints a worker's note on stderr at once (an operator watches a long-running worker).
pub(crate) fn note(line: &str) {
    say_to_operator(line);
}

/// The worker's figures, as a line for people.
pub(crate) fn summary(stats: &WorkerStats) -> String {
    let per_flush = |seconds: f64| 1e3 * seconds / stats.flushes.max(1) as f64;
    format!(
        "worker {}: {} passes, {} partitions claimed, {} completed, {} log events read, {} events applied in {:.2}s ({:.0}/s), {} flushes of {:.1} ms each, lease renewal {:.2} ms of it{}",
        stats.owner,
        stats.passes,
        stats.claimed,
        stats.completed,
        stats.log_events,
        stats.events,
        stats.passing_seconds,
        stats.events as f64 / stats.passing_seconds.max(1e-9),
        stats.flushes,
        per_flush(stats.flushing_seconds),
        per_flush(stats.renewing_seconds),
        if stats.lost.is_empty() {
            String::new()
        } else {
            format!(", {} leases lost", stats.lost.len())
        }
    )
}

/// Creates the leases of `models` (split into `partitions` where they can be); returns
/// each with its partition count in use.
pub(crate) fn with_leases(
    store: &mut Store,
    models: &[&'static dyn Model],
    partitions: u32,
) -> Result<Vec<(&'static dyn Model, u32)>, ReplayError> {
    models
        .iter()
        .map(|&model| {
            let contract = model.contract();
            let wanted = partitions_of(contract, partitions);
            let of = with_conn!(&mut *store, |c| ledger::ensure_leases(
                c,
                contract.name,
                contract.version,
                wanted
            ))?;
            Ok((model, of))
        })
        .collect()
}

pub(in crate::cli) fn run(cx: &Context<'_>, args: &Args) -> Result<(), CliError> {
    let url = cx.url()?;
    if !matches!(url, DatabaseUrl::Postgres(_)) {
        return Err(ReplayError::WorkersNeedPostgres.into());
    }
    let mut store = cx.open(&url, Migrated::Required)?;
    let models = cx.named_models(&args.model)?;
    for model in &models {
        with_conn!(&mut store, |c| crate::store::schema::check_table(
            c,
            model.contract()
        ))?;
    }
    let plan = Plan {
        batch_size: args.batch_size as usize,
        flush: Flush::default(),
        cutover_when_caught_up: args.cutover_when_caught_up,
        ..Plan::default()
    };
    code_check::before_runs(&mut store, &contracts(&models), &plan)?;
    let split = with_leases(&mut store, &models, args.scaling.partitions)?;
    let mut config = args.scaling.config(
        args.owner.clone().unwrap_or_else(scale_out::default_owner),
        &plan,
    );
    config.poll = Duration::from_secs_f64(args.poll_seconds);
    let until = if args.exit_when_caught_up {
        Until::Bound(with_conn!(&mut store, |c| {
            crate::store::Conn::settled_head(c)
        })?)
    } else {
        Until::Stopped
    };
    let stop = StopFlag::on_signals().map_err(CliError::Signals)?;
    let quiet_for = config.poll.max(config.lease / 3);
    let _service = args.service.start(cx, &url, &models, quiet_for)?;
    let stats = scale_out::work(
        &mut store,
        &url,
        &split,
        &config,
        until,
        &RunBook::PerLease,
        &stop,
        &note,
    )?;
    cx.out
        .line(&serde_json::to_value(&stats)?, || summary(&stats))
}

#[cfg(test)]
mod tests {
    use super::{lease_seconds, poll_seconds};

    #[test]
    fn poll_seconds_refusals_speak_of_polling_not_leases() {
        assert_eq!(poll_seconds("0.05"), Ok(0.05));
        for bad in ["0", "-1", "soon", "inf"] {
            let error = poll_seconds(bad).expect_err(bad);
            assert_eq!(error, format!("{bad:?} is not a number of seconds above 0"));
        }
        assert!(lease_seconds("0.05").is_err_and(|e| e.contains("lease length")));
    }
}
