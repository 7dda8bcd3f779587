//! The operations the runtime needs from a connection, written once for both backends.

use diesel::deserialize::QueryableByName;
use diesel::pg::{Pg, PgConnection};
use diesel::result::QueryResult;
use diesel::sqlite::{Sqlite, SqliteConnection};
use diesel::{Connection, RunQueryDsl};

use super::error::StoreError;
use super::rows::Upsert;
use super::schema::Introspect;
use super::statement::{visible_head, Statement};
use super::{postgres, sqlite, Appended};
use crate::field::Db;

/// The operations the runtime needs from a connection, for both backends alike.
pub(crate) trait Conn: Connection + Introspect + Upsert {
    /// The backend.
    type Db: Db;
    /// Runs a statement, returning the affected row count.
    fn run(&mut self, stmt: Statement<Self::Db>) -> QueryResult<usize>;
    /// Runs a query, returning its rows.
    fn fetch<T: QueryableByName<Self::Db> + 'static>(
        &mut self,
        stmt: Statement<Self::Db>,
    ) -> QueryResult<Vec<T>>;
    /// The largest number of bind parameters one statement may carry.
    fn max_binds(&mut self) -> usize;
    /// The highest event id below which no event can still appear (see
    /// `postgres::settled_head`; SQLite has one writer at a time, so ids commit in order).
    fn settled_head(&mut self) -> Result<i64, StoreError>;
    /// Runs `append` (one transaction appending to the log, returning how many events it
    /// appended) with bulk-load settings, then leaves the log ready to be read fast unless
    /// `skip_upkeep` says to stop; that work comes after the commit, so its failure is in
    /// [`Appended::upkeep`], not an error.
    fn bulk_append<E: From<StoreError>>(
        &mut self,
        append: impl FnOnce(&mut Self) -> Result<usize, E>,
        skip_upkeep: &dyn Fn() -> bool,
    ) -> Result<Appended, E>;
}

impl Conn for PgConnection {
    type Db = Pg;
    fn run(&mut self, stmt: Statement<Pg>) -> QueryResult<usize> {
        stmt.query.execute(self)
    }
    fn fetch<T: QueryableByName<Pg> + 'static>(
        &mut self,
        stmt: Statement<Pg>,
    ) -> QueryResult<Vec<T>> {
        stmt.query.load(self)
    }
    fn max_binds(&mut self) -> usize {
        // The protocol's Bind message counts parameters in a 16-bit field.
        65_535
    }
    fn settled_head(&mut self) -> Result<i64, StoreError> {
        postgres::settled_head(self)
    }
    fn bulk_append<E: From<StoreError>>(
        &mut self,
        append: impl FnOnce(&mut Self) -> Result<usize, E>,
        skip_upkeep: &dyn Fn() -> bool,
    ) -> Result<Appended, E> {
        let count = append(self)?;
        let upkeep = postgres::after_bulk_append(self, count, skip_upkeep);
        Ok(Appended { count, upkeep })
    }
}

impl Conn for SqliteConnection {
    type Db = Sqlite;
    fn run(&mut self, stmt: Statement<Sqlite>) -> QueryResult<usize> {
        stmt.query.execute(self)
    }
    fn fetch<T: QueryableByName<Sqlite> + 'static>(
        &mut self,
        stmt: Statement<Sqlite>,
    ) -> QueryResult<Vec<T>> {
        stmt.query.load(self)
    }
    fn max_binds(&mut self) -> usize {
        sqlite::max_variable_number(self)
    }
    fn settled_head(&mut self) -> Result<i64, StoreError> {
        // A writer holds SQLite's write lock from its first insert to its commit, so a
        // higher id can never become visible before a lower one.
        visible_head(self)
    }
    fn bulk_append<E: From<StoreError>>(
        &mut self,
        append: impl FnOnce(&mut Self) -> Result<usize, E>,
        skip_upkeep: &dyn Fn() -> bool,
    ) -> Result<Appended, E> {
        sqlite::with_append_tuning(self, append, skip_upkeep)
    }
}
