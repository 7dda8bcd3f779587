//! The journal models replayed in memory, with exact expected rows.

use readmodel_runtime::testing::{stored, InMemory};
use readmodel_runtime::{DomainEvent, StoredEvent};
use serde_json::json;

use super::JournalEntry;
use super::MonthlyMood;
use super::*;
use crate::test_support::{at, day, id, raw};

const USER: Uuid = id(1);

/// Three entries over two months (one a v1 payload), one deleted.
fn log() -> Vec<StoredEvent> {
    vec![
        stored(
            1,
            USER,
            id(10),
            1,
            at(3, 30, 21),
            &EntryWritten {
                entry_id: id(10),
                day: day(3, 30),
                mood: 4,
                word_count: 300,
            },
        ),
        raw(
            2,
            USER,
            id(11),
            at(3, 31, 22),
            EntryWritten::EVENT_TYPE,
            1,
            json!({
                "entry_id": id(11), "day": "2026-03-31", "mood": 2, "words": 120
            }),
        ),
        stored(
            3,
            USER,
            id(12),
            1,
            at(4, 1, 21),
            &EntryWritten {
                entry_id: id(12),
                day: day(4, 1),
                mood: 5,
                word_count: 80,
            },
        ),
        stored(
            4,
            USER,
            id(10),
            2,
            at(4, 2, 8),
            &EntryDeleted {
                entry_id: id(10),
                day: day(3, 30),
                mood: 4,
                word_count: 300,
            },
        ),
    ]
}

#[test]
fn entries_timeline_has_one_row_per_event() {
    let mut model = InMemory::<JournalEntry>::new();
    model.apply_all(&log()).expect("applies");
    let row =
        |event_id, entry, action: &str, d: chrono::NaiveDate, mood, word_count, occurred_at| {
            JournalEntry {
                model_version: 1,
                event_id,
                user_id: USER,
                entry_id: id(entry),
                action: action.to_owned(),
                day: d,
                mood,
                word_count,
                occurred_at,
            }
        };
    assert_eq!(
        model.rows(),
        vec![
            row(1, 10, ACTION_WRITTEN, day(3, 30), 4, 300, at(3, 30, 21)),
            row(2, 11, ACTION_WRITTEN, day(3, 31), 2, 120, at(3, 31, 22)),
            row(3, 12, ACTION_WRITTEN, day(4, 1), 5, 80, at(4, 1, 21)),
            row(4, 10, ACTION_DELETED, day(3, 30), 4, 300, at(4, 2, 8)),
        ]
    );
}

#[test]
fn monthly_mood_takes_deleted_entries_back_out() {
    let mut model = InMemory::<MonthlyMood>::new();
    model.apply_all(&log()).expect("applies");
    let row = |month, entries, words, mood_sum| MonthlyMood {
        model_version: 1,
        user_id: USER,
        month,
        entries,
        words,
        mood_sum,
    };
    assert_eq!(
        model.rows(),
        vec![row(day(3, 1), 1, 120, 2), row(day(4, 1), 1, 80, 5)]
    );
}
