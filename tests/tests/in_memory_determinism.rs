//! `testing::InMemory` checks determinism by default: a drifting handler fails with one
//! line naming the model, the event and the column (or the row, when the two applications
//! wrote different keys). A binary of its own because the test models declared here
//! register `test.notes` several times, which the shared end-to-end
//! binary's registry (read by `migrations_match_contracts`) must not see.

use readmodel_runtime::testing::{stored, InMemory};
use readmodel_tests::versioned::NoteWritten;

mod drifting {
    readmodel_tests::drifting_notes_model!();
}

mod steady {
    readmodel_tests::notes_model!(1, 1);
}

mod key_drifting {
    readmodel_tests::key_drifting_notes_model!();
}

fn assert_names_the_drift(line: &str) {
    assert!(line.contains("test.notes is not deterministic"), "{line}");
    assert!(line.contains("event 1 (test.note_written)"), "{line}");
    assert!(line.contains("column score"), "{line}");
}

#[test]
fn in_memory_checks_determinism_by_default() {
    let at = "2026-03-01T07:30:00Z".parse().expect("a timestamp");
    let user = uuid::Uuid::from_u128(7);
    let events: Vec<_> = (1..=3)
        .map(|id| stored(id, user, user, id, at, &NoteWritten { words: 5 }))
        .collect();

    let mut model = InMemory::<steady::Notes>::new();
    model.apply_all(&events).expect("decodes");
    let rows = model.rows();
    assert_eq!((rows[0].notes, rows[0].score), (3, 15));

    let mut model = InMemory::<drifting::Notes>::new();
    let panic = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| model.apply(&events[0])))
        .expect_err("a drifting handler fails the in-memory replay");
    let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
    assert_names_the_drift(&message);
    assert_eq!(message.lines().count(), 1, "{message}");
}

/// Applied twice, the handler writes the rows of two different users: the two key sets
/// differ (no column does), and the check names the row written only once.
#[test]
fn in_memory_catches_a_handler_whose_keys_differ_between_applications() {
    let at = "2026-03-01T07:30:00Z".parse().expect("a timestamp");
    let user = uuid::Uuid::from_u128(7);
    let event = stored(1, user, user, 1, at, &NoteWritten { words: 5 });
    let mut model = InMemory::<key_drifting::Notes>::new();
    let panic = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| model.apply(&event)))
        .expect_err("a handler writing other keys fails the in-memory replay");
    let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(
        message.contains("test.notes is not deterministic"),
        "{message}"
    );
    assert!(message.contains("event 1 (test.note_written)"), "{message}");
    assert!(message.contains("changed only once"), "{message}");
    assert_eq!(message.lines().count(), 1, "{message}");
}
