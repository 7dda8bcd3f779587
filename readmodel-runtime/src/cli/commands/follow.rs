//! `replay follow`: catch models up, then keep them current as the log grows, in one pass
//! and one run per model, until SIGTERM or SIGINT.

use crate::cli::commands::run::{seconds, OnBadEvent};
use crate::cli::context::{Context, Migrated};
use crate::cli::progress::{follow_models, one_pass};
use crate::cli::service::MetricsArgs;
use crate::cli::CliError;
use crate::replay::{Control, Flush, Plan, Start, PASS_BATCH_SIZE};
use crate::stop::StopFlag;
use crate::watch::{LogWatcher, DEFAULT_POLL};

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Model name; repeat it to follow several models (in one pass over the log).
    #[arg(long, conflicts_with = "all")]
    model: Vec<String>,
    /// Every registered model.
    #[arg(long)]
    all: bool,
    /// Read the log's head at least this often, whether or not PostgreSQL notified new
    /// events (SQLite has no notifications: this is how often it looks).
    #[arg(long, default_value_t = DEFAULT_POLL.as_secs_f64(), value_parser = seconds)]
    poll_seconds: f64,
    /// Events per read batch.
    #[arg(long, default_value_t = PASS_BATCH_SIZE as u32, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    batch_size: u32,
    /// Write the changed rows, with the checkpoints, once this many rows (all models
    /// together) are held in memory (and whenever the log's head is reached).
    #[arg(long, default_value_t = Flush::default().rows as u32, value_parser = clap::value_parser!(u32).range(1..))]
    flush_rows: u32,
    /// ...or once this many seconds have passed since the last write.
    #[arg(long, default_value_t = Flush::default().interval.as_secs_f64(), value_parser = seconds)]
    flush_seconds: f64,
    /// An event that cannot be decoded, or whose handler panics, stops following (`stop`),
    /// or is parked in readmodels.replay_dead_letters and skipped (`park`).
    #[arg(long, value_enum, default_value_t = OnBadEvent::Stop)]
    on_bad_event: OnBadEvent,
    /// Apply every event twice, to copies of the rows it touches, and stop on the first
    /// model, event and column where the two results differ.
    #[arg(long)]
    check_determinism: bool,
    /// Once this binary's version of a model has caught up with the log (and is not behind
    /// the version readers use), switch readers to it atomically, then keep it current
    /// (blue/green: the old deployment's follower keeps the old version current).
    #[arg(long)]
    cutover_when_caught_up: bool,
    #[command(flatten)]
    service: MetricsArgs,
}

impl Args {
    /// A catch-up of whole models, as `replay run` without options plans it: a model
    /// never built starts from the first event.
    fn plan(&self) -> Plan {
        Plan {
            full: false,
            from: None,
            to: None,
            user: None,
            batch_size: self.batch_size as usize,
            max_batches: None,
            on_bad_event: self.on_bad_event.into(),
            check_determinism: self.check_determinism,
            start: Start::New,
            flush: Flush {
                rows: self.flush_rows as usize,
                interval: std::time::Duration::from_secs_f64(self.flush_seconds),
            },
            cutover_when_caught_up: self.cutover_when_caught_up,
        }
    }
}

pub(in crate::cli) fn run(cx: &Context<'_>, args: &Args) -> Result<(), CliError> {
    if args.model.is_empty() && !args.all {
        return Err(CliError::NoModelNamed { command: "follow" });
    }
    let url = cx.url()?;
    let mut store = cx.open(&url, Migrated::Required)?;
    let models = cx.named_models(&args.model)?;
    let stop = StopFlag::on_signals().map_err(CliError::Signals)?;
    let quiet_for = std::time::Duration::from_secs_f64(args.poll_seconds.max(args.flush_seconds));
    let _service = args.service.start(cx, &url, &models, quiet_for)?;
    // Listening starts before the pass takes its first head: nothing committed after that
    // head goes unnoticed.
    let poll = std::time::Duration::from_secs_f64(args.poll_seconds);
    let watcher = LogWatcher::open(&url, poll)?;
    let mut control = Control::following(watcher, stop);
    let started = std::time::Instant::now();
    let reports = follow_models(cx, &mut store, &url, &models, &args.plan(), &mut control)?;
    let wall = started.elapsed();
    let ran = one_pass(&mut store, &reports)?;
    cx.out.runs(&reports, wall, ran)
}
