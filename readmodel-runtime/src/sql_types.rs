//! SQL types of read-model columns, for the `diesel::table!` that `#[derive(ReadModel)]`
//! generates. Most map to one diesel type on both backends; UUIDs and timestamps do not:
//! PostgreSQL has `uuid` and `timestamptz`, SQLite stores them as TEXT. [`Uuid`] and
//! [`UtcTime`] are each backend's native type on PostgreSQL and, on SQLite, the same
//! canonical text the runtime writes (hyphenated lowercase UUIDs; RFC 3339 UTC timestamps
//! with microseconds), so rows written by a replay read back through diesel's typed DSL.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::deserialize::{self, FromSql};
use diesel::expression::AsExpression;
use diesel::internal::derives::as_expression::Bound;
use diesel::pg::{Pg, PgTypeMetadata, PgValue};
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::{self as diesel_types, HasSqlType, Nullable};

use diesel::sqlite::{Sqlite, SqliteType, SqliteValue};

use crate::field::timestamp_text;

/// A UUID: `uuid` on PostgreSQL, hyphenated lowercase TEXT on SQLite.
#[derive(
    Debug, Clone, Copy, Default, diesel::query_builder::QueryId, diesel::sql_types::SqlType,
)]
pub struct Uuid;

/// A point in time: `timestamptz` on PostgreSQL, RFC 3339 UTC text with microseconds
/// (`2026-03-01T07:30:00.000000Z`) on SQLite, which sorts like the time.
#[derive(
    Debug, Clone, Copy, Default, diesel::query_builder::QueryId, diesel::sql_types::SqlType,
)]
pub struct UtcTime;

impl HasSqlType<Uuid> for Pg {
    fn metadata(lookup: &mut Self::MetadataLookup) -> PgTypeMetadata {
        <Pg as HasSqlType<diesel_types::Uuid>>::metadata(lookup)
    }
}

impl HasSqlType<Uuid> for Sqlite {
    fn metadata(_: &mut ()) -> SqliteType {
        SqliteType::Text
    }
}

impl HasSqlType<UtcTime> for Pg {
    fn metadata(lookup: &mut Self::MetadataLookup) -> PgTypeMetadata {
        <Pg as HasSqlType<diesel_types::Timestamptz>>::metadata(lookup)
    }
}

impl HasSqlType<UtcTime> for Sqlite {
    fn metadata(_: &mut ()) -> SqliteType {
        SqliteType::Text
    }
}

impl ToSql<Uuid, Pg> for uuid::Uuid {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        <uuid::Uuid as ToSql<diesel_types::Uuid, Pg>>::to_sql(self, out)
    }
}

impl ToSql<Uuid, Sqlite> for uuid::Uuid {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        out.set_value(self.hyphenated().to_string());
        Ok(IsNull::No)
    }
}

impl FromSql<Uuid, Pg> for uuid::Uuid {
    fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
        <uuid::Uuid as FromSql<diesel_types::Uuid, Pg>>::from_sql(value)
    }
}

impl FromSql<Uuid, Sqlite> for uuid::Uuid {
    fn from_sql(value: SqliteValue<'_, '_, '_>) -> deserialize::Result<Self> {
        let text = <String as FromSql<diesel_types::Text, Sqlite>>::from_sql(value)?;
        Ok(uuid::Uuid::parse_str(&text)?)
    }
}

impl ToSql<UtcTime, Pg> for DateTime<Utc> {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        <DateTime<Utc> as ToSql<diesel_types::Timestamptz, Pg>>::to_sql(self, out)
    }
}

impl ToSql<UtcTime, Sqlite> for DateTime<Utc> {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        out.set_value(timestamp_text(*self));
        Ok(IsNull::No)
    }
}

impl FromSql<UtcTime, Pg> for DateTime<Utc> {
    fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
        <DateTime<Utc> as FromSql<diesel_types::Timestamptz, Pg>>::from_sql(value)
    }
}

impl FromSql<UtcTime, Sqlite> for DateTime<Utc> {
    fn from_sql(value: SqliteValue<'_, '_, '_>) -> deserialize::Result<Self> {
        let text = <String as FromSql<diesel_types::Text, Sqlite>>::from_sql(value)?;
        Ok(DateTime::parse_from_rfc3339(&text)?.with_timezone(&Utc))
    }
}

/// A value bound as a parameter of whatever SQL type it is compared with or written to.
///
/// `uuid::Uuid` and `DateTime<Utc>` cannot be used directly with [`Uuid`] and
/// [`UtcTime`] columns (a crate can only teach diesel about its own types), so wrap
/// them: `.filter(habit_streaks::habit_id.eq(Param(habit)))`. Any other value works
/// wrapped or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Param<T>(pub T);

impl<T, ST> AsExpression<ST> for Param<T>
where
    ST: diesel::sql_types::SqlType + diesel::expression::TypedExpressionType,
{
    type Expression = Bound<ST, Self>;
    fn as_expression(self) -> Self::Expression {
        Bound::new(self)
    }
}

impl<T, ST, DB> ToSql<ST, DB> for Param<T>
where
    T: ToSql<ST, DB>,
    DB: diesel::backend::Backend,
    Self: std::fmt::Debug,
{
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> serialize::Result {
        self.0.to_sql(out)
    }
}

/// The SQL type of a column holding `Self`. Implemented for every type a read-model row
/// field may have.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be stored in a read-model column",
    label = "a row field is one of `i16`, `i32`, `i64`, `bool`, `String`, `f64`, `NaiveDate`, `DateTime<Utc>`, `Uuid`, or an `Option` of one"
)]
pub trait Stored {
    /// The column's SQL type.
    type Sql: diesel::sql_types::SqlType + diesel::sql_types::SingleValue;
}

macro_rules! stored {
    ($($rust:ty => $sql:ty),* $(,)?) => {$(
        impl Stored for $rust {
            type Sql = $sql;
        }
        impl Stored for Option<$rust> {
            type Sql = Nullable<$sql>;
        }
    )*};
}

stored!(
    i16 => diesel_types::SmallInt,
    i32 => diesel_types::Integer,
    i64 => diesel_types::BigInt,
    bool => diesel_types::Bool,
    String => diesel_types::Text,
    f64 => diesel_types::Double,
    NaiveDate => diesel_types::Date,
    uuid::Uuid => Uuid,
    DateTime<Utc> => UtcTime,
);
