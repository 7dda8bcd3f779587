//! `replay checksum`: the canonical checksum of a model version's rows.

use crate::cli::context::Context;
use crate::cli::CliError;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Model name.
    #[arg(long)]
    model: String,
    /// Model version (default: the version this binary declares).
    #[arg(long)]
    version: Option<i32>,
    /// Only this user's rows.
    #[arg(long)]
    user: Option<uuid::Uuid>,
    /// Print the digest of no rows when there are none, instead of failing (a version or
    /// user with no rows is usually a typo).
    #[arg(long)]
    allow_empty: bool,
}

pub(in crate::cli) fn run(cx: &Context<'_>, args: &Args) -> Result<(), CliError> {
    let model = cx.model(&args.model)?;
    let mut store = cx.read_store()?;
    let contract = model.contract();
    let version = args.version.unwrap_or(contract.version);
    let user = args.user;
    let sum = model.checksum(&mut store, version, user)?;
    let scope = user.map_or_else(String::new, |u| format!(" user {u}"));
    if sum.rows == 0 && !args.allow_empty {
        return Err(CliError::NoRows {
            model: contract.name,
            version,
            scope,
        });
    }
    cx.out.line(
        &serde_json::json!({ "model": contract.name, "version": version, "user": user, "digest": sum.digest, "rows": sum.rows }),
        || {
            format!(
                "{} v{version}{scope} {} ({} rows)",
                contract.name, sum.digest, sum.rows
            )
        },
    )
}
