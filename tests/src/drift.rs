//! `test.notes` with a handler that is not deterministic in a way no syntactic scan of the
//! model sees: its score adds a process-wide counter read through a function of this
//! module. The `replay-notes-drifting` binary declares it; the runtime's determinism check
//! (`run --check-determinism`, `verify`, `testing::InMemory`) must catch it.

use std::sync::atomic::{AtomicI64, Ordering};

static CALLS: AtomicI64 = AtomicI64::new(0);

/// A number that grows on every call: the hidden state the drifting handler depends on.
pub fn tick() -> i64 {
    CALLS.fetch_add(1, Ordering::Relaxed)
}

/// Declares `test.notes` version 1 whose score drifts with [`tick`].
// rustfmt re-indents the attribute inside this macro further on every run.
#[rustfmt::skip]
#[macro_export]
macro_rules! drifting_notes_model {
    () => {
        /// `test.notes`, drifting: notes and a score that depends on hidden state.
        #[derive(Clone, Debug, PartialEq, readmodel_runtime::ReadModel)]
        #[read_model(
            name = "test.notes",
            domain = "test",
            version = 1,
            kind = "aggregate",
            events = [$crate::versioned::NoteWritten],
            key = (model_version, user_id),
            table = readmodels::test_notes,
        )]
        pub struct Notes {
            /// Model version.
            pub model_version: i32,
            /// Owner.
            pub user_id: uuid::Uuid,
            /// Notes written.
            pub notes: i64,
            /// Words plus the hidden counter.
            pub score: i64,
        }

        #[readmodel_runtime::handlers]
        impl Notes {
            fn written(
                event: &readmodel_runtime::Event<$crate::versioned::NoteWritten>,
                rows: &mut readmodel_runtime::Rows<'_, Self>,
            ) {
                let user_id = event.user_id;
                // A function of another module: the scan sees a call, not the counter.
                let drift = $crate::drift::tick();
                rows.modify(
                    user_id,
                    || Notes {
                        model_version: Self::MODEL_VERSION,
                        user_id,
                        notes: 0,
                        score: 0,
                    },
                    |row| {
                        row.notes += 1;
                        row.score += event.words + drift;
                    },
                );
            }
        }
    };
}

/// Declares `test.notes` version 1 whose handler writes the row of a user that depends on
/// [`tick`]: applied twice to the same rows, it writes two different keys (the set of rows
/// differs, not a column), which the determinism check must catch too.
// rustfmt re-indents the attribute inside this macro further on every run.
#[rustfmt::skip]
#[macro_export]
macro_rules! key_drifting_notes_model {
    () => {
        /// `test.notes`, drifting in its keys: each call counts a note for another user.
        #[derive(Clone, Debug, PartialEq, readmodel_runtime::ReadModel)]
        #[read_model(
            name = "test.notes",
            domain = "test",
            version = 1,
            kind = "aggregate",
            events = [$crate::versioned::NoteWritten],
            key = (model_version, user_id),
            table = readmodels::test_notes,
        )]
        pub struct Notes {
            /// Model version.
            pub model_version: i32,
            /// Owner: the event's user, shifted by the hidden counter.
            pub user_id: uuid::Uuid,
            /// Notes written.
            pub notes: i64,
            /// Words.
            pub score: i64,
        }

        #[readmodel_runtime::handlers]
        impl Notes {
            fn written(
                event: &readmodel_runtime::Event<$crate::versioned::NoteWritten>,
                rows: &mut readmodel_runtime::Rows<'_, Self>,
            ) {
                // A function of another module: the scan sees a call, not the counter.
                let shift = $crate::drift::tick() as u128;
                let user_id = uuid::Uuid::from_u128(event.user_id.as_u128().wrapping_add(shift));
                rows.modify(
                    user_id,
                    || Notes {
                        model_version: Self::MODEL_VERSION,
                        user_id,
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
    };
}
