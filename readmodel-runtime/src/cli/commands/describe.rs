//! `replay describe MODEL`: one model's contract.

use crate::cli::context::Context;
use crate::cli::CliError;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Model name, as `list` shows it.
    model: String,
}

pub(in crate::cli) fn run(cx: &Context<'_>, args: &Args) -> Result<(), CliError> {
    cx.out.describe(cx.model(&args.model)?)
}
