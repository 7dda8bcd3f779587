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

mod args;
mod commands;
mod context;
mod error;
mod output;
mod progress;
mod service;
mod table;

use std::process::ExitCode;

pub use self::commands::ddl::SchemaError;
pub use self::error::CliError;
use crate::application::App;

/// Parses the command line and runs it: one error line on stderr and exit code 1 on
/// failure (130 for an import or generate that SIGINT interrupted before its commit),
/// clap's usage errors with exit code 2.
pub fn main(app: App) -> ExitCode {
    let cli = args::Cli::parse_for(&app);
    init_tracing(cli.log_format);
    let outcome = context::Context::new(&app, &cli.database_url, cli.json, cli.quiet)
        .and_then(|cx| commands::execute(&cx, &cli.command));
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(error.exit_code())
        }
    }
}

/// Writes one line of command output (see `say!`).
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

/// How log events are written on stderr (`--log-format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub(crate) enum LogFormat {
    /// Lines for people.
    #[default]
    Text,
    /// One JSON object per event (tracing's JSON layer), with the operator's lines of
    /// long-running commands as `info` events.
    Json,
}

static LOG_FORMAT: std::sync::OnceLock<LogFormat> = std::sync::OnceLock::new();

/// The log format the command line chose.
pub(crate) fn log_format() -> LogFormat {
    LOG_FORMAT.get().copied().unwrap_or_default()
}

fn init_tracing(format: LogFormat) {
    let _ = LOG_FORMAT.set(format);
    // JSON logs are for collectors: the operator's lines (info) go there too.
    let default = match format {
        LogFormat::Text => "warn",
        LogFormat::Json => "info",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("READMODEL_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // A second init (tests calling main twice) is harmless.
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}
