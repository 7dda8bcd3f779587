//! SQLite: the event log in the main file, read models in a second file ATTACHed as
//! `readmodels`, so the same qualified names (`readmodels.habit_streaks`) work on both
//! backends and deleting the read-model file is always a safe reset.

use std::path::Path;

use diesel::sql_types::Text;
use diesel::{RunQueryDsl, SqliteConnection};

use super::error::StoreError;
use super::sqlite_files::{attach_read_models, file_error, open_log, pragma, SqliteFile};
use super::Access;
use super::{Appended, Upkeep};

/// Opens the event log at `main` with the read models at `readmodels` ATTACHed, for
/// `access`: creating missing files only for [`Access::Create`], writing nothing for
/// [`Access::ReadOnly`].
pub(super) fn open(
    main: &Path,
    readmodels: &Path,
    access: Access,
) -> Result<SqliteConnection, StoreError> {
    if let Some(dir) = main.parent().filter(|d| !d.as_os_str().is_empty()) {
        if !dir.is_dir() {
            return Err(StoreError::Connect {
                target: main.display().to_string(),
                reason: format!("directory {} does not exist", dir.display()),
            });
        }
    }
    let mut conn = open_log(main, access)?;
    if access == Access::ReadOnly {
        // Before anything else: nothing this connection runs writes.
        pragma(&mut conn, "PRAGMA query_only = 1", main, readmodels)?;
    }
    attach_read_models(&mut conn, readmodels, access)?;
    let pragmas: &[&str] = if access == Access::ReadOnly {
        &[
            "PRAGMA readmodels.cache_size = -8192",
            "PRAGMA temp_store = MEMORY",
        ]
    } else {
        WRITER_PRAGMAS
    };
    for sql in pragmas {
        pragma(&mut conn, sql, main, readmodels)?;
    }
    let pairing = if access == Access::ReadOnly {
        pairing(&mut conn)
    } else {
        forget_migrations_of_a_new_readmodels_file(&mut conn)
    }
    .map_err(|e| {
        file_error(
            SqliteFile::ReadModels,
            readmodels,
            &format!("cannot inspect it: {e}"),
        )
    })?;
    match pairing {
        Pairing::Consistent => Ok(conn),
        Pairing::OrphanReadModels => Err(StoreError::Connect {
            target: main.display().to_string(),
            reason: format!(
                "{} holds read models but {} is a new event log; they were built from another log: delete {} to rebuild them from this one",
                readmodels.display(),
                main.display(),
                readmodels.display()
            ),
        }),
        Pairing::EmptyReadModels => Err(file_error(
            SqliteFile::ReadModels,
            readmodels,
            "holds no tables (it was deleted and recreated, or never migrated), and a command that only reads never migrates it: `replay migrate` recreates them and `replay run --all` rebuilds the read models",
        )),
    }
}

/// The settings of a connection that writes.
const WRITER_PRAGMAS: &[&str] = &[
    // WAL lets readers query read models while a replay writes them.
    "PRAGMA main.journal_mode = WAL",
    "PRAGMA readmodels.journal_mode = WAL",
    "PRAGMA main.synchronous = NORMAL",
    "PRAGMA readmodels.synchronous = NORMAL",
    // 2 MiB, for a replay's peak memory: a flush writes in key order, so most pages
    // are read once, and the pages a rebuild's commit changes outnumber any cache this
    // size (27,000 at 10M events). Against 8 MiB, a 10M-event rebuild took the same time
    // and peaked 10 MiB lower; a 1M-event one took 0–4% longer.
    "PRAGMA readmodels.cache_size = -2048",
    // Checkpointing the WAL every 1,000 pages (the default) costs a replay a tenth of
    // its time; 10,000 pages (about 40 MiB of WAL) keeps that small.
    "PRAGMA readmodels.wal_autocheckpoint = 10000",
    "PRAGMA temp_store = MEMORY",
];

/// Another connection to both files that only reads (checksums of several models at
/// once); WAL lets it read what the writing connection committed.
pub(super) fn open_row_reader(
    main: &Path,
    readmodels: &Path,
) -> Result<SqliteConnection, StoreError> {
    let mut conn = open_log_reader(main)?;
    attach_read_models(&mut conn, readmodels, Access::Existing)?;
    Ok(conn)
}

/// A second connection to the event log only, for a pass that reads the log on one thread
/// while another writes read models: in WAL mode readers never block the writer.
pub(super) fn open_log_reader(main: &Path) -> Result<SqliteConnection, StoreError> {
    let mut conn = open_log(main, Access::Existing)?;
    // It reads the log in id order (or a few index ranges in order): a path of pages per
    // cursor is all it reuses, so 512 KiB instead of the default 2 MiB.
    for sql in ["PRAGMA query_only = 1", "PRAGMA main.cache_size = -512"] {
        pragma(&mut conn, sql, main, main)?;
    }
    Ok(conn)
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// Deleting the read-model file is a supported reset, but diesel records applied
/// migrations in the main file. When the read-model file holds no table, the records are
/// cleared so that every migration runs again; the runtime's migrations create the event
/// log with `IF NOT EXISTS`, so they are safe to repeat.
#[derive(Debug, PartialEq, Eq)]
enum Pairing {
    Consistent,
    /// The read-model file has tables but the event log has never been migrated.
    OrphanReadModels,
    /// The read-model file has no table but the event log's migrations are recorded (a
    /// reset), seen by a connection that may not clear those records.
    EmptyReadModels,
}

fn forget_migrations_of_a_new_readmodels_file(
    conn: &mut SqliteConnection,
) -> diesel::QueryResult<Pairing> {
    match pairing(conn)? {
        Pairing::EmptyReadModels => {
            diesel::sql_query("DELETE FROM main.__diesel_schema_migrations").execute(conn)?;
            Ok(Pairing::Consistent)
        }
        other => Ok(other),
    }
}

/// How the two files stand to each other, read without writing anything.
fn pairing(conn: &mut SqliteConnection) -> diesel::QueryResult<Pairing> {
    let count = |conn: &mut SqliteConnection, sql: &str| -> diesel::QueryResult<i64> {
        let rows: Vec<Count> = diesel::sql_query(sql).load(conn)?;
        Ok(rows.first().map_or(0, |r| r.n))
    };
    let readmodels_tables = count(
        conn,
        "SELECT COUNT(*) AS n FROM readmodels.sqlite_master WHERE type = 'table'",
    )?;
    let has_ledger = count(
        conn,
        "SELECT COUNT(*) AS n FROM main.sqlite_master WHERE type = 'table' AND name = '__diesel_schema_migrations'",
    )?;
    let log_migrated = has_ledger > 0
        && count(
            conn,
            "SELECT COUNT(*) AS n FROM main.__diesel_schema_migrations",
        )? > 0;
    Ok(match (readmodels_tables > 0, log_migrated) {
        (true, false) => Pairing::OrphanReadModels,
        (false, true) => Pairing::EmptyReadModels,
        _ => Pairing::Consistent,
    })
}

#[derive(diesel::QueryableByName)]
struct CompileOption {
    #[diesel(sql_type = Text)]
    compile_options: String,
}

#[derive(diesel::QueryableByName)]
struct Version {
    #[diesel(sql_type = Text)]
    version: String,
}

/// SQLite's bind-parameter limit, read from the library actually linked. Every typed write
/// of a flush asks for it, so the first successful read is kept for the process: the
/// library's compile options do not change while it runs.
pub(super) fn max_variable_number(conn: &mut SqliteConnection) -> usize {
    static READ: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    if let Some(&limit) = READ.get() {
        return limit;
    }
    match read_max_variable_number(conn) {
        Some(limit) => *READ.get_or_init(|| limit),
        // The limit of every SQLite before 3.32.0, safe with any (not kept: the next
        // call reads again).
        None => 999,
    }
}

/// The limit from the compile options, or else from the version's compiled-in default
/// (999 before SQLite 3.32.0, 32766 since); `None` when neither could be read.
fn read_max_variable_number(conn: &mut SqliteConnection) -> Option<usize> {
    let options: Vec<CompileOption> = diesel::sql_query("PRAGMA compile_options")
        .load(conn)
        .unwrap_or_default();
    if let Some(n) = options.iter().find_map(|o| {
        o.compile_options
            .strip_prefix("MAX_VARIABLE_NUMBER=")
            .and_then(|n| n.parse().ok())
    }) {
        return Some(n);
    }
    let version: Vec<Version> = diesel::sql_query("SELECT sqlite_version() AS version")
        .load(conn)
        .ok()?;
    let version = version.first()?;
    let mut parts = version
        .version
        .split('.')
        .map(|p| p.parse::<u32>().unwrap_or(0));
    let at_least_3_32 = (parts.next().unwrap_or(0), parts.next().unwrap_or(0)) >= (3, 32);
    Some(if at_least_3_32 { 32_766 } else { 999 })
}

/// Runs a bulk append with a larger page cache (it updates three indexes of the log at
/// random pages), then folds the write-ahead log back into the file: left in the WAL, a
/// large import makes every later read of the log slower. The append has committed when
/// it returns, so what fails after it (the checkpoint needs room in the main file, which
/// a full disk may not have) is an [`Upkeep::Failed`], not the append's error; a stop
/// asked for after the commit skips the checkpoint.
pub(super) fn with_append_tuning<E: From<StoreError>>(
    conn: &mut SqliteConnection,
    append: impl FnOnce(&mut SqliteConnection) -> Result<usize, E>,
    skip: &dyn Fn() -> bool,
) -> Result<Appended, E> {
    let pragma = |conn: &mut SqliteConnection, sql: &str| {
        diesel::sql_query(sql)
            .execute(conn)
            .map(|_| ())
            .map_err(StoreError::query(sql.to_owned()))
    };
    pragma(conn, "PRAGMA main.cache_size = -32768")?;
    let result = append(conn);
    let reset = pragma(conn, "PRAGMA main.cache_size = -2000");
    let count = result?;
    let upkeep = match reset {
        Err(error) => Upkeep::Failed(error),
        Ok(()) if skip() => Upkeep::Skipped,
        Ok(()) => match pragma(conn, "PRAGMA main.wal_checkpoint(TRUNCATE)") {
            Ok(()) => Upkeep::Done,
            Err(error) => Upkeep::Failed(error),
        },
    };
    Ok(Appended { count, upkeep })
}

#[cfg(test)]
mod tests {
    use diesel::QueryableByName;

    use super::*;

    #[derive(QueryableByName)]
    struct CompileOption {
        #[diesel(sql_type = Text)]
        compile_options: String,
    }

    /// `.cargo/config.toml` passes these to libsqlite3-sys's build; an edit there or a
    /// libsqlite3-sys that stops reading `LIBSQLITE3_FLAGS` would drop them silently.
    #[test]
    fn the_bundled_sqlite_is_built_multi_threaded_without_memory_statistics() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let mut conn = open(
            &dir.path().join("log.db"),
            &dir.path().join("rm.db"),
            Access::Create,
        )
        .expect("a new SQLite pair opens");
        let options: Vec<String> = diesel::sql_query("PRAGMA compile_options")
            .load::<CompileOption>(&mut conn)
            .expect("compile options")
            .into_iter()
            .map(|o| o.compile_options)
            .collect();
        for wanted in ["THREADSAFE=2", "DEFAULT_MEMSTATUS=0"] {
            assert!(
                options.iter().any(|o| o == wanted),
                "{wanted} not in {options:?}"
            );
        }
    }

    /// The limit kept for the process is the one the library reports, on every connection.
    #[test]
    fn the_bind_limit_is_the_linked_librarys_on_every_connection() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let connect = |name: &str| {
            open(
                &dir.path().join(format!("{name}.db")),
                &dir.path().join(format!("{name}.rm.db")),
                Access::Create,
            )
            .expect("a new SQLite pair opens")
        };
        let (mut first, mut second) = (connect("first"), connect("second"));
        let reported = read_max_variable_number(&mut first).expect("the limit reads");
        assert!(reported >= 999, "{reported}");
        assert_eq!(max_variable_number(&mut first), reported);
        assert_eq!(max_variable_number(&mut second), reported);
    }
}
