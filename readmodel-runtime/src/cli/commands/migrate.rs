//! `replay migrate`: apply pending migrations.

use crate::cli::context::{Context, Migrated};
use crate::cli::CliError;

pub(in crate::cli) fn run(cx: &Context<'_>) -> Result<(), CliError> {
    let mut store = cx.store(Migrated::NotRequired)?;
    let applied = store.migrate(&cx.app.migrations)?;
    cx.out.line(&serde_json::json!({ "applied": applied }), || {
        format!("{applied} migration(s) applied; the database is up to date")
    })
}
