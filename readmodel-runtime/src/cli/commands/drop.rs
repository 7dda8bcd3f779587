//! `replay drop`: delete the rows of an inactive model version.

use crate::cli::context::Context;
use crate::cli::CliError;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Model name.
    #[arg(long)]
    model: String,
    /// The version to delete.
    #[arg(long)]
    version: i32,
}

pub(in crate::cli) fn run(cx: &Context<'_>, args: &Args) -> Result<(), CliError> {
    let model = cx.model(&args.model)?;
    let mut store = cx.existing_store()?;
    let version = args.version;
    let deleted = model.drop_version(&mut store, version)?;
    let name = model.contract().name;
    cx.out.line(
        &serde_json::json!({ "model": name, "dropped_version": version, "rows_deleted": deleted }),
        || format!("{name}: dropped version {version} ({deleted} rows deleted)"),
    )
}
