//! The two files of a SQLite database, opened for what a command may do with them
//! ([`Access`]), every failure blamed on the file it is about, and every connection given
//! a busy timeout before it touches either file.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use diesel::sql_types::Text;
use diesel::{Connection, RunQueryDsl, SqliteConnection};

use super::error::StoreError;
use super::Access;

/// Which of a SQLite database's two files something is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SqliteFile {
    /// The main file, holding `event_record`.
    EventLog,
    /// `NAME.readmodels.db` beside it, ATTACHed as `readmodels`.
    ReadModels,
}

impl fmt::Display for SqliteFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SqliteFile::EventLog => "the event log",
            SqliteFile::ReadModels => "the read-model file",
        })
    }
}

impl SqliteFile {
    /// What to do about a file that is not a database, or is corrupt.
    fn remedy(self) -> &'static str {
        match self {
            SqliteFile::EventLog => {
                "restore it from a backup (the read models are rebuilt from it, not it from them)"
            }
            SqliteFile::ReadModels => {
                "delete it and run `replay run --all`: read models are rebuilt from the event log"
            }
        }
    }

    /// What to do about a file that does not exist.
    fn when_missing(self) -> &'static str {
        match self {
            SqliteFile::EventLog => "does not exist, and a command that only reads never creates a database: check --database-url, or create it with `replay migrate`",
            SqliteFile::ReadModels => "does not exist (deleted, or never created), and a command that only reads never creates it: `replay migrate` recreates it and `replay run --all` rebuilds the read models",
        }
    }

    fn schema(self) -> &'static str {
        match self {
            SqliteFile::EventLog => "main",
            SqliteFile::ReadModels => "readmodels",
        }
    }
}

/// The error about `file` at `path`, with what to do for the failures an operator can fix.
pub(super) fn file_error(file: SqliteFile, path: &Path, reason: &str) -> StoreError {
    let reason = if reason.contains("file is not a database") || reason.contains("malformed") {
        format!(
            "{reason}: it is not a SQLite database, or it is corrupt; {}",
            file.remedy()
        )
    } else {
        reason.to_owned()
    };
    StoreError::SqliteFile {
        file,
        path: path.display().to_string(),
        reason,
    }
}

/// How long a SQLite connection waits for another connection's lock, by default.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// The environment variable overriding [`BUSY_TIMEOUT`], in whole seconds.
pub(super) const BUSY_TIMEOUT_VAR: &str = "READMODEL_BUSY_TIMEOUT_SECS";

/// [`BUSY_TIMEOUT`], or the seconds in [`BUSY_TIMEOUT_VAR`].
fn busy_timeout() -> Result<Duration, StoreError> {
    match std::env::var(BUSY_TIMEOUT_VAR) {
        Err(_) => Ok(BUSY_TIMEOUT),
        Ok(text) => text
            .trim()
            .parse::<u64>()
            .map(Duration::from_secs)
            .map_err(|_| StoreError::BadSetting {
                name: BUSY_TIMEOUT_VAR,
                value: text,
                expected: "a whole number of seconds",
            }),
    }
}

/// Opens `path` as the main file of a connection for `access`, with the busy timeout set
/// before anything is read: a concurrent writer's lock (an importer checkpointing its
/// write-ahead log) is waited for, not an error.
pub(super) fn open_log(path: &Path, access: Access) -> Result<SqliteConnection, StoreError> {
    let file = SqliteFile::EventLog;
    require_existing(file, path, access)?;
    let busy = busy_timeout()?;
    let open = |immutable: bool| -> Result<SqliteConnection, String> {
        let mut conn = SqliteConnection::establish(&location(path, access, immutable))
            .map_err(|e| e.to_string())?;
        diesel::sql_query(format!("PRAGMA busy_timeout = {}", busy.as_millis()))
            .execute(&mut conn)
            .map_err(|e| e.to_string())?;
        probe(&mut conn, file)?;
        Ok(conn)
    };
    match open(false) {
        Ok(conn) => Ok(conn),
        Err(reason) if readable_only_as_immutable(access, path, &reason) => {
            open(true).map_err(|reason| file_error(file, path, &reason))
        }
        Err(reason) => Err(file_error(file, path, &reason)),
    }
}

/// ATTACHes `path` as `readmodels` for `access` and checks that it reads.
pub(super) fn attach_read_models(
    conn: &mut SqliteConnection,
    path: &Path,
    access: Access,
) -> Result<(), StoreError> {
    let file = SqliteFile::ReadModels;
    // Writing commands recreate a deleted read-model file: deleting it is a safe reset.
    let access = if access == Access::Existing {
        Access::Create
    } else {
        access
    };
    require_existing(file, path, access)?;
    let mut attach = |immutable: bool| -> Result<(), String> {
        diesel::sql_query("ATTACH DATABASE ? AS readmodels")
            .bind::<Text, _>(location(path, access, immutable))
            .execute(conn)
            .map_err(|e| e.to_string())?;
        probe(conn, file).inspect_err(|_| {
            let _ = diesel::sql_query("DETACH DATABASE readmodels").execute(conn);
        })
    };
    match attach(false) {
        Ok(()) => Ok(()),
        Err(reason) if readable_only_as_immutable(access, path, &reason) => {
            attach(true).map_err(|reason| file_error(file, path, &reason))
        }
        Err(reason) => Err(file_error(file, path, &reason)),
    }
}

/// Runs `pragma` on the connection, blaming a failure on the file it names.
pub(super) fn pragma(
    conn: &mut SqliteConnection,
    pragma: &str,
    main: &Path,
    readmodels: &Path,
) -> Result<(), StoreError> {
    diesel::sql_query(pragma)
        .execute(conn)
        .map(|_| ())
        .map_err(|e| {
            let reason = format!("{pragma}: {e}");
            if pragma.contains(" readmodels.") {
                file_error(SqliteFile::ReadModels, readmodels, &reason)
            } else {
                file_error(SqliteFile::EventLog, main, &reason)
            }
        })
}

fn require_existing(file: SqliteFile, path: &Path, access: Access) -> Result<(), StoreError> {
    if access != Access::Create && !path.exists() {
        return Err(StoreError::SqliteFile {
            file,
            path: path.display().to_string(),
            reason: file.when_missing().to_owned(),
        });
    }
    Ok(())
}

/// Reads the file's schema: SQLite opens files lazily, so this is where a file that is
/// not a database (or cannot be read) fails, and is named.
fn probe(conn: &mut SqliteConnection, file: SqliteFile) -> Result<(), String> {
    diesel::sql_query(format!(
        "SELECT COUNT(*) FROM {}.sqlite_master",
        file.schema()
    ))
    .execute(conn)
    .map(|_| ())
    .map_err(|e| e.to_string())
}

/// What SQLite is given to open `path` for `access`: the path itself when the file may be
/// created, otherwise a URI that may not create it (`mode=rw`: SQLite falls back to
/// reading a file it may not write; a reading connection adds `query_only`, and can still
/// remove the write-ahead files it created when it closes). `immutable` reads a file
/// that cannot even have those files beside it.
fn location(path: &Path, access: Access, immutable: bool) -> String {
    if access == Access::Create {
        return path.display().to_string();
    }
    let mut encoded = String::new();
    for c in path.display().to_string().chars() {
        match c {
            '%' => encoded.push_str("%25"),
            '?' => encoded.push_str("%3f"),
            '#' => encoded.push_str("%23"),
            c => encoded.push(c),
        }
    }
    // `file://` would start an authority: an empty one keeps a path beginning with `//`.
    let prefix = if encoded.starts_with("//") {
        "file://"
    } else {
        "file:"
    };
    let mode = if immutable { "ro&immutable=1" } else { "rw" };
    format!("{prefix}{encoded}?mode={mode}")
}

/// Whether a read-only open failed only because SQLite could not create the file's
/// shared-memory index beside it (a read-only directory), and the file has no write-ahead
/// log to read: then it is read as immutable, which needs neither. A file with a
/// write-ahead log is not: reading it without the log would show an older database.
fn readable_only_as_immutable(access: Access, path: &Path, reason: &str) -> bool {
    let wal = PathBuf::from(format!("{}-wal", path.display()));
    access == Access::ReadOnly
        && (reason.contains("readonly") || reason.contains("unable to open"))
        && std::fs::metadata(wal).ok().is_none_or(|m| m.len() == 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_creating_access_opens_a_bare_path() {
        let path = Path::new("/data/a?b#c%d.db");
        assert_eq!(location(path, Access::Create, false), "/data/a?b#c%d.db");
        assert_eq!(
            location(path, Access::Existing, false),
            "file:/data/a%3fb%23c%25d.db?mode=rw"
        );
        assert_eq!(
            location(path, Access::ReadOnly, false),
            "file:/data/a%3fb%23c%25d.db?mode=rw"
        );
        assert_eq!(
            location(Path::new("//srv/x.db"), Access::ReadOnly, true),
            "file:////srv/x.db?mode=ro&immutable=1"
        );
    }

    #[test]
    fn a_missing_file_is_named_and_never_created_unless_access_creates() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("typo.db");
        for access in [Access::ReadOnly, Access::Existing] {
            let Err(error) = open_log(&path, access) else {
                panic!("{access:?} opened a missing file");
            };
            let error = error.to_string();
            assert!(
                error.starts_with(&format!("the event log {}: does not exist", path.display())),
                "{error}"
            );
            assert!(!path.exists(), "{access:?} created the file");
        }
        open_log(&path, Access::Create).expect("created");
        assert!(path.exists());
    }
}
