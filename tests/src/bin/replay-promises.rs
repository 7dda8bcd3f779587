//! `replay` for two test-only models that exist to break promises the runtime keeps:
//! `test.full_only` declares `rebuild = "full"` (so `--user`/`--from` must be refused),
//! and `test.team_totals` also writes a team row (user nil) for every note, so a by-user
//! rebuild would write a row of another user and must be refused.

use readmodel_runtime::{handlers, Event, ReadModel, Rows};
use readmodel_tests::versioned::NoteWritten;
use uuid::Uuid;

/// Notes per user; rebuilt only as a whole.
#[derive(Clone, Debug, PartialEq, ReadModel)]
#[read_model(
    name = "test.full_only",
    domain = "test",
    kind = "aggregate",
    rebuild = "full",
    events = [NoteWritten],
    key = (model_version, user_id),
    table = readmodels::test_full_only,
)]
pub struct FullOnly {
    /// Model version.
    pub model_version: i32,
    /// Owner.
    pub user_id: Uuid,
    /// Notes written.
    pub notes: i64,
}

#[handlers]
impl FullOnly {
    fn written(event: &Event<NoteWritten>, rows: &mut Rows<'_, Self>) {
        let user_id = event.user_id;
        rows.modify(
            user_id,
            || FullOnly {
                model_version: Self::MODEL_VERSION,
                user_id,
                notes: 0,
            },
            |row| row.notes += 1,
        );
    }
}

/// Words per user, and of the whole team under the nil user.
#[derive(Clone, Debug, PartialEq, ReadModel)]
#[read_model(
    name = "test.team_totals",
    domain = "test",
    kind = "aggregate",
    events = [NoteWritten],
    key = (model_version, user_id),
    table = readmodels::test_team_totals,
)]
pub struct TeamTotals {
    /// Model version.
    pub model_version: i32,
    /// Owner (nil: the team).
    pub user_id: Uuid,
    /// Words written.
    pub words: i64,
}

#[handlers]
impl TeamTotals {
    fn written(event: &Event<NoteWritten>, rows: &mut Rows<'_, Self>) {
        for user_id in [event.user_id, Uuid::nil()] {
            rows.modify(
                user_id,
                || TeamTotals {
                    model_version: Self::MODEL_VERSION,
                    user_id,
                    words: 0,
                },
                |row| row.words += event.words,
            );
        }
    }
}

fn main() -> std::process::ExitCode {
    readmodel_runtime::cli::main(readmodel_tests::versioned::app())
}
