//! Column values: how one Rust field type is bound, read and canonicalised on each backend.
//!
//! The two backends store some types differently (a `Uuid` is `UUID` on PostgreSQL but
//! `TEXT` on SQLite, a timestamp is `TIMESTAMPTZ` or RFC 3339 text), so a field type knows
//! both representations. The canonical text form is what checksums hash: it is the same
//! whichever backend the value was read from.

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql};
use diesel::pg::Pg;
use diesel::query_builder::{BoxedSqlQuery, SqlQuery};
use diesel::row::NamedRow;
use diesel::serialize::ToSql;
use diesel::sql_types::{self, SingleValue, SqlType};
use diesel::sqlite::Sqlite;
use uuid::Uuid;

/// A raw SQL query with its bound values, for one backend.
pub type Query<DB> = BoxedSqlQuery<'static, DB, SqlQuery>;

/// A backend the runtime can write read models to: PostgreSQL or SQLite.
///
/// Sealed: the generated code is only ever instantiated for these two.
pub trait Db: Backend + sealed::Sealed {
    /// Binds one field value to the next placeholder.
    fn bind<F: Field>(query: Query<Self>, value: &F) -> Query<Self>;
    /// Reads the column `name` of a result row.
    fn read<'a, F: Field>(row: &impl NamedRow<'a, Self>, name: &str) -> deserialize::Result<F>;
    /// The `n`-th (1-based) bind placeholder.
    fn placeholder(n: usize) -> String;
    /// Appended to `ORDER BY col` for text columns so that both backends sort bytewise.
    const BYTEWISE_COLLATION: &'static str;
    /// Selects `event_record.payload` as text.
    const PAYLOAD_AS_TEXT: &'static str;
    /// The `n`-th placeholder, for a value stored as JSON.
    fn json_placeholder(n: usize) -> String;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for diesel::pg::Pg {}
    impl Sealed for diesel::sqlite::Sqlite {}
}

impl Db for Pg {
    fn bind<F: Field>(query: Query<Self>, value: &F) -> Query<Self> {
        value.bind_pg(query)
    }
    fn read<'a, F: Field>(row: &impl NamedRow<'a, Self>, name: &str) -> deserialize::Result<F> {
        F::read_pg(row, name)
    }
    fn placeholder(n: usize) -> String {
        format!("${n}")
    }
    const BYTEWISE_COLLATION: &'static str = " COLLATE \"C\"";
    const PAYLOAD_AS_TEXT: &'static str = "payload::text";
    fn json_placeholder(n: usize) -> String {
        format!("CAST(${n} AS JSONB)")
    }
}

impl Db for Sqlite {
    fn bind<F: Field>(query: Query<Self>, value: &F) -> Query<Self> {
        value.bind_sqlite(query)
    }
    fn read<'a, F: Field>(row: &impl NamedRow<'a, Self>, name: &str) -> deserialize::Result<F> {
        F::read_sqlite(row, name)
    }
    fn placeholder(_n: usize) -> String {
        "?".to_owned()
    }
    const BYTEWISE_COLLATION: &'static str = "";
    const PAYLOAD_AS_TEXT: &'static str = "payload";
    fn json_placeholder(_n: usize) -> String {
        "?".to_owned()
    }
}

/// A non-null value type with a representation on each backend.
///
/// Implement it to use your own column types in read models; [`Field`] is then available
/// for the type and for `Option` of it via [`impl_field!`](crate::impl_field).
pub trait Scalar: Sized + Send + 'static {
    /// The diesel SQL type on PostgreSQL.
    type PgSql: SqlType<IsNull = sql_types::is_nullable::NotNull> + SingleValue + Send + 'static;
    /// The Rust value diesel converts to and from [`Scalar::PgSql`].
    type PgRepr: ToSql<Self::PgSql, Pg> + FromSql<Self::PgSql, Pg> + Send + 'static;
    /// The diesel SQL type on SQLite.
    type SqliteSql: SqlType<IsNull = sql_types::is_nullable::NotNull> + SingleValue + Send + 'static;
    /// The Rust value diesel converts to and from [`Scalar::SqliteSql`].
    type SqliteRepr: ToSql<Self::SqliteSql, Sqlite>
        + FromSql<Self::SqliteSql, Sqlite>
        + Send
        + 'static;
    /// Column type in PostgreSQL DDL, e.g. `BIGINT`.
    const PG_TYPE: &'static str;
    /// Column type in SQLite DDL, e.g. `INTEGER`.
    const SQLITE_TYPE: &'static str;
    /// Whether the value sorts as text (and so needs a bytewise collation to sort alike).
    const SORTS_AS_TEXT: bool = false;
    /// To the PostgreSQL representation.
    fn to_pg(&self) -> Self::PgRepr;
    /// From the PostgreSQL representation.
    fn from_pg(value: Self::PgRepr) -> deserialize::Result<Self>;
    /// To the SQLite representation.
    fn to_sqlite(&self) -> Self::SqliteRepr;
    /// From the SQLite representation.
    fn from_sqlite(value: Self::SqliteRepr) -> deserialize::Result<Self>;
    /// Appends the backend-independent text form used by checksums.
    fn canonical(&self, out: &mut String);
}

/// A field of a read-model row: a [`Scalar`] or an `Option` of one.
pub trait Field: Sized + Send + 'static {
    /// Column type in PostgreSQL DDL.
    const PG_TYPE: &'static str;
    /// Column type in SQLite DDL.
    const SQLITE_TYPE: &'static str;
    /// Whether the value sorts as text.
    const SORTS_AS_TEXT: bool;
    /// Whether the column allows NULL (the field is an `Option`).
    const NULLABLE: bool;
    /// Binds the value for PostgreSQL.
    fn bind_pg(&self, query: Query<Pg>) -> Query<Pg>;
    /// Binds the value for SQLite.
    fn bind_sqlite(&self, query: Query<Sqlite>) -> Query<Sqlite>;
    /// Binds one column of many rows as a PostgreSQL array (for `unnest` upserts).
    fn bind_pg_array<'a>(values: impl Iterator<Item = &'a Self>, query: Query<Pg>) -> Query<Pg>
    where
        Self: 'a;
    /// Reads column `name` from a PostgreSQL row.
    fn read_pg<'a>(row: &impl NamedRow<'a, Pg>, name: &str) -> deserialize::Result<Self>;
    /// Reads column `name` from a SQLite row.
    fn read_sqlite<'a>(row: &impl NamedRow<'a, Sqlite>, name: &str) -> deserialize::Result<Self>;
    /// Appends the canonical text form used by checksums.
    fn canonical(&self, out: &mut String);
}

/// Implements [`Field`] for a [`Scalar`] type and for `Option` of it.
#[macro_export]
macro_rules! impl_field {
    ($($ty:ty),* $(,)?) => {$(
        impl $crate::field::Field for $ty {
            const PG_TYPE: &'static str = <$ty as $crate::field::Scalar>::PG_TYPE;
            const SQLITE_TYPE: &'static str = <$ty as $crate::field::Scalar>::SQLITE_TYPE;
            const SORTS_AS_TEXT: bool = <$ty as $crate::field::Scalar>::SORTS_AS_TEXT;
            const NULLABLE: bool = false;
            fn bind_pg(&self, q: $crate::field::Query<$crate::diesel::pg::Pg>) -> $crate::field::Query<$crate::diesel::pg::Pg> {
                q.bind::<<$ty as $crate::field::Scalar>::PgSql, _>($crate::field::Scalar::to_pg(self))
            }
            fn bind_sqlite(&self, q: $crate::field::Query<$crate::diesel::sqlite::Sqlite>) -> $crate::field::Query<$crate::diesel::sqlite::Sqlite> {
                q.bind::<<$ty as $crate::field::Scalar>::SqliteSql, _>($crate::field::Scalar::to_sqlite(self))
            }
            fn bind_pg_array<'a>(values: impl Iterator<Item = &'a Self>, q: $crate::field::Query<$crate::diesel::pg::Pg>) -> $crate::field::Query<$crate::diesel::pg::Pg>
            where
                Self: 'a,
            {
                q.bind::<$crate::diesel::sql_types::Array<<$ty as $crate::field::Scalar>::PgSql>, _>(
                    values.map($crate::field::Scalar::to_pg).collect::<::std::vec::Vec<_>>(),
                )
            }
            fn read_pg<'a>(row: &impl $crate::diesel::row::NamedRow<'a, $crate::diesel::pg::Pg>, name: &str) -> $crate::diesel::deserialize::Result<Self> {
                let raw = $crate::diesel::row::NamedRow::get::<<$ty as $crate::field::Scalar>::PgSql, <$ty as $crate::field::Scalar>::PgRepr>(row, name)?;
                <$ty as $crate::field::Scalar>::from_pg(raw)
            }
            fn read_sqlite<'a>(row: &impl $crate::diesel::row::NamedRow<'a, $crate::diesel::sqlite::Sqlite>, name: &str) -> $crate::diesel::deserialize::Result<Self> {
                let raw = $crate::diesel::row::NamedRow::get::<<$ty as $crate::field::Scalar>::SqliteSql, <$ty as $crate::field::Scalar>::SqliteRepr>(row, name)?;
                <$ty as $crate::field::Scalar>::from_sqlite(raw)
            }
            fn canonical(&self, out: &mut String) {
                $crate::field::Scalar::canonical(self, out)
            }
        }
        impl $crate::field::Field for Option<$ty> {
            const PG_TYPE: &'static str = <$ty as $crate::field::Scalar>::PG_TYPE;
            const SQLITE_TYPE: &'static str = <$ty as $crate::field::Scalar>::SQLITE_TYPE;
            const SORTS_AS_TEXT: bool = <$ty as $crate::field::Scalar>::SORTS_AS_TEXT;
            const NULLABLE: bool = true;
            fn bind_pg(&self, q: $crate::field::Query<$crate::diesel::pg::Pg>) -> $crate::field::Query<$crate::diesel::pg::Pg> {
                q.bind::<$crate::diesel::sql_types::Nullable<<$ty as $crate::field::Scalar>::PgSql>, _>(
                    self.as_ref().map($crate::field::Scalar::to_pg),
                )
            }
            fn bind_sqlite(&self, q: $crate::field::Query<$crate::diesel::sqlite::Sqlite>) -> $crate::field::Query<$crate::diesel::sqlite::Sqlite> {
                q.bind::<$crate::diesel::sql_types::Nullable<<$ty as $crate::field::Scalar>::SqliteSql>, _>(
                    self.as_ref().map($crate::field::Scalar::to_sqlite),
                )
            }
            fn bind_pg_array<'a>(values: impl Iterator<Item = &'a Self>, q: $crate::field::Query<$crate::diesel::pg::Pg>) -> $crate::field::Query<$crate::diesel::pg::Pg>
            where
                Self: 'a,
            {
                q.bind::<$crate::diesel::sql_types::Array<$crate::diesel::sql_types::Nullable<<$ty as $crate::field::Scalar>::PgSql>>, _>(
                    values.map(|v| v.as_ref().map($crate::field::Scalar::to_pg)).collect::<::std::vec::Vec<_>>(),
                )
            }
            fn read_pg<'a>(row: &impl $crate::diesel::row::NamedRow<'a, $crate::diesel::pg::Pg>, name: &str) -> $crate::diesel::deserialize::Result<Self> {
                $crate::diesel::row::NamedRow::get::<$crate::diesel::sql_types::Nullable<<$ty as $crate::field::Scalar>::PgSql>, Option<<$ty as $crate::field::Scalar>::PgRepr>>(row, name)?
                    .map(<$ty as $crate::field::Scalar>::from_pg)
                    .transpose()
            }
            fn read_sqlite<'a>(row: &impl $crate::diesel::row::NamedRow<'a, $crate::diesel::sqlite::Sqlite>, name: &str) -> $crate::diesel::deserialize::Result<Self> {
                $crate::diesel::row::NamedRow::get::<$crate::diesel::sql_types::Nullable<<$ty as $crate::field::Scalar>::SqliteSql>, Option<<$ty as $crate::field::Scalar>::SqliteRepr>>(row, name)?
                    .map(<$ty as $crate::field::Scalar>::from_sqlite)
                    .transpose()
            }
            fn canonical(&self, out: &mut String) {
                match self {
                    Some(value) => $crate::field::Scalar::canonical(value, out),
                    // U+2205 cannot be confused with any canonical scalar text.
                    None => out.push('\u{2205}'),
                }
            }
        }
    )*};
}

/// A scalar stored with the same SQL type and Rust value on both backends.
macro_rules! same_on_both {
    ($ty:ty, $sql:ty, $pg:literal, $sqlite:literal, $text:literal, |$v:ident, $out:ident| $canon:expr) => {
        impl Scalar for $ty {
            type PgSql = $sql;
            type PgRepr = $ty;
            type SqliteSql = $sql;
            type SqliteRepr = $ty;
            const PG_TYPE: &'static str = $pg;
            const SQLITE_TYPE: &'static str = $sqlite;
            const SORTS_AS_TEXT: bool = $text;
            fn to_pg(&self) -> $ty {
                self.clone()
            }
            fn from_pg(value: $ty) -> deserialize::Result<Self> {
                Ok(value)
            }
            fn to_sqlite(&self) -> $ty {
                self.clone()
            }
            fn from_sqlite(value: $ty) -> deserialize::Result<Self> {
                Ok(value)
            }
            fn canonical(&self, $out: &mut String) {
                let $v = self;
                $canon
            }
        }
    };
}

fn push_display(out: &mut String, value: impl std::fmt::Display) {
    use std::fmt::Write;
    // Writing to a String cannot fail.
    let _ = write!(out, "{value}");
}

same_on_both!(
    i16,
    sql_types::SmallInt,
    "SMALLINT",
    "INTEGER",
    false,
    |v, out| push_display(out, v)
);
same_on_both!(
    i32,
    sql_types::Integer,
    "INTEGER",
    "INTEGER",
    false,
    |v, out| push_display(out, v)
);
same_on_both!(
    i64,
    sql_types::BigInt,
    "BIGINT",
    "INTEGER",
    false,
    |v, out| push_display(out, v)
);
same_on_both!(
    bool,
    sql_types::Bool,
    "BOOLEAN",
    "INTEGER",
    false,
    |v, out| out.push_str(if *v { "true" } else { "false" })
);
same_on_both!(String, sql_types::Text, "TEXT", "TEXT", true, |v, out| out
    .push_str(&escape(v)));
same_on_both!(
    f64,
    sql_types::Double,
    "DOUBLE PRECISION",
    "REAL",
    false,
    |v, out| push_display(out, format_args!("{v:?}"))
);
same_on_both!(
    NaiveDate,
    sql_types::Date,
    "DATE",
    "TEXT",
    false,
    |v, out| push_display(out, v.format("%Y-%m-%d"))
);

/// Field separators inside canonical rows must not be forgeable by text values.
fn escape(text: &str) -> std::borrow::Cow<'_, str> {
    // U+2205 is the NULL marker: a text that is exactly it must not read as NULL.
    if text.contains(['\\', '\u{1f}', '\u{1e}', '\u{2205}']) {
        text.replace('\\', "\\\\")
            .replace('\u{1f}', "\\u")
            .replace('\u{1e}', "\\r")
            .replace('\u{2205}', "\\0")
            .into()
    } else {
        text.into()
    }
}

impl Scalar for Uuid {
    type PgSql = sql_types::Uuid;
    type PgRepr = Uuid;
    type SqliteSql = sql_types::Text;
    type SqliteRepr = String;
    const PG_TYPE: &'static str = "UUID";
    const SQLITE_TYPE: &'static str = "TEXT";
    // PostgreSQL orders UUIDs bytewise, which is the order of their lowercase hex text.
    const SORTS_AS_TEXT: bool = false;
    fn to_pg(&self) -> Uuid {
        *self
    }
    fn from_pg(value: Uuid) -> deserialize::Result<Self> {
        Ok(value)
    }
    fn to_sqlite(&self) -> String {
        self.hyphenated().to_string()
    }
    fn from_sqlite(value: String) -> deserialize::Result<Self> {
        Ok(Uuid::parse_str(&value)?)
    }
    fn canonical(&self, out: &mut String) {
        push_display(out, self.hyphenated())
    }
}

/// Timestamps are kept at microsecond precision, PostgreSQL's, on both backends.
pub fn to_micros(at: DateTime<Utc>) -> DateTime<Utc> {
    let micros = at.timestamp_micros();
    DateTime::from_timestamp_micros(micros).unwrap_or(at)
}

/// The canonical text of a timestamp: RFC 3339, UTC, microseconds.
pub fn timestamp_text(at: DateTime<Utc>) -> String {
    to_micros(at).to_rfc3339_opts(SecondsFormat::Micros, true)
}

impl Scalar for DateTime<Utc> {
    type PgSql = sql_types::Timestamptz;
    type PgRepr = DateTime<Utc>;
    type SqliteSql = sql_types::Text;
    type SqliteRepr = String;
    const PG_TYPE: &'static str = "TIMESTAMPTZ";
    const SQLITE_TYPE: &'static str = "TEXT";
    fn to_pg(&self) -> DateTime<Utc> {
        to_micros(*self)
    }
    fn from_pg(value: DateTime<Utc>) -> deserialize::Result<Self> {
        Ok(value)
    }
    fn to_sqlite(&self) -> String {
        timestamp_text(*self)
    }
    fn from_sqlite(value: String) -> deserialize::Result<Self> {
        Ok(DateTime::parse_from_rfc3339(&value)?.with_timezone(&Utc))
    }
    fn canonical(&self, out: &mut String) {
        out.push_str(&timestamp_text(*self))
    }
}

crate::impl_field!(
    i16,
    i32,
    i64,
    bool,
    String,
    f64,
    NaiveDate,
    Uuid,
    DateTime<Utc>
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_forms_are_backend_independent_text() {
        let mut out = String::new();
        Scalar::canonical(&Uuid::nil(), &mut out);
        out.push('|');
        Scalar::canonical(&DateTime::<Utc>::UNIX_EPOCH, &mut out);
        out.push('|');
        Field::canonical(&None::<i64>, &mut out);
        out.push('|');
        Scalar::canonical(&"a\u{1f}b".to_owned(), &mut out);
        assert_eq!(
            out,
            "00000000-0000-0000-0000-000000000000|1970-01-01T00:00:00.000000Z|\u{2205}|a\\ub"
        );
    }
}
