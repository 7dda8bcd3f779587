//! The row codec through each real database, for every model: the golden log
//! (`tests/fixtures/golden-events.jsonl`) is imported and replayed by the `replay` binary,
//! the rows are read back through the generated typed diesel API, and compared — whole
//! structs, in key order — with the same events folded in memory (`InMemory`), which
//! never touches a database. A column whose write or read loses or changes a value (a
//! truncated timestamp, a dropped `NULL`, a swapped column) makes the rows differ.

use std::path::Path;

use diesel::prelude::*;
use diesel::{PgConnection, SqliteConnection};
use projections::calendar::{AgendaItem, WeeklyBusy};
use projections::finance::{Balance, MonthlySpend, Transaction};
use projections::habits::{HabitCheckin, HabitMonthlyCompletion, HabitStreak};
use projections::health::{DailyMetrics, MonthlyWorkouts, RestingHeartRate};
use projections::insights::{DailySummary, Engagement};
use projections::journal::{JournalEntry, MonthlyMood};
use projections::projects::{BoardTask, ProjectProgress};
use projections::relationships::{Interaction, LastContact};
use readmodel_runtime::testing::InMemory;
use readmodel_runtime::{DatabaseUrl, Projection, ReadModelRow, Store, StoredEvent};
use readmodel_tests::{on_both_backends, Db};

/// A model whose rows can be read back through its generated typed API.
trait RoundTrip: Projection<Row = Self> + ReadModelRow + PartialEq {
    /// The active version's rows on SQLite.
    fn load_sqlite(conn: &mut SqliteConnection) -> Vec<Self>;
    /// The active version's rows on PostgreSQL.
    fn load_postgres(conn: &mut PgConnection) -> Vec<Self>;
}

/// Implements [`RoundTrip`] for each model and lists their names, so the list can be
/// compared with the registry.
macro_rules! round_trips {
    ($($model:ty),* $(,)?) => {
        $(impl RoundTrip for $model {
            fn load_sqlite(conn: &mut SqliteConnection) -> Vec<Self> {
                <$model>::active(conn)
                    .expect("the active version")
                    .load::<$model>(conn)
                    .expect("the rows load")
            }
            fn load_postgres(conn: &mut PgConnection) -> Vec<Self> {
                <$model>::active(conn)
                    .expect("the active version")
                    .load::<$model>(conn)
                    .expect("the rows load")
            }
        })*

        /// Round-trips every model on the database behind `url`; returns the models'
        /// names, in the order they were checked.
        fn every_model(url: &str, events: &[StoredEvent]) -> Vec<&'static str> {
            vec![$(round_trip::<$model>(url, events)),*]
        }
    };
}

round_trips!(
    AgendaItem,
    WeeklyBusy,
    Transaction,
    Balance,
    MonthlySpend,
    HabitCheckin,
    HabitStreak,
    HabitMonthlyCompletion,
    DailyMetrics,
    RestingHeartRate,
    MonthlyWorkouts,
    DailySummary,
    Engagement,
    JournalEntry,
    MonthlyMood,
    BoardTask,
    ProjectProgress,
    Interaction,
    LastContact,
);

/// The golden log as the database stores it: ids 1..=604 in file order.
fn golden_events() -> Vec<StoredEvent> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/golden-events.jsonl");
    let text = std::fs::read_to_string(&path).expect("the golden log reads");
    text.lines()
        .filter(|line| !line.trim().is_empty())
        .zip(1..)
        .map(|(line, id)| {
            let v: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
            let text = |field: &str| v[field].as_str().expect(field).to_owned();
            let uuid = |field: &str| text(field).parse().expect("a UUID");
            let time = |field: &str| text(field).parse().expect("an RFC 3339 time");
            StoredEvent {
                id,
                stream_id: uuid("stream_id"),
                event_version: v["event_version"].as_i64().expect("event_version"),
                event_type: text("event_type"),
                schema_version: v["schema_version"]
                    .as_i64()
                    .and_then(|n| i32::try_from(n).ok())
                    .expect("schema_version"),
                user_id: uuid("user_id"),
                occurred_at: time("occurred_at"),
                recorded_at: time("recorded_at"),
                payload: v["payload"].to_string(),
            }
        })
        .collect()
}

/// Compares `M`'s rows in the database behind `url` with `events` folded in memory.
fn round_trip<M: RoundTrip>(url: &str, events: &[StoredEvent]) -> &'static str {
    let name = M::CONTRACT.name;
    let mut expected = InMemory::<M>::new();
    expected
        .apply_all(events)
        .unwrap_or_else(|e| panic!("{name}: the golden log decodes: {e}"));
    let expected = expected.rows();
    let url = DatabaseUrl::parse(url).expect("a valid URL");
    let mut actual = match Store::open(&url, &projections::MIGRATIONS).expect("the database opens")
    {
        Store::Sqlite(mut conn) => M::load_sqlite(&mut conn),
        Store::Postgres(mut conn) => M::load_postgres(&mut conn),
    };
    actual.sort_by_key(ReadModelRow::key);
    assert!(!actual.is_empty(), "{name}: the golden log wrote no rows");
    assert_eq!(
        actual.len(),
        expected.len(),
        "{name}: row count in the database vs in memory"
    );
    for (read, folded) in actual.iter().zip(&expected) {
        assert_eq!(
            read, folded,
            "{name}: the row read back differs from the row folded in memory"
        );
    }
    name
}

fn every_model_reads_back_as_folded_in_memory(postgres: bool) {
    let db = Db::new(postgres);
    let events = golden_events();
    assert_eq!(events.len(), 604);
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/golden-events.jsonl");
    let imported = db
        .run(&["--json", "import", "--file", &path.display().to_string()])
        .json();
    assert_eq!(imported["imported"], 604);
    assert_eq!(db.head(), 604, "the log's ids are 1..=604");
    db.run(&["run", "--all", "--full"]).ok();

    let mut checked = every_model(&db.url, &events);
    let listed = db.run(&["--json", "list"]).json();
    let mut registered: Vec<&str> = listed
        .as_array()
        .expect("a JSON array")
        .iter()
        .map(|model| model["name"].as_str().expect("a model name"))
        .collect();
    checked.sort_unstable();
    registered.sort_unstable();
    assert_eq!(
        checked, registered,
        "every registered model is round-tripped, and only those"
    );
    assert_eq!(checked.len(), 19);
}

on_both_backends!(every_model_reads_back_as_folded_in_memory);
