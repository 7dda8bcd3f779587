//! The database of one (backend, size): a new SQLite file in a temporary directory, or the
//! given PostgreSQL database emptied; and its log, generated and left at rest.

use std::path::Path;
use std::time::Instant;

use diesel::sql_types::Text;
use diesel::RunQueryDsl;
use readmodel_runtime::{import, DatabaseUrl, StopFlag, Store};

use super::sizes::generations;
use crate::{settle_log, BenchError};

/// A database holding one size's log; keeps a temporary SQLite directory alive.
pub(crate) struct SizedLog {
    /// The URL the measured child opens.
    pub(crate) url: String,
    /// Events appended.
    pub(crate) events: u64,
    /// Generations appended.
    pub(crate) generations: usize,
    /// Generation, insert and settling, seconds.
    pub(crate) seconds: f64,
    _dir: Option<tempfile::TempDir>,
}

/// A new SQLite database in a temporary directory (under `dir` if given).
pub(crate) fn sqlite(dir: Option<&Path>) -> Result<(Store, String, tempfile::TempDir), BenchError> {
    let mut builder = tempfile::Builder::new();
    builder.prefix("readmodel-bench-scale-");
    let made = match dir {
        Some(dir) => builder.tempdir_in(dir),
        None => builder.tempdir(),
    };
    let temp = made.map_err(|e| {
        let place = dir.map_or_else(
            || "the temporary directory".to_owned(),
            |d| d.display().to_string(),
        );
        BenchError::new(format!("cannot create a directory in {place}: {e}"))
    })?;
    let path = temp.path().join("bench.db").display().to_string();
    let store = Store::open(&DatabaseUrl::parse(&path)?, &projections::MIGRATIONS)?;
    Ok((store, path, temp))
}

/// The PostgreSQL database at `raw`, migrated; refused unless its log is empty.
pub(crate) fn postgres(raw: &str) -> Result<Store, BenchError> {
    let url = DatabaseUrl::parse(raw)?;
    if !matches!(url, DatabaseUrl::Postgres(_)) {
        return Err(BenchError::new(format!(
            "--database-url must be a postgres:// URL (got {url}); --scale always measures a new SQLite database in a temporary directory (place it with --sqlite-dir)"
        )));
    }
    let mut store = Store::open(&url, &projections::MIGRATIONS)?;
    store.migrate(&projections::MIGRATIONS)?;
    let existing = store.log_len()?;
    if existing > 0 {
        return Err(BenchError::new(format!(
            "{url}: event_record already holds {existing} events; --scale needs an empty database (it empties the database between sizes: create an empty one and pass its URL)"
        )));
    }
    Ok(store)
}

#[derive(diesel::QueryableByName)]
struct SchemaName {
    #[diesel(sql_type = Text)]
    nspname: String,
}

/// Empties the PostgreSQL database at `raw` for the next size: drops every schema but
/// PostgreSQL's own (the log, the ledger, the read models) and creates `public` again.
pub(crate) fn empty_postgres(raw: &str) -> Result<(), BenchError> {
    on_postgres(&DatabaseUrl::parse(raw)?, drop_schemas)
}

/// Runs `work` on a connection to the PostgreSQL database at `url`.
fn on_postgres(
    url: &DatabaseUrl,
    work: impl FnOnce(&mut diesel::PgConnection) -> Result<(), BenchError>,
) -> Result<(), BenchError> {
    let mut store = Store::open(url, &projections::MIGRATIONS)?;
    match &mut store {
        Store::Postgres(c) => work(c),
        Store::Sqlite(_) => Err(BenchError::new(format!(
            "{url} is not a PostgreSQL database"
        ))),
    }
}

fn drop_schemas(c: &mut diesel::PgConnection) -> Result<(), BenchError> {
    let schemas: Vec<SchemaName> = diesel::sql_query(
        "SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema'",
    )
    .load(c)?;
    for schema in schemas {
        let name = schema.nspname.replace('"', "\"\"");
        diesel::sql_query(format!("DROP SCHEMA \"{name}\" CASCADE")).execute(c)?;
    }
    diesel::sql_query("CREATE SCHEMA public").execute(c)?;
    Ok(())
}

#[derive(diesel::QueryableByName)]
struct TableName {
    #[diesel(sql_type = Text)]
    tablename: String,
}

/// Puts the read models of the database at `raw` back as a new database has them, for
/// another measured pass over the same log: SQLite deletes the read-model file (the
/// child's migrations create it again); PostgreSQL truncates every table of schema
/// `readmodels` (the read models and the ledger: checkpoints, runs, versions), which
/// its migrations leave empty. The log is untouched.
pub(crate) fn empty_read_models(raw: &str) -> Result<(), BenchError> {
    match DatabaseUrl::parse(raw)? {
        DatabaseUrl::Sqlite { readmodels, .. } => {
            for suffix in ["", "-wal", "-shm"] {
                let mut name = readmodels.clone().into_os_string();
                name.push(suffix);
                match std::fs::remove_file(&name) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                        return Err(BenchError::new(format!(
                            "cannot delete {} for the next measured pass: {e}",
                            Path::new(&name).display()
                        )));
                    }
                    _ => {}
                }
            }
            Ok(())
        }
        url @ DatabaseUrl::Postgres(_) => on_postgres(&url, |c| {
            let tables: Vec<TableName> = diesel::sql_query(
                "SELECT tablename::text AS tablename FROM pg_tables WHERE schemaname = 'readmodels' ORDER BY tablename",
            )
            .load(c)?;
            if tables.is_empty() {
                return Ok(());
            }
            let names: Vec<String> = tables
                .iter()
                .map(|t| format!("readmodels.\"{}\"", t.tablename.replace('"', "\"\"")))
                .collect();
            diesel::sql_query(format!("TRUNCATE {}", names.join(", "))).execute(c)?;
            Ok(())
        }),
    }
}

/// Appends the log of `events` (see [`generations`]) to `store`, then leaves it at rest.
pub(crate) fn fill(
    mut store: Store,
    url: String,
    events: u64,
    users: u32,
    dir: Option<tempfile::TempDir>,
) -> Result<SizedLog, BenchError> {
    let started = Instant::now();
    let specs = generations(events, users);
    let mut appended = 0;
    for spec in &specs {
        let done = import::append_iter(
            &mut store,
            projections::generate::events(spec),
            &StopFlag::new(),
        )
        .map_err(|e| {
            BenchError::new(format!(
                "cannot append generation seed {} ({} events): {e}",
                spec.seed, spec.events
            ))
        })?;
        appended += done.count as u64;
    }
    settle_log(&mut store)?;
    Ok(SizedLog {
        url,
        events: appended,
        generations: specs.len(),
        seconds: started.elapsed().as_secs_f64(),
        _dir: dir,
    })
}
