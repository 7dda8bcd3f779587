//! `replay` for two test-only models that exist to break promises the runtime keeps:
//! `test.full_only` declares `rebuild = "full"` (so `--user`/`--from` must be refused),
//! and `test.team_totals` also writes a team row (user nil) for every note, so a by-user
//! rebuild would write a row of another user and must be refused.

use readmodel_runtime::read_model;

/// Notes per user; rebuilt only as a whole.
#[read_model(
    name = "test.full_only",
    domain = "test",
    kind = "aggregate",
    rebuild = "full",
    events = [NoteWritten],
    key = (model_version, user_id),
    table = readmodels::test_full_only,
)]
pub mod full_only {
    use readmodel_runtime::{Event, Rows};
    use readmodel_tests::versioned::NoteWritten;
    use uuid::Uuid;

    /// Per user.
    #[derive(Clone, Debug, PartialEq)]
    pub struct FullOnly {
        /// Model version.
        pub model_version: i32,
        /// Owner.
        pub user_id: Uuid,
        /// Notes written.
        pub notes: i64,
    }

    fn written(event: &Event<NoteWritten>, rows: &mut Rows<'_, FullOnly>) {
        let user_id = event.user_id;
        rows.modify(
            user_id,
            || FullOnly {
                model_version: MODEL_VERSION,
                user_id,
                notes: 0,
            },
            |row| row.notes += 1,
        );
    }
}

/// Words per user, and of the whole team under the nil user.
#[read_model(
    name = "test.team_totals",
    domain = "test",
    kind = "aggregate",
    events = [NoteWritten],
    key = (model_version, user_id),
    table = readmodels::test_team_totals,
)]
pub mod team_totals {
    use readmodel_runtime::{Event, Rows};
    use readmodel_tests::versioned::NoteWritten;
    use uuid::Uuid;

    /// Per user, and the team (nil user).
    #[derive(Clone, Debug, PartialEq)]
    pub struct TeamTotals {
        /// Model version.
        pub model_version: i32,
        /// Owner (nil: the team).
        pub user_id: Uuid,
        /// Words written.
        pub words: i64,
    }

    fn written(event: &Event<NoteWritten>, rows: &mut Rows<'_, TeamTotals>) {
        for user_id in [event.user_id, Uuid::nil()] {
            rows.modify(
                user_id,
                || TeamTotals {
                    model_version: MODEL_VERSION,
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
