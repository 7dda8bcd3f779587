//! The runtime's own migrations (event log and bookkeeping tables) and an application's
//! read-model migrations, applied in that order.

use std::collections::BTreeSet;

use diesel::migration::{Migration, MigrationSource};
use diesel::Connection;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness};

use super::error::{MigrationStep, StoreError};
use super::statement::{scalar_i64, Statement, Value};
use super::Conn;

/// The runtime's own tables (event log and replay bookkeeping), per backend.
pub(super) const RUNTIME_PG: EmbeddedMigrations =
    diesel_migrations::embed_migrations!("migrations/postgres");
pub(super) const RUNTIME_SQLITE: EmbeddedMigrations =
    diesel_migrations::embed_migrations!("migrations/sqlite");

/// An application's read-model migrations, one set per backend (diesel_cli layout).
#[derive(Clone, Copy)]
pub struct Migrations {
    /// `migrations/postgres`, embedded with `embed_migrations!`.
    pub postgres: &'static EmbeddedMigrations,
    /// `migrations/sqlite`, embedded with `embed_migrations!`.
    pub sqlite: &'static EmbeddedMigrations,
}

impl std::fmt::Debug for Migrations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Migrations { .. }")
    }
}

/// Lets a `&'static EmbeddedMigrations` be passed where diesel takes a source by value.
struct Source(&'static EmbeddedMigrations);

impl<DB: diesel::backend::Backend> MigrationSource<DB> for Source {
    fn migrations(
        &self,
    ) -> diesel::migration::Result<Vec<Box<dyn diesel::migration::Migration<DB>>>> {
        <EmbeddedMigrations as MigrationSource<DB>>::migrations(self.0)
    }
}

/// Applies the pending migrations of `runtime`, then of `app`; returns how many.
pub(super) fn apply<C>(
    conn: &mut C,
    runtime: &'static EmbeddedMigrations,
    app: &'static EmbeddedMigrations,
) -> Result<usize, StoreError>
where
    C: MigrationHarness<<C as Connection>::Backend> + Connection,
{
    let mut applied = 0;
    for source in [runtime, app] {
        applied += conn
            .run_pending_migrations(Source(source))
            .map_err(|source| StoreError::Migration {
                step: MigrationStep::Apply,
                source,
            })?
            .len();
    }
    Ok(applied)
}

/// How many migrations of `runtime` and `app` are not recorded as applied, read without
/// writing: diesel's own listing creates its bookkeeping table first, which a read-only
/// connection (and a read-only command) must not. `ledger_exists` counts that table.
pub(super) fn pending<C: Conn>(
    conn: &mut C,
    runtime: &'static EmbeddedMigrations,
    app: &'static EmbeddedMigrations,
    ledger_exists: &str,
) -> Result<usize, StoreError> {
    let listing = |source| StoreError::Migration {
        step: MigrationStep::ListPending,
        source,
    };
    let applied: BTreeSet<String> = if scalar_i64(conn, ledger_exists)? == 0 {
        BTreeSet::new()
    } else {
        let sql = "SELECT version AS value FROM __diesel_schema_migrations";
        let rows: Vec<Value<String>> = conn
            .fetch(Statement::new(sql))
            .map_err(StoreError::query(sql))?;
        rows.into_iter().map(|v| v.0).collect()
    };
    let mut count = 0;
    for source in [runtime, app] {
        let all: Vec<Box<dyn Migration<C::Backend>>> =
            MigrationSource::<C::Backend>::migrations(&Source(source)).map_err(listing)?;
        count += all
            .iter()
            .filter(|m| !applied.contains(&m.name().version().to_string()))
            .count();
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::Path;

    /// diesel keys a migration by the name's part before the first `_`: two directories
    /// with the same version make it run one of them and skip the other for good.
    #[test]
    fn every_runtime_migration_has_a_version_of_its_own() {
        for backend in ["postgres", "sqlite"] {
            let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("migrations")
                .join(backend);
            let mut by_version: BTreeMap<String, Vec<String>> = BTreeMap::new();
            for entry in std::fs::read_dir(&dir).expect("the migrations directory") {
                let name = entry.expect("an entry").file_name();
                let name = name.to_string_lossy().into_owned();
                let version = name.split('_').next().unwrap_or_default().to_owned();
                by_version.entry(version).or_default().push(name);
            }
            let shared: Vec<_> = by_version.values().filter(|n| n.len() > 1).collect();
            assert!(shared.is_empty(), "{backend}: {shared:?}");
        }
    }
}
