//! `replay generate`: append deterministic synthetic events.

use std::time::Instant;

use super::import::{upkeep_name, warn_about_upkeep};
use crate::cli::context::{Context, Migrated};
use crate::cli::CliError;
use crate::import::{self, AppendError};
use crate::stop::StopFlag;
use crate::store::{Appended, Store};
use crate::GenerateSpec;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Number of users (1 or more).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..))]
    users: u32,
    /// Number of events (1 or more).
    #[arg(long, default_value_t = 100_000, value_parser = clap::value_parser!(u64).range(1..))]
    events: u64,
    /// Seed: the same seed gives the same events.
    #[arg(long, default_value_t = 42)]
    seed: u64,
}

pub(in crate::cli) fn run(cx: &Context<'_>, args: &Args) -> Result<(), CliError> {
    // SIGINT/SIGTERM before the commit roll the append back; after it, it is reported.
    let stop = StopFlag::on_signals_until_reported().map_err(CliError::Signals)?;
    let mut store = cx.store(Migrated::Required)?;
    let spec = GenerateSpec {
        users: args.users,
        events: args.events,
        seed: args.seed,
    };
    let (appended, seconds) = append_generated(cx, &mut store, &spec, &stop)?;
    warn_about_upkeep(&appended, "generated", &stop);
    let count = appended.count;
    cx.out.line(
        &serde_json::json!({ "generated": count, "seconds": seconds, "upkeep": upkeep_name(&appended.upkeep) }),
        || format!("generated {count} event(s) in {seconds:.2}s"),
    )
}

/// Appends the application's synthetic events; returns what was appended, and the
/// seconds taken.
pub(in crate::cli) fn append_generated(
    cx: &Context<'_>,
    store: &mut Store,
    spec: &GenerateSpec,
    stop: &StopFlag,
) -> Result<(Appended, f64), CliError> {
    let generator = cx.app.generator.ok_or(CliError::NoGenerator)?;
    let started = Instant::now();
    let appended = import::append_iter(store, generator(spec), stop).map_err(|error| {
        let duplicate_seed = matches!(
            error,
            AppendError::Refused {
                duplicate: true,
                ..
            }
        );
        CliError::Generate {
            error,
            duplicate_seed,
        }
    })?;
    Ok((appended, started.elapsed().as_secs_f64()))
}
