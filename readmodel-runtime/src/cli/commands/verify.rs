//! `replay verify`: rebuild a model into a scratch version and compare with the live rows;
//! with `--accept`, record this binary's fingerprint for the live version when they match.

use crate::cli::context::Context;
use crate::cli::CliError;
use crate::code_check;
use crate::store::with_conn;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Model name.
    #[arg(long)]
    model: String,
    /// When the rebuild matches the live rows, record this binary's code fingerprint as
    /// the live version's (a change that leaves rows as they are, such as a refactor);
    /// when it does not, refuse and record nothing.
    #[arg(long)]
    accept: bool,
}

pub(in crate::cli) fn run(cx: &Context<'_>, args: &Args) -> Result<(), CliError> {
    let model = cx.model(&args.model)?;
    let url = cx.url()?;
    let contract = model.contract();
    let mut store = cx.existing_store()?;
    // The rebuild writes a scratch version into the live table: refuse a missing table
    // or key index up front, with the message `run` gives.
    with_conn!(&mut store, |c| crate::store::schema::check_table(
        c, contract
    ))?;
    let verification = model.verify(&mut store, &url)?;
    // The canonical row text lists every column but `model_version`, in order.
    let columns: Vec<&str> = contract
        .columns
        .iter()
        .map(|column| column.name)
        .filter(|name| *name != "model_version")
        .collect();
    cx.out.verification(&verification, &columns)?;
    let first_key = verification
        .first_difference
        .as_ref()
        .map(|d| d.key.clone());
    match (verification.matches(), args.accept) {
        (true, false) => Ok(()),
        (true, true) => {
            let before = code_check::accept(&mut store, contract)?;
            cx.out.note(|| {
                let was = before.map_or_else(|| "none".to_owned(), |f| f.to_string());
                format!(
                    "accepted: {} v{} is recorded as built by fingerprint {} (was {was})",
                    contract.name, contract.version, contract.fingerprint
                )
            });
            Ok(())
        }
        (false, false) => Err(CliError::Mismatch {
            model: verification.model,
            version: verification.version,
            first_key,
        }),
        (false, true) => Err(CliError::NotAccepted {
            model: verification.model,
            version: verification.version,
            first_key,
        }),
    }
}
