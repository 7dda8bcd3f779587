//! `replay demo`: a fresh demo database with generated events and every model replayed.

use std::path::{Path, PathBuf};

use super::generate::append_generated;
use crate::cli::context::{Context, Migrated};
use crate::cli::progress::{one_pass, run_models};
use crate::cli::CliError;
use crate::replay::{Plan, PASS_BATCH_SIZE};
use crate::stop::StopFlag;
use crate::store::DatabaseUrl;
use crate::GenerateSpec;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Demo database file (replaced if it exists).
    #[arg(long, default_value = "readmodel-demo.db")]
    file: PathBuf,
    /// Number of users (1 or more).
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u32).range(1..))]
    users: u32,
    /// Number of events (1 or more).
    #[arg(long, default_value_t = 100_000, value_parser = clap::value_parser!(u64).range(1..))]
    events: u64,
    /// Seed.
    #[arg(long, default_value_t = 42)]
    seed: u64,
}

pub(in crate::cli) fn run(cx: &Context<'_>, args: &Args) -> Result<(), CliError> {
    let url = DatabaseUrl::parse(&args.file.display().to_string())?;
    if let DatabaseUrl::Sqlite { main, readmodels } = &url {
        remove_database(main)?;
        remove_database(readmodels)?;
    }
    let mut store = cx.open(&url, Migrated::NotRequired)?;
    let spec = GenerateSpec {
        users: args.users,
        events: args.events,
        seed: args.seed,
    };
    // The demo database is new: an interrupted demo leaves nothing worth a message.
    let (appended, seconds) = append_generated(cx, &mut store, &spec, &StopFlag::new())?;
    let count = appended.count;
    cx.out.note(|| format!("demo database: {url}"));
    cx.out.note(|| {
        format!(
            "generated {count} events for {} users in {seconds:.2}s",
            args.users
        )
    });
    let models = cx.models(None)?;
    let plan = Plan {
        full: true,
        batch_size: PASS_BATCH_SIZE,
        ..Plan::default()
    };
    let started = std::time::Instant::now();
    let reports = run_models(cx, &mut store, &url, &models, &plan)?;
    let wall = started.elapsed();
    let ran = one_pass(&mut store, &reports)?;
    cx.out.runs(&reports, wall, ran)?;
    cx.out.note(|| {
        format!(
            "inspect it: replay --database-url {} status",
            args.file.display()
        )
    });
    Ok(())
}

/// Removes a SQLite database file and its write-ahead files, if they exist.
fn remove_database(path: &Path) -> Result<(), CliError> {
    for suffix in ["", "-wal", "-shm"] {
        let path = PathBuf::from(format!("{}{suffix}", path.display()));
        if path.exists() {
            std::fs::remove_file(&path).map_err(|source| CliError::ReplaceFile {
                path: path.clone(),
                source,
            })?;
        }
    }
    Ok(())
}
