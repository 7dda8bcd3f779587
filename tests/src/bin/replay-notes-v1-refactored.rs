//! `replay` for `test.notes` version 1 with its handler refactored: other code (another
//! fingerprint), the same rows as `replay-notes-v1`. `replay verify --accept` must accept
//! it.

use readmodel_runtime::{handlers, Event, ReadModel, Rows};
use readmodel_tests::versioned::NoteWritten;
use uuid::Uuid;

/// `test.notes`: notes and score per user.
#[derive(Clone, Debug, PartialEq, ReadModel)]
#[read_model(
    name = "test.notes",
    domain = "test",
    version = 1,
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
}

#[handlers]
impl Notes {
    fn written(event: &Event<NoteWritten>, rows: &mut Rows<'_, Self>) {
        rows.modify(
            event.user_id,
            || Self::empty(event.user_id),
            |row| row.count(event.words),
        );
    }

    fn empty(user_id: Uuid) -> Self {
        Notes {
            model_version: Self::MODEL_VERSION,
            user_id,
            notes: 0,
            score: 0,
        }
    }

    fn count(&mut self, words: i64) {
        self.notes += 1;
        self.score += words;
    }
}

fn main() -> std::process::ExitCode {
    readmodel_runtime::cli::main(readmodel_tests::versioned::app())
}
