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
    /// A command on models given neither `--all` nor `--model`.
    #[error("replay {command} needs --all or --model NAME (repeatable)")]
    NoModelNamed {
        /// The subcommand.
        command: &'static str,
    },
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
    #[error("{model} v{version} is not what this binary rebuilds{}: this binary's code changes the rows, so its fingerprint was not recorded; bump `version` to build it beside the live rows, or rebuild in place with `replay run --model {model} --full`", first_key.as_ref().map_or_else(String::new, |key| format!(" (first differing key: {key})")))]
    NotAccepted {
        /// The model.
        model: &'static str,
        /// The live version.
        version: i32,
        /// The first key, in key order, whose rows differ.
        first_key: Option<String>,
    },
}
