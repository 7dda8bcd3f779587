//! `replay dead-letters`: list parked events; `--retry` rebuilds a model and forgets the
//! parked events that now apply.

use crate::cli::context::Context;
use crate::cli::output::Ran;
use crate::cli::progress::run_models;
use crate::cli::CliError;
use crate::dead_letters;
use crate::registry::Model;
use crate::replay::{BadEventPolicy, Plan};
use crate::store::{with_conn, Store};

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Only this model (required with --retry).
    #[arg(long, required_if_eq("retry", "true"))]
    model: Option<String>,
    /// Rebuild the model with `--full --on-bad-event park`.
    #[arg(long)]
    retry: bool,
}

pub(in crate::cli) fn run(cx: &Context<'_>, args: &Args) -> Result<(), CliError> {
    let mut store = if args.retry {
        cx.existing_store()?
    } else {
        cx.read_store()?
    };
    let model = args
        .model
        .as_deref()
        .map(|name| cx.model(name))
        .transpose()?;
    if let (true, Some(model)) = (args.retry, model) {
        retry(cx, &mut store, model)?;
    }
    let name = model.map(|m| m.contract().name);
    let letters = with_conn!(&mut store, |c| dead_letters::list(c, name))?;
    cx.out.dead_letters(&letters)
}

/// The ids of the events parked for `contract`'s version.
fn parked(
    store: &mut Store,
    contract: &crate::contract::Contract,
) -> Result<std::collections::BTreeSet<i64>, CliError> {
    let letters = with_conn!(store, |c| dead_letters::list(c, Some(contract.name)))?;
    Ok(letters
        .into_iter()
        .filter(|letter| letter.model_version == contract.version)
        .map(|letter| letter.event_id)
        .collect())
}

/// Rebuilds `model` parking what still fails, then forgets the events parked before.
fn retry(cx: &Context<'_>, store: &mut Store, model: &'static dyn Model) -> Result<(), CliError> {
    let contract = model.contract();
    let started = chrono::Utc::now();
    let plan = Plan {
        full: true,
        on_bad_event: BadEventPolicy::Park,
        ..Plan::default()
    };
    let before = parked(store, contract)?;
    let timer = std::time::Instant::now();
    let reports = run_models(cx, store, &cx.url()?, &[model], &plan)?;
    let wall = timer.elapsed();
    // Only now that the rebuild committed: what it did not park again is fixed. A rebuild
    // beside the live version swapped in its own parked events; one in place forgets
    // those parked before it.
    with_conn!(store, |c| dead_letters::clear_before(
        c,
        contract.name,
        contract.version,
        Some(started)
    ))?;
    let after = parked(store, contract)?;
    let fixed = before.difference(&after).count();
    cx.out.note(|| {
        format!(
            "rebuilt {}: {fixed} parked event(s) now apply",
            contract.name
        )
    });
    cx.out.runs(&reports, wall, Ran::OneByOne)
}
