//! `replay status`: each model's active version, checkpoint, lag and last runs that did
//! something (catch-ups that found no event are counted, `verify`'s scratch runs left
//! out), the partitions workers hold (owner, checkpoint, lag and lease expiry), whether
//! the version was built by other code than this binary's, and, when readers use a
//! version this binary does not build, that version's checkpoint and lag.

use crate::cli::context::Context;
use crate::cli::output::{ModelStatus, PartitionStatus};
use crate::cli::CliError;
use crate::ledger::{self, Scope};
use crate::registry::Model;
use crate::store::{with_conn, Store, StoreError};
use crate::versions;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Only this model.
    #[arg(long)]
    model: Option<String>,
    /// Redraw a live table every SECONDS (default 2) until Ctrl-C: active version,
    /// checkpoint, lag, rate, partitions and their owners.
    #[arg(long, value_name = "SECONDS", num_args = 0..=1, default_missing_value = "2", value_parser = super::status_watch::refresh_seconds)]
    watch: Option<f64>,
    /// With --watch: print one frame and exit.
    #[arg(long, requires = "watch")]
    once: bool,
}

pub(in crate::cli) fn run(cx: &Context<'_>, args: &Args) -> Result<(), CliError> {
    if let Some(every) = args.watch {
        if cx.out.is_json() {
            return Err(CliError::WatchHasNoJson);
        }
        return super::status_watch::run(cx, args.model.as_deref(), every, args.once);
    }
    let mut store = cx.read_store()?;
    let models = cx.models(args.model.as_deref())?;
    let head = store.log_head()?;
    let statuses = models
        .into_iter()
        .map(|model| model_status(&mut store, model, head))
        .collect::<Result<Vec<_>, _>>()?;
    cx.out.status(&statuses)
}

pub(super) fn model_status(
    store: &mut Store,
    model: &dyn Model,
    head: i64,
) -> Result<ModelStatus, StoreError> {
    let contract = model.contract();
    let recorded = crate::code_check::recorded(store, contract)?;
    let (checkpoint, active, runs, empty_catch_ups, partitions) = with_conn!(store, |c| {
        let checkpoint = ledger::checkpoint(c, contract.name, contract.version, Scope::All)?;
        let active = match versions::active(c, contract.name)? {
            Some(v) => Some((v, ledger::checkpoint(c, contract.name, v, Scope::All)?)),
            None => None,
        };
        let runs = ledger::runs_that_did_something(c, contract.name, 3)?;
        let latest = runs.first().map_or(0, |run| run.run_id);
        let empty_catch_ups = ledger::empty_catch_ups_after(c, contract.name, latest)?;
        let mut partitions = Vec::new();
        for lease in ledger::leases(c, contract.name, contract.version)? {
            let scope = ledger::scope_of(lease.partition, lease.partitions);
            let own = ledger::checkpoint(c, contract.name, contract.version, scope)?;
            let at = own.max(checkpoint);
            partitions.push(PartitionStatus {
                partition: lease.partition,
                partitions: lease.partitions,
                owner: lease.owner,
                token: lease.token,
                checkpoint: at,
                lag: head - at.unwrap_or(0),
                expires_at: lease.expires_at,
            });
        }
        Ok::<_, StoreError>((checkpoint, active, runs, empty_catch_ups, partitions))
    })?;
    Ok(ModelStatus {
        model: contract.name,
        version: contract.version,
        active_version: active.map(|(v, _)| v),
        active_checkpoint: active.and_then(|(_, at)| at),
        active_lag: active.map(|(_, at)| head - at.unwrap_or(0)),
        kind: contract.kind.as_str(),
        checkpoint,
        head,
        lag: head - checkpoint.unwrap_or(0),
        runs,
        empty_catch_ups,
        partitions,
        fingerprint: contract.fingerprint,
        recorded_fingerprint: recorded.map(|r| r.fingerprint),
    })
}
