//! A tiny model, `test.notes`, that the `replay-notes-v1` and `replay-notes-v2` binaries
//! declare at two versions, for side-by-side builds and cutover tests.

use chrono::{DateTime, Duration, Utc};
use diesel_migrations::{embed_migrations, EmbeddedMigrations};
use readmodel_runtime::{App, GenerateSpec};
use readmodel_runtime::{DomainEvent, Migrations, NewEvent};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A user wrote a note of some words.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, DomainEvent)]
#[event(type = "test.note_written")]
pub struct NoteWritten {
    /// Its length.
    pub words: i64,
}

const POSTGRES: EmbeddedMigrations = embed_migrations!("migrations/postgres");
const SQLITE: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

/// `users` users writing `events` notes, deterministically.
pub fn notes(spec: &GenerateSpec) -> Box<dyn Iterator<Item = NewEvent>> {
    let users = u64::from(spec.users.max(1));
    let seed = spec.seed;
    let start: DateTime<Utc> = DateTime::UNIX_EPOCH + Duration::days(20_000);
    Box::new((0..spec.events).map(move |i| {
        let user = i % users;
        NewEvent {
            stream_id: Uuid::from_u64_pair(seed, user),
            event_version: i64::try_from(i / users + 1).unwrap_or(i64::MAX),
            event_type: "test.note_written".to_owned(),
            schema_version: 1,
            user_id: Uuid::from_u64_pair(seed, user),
            occurred_at: start + Duration::minutes(i64::try_from(i).unwrap_or(0)),
            recorded_at: None,
            payload: serde_json::json!({ "words": (i * 7 + seed) % 100 }),
        }
    }))
}

/// The app of the versioned binaries: the test tables and the notes generator.
pub fn app() -> App {
    App {
        migrations: Migrations {
            postgres: &POSTGRES,
            sqlite: &SQLITE,
        },
        generator: Some(notes),
        name: "replay-notes",
        description: "The test.notes model at one version, for tests of versions side by side.",
        version: env!("CARGO_PKG_VERSION"),
    }
}

/// Declares `test.notes` at `$version`; a note adds `$score_per_word * words` to `score`.
// rustfmt re-indents the attribute inside this macro further on every run.
#[rustfmt::skip]
#[macro_export]
macro_rules! notes_model {
    ($version:literal, $score_per_word:literal) => {
        /// `test.notes`: notes and score per user.
        #[derive(Clone, Debug, PartialEq, readmodel_runtime::ReadModel)]
        #[read_model(
            name = "test.notes",
            domain = "test",
            version = $version,
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
            /// Words times the version's weight.
            pub score: i64,
        }

        #[readmodel_runtime::handlers]
        impl Notes {
            fn written(
                event: &readmodel_runtime::Event<$crate::versioned::NoteWritten>,
                rows: &mut readmodel_runtime::Rows<'_, Self>,
            ) {
                let user_id = event.user_id;
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
                        row.score += $score_per_word * event.words;
                    },
                );
            }
        }
    };
}
