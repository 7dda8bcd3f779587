//! `replay` for `test.notes` version 3: a new nullable column, `longest` (the most words
//! in one note), for `replay new-migration` to add to the existing table.

use readmodel_runtime::{handlers, Event, ReadModel, Rows};
use readmodel_tests::versioned::NoteWritten;
use uuid::Uuid;

/// `test.notes`: notes, score and longest note per user.
#[derive(Clone, Debug, PartialEq, ReadModel)]
#[read_model(
    name = "test.notes",
    domain = "test",
    version = 3,
    kind = "aggregate",
    events = [NoteWritten],
    key = (model_version, user_id),
    table = readmodels::test_notes,
)]
pub struct Notes {
    /// Model version.
    pub model_version: i32,
    /// Owner.
    pub user_id: Uuid,
    /// Notes written.
    pub notes: i64,
    /// Words written.
    pub score: i64,
    /// The most words in one note.
    pub longest: Option<i64>,
}

#[handlers]
impl Notes {
    fn written(event: &Event<NoteWritten>, rows: &mut Rows<'_, Self>) {
        let user_id = event.user_id;
        rows.modify(
            user_id,
            || Notes {
                model_version: Self::MODEL_VERSION,
                user_id,
                notes: 0,
                score: 0,
                longest: None,
            },
            |row| {
                row.notes += 1;
                row.score += event.words;
                row.longest = Some(row.longest.map_or(event.words, |w| w.max(event.words)));
            },
        );
    }
}

fn main() -> std::process::ExitCode {
    readmodel_runtime::cli::main(readmodel_tests::versioned::app())
}
