//! Every registered model across both backends, and the checksum against an oracle that
//! does not use the runtime's row codec.
//!
//! Differential: the same generated log replayed on SQLite and PostgreSQL must give, for
//! every model of the registry, the same row count (non-zero: the log reaches every model),
//! the same digest, and the row count `SELECT COUNT(*)` sees.
//! Independent: `habits.checkins`' digest is recomputed from its rows read back with plain
//! SQL and the canonical form docs/OPERATING.md documents, and a row changed by SQL changes it.

use sha2::{Digest, Sha256};

use readmodel_tests::{execute_sql, query_texts, Db};

/// Each registered model's (name, version, qualified table), from `list --json`.
fn registry(db: &Db) -> Vec<(String, i64, String)> {
    let list = db.run(&["--json", "list"]).json();
    let models: Vec<_> = list
        .as_array()
        .expect("a JSON array")
        .iter()
        .map(|m| {
            (
                m["name"].as_str().expect("a name").to_owned(),
                m["version"].as_i64().expect("a version"),
                m["table"].as_str().expect("a table").to_owned(),
            )
        })
        .collect();
    assert!(models.len() >= 19, "the registry lost models: {models:?}");
    models
}

/// (rows, digest) of `model` as `checksum --json` reports it.
fn checksum(db: &Db, model: &str) -> (u64, String) {
    let sum = db.run(&["--json", "checksum", "--model", model]).json();
    (
        sum["rows"].as_u64().expect("a row count"),
        sum["digest"].as_str().expect("a digest").to_owned(),
    )
}

fn generated(postgres: bool) -> Db {
    let db = Db::new(postgres);
    db.run(&[
        "generate", "--users", "25", "--events", "6000", "--seed", "2026",
    ])
    .ok();
    db.run(&["run", "--all", "--full", "--batch-size", "700"])
        .ok();
    db
}

#[test]
fn every_model_has_the_same_rows_and_digest_on_sqlite_and_postgres() {
    let sqlite = generated(false);
    let postgres = generated(true);
    let models = registry(&sqlite);
    assert_eq!(models, registry(&postgres));
    for (model, version, table) in &models {
        let on_sqlite = checksum(&sqlite, model);
        let on_postgres = checksum(&postgres, model);
        assert!(
            on_sqlite.0 > 0,
            "{model} has no rows: the log must reach it"
        );
        assert_eq!(
            on_sqlite, on_postgres,
            "{model} differs between the backends"
        );
        for db in [&sqlite, &postgres] {
            let counted = db.count(&format!("{table} WHERE model_version = {version}"));
            assert_eq!(
                u64::try_from(counted).expect("a count"),
                on_sqlite.0,
                "{model} on {}: checksum rows vs SELECT COUNT(*)",
                db.backend()
            );
        }
    }
}

/// The canonical text of a text value (docs/OPERATING.md: separators and the NULL marker escaped).
fn escape(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('\u{1f}', "\\u")
        .replace('\u{1e}', "\\r")
        .replace('\u{2205}', "\\0")
}

/// `habits.checkins`' digest from its rows read with plain SQL: columns in table order
/// without `model_version`, UUIDs hyphenated lowercase, dates `YYYY-MM-DD`, timestamps
/// RFC 3339 UTC with microseconds; U+001F between columns, U+001E after each row; rows in
/// key (`event_id`) order.
fn checkins_digest_from_sql(db: &Db) -> (u64, String) {
    let (columns, separator) = if db.postgres {
        (
            [
                "event_id::text",
                "user_id::text",
                "habit_id::text",
                "to_char(day, 'YYYY-MM-DD')",
                "action",
                "to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')",
            ],
            " || chr(31) || ",
        )
    } else {
        (
            [
                "CAST(event_id AS TEXT)",
                "user_id",
                "habit_id",
                "day",
                "action",
                "occurred_at",
            ],
            " || char(31) || ",
        )
    };
    // Columns are split again here so `action` can be escaped like any text.
    let rows = query_texts(
        &db.url,
        &format!(
            "SELECT {} AS value FROM readmodels.habit_checkins WHERE model_version = 1 \
             ORDER BY event_id",
            columns.join(separator)
        ),
    );
    let mut hasher = Sha256::new();
    for row in &rows {
        let fields: Vec<&str> = row.split('\u{1f}').collect();
        assert_eq!(fields.len(), 6, "{row:?}");
        let text: Vec<String> = fields
            .iter()
            .enumerate()
            .map(|(i, f)| if i == 4 { escape(f) } else { (*f).to_owned() })
            .collect();
        hasher.update(text.join("\u{1f}").as_bytes());
        hasher.update("\u{1e}".as_bytes());
    }
    let hex: String = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    (rows.len() as u64, format!("sha256:{hex}"))
}

fn the_checksum_is_the_documented_canonical_digest(postgres: bool) {
    let db = Db::seeded(postgres, "8", "1500", "19");
    let reported = checksum(&db, "habits.checkins");
    assert!(
        reported.0 > 100,
        "too few rows to mean anything: {reported:?}"
    );
    assert_eq!(reported, checkins_digest_from_sql(&db));

    // A row changed behind the runtime's back changes the digest, to the oracle's value.
    let tampered = execute_sql(
        &db.url,
        "UPDATE readmodels.habit_checkins SET action = 'tampered' WHERE model_version = 1 \
         AND event_id = (SELECT MAX(event_id) FROM readmodels.habit_checkins)",
    );
    assert_eq!(tampered, 1);
    let after = checksum(&db, "habits.checkins");
    assert_ne!(after.1, reported.1, "a changed row kept the digest");
    assert_eq!(after, checkins_digest_from_sql(&db));
}

readmodel_tests::on_both_backends!(the_checksum_is_the_documented_canonical_digest);
