//! The insights models replayed in memory, with exact expected rows.

use readmodel_runtime::testing::{stored, InMemory};
use readmodel_runtime::{DomainEvent, StoredEvent};
use serde_json::json;

use super::DailySummary;
use super::Engagement;
use super::*;
use crate::test_support::{at, day, id, raw};

const USER: Uuid = id(1);
const OTHER: Uuid = id(2);

/// One user's two days across five domains (a v1 check-in among them), and another user.
fn log() -> Vec<StoredEvent> {
    vec![
        raw(
            1,
            USER,
            id(10),
            at(3, 1, 7),
            HabitCheckedIn::EVENT_TYPE,
            1,
            json!({"habit_id": id(10), "date": "2026-03-01"}),
        ),
        stored(
            2,
            USER,
            id(11),
            1,
            at(3, 1, 12),
            &ExpenseRecorded {
                transaction_id: id(30),
                account_id: id(11),
                category: "food".to_owned(),
                amount_cents: 1_250,
                merchant: None,
            },
        ),
        stored(
            3,
            USER,
            id(12),
            1,
            at(3, 1, 13),
            &StepsRecorded {
                day: day(3, 1),
                steps: 3_000,
            },
        ),
        stored(
            4,
            USER,
            id(11),
            2,
            at(3, 1, 19),
            &ExpenseRecorded {
                transaction_id: id(31),
                account_id: id(11),
                category: "fun".to_owned(),
                amount_cents: 4_000,
                merchant: Some("Cinema".to_owned()),
            },
        ),
        stored(
            5,
            USER,
            id(12),
            2,
            at(3, 1, 21),
            &StepsRecorded {
                day: day(3, 1),
                steps: 9_500,
            },
        ),
        stored(
            6,
            USER,
            id(13),
            1,
            at(3, 1, 22),
            &EntryWritten {
                entry_id: id(13),
                day: day(3, 1),
                mood: 4,
                word_count: 210,
            },
        ),
        // Checked in on the 2nd for the 1st (late): counted on the 1st.
        stored(
            7,
            USER,
            id(10),
            2,
            at(3, 2, 8),
            &HabitCheckedIn {
                habit_id: id(10),
                day: day(3, 1),
            },
        ),
        stored(
            8,
            OTHER,
            id(20),
            1,
            at(3, 2, 9),
            &InteractionLogged {
                interaction_id: id(40),
                person_id: id(20),
                channel: "call".to_owned(),
            },
        ),
        stored(
            9,
            USER,
            id(14),
            1,
            at(3, 2, 17),
            &TaskCompleted {
                task_id: id(14),
                project_id: id(15),
            },
        ),
    ]
}

#[test]
fn daily_summary_sums_a_day_across_domains() {
    let mut model = InMemory::<DailySummary>::new();
    model.apply_all(&log()).expect("applies");
    let empty = |user_id, day| DailySummary {
        model_version: 1,
        user_id,
        day,
        habit_check_ins: 0,
        spent_cents: 0,
        journal_words: 0,
        steps: 0,
        interactions: 0,
        tasks_completed: 0,
    };
    assert_eq!(
        model.rows(),
        vec![
            DailySummary {
                habit_check_ins: 2,
                spent_cents: 5_250,
                journal_words: 210,
                steps: 9_500,
                ..empty(USER, day(3, 1))
            },
            DailySummary {
                tasks_completed: 1,
                ..empty(USER, day(3, 2))
            },
            DailySummary {
                interactions: 1,
                ..empty(OTHER, day(3, 2))
            },
        ]
    );
}

#[test]
fn engagement_counts_active_days_and_events_per_user() {
    let mut model = InMemory::<Engagement>::new();
    model.apply_all(&log()).expect("applies");
    assert_eq!(
        model.rows(),
        vec![
            Engagement {
                model_version: 1,
                user_id: USER,
                first_active_day: day(3, 1),
                last_active_day: day(3, 2),
                active_days: 2,
                events: 8,
                last_domain: "projects".to_owned(),
                updated_at: at(3, 2, 17),
            },
            Engagement {
                model_version: 1,
                user_id: OTHER,
                first_active_day: day(3, 2),
                last_active_day: day(3, 2),
                active_days: 1,
                events: 1,
                last_domain: "relationships".to_owned(),
                updated_at: at(3, 2, 9),
            },
        ]
    );
}
