//! `replay list`: the registered read models.

use crate::cli::context::Context;
use crate::cli::CliError;

pub(in crate::cli) fn run(cx: &Context<'_>) -> Result<(), CliError> {
    cx.out.list(cx.registry)
}
