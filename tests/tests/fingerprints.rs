//! A model's code fingerprint, as its contract carries it: formatting, comments and doc
//! comments do not change it; a handler's body, a field's type, and each consumed
//! event's fields, schema version and upcast do.
//!
//! The models here are never registered into a replay binary (their names repeat), so
//! they live in a test binary of their own.

use readmodel_runtime::{DomainEvent, Fingerprint};

/// Variants of one event, `t.note_written`, each declared in its own module so that the
/// models below name it by the same path (`Written`).
mod events {
    pub(crate) mod base {
        use serde::Deserialize;
        #[derive(Deserialize, readmodel_runtime::DomainEvent)]
        #[event(type = "t.note_written")]
        pub(crate) struct Written {
            pub(crate) words: i64,
        }
    }

    pub(crate) mod documented {
        use serde::Deserialize;
        /// The same event, documented and laid out otherwise.
        #[derive(Debug, Clone, Deserialize, readmodel_runtime::DomainEvent)]
        #[event(type = "t.note_written")]
        pub(crate) struct Written {
            /// How many words the note has.
            pub(crate) words: i64, // counted by the writer
        }
    }

    pub(crate) mod with_title {
        use serde::Deserialize;
        #[derive(Deserialize, readmodel_runtime::DomainEvent)]
        #[event(type = "t.note_written")]
        pub(crate) struct Written {
            pub(crate) words: i64,
            #[serde(default)]
            pub(crate) title: String,
        }
    }

    pub(crate) mod version_2 {
        use serde::Deserialize;
        #[derive(Deserialize, readmodel_runtime::DomainEvent)]
        #[event(type = "t.note_written", schema_version = 2, upcast = upcast)]
        pub(crate) struct Written {
            pub(crate) words: i64,
        }
        pub(crate) fn upcast(
            _: i32,
            value: serde_json::Value,
        ) -> Result<serde_json::Value, String> {
            Ok(value)
        }
        pub(crate) fn other_upcast(
            _: i32,
            value: serde_json::Value,
        ) -> Result<serde_json::Value, String> {
            Ok(value)
        }
    }

    pub(crate) mod version_2_other_upcast {
        use super::version_2::other_upcast;
        use serde::Deserialize;
        #[derive(Deserialize, readmodel_runtime::DomainEvent)]
        #[event(type = "t.note_written", schema_version = 2, upcast = other_upcast)]
        pub(crate) struct Written {
            pub(crate) words: i64,
        }
    }
}

/// The model `t.notes` over whichever `Written` is in scope: a note adds `$weight *
/// words` to `score` and one to `notes`, of type `$notes`.
// rustfmt re-indents the attribute inside this macro further on every run.
#[rustfmt::skip]
macro_rules! notes {
    ($weight:literal, $notes:ident) => {
        #[derive(Clone, Debug, PartialEq, readmodel_runtime::ReadModel)]
        #[read_model(
            name = "t.notes",
            domain = "t",
            kind = "aggregate",
            events = [Written],
            key = (model_version, user_id),
            table = readmodels::t_notes,
        )]
        pub(crate) struct Notes {
            pub(crate) model_version: i32,
            pub(crate) user_id: uuid::Uuid,
            pub(crate) notes: $notes,
            pub(crate) score: i64,
        }

        #[readmodel_runtime::handlers]
        impl Notes {
            fn written(
                event: &readmodel_runtime::Event<Written>,
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
                        row.score += $weight * event.words;
                    },
                );
            }
        }
    };
}

mod base {
    use super::events::base::Written;
    notes!(2, i64);
}

/// `base`, written by hand in another layout, with comments and doc comments.
mod reformatted {
    use super::events::base::Written;

    /// Notes per user.
    #[derive(Clone, Debug, PartialEq, readmodel_runtime::ReadModel)]
    #[read_model(name = "t.notes", domain = "t", kind = "aggregate", events = [Written,],
        key = (model_version, user_id), table = readmodels::t_notes)]
    pub(crate) struct Notes {
        /// Always the model's version.
        pub(crate) model_version: i32,
        pub(crate) user_id: uuid::Uuid, // the owner
        pub(crate) notes: i64,
        pub(crate) score: i64,
    }

    // The handlers.
    #[readmodel_runtime::handlers]
    impl Notes {
        /// One note more.
        fn written(
            event: &readmodel_runtime::Event<Written>,
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
                    /* words, weighted */
                    row.score += 2 * event.words;
                },
            );
        }
    }
}

mod reweighted {
    use super::events::base::Written;
    notes!(3, i64);
}

mod narrower_field {
    use super::events::base::Written;
    notes!(2, i32);
}

mod documented_event {
    use super::events::documented::Written;
    notes!(2, i64);
}

mod event_with_title {
    use super::events::with_title::Written;
    notes!(2, i64);
}

mod event_version_2 {
    use super::events::version_2::Written;
    notes!(2, i64);
}

mod event_other_upcast {
    use super::events::version_2_other_upcast::Written;
    notes!(2, i64);
}

fn fingerprint_of(contract: &readmodel_runtime::Contract) -> Fingerprint {
    contract.fingerprint
}

#[test]
fn formatting_comments_and_doc_comments_do_not_count() {
    let base = fingerprint_of(base::Notes::CONTRACT);
    assert_eq!(fingerprint_of(reformatted::Notes::CONTRACT), base);
    assert_eq!(fingerprint_of(documented_event::Notes::CONTRACT), base);
    assert_eq!(
        <events::documented::Written as DomainEvent>::FINGERPRINT,
        <events::base::Written as DomainEvent>::FINGERPRINT
    );
}

#[test]
fn what_can_change_rows_counts() {
    // The added field is read, as a handler would.
    let _title = |event: &events::with_title::Written| event.title.len();
    let base = fingerprint_of(base::Notes::CONTRACT);
    let changed = [
        ("a handler's body", reweighted::Notes::CONTRACT),
        ("a field's type", narrower_field::Notes::CONTRACT),
        ("an event's field", event_with_title::Notes::CONTRACT),
        (
            "an event's schema version",
            event_version_2::Notes::CONTRACT,
        ),
    ];
    for (what, contract) in changed {
        assert_ne!(
            fingerprint_of(contract),
            base,
            "{what} must change the fingerprint"
        );
    }
}

#[test]
fn the_upcast_an_event_names_counts() {
    assert_ne!(
        fingerprint_of(event_other_upcast::Notes::CONTRACT),
        fingerprint_of(event_version_2::Notes::CONTRACT),
    );
}
