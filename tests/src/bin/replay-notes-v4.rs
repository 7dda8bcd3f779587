//! `replay` for `test.notes` version 4, keyed per user and day: a changed key, which
//! `replay new-migration` must refuse to migrate in place.

use chrono::NaiveDate;
use readmodel_runtime::{handlers, Event, ReadModel, Rows};
use readmodel_tests::versioned::NoteWritten;
use uuid::Uuid;

/// `test.notes`: notes per user and day.
#[derive(Clone, Debug, PartialEq, ReadModel)]
#[read_model(
    name = "test.notes",
    domain = "test",
    version = 4,
    kind = "aggregate",
    events = [NoteWritten],
    key = (model_version, user_id, day),
    table = readmodels::test_notes,
)]
pub struct Notes {
    /// Model version.
    pub model_version: i32,
    /// Owner.
    pub user_id: Uuid,
    /// The day the notes were written.
    pub day: NaiveDate,
    /// Notes written.
    pub notes: i64,
    /// Words written.
    pub score: i64,
}

#[handlers]
impl Notes {
    fn written(event: &Event<NoteWritten>, rows: &mut Rows<'_, Self>) {
        let (user_id, day) = (event.user_id, event.occurred_at.date_naive());
        rows.modify(
            (user_id, day),
            || Notes {
                model_version: Self::MODEL_VERSION,
                user_id,
                day,
                notes: 0,
                score: 0,
            },
            |row| {
                row.notes += 1;
                row.score += event.words;
            },
        );
    }
}

fn main() -> std::process::ExitCode {
    readmodel_runtime::cli::main(readmodel_tests::versioned::app())
}
