//! The canonical text and digest, against texts written out by hand and digests computed
//! outside Rust (`printf … | sha256sum`): a change to either changes every stored checksum.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::pg::Pg;
use diesel::row::NamedRow;
use uuid::Uuid;

use super::*;
use crate::field::{Db, Field, Query};

/// A row of every column type, with `write_canonical` written the way `#[read_model]`
/// generates it: each column but `model_version`, separated by U+001F.
#[derive(Clone, Debug, PartialEq)]
struct Row {
    model_version: i32,
    name: String,
    note: Option<String>,
    user_id: Uuid,
    day: NaiveDate,
    at: DateTime<Utc>,
    count: i64,
    flag: bool,
}

impl ReadModelRow for Row {
    type Key = String;
    fn key(&self) -> String {
        self.name.clone()
    }
    fn set_model_version(&mut self, version: i32) {
        self.model_version = version;
    }
    fn bind_columns<DB: Db>(&self, query: Query<DB>) -> Query<DB> {
        query
    }
    fn bind_pg_arrays(_: &[&Self], query: Query<Pg>) -> Query<Pg> {
        query
    }
    fn bind_key<DB: Db>(_: &String, query: Query<DB>) -> Query<DB> {
        query
    }
    fn read<'a, DB: Db>(_: &impl NamedRow<'a, DB>) -> diesel::deserialize::Result<Self> {
        Err("not read in these tests".into())
    }
    fn upsert_sqlite<const N: usize>(
        _: &mut diesel::SqliteConnection,
        _: [&Self; N],
    ) -> diesel::QueryResult<usize> {
        unreachable!("not written in these tests")
    }
    fn insert_sqlite<const N: usize>(
        _: &mut diesel::SqliteConnection,
        _: [&Self; N],
    ) -> diesel::QueryResult<usize> {
        unreachable!("not written in these tests")
    }
    fn copy_pg(_: &mut diesel::PgConnection, _: &[&Self]) -> diesel::QueryResult<usize> {
        unreachable!("not written in these tests")
    }
    fn write_canonical(&self, out: &mut String) {
        Field::canonical(&self.name, out);
        out.push('\u{1f}');
        Field::canonical(&self.note, out);
        out.push('\u{1f}');
        Field::canonical(&self.user_id, out);
        out.push('\u{1f}');
        Field::canonical(&self.day, out);
        out.push('\u{1f}');
        Field::canonical(&self.at, out);
        out.push('\u{1f}');
        Field::canonical(&self.count, out);
        out.push('\u{1f}');
        Field::canonical(&self.flag, out);
    }
    fn user_id(&self) -> Option<Uuid> {
        Some(self.user_id)
    }
}

fn walk() -> Row {
    Row {
        model_version: 1,
        name: "walk".to_owned(),
        note: None,
        user_id: Uuid::parse_str("0b1e2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d").expect("uuid"),
        day: NaiveDate::from_ymd_opt(2024, 2, 29).expect("a leap day"),
        // Nanoseconds: the canonical text keeps microseconds, PostgreSQL's precision.
        at: DateTime::parse_from_rfc3339("2026-03-01T09:30:00.123456789+02:00")
            .expect("timestamp")
            .with_timezone(&Utc),
        count: i64::MIN,
        flag: true,
    }
}

/// Text forging separators, escapes and the NULL marker.
fn forger() -> Row {
    Row {
        name: "a\u{1f}b\\c\u{1e}".to_owned(),
        note: Some("\u{2205}".to_owned()),
        count: 0,
        flag: false,
        ..walk()
    }
}

const WALK_TEXT: &str = "walk\u{1f}\u{2205}\u{1f}0b1e2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d\u{1f}2024-02-29\u{1f}2026-03-01T07:30:00.123456Z\u{1f}-9223372036854775808\u{1f}true\u{1e}";
const FORGER_TEXT: &str = "a\\ub\\\\c\\r\u{1f}\\0\u{1f}0b1e2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d\u{1f}2024-02-29\u{1f}2026-03-01T07:30:00.123456Z\u{1f}0\u{1f}false\u{1e}";

fn text(row: &Row) -> String {
    let mut out = String::from("left over from the previous row");
    canonical(row, &mut out);
    out
}

fn checksum(rows: &[Row]) -> Checksum {
    let mut digest = Digester::default();
    for row in rows {
        digest.add(row);
    }
    digest.finish()
}

#[test]
fn rows_become_the_documented_canonical_text() {
    assert_eq!(text(&walk()), WALK_TEXT);
    assert_eq!(text(&forger()), FORGER_TEXT);
}

#[test]
fn digests_are_sha256_of_the_concatenated_rows() {
    assert_eq!(
        checksum(&[walk()]),
        Checksum {
            digest: "sha256:a4a2f1606b0779c3c540196ae296aa0c90e1bce77dfb20eeaebf70e836522b9d"
                .to_owned(),
            rows: 1
        }
    );
    assert_eq!(
        checksum(&[walk(), forger()]),
        Checksum {
            digest: "sha256:95befc581602af42150570756dc67d8eee8462e62f57a184810cfaccd55ee557"
                .to_owned(),
            rows: 2
        }
    );
}

#[test]
fn an_empty_table_has_the_digest_of_nothing() {
    assert_eq!(
        checksum(&[]),
        Checksum {
            digest: "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
                .to_owned(),
            rows: 0
        }
    );
}

#[test]
fn the_model_version_is_not_hashed_but_row_order_is() {
    let mut other_version = walk();
    other_version.set_model_version(-1);
    assert_eq!(checksum(&[other_version]), checksum(&[walk()]));
    // Order matters, which is why rows are read in key order.
    assert_ne!(
        checksum(&[forger(), walk()]).digest,
        checksum(&[walk(), forger()]).digest
    );
}

#[test]
fn text_cannot_forge_a_column_boundary_or_a_null() {
    let split = |name: &str, note: &str| Row {
        name: name.to_owned(),
        note: Some(note.to_owned()),
        ..walk()
    };
    assert_ne!(
        checksum(&[split("x\u{1f}y", "z")]),
        checksum(&[split("x", "y\u{1f}z")])
    );
    assert_ne!(
        checksum(&[split("x\u{1e}", "y")]),
        checksum(&[split("x", "y")])
    );
    assert_ne!(
        checksum(&[split("\\u", "y")]),
        checksum(&[split("\u{1f}", "y")])
    );
    let null = Row {
        note: None,
        ..walk()
    };
    assert_ne!(
        checksum(&[null]),
        checksum(&[split("walk", "\u{2205}")]),
        "a NULL and the text of the NULL marker hash alike"
    );
}
