//! `replay cutover`: make a model version the one readers use.

use crate::cli::context::Context;
use crate::cli::CliError;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Model name.
    #[arg(long)]
    model: String,
    /// The version to activate.
    #[arg(long)]
    version: i32,
}

pub(in crate::cli) fn run(cx: &Context<'_>, args: &Args) -> Result<(), CliError> {
    let model = cx.model(&args.model)?;
    let mut store = cx.existing_store()?;
    let version = args.version;
    let previous = model.cutover(&mut store, version)?;
    let name = model.contract().name;
    cx.out.line(
        &serde_json::json!({ "model": name, "active_version": version, "previous_version": previous }),
        || match previous {
            Some(p) => format!("{name}: active version {p} -> {version}"),
            None => format!("{name}: active version {version}"),
        },
    )
}
