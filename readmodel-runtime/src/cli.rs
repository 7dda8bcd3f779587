//! The operator's `replay` binary, generated from the registry: an application's `main`
//! is one call to [`main`].
//!
//! See `projections/src/bin/replay.rs` for a complete `main`.

/// `println!` for command output: a closed stdout (`replay status | head`) ends the
/// process quietly instead of panicking.
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::cli::write_stdout(format_args!($($arg)*))
    };
}

mod commands;
mod output;
mod schema;

pub use schema::{SchemaError, Selection};

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
    /// Replay events into one model or all: catch up, rebuild fully, by user or by range.
    ///
    /// Without --full, --from or --user, a run catches up from the model's checkpoint.
    /// See the README for what each kind of model allows.
    Run {
        /// Model name.
        #[arg(long, required_unless_present = "all", conflicts_with = "all")]
        model: Option<String>,
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
        /// Continue the model's latest unfinished run from its checkpoint.
        #[arg(long, conflicts_with_all = ["full", "from", "to", "user"])]
        resume: bool,
        /// Events per batch and transaction.
        #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
        batch_size: u32,
        /// Stop after this many batches; `--resume` continues the run.
        #[arg(long)]
        max_batches: Option<u64>,
        /// An event that cannot be decoded stops the run (`stop`), or is parked in
        /// readmodels.replay_dead_letters and skipped (`park`).
        #[arg(long, value_enum, default_value_t = crate::dead_letters::BadEventPolicy::Stop)]
        on_bad_event: crate::dead_letters::BadEventPolicy,
    },
    /// List parked events; with --retry, clear a model's and rebuild it (events that
    /// still fail are parked again).
    DeadLetters {
        /// Only this model (required with --retry).
        #[arg(long, required_if_eq("retry", "true"))]
        model: Option<String>,
        /// Rebuild the model with `--full --on-bad-event park`.
        #[arg(long)]
        retry: bool,
    },
    /// Print the canonical checksum of a model's rows.
    Checksum {
        /// Model name.
        #[arg(long)]
        model: String,
        /// Model version (default: the version this binary declares).
        #[arg(long)]
        version: Option<i32>,
        /// Only this user's rows.
        #[arg(long)]
        user: Option<uuid::Uuid>,
    },
    /// Rebuild a model into a scratch version and compare it with the live rows.
    Verify {
        /// Model name.
        #[arg(long)]
        model: String,
    },
    /// Make a model version the one readers use (atomically).
    Cutover {
        /// Model name.
        #[arg(long)]
        model: String,
        /// The version to activate.
        #[arg(long)]
        version: i32,
    },
    /// Delete the rows of an inactive model version.
    Drop {
        /// Model name.
        #[arg(long)]
        model: String,
        /// The version to delete.
        #[arg(long)]
        version: i32,
    },
    /// Show each model's active version, checkpoint, lag behind the log and last runs.
    Status {
        /// Only this model.
        #[arg(long)]
        model: Option<String>,
    },
    /// Print the DDL of models' tables, from their contracts: the table, the unique index
    /// on the idempotency key and the (user_id, model_version) index.
    Schema {
        /// Which models.
        #[command(flatten)]
        selection: Selection,
        /// Only this backend (`postgres` or `sqlite`); default both.
        #[arg(long)]
        backend: Option<crate::ddl::Backend>,
    },
    /// Write a diesel_cli migration pair (up.sql, down.sql) for both backends, from the
    /// models' contracts: DIR/postgres/TIMESTAMP_NAME and DIR/sqlite/TIMESTAMP_NAME.
    NewMigration {
        /// Which models.
        #[command(flatten)]
        selection: Selection,
        /// The migrations directory (holding postgres/ and sqlite/).
        #[arg(long, default_value = "migrations")]
        dir: PathBuf,
        /// The migration's name (default: the model's or domain's name).
        #[arg(long)]
        name: Option<String>,
        /// The directory's timestamp, YYYY-MM-DD-HHMMSS (default: now, as diesel_cli does).
        #[arg(long)]
        timestamp: Option<String>,
    },
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

pub(crate) fn write_stdout(args: std::fmt::Arguments<'_>) {
    use std::io::Write;
    if let Err(error) = writeln!(std::io::stdout().lock(), "{args}") {
        if error.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: cannot write to stdout: {error}");
        std::process::exit(1);
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
    /// `schema` / `new-migration`.
    #[error(transparent)]
    Schema(#[from] SchemaError),
    /// Anything else the user asked for that cannot be done.
    #[error("{0}")]
    Usage(String),
    /// `verify` found live rows that differ from a rebuild.
    #[error("{0}")]
    Mismatch(String),
}
