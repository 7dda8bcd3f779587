//! `replay generate`: append deterministic synthetic events.

use std::time::Instant;

use crate::cli::context::{Context, Migrated};
use crate::cli::{CliError, GenerateSpec};
use crate::import;
use crate::store::Store;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Number of users.
    #[arg(long, default_value_t = 100)]
    users: u32,
    /// Number of events.
    #[arg(long, default_value_t = 100_000)]
    events: u64,
    /// Seed: the same seed gives the same events.
    #[arg(long, default_value_t = 42)]
    seed: u64,
}

pub(in crate::cli) fn run(cx: &Context<'_>, args: &Args) -> Result<(), CliError> {
    let mut store = cx.store(Migrated::Required)?;
    let spec = GenerateSpec {
        users: args.users,
        events: args.events,
        seed: args.seed,
    };
    let (count, seconds) = append_generated(cx, &mut store, &spec)?;
    cx.out.line(
        &serde_json::json!({ "generated": count, "seconds": seconds }),
        || format!("generated {count} event(s) in {seconds:.2}s"),
    )
}

/// Appends the application's synthetic events; returns how many, and the seconds taken.
pub(in crate::cli) fn append_generated(
    cx: &Context<'_>,
    store: &mut Store,
    spec: &GenerateSpec,
) -> Result<(usize, f64), CliError> {
    let generator = cx.app.generator.ok_or(CliError::NoGenerator)?;
    let started = Instant::now();
    let count = import::append_iter(store, generator(spec))?;
    Ok((count, started.elapsed().as_secs_f64()))
}
