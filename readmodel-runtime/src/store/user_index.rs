//! The `(user_id, model_version)` index of a model's table, left out while a full rebuild
//! fills the empty table and built once at its end.
//!
//! Rows arrive in log order, so their users are in no order: each one lands on a random
//! page of that index, and once the index outgrows the page cache every insert reads and
//! rewrites a page (at 10M events it was most of a rebuild's writing). Building the index
//! from the finished table sorts once instead. Only a table with no row at all is built
//! this way: then no reader's query can use the index. Whatever ends the run (its end, a
//! stop, a failure) builds the index again, and a run that starts after a crash builds it
//! if it is missing ([`restore`]).

use super::conn::Conn;
use super::error::StoreError;
use super::statement::{scalar_i64, scalar_text, Statement};
use super::temp_files;
use crate::contract::Contract;
use crate::ddl;

/// Drops the index when the table holds no row (of any version); returns whether the
/// table is now without it. A table without a `user_id` column has no such index. (A row
/// that another process writes right after the check only makes its reads slower until
/// the index is built.)
///
/// On PostgreSQL `DROP INDEX` waits for every open transaction that has read the table,
/// and every reader that comes after queues behind it: a reader's long transaction would
/// hold the run and stall the application. So it waits at most [`LOCK_WAIT`]; after that,
/// or any failure of the drop, the index stays (the build is only slower).
///
/// On PostgreSQL the same transaction pauses autovacuum on the table (unless its
/// `autovacuum_enabled` is set already, by its owner), as [`PAUSED`]: a table that grows
/// by millions of rows is vacuumed and analyzed again and again while it fills (a
/// 10M-event rebuild measured 78.4 s without autovacuum, 85.9 s with it). [`restore`]
/// resumes it.
pub(crate) fn defer<C: Conn>(conn: &mut C, contract: &Contract) -> Result<bool, StoreError> {
    if !contract.has_user_column() {
        return Ok(false);
    }
    let table = contract.qualified_table();
    let empty = format!("SELECT COUNT(*) AS value FROM (SELECT 1 FROM {table} LIMIT 1) AS any_row");
    if scalar_i64(conn, &empty)? > 0 {
        return Ok(false);
    }
    let postgres = conn.ddl_backend() == ddl::Backend::Postgres;
    let drop = format!(
        "DROP INDEX IF EXISTS {}.{}",
        contract.schema,
        ddl::user_index_name(contract)
    );
    let pause = postgres && autovacuum_setting(conn, contract)?.is_none();
    let dropped = conn.transaction::<_, diesel::result::Error, _>(|c| {
        if postgres {
            c.run(Statement::new(LOCK_WAIT))?;
        }
        c.run(Statement::new(&drop))?;
        if pause {
            c.run(Statement::new(&format!(
                "ALTER TABLE {table} SET (autovacuum_enabled = 'FALSE')"
            )))?;
        }
        Ok(())
    });
    if let Err(error) = dropped {
        // Not a warning: a run that goes on to fail (a full disk) must say one line.
        tracing::info!(model = contract.name, %error, "the (user_id, model_version) index stays while the table is built (the build is only slower)");
        return Ok(false);
    }
    Ok(true)
}

/// How long PostgreSQL's `DROP INDEX` may wait for the transactions reading the table.
const LOCK_WAIT: &str = "SET LOCAL lock_timeout = '2s'";

/// Creates the index if it is missing (a rebuild that deferred it ended, or was killed
/// before it could build it); returns whether it was missing.
pub(crate) fn restore<C: Conn>(conn: &mut C, contract: &Contract) -> Result<bool, StoreError> {
    if !contract.has_user_column()
        || conn.has_index(contract.schema, &ddl::user_index_name(contract))?
    {
        return Ok(false);
    }
    build(conn, contract)?;
    Ok(true)
}

/// Builds the index of a table found without it. Another process may build it first: a
/// catch-up that starts while a first build has left the index out finds it missing too,
/// and both build it at the end. So the statement is `IF NOT EXISTS`, and on PostgreSQL,
/// where two concurrent builds can still collide in the catalog, a failed build whose
/// index exists after all is not an error.
fn build<C: Conn>(conn: &mut C, contract: &Contract) -> Result<(), StoreError> {
    let Err(error) = create(conn, contract) else {
        return Ok(());
    };
    match conn.has_index(contract.schema, &ddl::user_index_name(contract)) {
        Ok(true) => Ok(()),
        _ => Err(error),
    }
}

fn create<C: Conn>(conn: &mut C, contract: &Contract) -> Result<(), StoreError> {
    let backend = conn.ddl_backend();
    let create = ddl::user_index_if_missing(contract, backend);
    let create = create.trim_end().trim_end_matches(';');
    let context = || {
        format!(
            "building the (user_id, model_version) index of {}",
            contract.name
        )
    };
    // SQLite sorts the index's entries in temporary files; kept in memory they would
    // hold the whole index, and sort slower (measured 6.6 s against 4.7 s for one table).
    // Resumed first, so that a run killed in between leaves nothing paused behind a
    // built index.
    if backend == ddl::Backend::Postgres
        && autovacuum_setting(conn, contract)?.as_deref() == Some(PAUSED)
    {
        let resume = format!(
            "ALTER TABLE {} RESET (autovacuum_enabled)",
            contract.qualified_table()
        );
        conn.run(Statement::new(&resume))
            .map_err(StoreError::query(context()))?;
    }
    temp_files::in_files(conn, context, |conn| {
        conn.run(Statement::new(create))
            .map_err(StoreError::query(context()))
    })?;
    Ok(())
}

/// Gathers the planner's statistics of a table a run filled from empty (PostgreSQL; SQLite
/// has none to gather: its planner follows the key index for a keyset page without them).
/// A table created or emptied has none until autovacuum analyzes it, and without them
/// PostgreSQL reads a keyset page (`WHERE key > … ORDER BY key LIMIT 10000`, as checksums
/// read) by sorting every row after the key: 183 ms a page against 2.9 ms once analyzed,
/// on a 1.3M-row table. The checksums of a 10M-event first build into a new database took
/// 48 s that way, against 7.7 s with statistics.
pub(crate) fn gather_statistics<C: Conn>(
    conn: &mut C,
    contract: &Contract,
) -> Result<(), StoreError> {
    if conn.ddl_backend() != ddl::Backend::Postgres {
        return Ok(());
    }
    let analyze = format!("ANALYZE {}", contract.qualified_table());
    conn.run(Statement::new(&analyze))
        .map_err(StoreError::query(format!(
            "gathering the statistics of {}",
            contract.name
        )))
        .map(drop)
}

/// The deferral's pause as PostgreSQL lists it: the quoted capitals are kept as written,
/// which tells it from a `false` (or `off`) of the table's owner, left alone.
const PAUSED: &str = "autovacuum_enabled=FALSE";

/// The table's `autovacuum_enabled=…` storage parameter (PostgreSQL), if set.
fn autovacuum_setting<C: Conn>(
    conn: &mut C,
    contract: &Contract,
) -> Result<Option<String>, StoreError> {
    let sql = format!(
        "SELECT COALESCE((SELECT option FROM unnest(c.reloptions) AS option \
         WHERE option LIKE 'autovacuum_enabled=%'), '') AS value \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = '{}' AND c.relname = '{}'",
        contract.schema, contract.table
    );
    let setting = scalar_text(conn, &sql)?;
    Ok(Some(setting).filter(|s| !s.is_empty()))
}

#[cfg(test)]
mod tests {
    use diesel::connection::SimpleConnection;
    use diesel::SqliteConnection;

    use super::*;
    use crate::contract::{Column, Kind, RebuildStrategy};
    use crate::store::schema::Introspect;
    use crate::store::{test_store, Store};

    const fn column(name: &'static str, sqlite: &'static str) -> Column {
        Column {
            name,
            pg_type: sqlite,
            sqlite_type: sqlite,
            nullable: false,
            sorts_as_text: false,
        }
    }

    const NOTES: Contract = Contract {
        name: "test.user_notes",
        domain: "test",
        version: 1,
        kind: Kind::Snapshot,
        consumed_events: &["test.noted"],
        replay_start_version: 0,
        idempotency_key: &["model_version", "note_id"],
        rebuild_strategy: RebuildStrategy::Partial,
        schema: "readmodels",
        table: "user_notes",
        columns: &[
            column("model_version", "INTEGER"),
            column("note_id", "TEXT"),
            column("user_id", "TEXT"),
        ],
        fingerprint: crate::Fingerprint::of(&[]),
    };

    fn has_user_index(conn: &mut SqliteConnection) -> bool {
        conn.has_index("readmodels", "user_notes_user")
            .expect("the catalog reads")
    }

    /// A SQLite store with the table of [`NOTES`] and its indexes, and the directory that
    /// holds it.
    fn notes_table() -> (Store, tempfile::TempDir) {
        let (mut store, _url, dir) = test_store::sqlite();
        let Store::Sqlite(conn) = &mut store else {
            panic!("the test opened SQLite")
        };
        conn.batch_execute(&ddl::create(&NOTES, ddl::Backend::Sqlite))
            .expect("the table is created");
        (store, dir)
    }

    fn temp_store(conn: &mut SqliteConnection) -> i64 {
        temp_files::temp_store(conn).expect("the pragma reads")
    }

    /// Left out only from a table with no row; built back once, with the connection's
    /// own `temp_store` (memory) restored after sorting in files.
    #[test]
    fn the_index_is_left_out_of_an_empty_table_only_and_built_back_once() {
        let (mut store, _dir) = notes_table();
        let Store::Sqlite(conn) = &mut store else {
            panic!("the test opened SQLite")
        };
        let memory = temp_store(conn);
        assert_eq!(memory, 2, "the writing connection sorts in memory");
        assert!(has_user_index(conn));

        assert!(defer(conn, &NOTES).expect("deferred"), "an empty table");
        assert!(!has_user_index(conn));
        assert!(restore(conn, &NOTES).expect("built"), "it was missing");
        assert!(has_user_index(conn));
        assert_eq!(
            temp_store(conn),
            memory,
            "the connection's own setting is back"
        );
        assert!(!restore(conn, &NOTES).expect("checked"), "already there");

        conn.batch_execute("INSERT INTO readmodels.user_notes VALUES (7, 'n', 'u')")
            .expect("a row of another version");
        assert!(!defer(conn, &NOTES).expect("checked"), "a table with a row");
        assert!(has_user_index(conn), "readers of that row keep the index");
    }

    /// A run that found the index missing and builds it after another process has built
    /// it (a catch-up beside a first build that left it out) ends without an error.
    #[test]
    fn building_an_index_another_process_built_first_is_not_an_error() {
        let (mut store, _dir) = notes_table();
        let Store::Sqlite(conn) = &mut store else {
            panic!("the test opened SQLite")
        };
        assert!(has_user_index(conn), "built by the other process");
        build(conn, &NOTES).expect("the index is there: nothing to report");
        assert!(has_user_index(conn));
        create(conn, &NOTES).expect("IF NOT EXISTS: the statement itself does not fail");
    }
}
