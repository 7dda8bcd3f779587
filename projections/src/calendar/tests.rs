//! The calendar models replayed in memory, with exact expected rows.

use readmodel_runtime::testing::{stored, InMemory};
use readmodel_runtime::{DomainEvent, StoredEvent};
use serde_json::json;

use super::AgendaItem;
use super::WeeklyBusy;
use super::*;
use crate::test_support::{at, day, id, raw};

const USER: Uuid = id(1);
const DENTIST: Uuid = id(10);
const STANDUP: Uuid = id(11);

/// Two entries (one with a v1 payload); one moves to the next week, one is cancelled.
fn log() -> Vec<StoredEvent> {
    vec![
        stored(
            1,
            USER,
            DENTIST,
            1,
            at(3, 1, 8),
            &EventScheduled {
                entry_id: DENTIST,
                title: "Dentist".to_owned(),
                starts_at: at(3, 4, 9),
                duration_minutes: 60,
            },
        ),
        raw(
            2,
            USER,
            STANDUP,
            at(3, 1, 9),
            EventScheduled::EVENT_TYPE,
            1,
            json!({"entry_id": STANDUP, "title": "Standup",
                   "starts_at": "2026-03-05T09:00:00Z", "ends_at": "2026-03-05T09:15:00Z"}),
        ),
        stored(
            3,
            USER,
            DENTIST,
            2,
            at(3, 2, 8),
            &EventRescheduled {
                entry_id: DENTIST,
                from_starts_at: at(3, 4, 9),
                from_duration_minutes: 60,
                starts_at: at(3, 10, 14),
                duration_minutes: 45,
            },
        ),
        stored(
            4,
            USER,
            STANDUP,
            2,
            at(3, 3, 8),
            &EventCancelled {
                entry_id: STANDUP,
                starts_at: at(3, 5, 9),
                duration_minutes: 15,
            },
        ),
    ]
}

#[test]
fn agenda_records_every_change_with_its_slot() {
    let mut model = InMemory::<AgendaItem>::new();
    model.apply_all(&log()).expect("applies");
    let item = |event_id, entry_id, action: &str, starts_at, minutes, occurred_at| AgendaItem {
        model_version: 1,
        event_id,
        user_id: USER,
        entry_id,
        action: action.to_owned(),
        title: None,
        starts_at,
        duration_minutes: minutes,
        previous_starts_at: None,
        occurred_at,
    };
    let titled = |title: &str, row: AgendaItem| AgendaItem {
        title: Some(title.to_owned()),
        ..row
    };
    let moved = AgendaItem {
        previous_starts_at: Some(at(3, 4, 9)),
        ..item(
            3,
            DENTIST,
            ACTION_RESCHEDULED,
            at(3, 10, 14),
            45,
            at(3, 2, 8),
        )
    };
    assert_eq!(
        model.rows(),
        vec![
            titled(
                "Dentist",
                item(1, DENTIST, ACTION_SCHEDULED, at(3, 4, 9), 60, at(3, 1, 8))
            ),
            titled(
                "Standup",
                item(2, STANDUP, ACTION_SCHEDULED, at(3, 5, 9), 15, at(3, 1, 9))
            ),
            moved,
            item(4, STANDUP, ACTION_CANCELLED, at(3, 5, 9), 15, at(3, 3, 8)),
        ]
    );
}

#[test]
fn weekly_busy_moves_minutes_between_weeks() {
    let mut model = InMemory::<WeeklyBusy>::new();
    model.apply_all(&log()[..2]).expect("applies");
    let week = |week, busy_minutes, entries| WeeklyBusy {
        model_version: 1,
        user_id: USER,
        week,
        busy_minutes,
        entries,
    };
    // 2026-03-04 and 03-05 are in the week of Monday 03-02; 03-10 in the week of 03-09.
    assert_eq!(model.rows(), vec![week(day(3, 2), 75, 2)]);
    model.apply_all(&log()[2..]).expect("applies");
    assert_eq!(
        model.rows(),
        vec![week(day(3, 2), 0, 0), week(day(3, 9), 45, 1)]
    );
}
