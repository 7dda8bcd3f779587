//! `replay import --file F`: append a JSON Lines file to the log, all or nothing.

use std::path::PathBuf;

use crate::cli::context::{Context, Migrated};
use crate::cli::CliError;
use crate::import::{self, ImportError};

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The file: one event object per line.
    #[arg(long)]
    file: PathBuf,
    /// Append events even when one does not decode as its type (unknown schema_version,
    /// payload fields that do not parse): strict replays of its models will stop on it.
    #[arg(long)]
    unchecked: bool,
}

pub(in crate::cli) fn run(cx: &Context<'_>, args: &Args) -> Result<(), CliError> {
    let lines = import::parse_jsonl_lines(&args.file)?;
    // Checked before the store opens: a refused file touches nothing.
    let unconsumed = if args.unchecked {
        None
    } else {
        Some(import::check_decodes(&args.file, &lines, |event| {
            cx.registry.decodes(event)
        })?)
    };
    let events: Vec<_> = lines.into_iter().map(|(_, event)| event).collect();
    let mut store = cx.store(Migrated::Required)?;
    let count = import::append_all(&mut store, &events).map_err(ImportError::from)?;
    let json = serde_json::json!({ "imported": count, "unconsumed": unconsumed, "checked": !args.unchecked });
    cx.out.line(&json, || {
        let file = args.file.display();
        match unconsumed {
            Some(m) => format!("imported {count} events ({m} of types no model consumes) from {file}"),
            None => format!("imported {count} events from {file} without checking that they decode (--unchecked)"),
        }
    })
}
