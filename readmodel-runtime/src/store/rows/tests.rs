//! SQLite's writes of rows proven new: a plain `INSERT` (no `ON CONFLICT`), which refuses
//! a key that exists; by the timeline rule, an existing key is upserted instead, and the
//! rest of the flush goes on.

use diesel::pg::Pg;
use diesel::row::NamedRow;
use diesel::sql_types::{BigInt, Text};
use diesel::{sql_query, QueryableByName, RunQueryDsl, SqliteConnection};

use super::{Fresh, Upsert};
use crate::contract::{Column, Contract, Kind, RebuildStrategy};
use crate::field::{Db, Query};
use crate::rows::ReadModelRow;
use crate::store::{test_store, Store};

const COLUMNS: &[Column] = &[
    Column {
        name: "model_version",
        pg_type: "INTEGER",
        sqlite_type: "INTEGER",
        nullable: false,
        sorts_as_text: false,
    },
    Column {
        name: "id",
        pg_type: "BIGINT",
        sqlite_type: "INTEGER",
        nullable: false,
        sorts_as_text: false,
    },
    Column {
        name: "text",
        pg_type: "TEXT",
        sqlite_type: "TEXT",
        nullable: false,
        sorts_as_text: true,
    },
];

static CONTRACT: Contract = Contract {
    name: "test.notes",
    domain: "test",
    version: 1,
    kind: Kind::Timeline,
    consumed_events: &[],
    replay_start_version: 0,
    idempotency_key: &["model_version", "id"],
    rebuild_strategy: RebuildStrategy::Full,
    schema: "readmodels",
    table: "notes",
    columns: COLUMNS,
    fingerprint: crate::Fingerprint::of(&[]),
};

/// A row written by hand-built statements of the shape the derive's typed ones take.
#[derive(Clone, Debug, PartialEq)]
struct Note {
    id: i64,
    text: String,
}

impl Note {
    fn write(
        conn: &mut SqliteConnection,
        rows: &[&Self],
        on_conflict: &str,
    ) -> diesel::QueryResult<usize> {
        let values: Vec<String> = rows
            .iter()
            .map(|row| format!("(1, {}, '{}')", row.id, row.text))
            .collect();
        sql_query(format!(
            "INSERT INTO readmodels.notes (model_version, id, text) VALUES {}{on_conflict}",
            values.join(", ")
        ))
        .execute(conn)
    }
}

impl ReadModelRow for Note {
    type Key = i64;
    fn key(&self) -> i64 {
        self.id
    }
    fn set_model_version(&mut self, _: i32) {}
    fn bind_columns<DB: Db>(&self, query: Query<DB>) -> Query<DB> {
        query
    }
    fn bind_pg_arrays(_: &[&Self], query: Query<Pg>) -> Query<Pg> {
        query
    }
    fn bind_key<DB: Db>(_: &i64, query: Query<DB>) -> Query<DB> {
        query
    }
    fn read<'a, DB: Db>(_: &impl NamedRow<'a, DB>) -> diesel::deserialize::Result<Self> {
        Err("not read in these tests".into())
    }
    fn write_canonical(&self, _: &mut String) {}
    fn user_id(&self) -> Option<uuid::Uuid> {
        None
    }
    fn upsert_sqlite<const N: usize>(
        conn: &mut SqliteConnection,
        rows: [&Self; N],
    ) -> diesel::QueryResult<usize> {
        Note::write(
            conn,
            &rows,
            " ON CONFLICT (model_version, id) DO UPDATE SET text = excluded.text",
        )
    }
    fn insert_sqlite<const N: usize>(
        conn: &mut SqliteConnection,
        rows: [&Self; N],
    ) -> diesel::QueryResult<usize> {
        Note::write(conn, &rows, "")
    }
    fn copy_pg(_: &mut diesel::PgConnection, _: &[&Self]) -> diesel::QueryResult<usize> {
        unreachable!("SQLite only")
    }
}

#[derive(QueryableByName)]
struct Stored {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    text: String,
}

fn sqlite(store: &mut Store) -> &mut SqliteConnection {
    let Store::Sqlite(conn) = store else {
        unreachable!("test_store::sqlite")
    };
    conn
}

/// A store with a notes table holding the note `(1, "old")`.
fn notes() -> (Store, tempfile::TempDir) {
    let (mut store, _, dir) = test_store::sqlite();
    let conn = sqlite(&mut store);
    sql_query(
        "CREATE TABLE readmodels.notes (model_version INTEGER NOT NULL, id INTEGER NOT NULL, \
         text TEXT NOT NULL, UNIQUE (model_version, id))",
    )
    .execute(conn)
    .expect("the notes table");
    sql_query("INSERT INTO readmodels.notes VALUES (1, 1, 'old')")
        .execute(conn)
        .expect("the first note");
    (store, dir)
}

fn stored(conn: &mut SqliteConnection) -> Vec<(i64, String)> {
    sql_query("SELECT id, text FROM readmodels.notes ORDER BY id")
        .load::<Stored>(conn)
        .expect("the notes")
        .into_iter()
        .map(|row| (row.id, row.text))
        .collect()
}

fn new_notes(ids: std::ops::RangeInclusive<i64>) -> Vec<Note> {
    ids.map(|id| Note {
        id,
        text: format!("note {id}"),
    })
    .collect()
}

#[test]
fn a_timeline_key_that_exists_after_all_is_upserted_with_the_rest() {
    let (mut store, _dir) = notes();
    let conn = sqlite(&mut store);
    // 70 rows: a statement of 64 and the rest in smaller ones; the existing key is in
    // the first statement, whose other rows the savepoint's rollback takes back too.
    let rows = new_notes(1..=70);
    let borrowed: Vec<&Note> = rows.iter().collect();
    diesel::Connection::transaction(conn, |c| {
        c.insert_new(&CONTRACT, &borrowed, Fresh::ByEventIdentity)
            .map_err(|e| diesel::result::Error::QueryBuilderError(e.to_string().into()))
    })
    .expect("written");
    let expected: Vec<(i64, String)> = rows.iter().map(|n| (n.id, n.text.clone())).collect();
    assert_eq!(
        stored(conn),
        expected,
        "every row once, the existing one updated"
    );
}

#[test]
fn a_proven_new_key_that_exists_is_refused_not_overwritten() {
    let (mut store, _dir) = notes();
    let conn = sqlite(&mut store);
    let rows = new_notes(1..=3);
    let borrowed: Vec<&Note> = rows.iter().collect();
    let error = conn
        .insert_new(&CONTRACT, &borrowed, Fresh::Proven)
        .expect_err("a key that exists is not new");
    assert!(
        error
            .to_string()
            .contains("inserting new rows into test.notes"),
        "{error}"
    );
    assert_eq!(stored(conn), [(1, "old".to_owned())], "nothing written");
}

#[test]
fn new_rows_are_inserted_in_every_statement_size() {
    let (mut store, _dir) = notes();
    let conn = sqlite(&mut store);
    // 64 + 16 + 4 + 1 + 1 rows after the first note.
    let rows = new_notes(2..=87);
    let borrowed: Vec<&Note> = rows.iter().collect();
    conn.insert_new(&CONTRACT, &borrowed, Fresh::Proven)
        .expect("written");
    let ids: Vec<i64> = stored(conn).into_iter().map(|(id, _)| id).collect();
    assert_eq!(ids, (1..=87).collect::<Vec<_>>());
}
