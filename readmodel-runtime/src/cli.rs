//! The operator's `replay` binary, generated from the registry: an application's `main`
//! is one call to [`main`].
//!
//! See `projections/src/bin/replay.rs` for a complete `main`.

mod commands;
mod output;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::source::NewEvent;
use crate::store::Migrations;

/// What an application plugs into the CLI.
#[derive(Debug, Clone, Copy)]
pub struct App {
    /// The application's read-model migrations.
    pub migrations: Migrations,
    /// Makes synthetic events for `replay generate`, if the application has a generator.
    pub generator: Option<Generator>,
}

/// What `replay generate` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GenerateSpec {
    /// Number of users.
    pub users: u32,
    /// Number of events.
    pub events: u64,
    /// Seed: the same seed gives the same events.
    pub seed: u64,
}

/// A deterministic synthetic event generator.
pub type Generator = fn(&GenerateSpec) -> Box<dyn Iterator<Item = NewEvent>>;

/// Replay immutable events into read models, and inspect them.
#[derive(Debug, Parser)]
#[command(name = "replay", version, about, long_about = None)]
pub struct Cli {
    /// Database: postgres://… or a SQLite file path (read models go to NAME.readmodels.db).
    #[arg(long, env = "DATABASE_URL", default_value = crate::store::DatabaseUrl::DEFAULT, global = true, hide_env_values = true)]
    pub database_url: String,
    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    /// Hide progress bars.
    #[arg(long, short, global = true)]
    pub quiet: bool,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Apply pending migrations (runtime tables and read-model tables).
    Migrate,
    /// Append events from a JSON Lines file, all lines in one transaction.
    Import {
        /// The file: one event object per line.
        #[arg(long)]
        file: PathBuf,
    },
    /// Append deterministic synthetic events.
    Generate {
        /// Number of users.
        #[arg(long, default_value_t = 100)]
        users: u32,
        /// Number of events.
        #[arg(long, default_value_t = 100_000)]
        events: u64,
        /// Seed: the same seed gives the same events.
        #[arg(long, default_value_t = 42)]
        seed: u64,
    },
    /// List the registered read models.
    List,
    /// Show one model's contract.
    Describe {
        /// Model name, as `list` shows it.
        model: String,
    },
    /// Replay events into one model or all.
    Run {
        /// Model name.
        #[arg(long, required_unless_present = "all", conflicts_with = "all")]
        model: Option<String>,
        /// Every registered model.
        #[arg(long)]
        all: bool,
        /// Delete the version's rows and replay from the start (default: catch up from the checkpoint).
        #[arg(long)]
        full: bool,
        /// Last event id to apply (default: the log's head when the run starts).
        #[arg(long)]
        to: Option<i64>,
        /// Events per batch and transaction.
        #[arg(long, default_value_t = 5_000, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
        batch_size: u32,
    },
    /// Print the canonical checksum of a model's rows.
    Checksum {
        /// Model name.
        #[arg(long)]
        model: String,
    },
    /// Show each model's checkpoint, lag behind the log and last runs.
    Status,
    /// Generate events into a fresh demo database, replay every model, print a summary.
    Demo {
        /// Demo database file (replaced if it exists).
        #[arg(long, default_value = "readmodel-demo.db")]
        file: PathBuf,
        /// Number of users.
        #[arg(long, default_value_t = 200)]
        users: u32,
        /// Number of events.
        #[arg(long, default_value_t = 100_000)]
        events: u64,
        /// Seed.
        #[arg(long, default_value_t = 42)]
        seed: u64,
    },
}

/// Parses the command line and runs it: one error line on stderr and exit code 1 on
/// failure, clap's usage errors with exit code 2.
pub fn main(app: App) -> ExitCode {
    init_tracing();
    let cli = Cli::parse();
    match commands::execute(&app, &cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("READMODEL_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    // A second init (tests calling main twice) is harmless.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// Any failure of a command: one line, naming what and where.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Storage.
    #[error(transparent)]
    Store(#[from] crate::error::StoreError),
    /// Replay.
    #[error(transparent)]
    Replay(#[from] crate::error::ReplayError),
    /// Import.
    #[error(transparent)]
    Import(#[from] crate::error::ImportError),
    /// Registry.
    #[error(transparent)]
    Registry(#[from] crate::error::RegistryError),
    /// Anything else the user asked for that cannot be done.
    #[error("{0}")]
    Usage(String),
}
