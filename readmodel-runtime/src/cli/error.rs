//! The CLI's error: any failure of a command, as one line naming what and where.

use std::path::PathBuf;

use crate::cutover::CutoverError;
use crate::import::ImportError;
use crate::registry::RegistryError;
use crate::replay::ReplayError;
use crate::store::StoreError;

/// Any failure of a command: one line, naming what and where.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Storage.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Replay.
    #[error(transparent)]
    Replay(#[from] ReplayError),
    /// `cutover` / `drop`.
    #[error(transparent)]
    Cutover(#[from] CutoverError),
    /// Import.
    #[error(transparent)]
    Import(#[from] ImportError),
    /// `run --workers N`.
    #[error(transparent)]
    Workers(#[from] crate::scale_out::WorkersError),
    /// Registry.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// Runs refused before they started: rows built by other code.
    #[error(transparent)]
    CodeCheck(#[from] crate::code_check::CodeCheckError),
    /// `schema` / `new-migration`.
    #[error(transparent)]
    Schema(#[from] super::commands::ddl::SchemaError),
    /// `--json status --watch`: a live table has no JSON form.
    #[error("status --watch draws a live table for people and has no --json form; for automation run `replay --json status` at the interval you want")]
    WatchHasNoJson,
    /// A command on models given neither `--all` nor `--model`.
    #[error("replay {command} needs --all or --model NAME (repeatable)")]
    NoModelNamed {
        /// The subcommand.
        command: &'static str,
    },
    /// `--metrics-addr` could not be listened on.
    #[error(transparent)]
    Metrics(#[from] crate::metrics::server::ListenError),
    /// The SIGTERM/SIGINT handlers could not be installed.
    #[error("cannot install the SIGTERM/SIGINT handlers: {0}")]
    Signals(#[source] std::io::Error),
    /// `generate` or `demo` in a binary whose application has no event generator.
    #[error("this binary has no event generator")]
    NoGenerator,
    /// `demo` could not remove an earlier demo database file.
    #[error("cannot replace {}: {source}", path.display())]
    ReplaceFile {
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// `--json` output could not be encoded.
    #[error("cannot encode JSON output: {0}")]
    Json(#[from] serde_json::Error),
    /// `checksum` of a version or user without rows, without `--allow-empty`.
    #[error("{model} v{version}{scope} has no rows; nothing to checksum (--allow-empty prints the digest of no rows)")]
    NoRows {
        /// The model.
        model: &'static str,
        /// The version asked for.
        version: i32,
        /// ` user U`, or empty.
        scope: String,
    },
    /// `generate` did not commit; no event was appended.
    #[error("{error}; no event was appended{}", if *duplicate_seed { " (generating a --seed into a log that already holds its events repeats them: use another --seed)" } else { "" })]
    Generate {
        /// Why.
        error: crate::import::AppendError,
        /// Whether an event was already in the log.
        duplicate_seed: bool,
    },
    /// `verify` found live rows that differ from a rebuild.
    #[error("{model} v{version} does not match a rebuild from the log{}", first_key.as_ref().map_or_else(String::new, |key| format!(" (first differing key: {key})")))]
    Mismatch {
        /// The model.
        model: &'static str,
        /// The live version.
        version: i32,
        /// The first key, in key order, whose rows differ.
        first_key: Option<String>,
    },
    /// `verify --accept` found rows that this binary's code rebuilds differently.
    #[error("{model} v{version} is not what this binary rebuilds{}: this binary's code changes the rows, so its fingerprint was not recorded; bump `version` to build it beside the live rows, or rebuild its rows with this code with `replay run --model {model} --full`", first_key.as_ref().map_or_else(String::new, |key| format!(" (first differing key: {key})")))]
    NotAccepted {
        /// The model.
        model: &'static str,
        /// The live version.
        version: i32,
        /// The first key, in key order, whose rows differ.
        first_key: Option<String>,
    },
}

impl CliError {
    /// The process's exit code: 128 + the signal for an append a signal interrupted
    /// before its commit (130 for SIGINT, as a shell reports a process it killed), 1
    /// otherwise.
    pub fn exit_code(&self) -> u8 {
        let interrupted = match self {
            CliError::Import(crate::import::ImportError::Interrupted { signal }) => Some(*signal),
            CliError::Generate {
                error: crate::import::AppendError::Interrupted { signal },
                ..
            } => Some(*signal),
            _ => None,
        };
        match interrupted {
            Some(signal) => {
                let signal = signal
                    .and_then(|s| u8::try_from(s).ok())
                    .filter(|s| *s < 128);
                128 + signal.unwrap_or(2)
            }
            None => 1,
        }
    }
}
