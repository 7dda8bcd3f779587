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
}

pub(in crate::cli) fn run(cx: &Context<'_>, args: &Args) -> Result<(), CliError> {
    let events = import::parse_jsonl(&args.file)?;
    let mut store = cx.store(Migrated::Required)?;
    let count = import::append_all(&mut store, &events).map_err(ImportError::from)?;
    cx.out.line(&serde_json::json!({ "imported": count }), || {
        format!("imported {count} event(s) from {}", args.file.display())
    })
}
