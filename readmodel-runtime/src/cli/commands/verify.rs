//! `replay verify`: rebuild a model into a scratch version and compare with the live rows.

use crate::cli::context::Context;
use crate::cli::CliError;
use crate::store::with_conn;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Model name.
    #[arg(long)]
    model: String,
}

pub(in crate::cli) fn run(cx: &Context<'_>, args: &Args) -> Result<(), CliError> {
    let model = cx.model(&args.model)?;
    let mut store = cx.existing_store()?;
    // The rebuild writes a scratch version into the live table: refuse a missing table
    // or key index up front, with the message `run` gives.
    with_conn!(&mut store, |c| crate::store::schema::check_table(
        c,
        model.contract()
    ))?;
    let verification = model.verify(&mut store)?;
    cx.out.verification(&verification)?;
    if verification.matches() {
        return Ok(());
    }
    Err(CliError::Mismatch {
        model: verification.model,
        version: verification.version,
        first_key: verification.first_difference.map(|d| d.key),
    })
}
