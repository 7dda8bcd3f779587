//! The command line: global options and one [`Command`] variant per subcommand, whose
//! arguments live with the subcommand in `commands/`.

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

use super::commands::{
    checksum, cutover, ddl, dead_letters, demo, describe, drop, follow, generate, import, run,
    status, verify, worker,
};

/// Replay immutable events into read models, and inspect them.
#[derive(Debug, Parser)]
#[command(name = "replay")]
pub(crate) struct Cli {
    /// Database: postgres://… or a SQLite file path (read models go to NAME.readmodels.db).
    #[arg(long, env = "DATABASE_URL", default_value = crate::store::DatabaseUrl::DEFAULT, global = true, hide_env_values = true)]
    pub(crate) database_url: String,
    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true)]
    pub(crate) json: bool,
    /// Hide progress bars.
    #[arg(long, short, global = true)]
    pub(crate) quiet: bool,
    /// Log events on stderr as text lines or as one JSON object per line.
    #[arg(long, global = true, value_enum, default_value_t = super::LogFormat::Text)]
    pub(crate) log_format: super::LogFormat,
    /// The command.
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// The subcommands; each runs in `commands::<name>::run`.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Apply pending migrations (runtime tables and read-model tables).
    Migrate,
    /// Append events from a JSON Lines file, all lines in one transaction.
    Import(import::Args),
    /// Append deterministic synthetic events.
    Generate(generate::Args),
    /// List the registered read models.
    List,
    /// Show one model's contract.
    Describe(describe::Args),
    /// Replay events into one model or all: catch up, rebuild fully, by user or by range.
    ///
    /// Without --full, --from or --user, a run catches up from the model's checkpoint.
    /// See the README for what each kind of model allows.
    Run(run::Args),
    /// Catch models up, then keep them current as events are appended, until SIGTERM or
    /// SIGINT (which write what was applied and record the runs as stopped).
    ///
    /// One pass and one run per model for the whole session; PostgreSQL notifies new
    /// events (with a poll every --poll-seconds as fallback), SQLite is polled.
    Follow(follow::Args),
    /// List parked events; with --retry, clear a model's and rebuild it (events that
    /// still fail are parked again).
    DeadLetters(dead_letters::Args),
    /// Work on models' partitions alongside other workers (PostgreSQL): claim a fair
    /// share, catch up, then keep them current; start one on each machine.
    Worker(worker::Args),
    /// Print the canonical checksum of a model's rows.
    Checksum(checksum::Args),
    /// Rebuild a model into a scratch version and compare it with the live rows.
    Verify(verify::Args),
    /// Make a model version the one readers use (atomically).
    Cutover(cutover::Args),
    /// Delete the rows of an inactive model version.
    Drop(drop::Args),
    /// Show each model's active version, checkpoint, lag behind the log and last runs.
    Status(status::Args),
    /// Generate events into a fresh demo database, replay every model, print a summary.
    Demo(demo::Args),
    /// Print the DDL of models' tables, from their contracts: the table, the unique index
    /// on the idempotency key and the (user_id, model_version) index.
    Schema(ddl::SchemaArgs),
    /// Write a diesel_cli migration pair (up.sql, down.sql) for both backends, from the
    /// models' contracts: DIR/postgres/TIMESTAMP_NAME and DIR/sqlite/TIMESTAMP_NAME.
    NewMigration(ddl::NewMigrationArgs),
}

impl Cli {
    /// Parses the process's arguments, with `app`'s name, description and version in
    /// `--help` and `--version` (clap's usage errors exit with 2, as `parse` does).
    pub(crate) fn parse_for(app: &crate::App) -> Self {
        let command = Self::command()
            .name(app.name)
            .version(app.version)
            .about(app.about());
        let parsed = command
            .try_get_matches()
            .and_then(|mut matches| Self::from_arg_matches_mut(&mut matches));
        parsed.unwrap_or_else(|error| error.exit())
    }
}
