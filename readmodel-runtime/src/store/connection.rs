//! [`Store`]: one connection type for both backends. It is a diesel connection in its
//! own right (`#[derive(MultiConnection)]`), so an application writes each query once
//! (`HabitStreak::active(&mut store)?.filter(..).load(&mut store)`) and runs it on
//! PostgreSQL or SQLite alike, in its own transactions (`store.transaction(|c| ..)`).
//!
//! The derive generates the backend of such queries, [`MultiBackend`], which dispatches
//! each value to the backend the connection holds; this module teaches it the runtime's
//! SQL types ([`Uuid`], [`UtcTime`]), whose representation differs per backend.

// What `#[derive(MultiConnection)]` generates next to the enum (`MultiBackend` and its
// raw values, rows and fields) is diesel's, without documentation of its own.
#![allow(missing_docs, unreachable_pub)]

use chrono::{DateTime, Utc};
use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql};
use diesel::pg::PgConnection;
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::HasSqlType;
use diesel::sqlite::SqliteConnection;

use crate::sql_types::{UtcTime, Uuid};

/// An open database: PostgreSQL, or SQLite (the embedded default). Open it from a URL with
/// [`Store::open`].
///
/// A `Store` is a diesel connection: the generated tables of the read models, the reader
/// API (`Model::active`, `checkpoint`, `wait_until_applied`), the application's own tables
/// and [`outbox::append`](crate::outbox::append) all take `&mut Store`, on either backend,
/// with the same query text. Its backend is [`MultiBackend`]; match the variants for what
/// only one backend has. Open it with [`Store::open`], not diesel's `establish`, which
/// would neither attach the SQLite read-model file nor apply migrations.
#[derive(diesel::MultiConnection)]
pub enum Store {
    /// PostgreSQL, with read models in schema `readmodels`.
    Postgres(PgConnection),
    /// SQLite, with the read-model database ATTACHed as `readmodels`.
    Sqlite(SqliteConnection),
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.backend_name())
    }
}

impl HasSqlType<Uuid> for MultiBackend {
    fn metadata(lookup: &mut Self::MetadataLookup) -> Self::TypeMetadata {
        MultiBackend::lookup_sql_type::<Uuid>(lookup)
    }
}

impl HasSqlType<UtcTime> for MultiBackend {
    fn metadata(lookup: &mut Self::MetadataLookup) -> Self::TypeMetadata {
        MultiBackend::lookup_sql_type::<UtcTime>(lookup)
    }
}

impl FromSql<Uuid, MultiBackend> for uuid::Uuid {
    fn from_sql(value: <MultiBackend as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        value.from_sql::<Self, Uuid>()
    }
}

impl ToSql<Uuid, MultiBackend> for uuid::Uuid {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, MultiBackend>) -> serialize::Result {
        out.set_value((Uuid, self));
        Ok(IsNull::No)
    }
}

impl FromSql<UtcTime, MultiBackend> for DateTime<Utc> {
    fn from_sql(value: <MultiBackend as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        value.from_sql::<Self, UtcTime>()
    }
}

impl ToSql<UtcTime, MultiBackend> for DateTime<Utc> {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, MultiBackend>) -> serialize::Result {
        out.set_value((UtcTime, self));
        Ok(IsNull::No)
    }
}
