//! Statements whose temporary data SQLite keeps in files rather than in memory.
//!
//! The writing connection keeps temporary data in memory (`temp_store = MEMORY`), which
//! suits a flush: a few hundred rows per statement. A statement over a whole table does
//! not fit that bound. Building an index sorts every entry (at 10M events 187 MiB for one
//! table), and an `UPDATE` or `DELETE` of a whole version inside a transaction keeps the
//! prior content of every page it changes in its statement journal (swapping a rebuilt
//! version in at 10M events peaked at 574 MiB). In files, the memory stays bounded.

use super::conn::Conn;
use super::error::StoreError;
use super::statement::{scalar_i64, Statement};
use crate::ddl::Backend;

/// `PRAGMA temp_store`'s value for temporary files on disk.
const FILE: i64 = 1;

/// Runs `body` on `conn` with SQLite's temporary data in files, then restores the
/// connection's own setting; on PostgreSQL it just runs `body`. `conn` must be outside a
/// transaction (SQLite cannot change where temporary data goes inside one).
pub(crate) fn in_files<C: Conn, T, E: From<StoreError>>(
    conn: &mut C,
    context: impl Fn() -> String,
    body: impl FnOnce(&mut C) -> Result<T, E>,
) -> Result<T, E> {
    if conn.ddl_backend() == Backend::Postgres {
        return body(conn);
    }
    let kept = temp_store(conn)?;
    let set = |conn: &mut C, mode: i64| {
        conn.run(Statement::new(&format!("PRAGMA temp_store = {mode}")))
            .map_err(StoreError::query(context()))
    };
    set(conn, FILE)?;
    let done = body(conn);
    let restored = set(conn, kept);
    let done = done?;
    restored?;
    Ok(done)
}

/// The connection's `PRAGMA temp_store` (SQLite): 0 default, 1 files, 2 memory.
pub(crate) fn temp_store<C: Conn>(conn: &mut C) -> Result<i64, StoreError> {
    scalar_i64(conn, "SELECT temp_store AS value FROM pragma_temp_store")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{test_store, Store};

    #[test]
    fn the_body_runs_with_files_and_the_connection_gets_its_setting_back() {
        let (mut store, _url, _dir) = test_store::sqlite();
        let Store::Sqlite(conn) = &mut store else {
            panic!("a SQLite store")
        };
        let own = temp_store(conn).expect("temp_store");
        assert_ne!(
            own, FILE,
            "the writing connection keeps temporary data in memory"
        );
        let inside = in_files(conn, String::new, temp_store);
        assert_eq!(inside.expect("the body's result"), FILE);
        assert_eq!(temp_store(conn).expect("temp_store"), own);
        let failed = in_files(conn, String::new, |_| {
            Err::<(), _>(StoreError::query("the body".to_owned())(
                diesel::result::Error::NotFound,
            ))
        });
        assert!(failed.is_err(), "the body's error is returned");
        assert_eq!(
            temp_store(conn).expect("temp_store"),
            own,
            "restored after a failure too"
        );
    }
}
