//! The generator: deterministic, exact in size, lazy and fast, with consistent streams.

use std::collections::{BTreeMap, BTreeSet};

use readmodel_runtime::DomainEvent;
use serde_json::json;

use super::*;
use crate::{calendar, finance, habits, health, journal, projects, relationships};

fn spec(users: u32, events: u64, seed: u64) -> GenerateSpec {
    GenerateSpec {
        users,
        events,
        seed,
    }
}

fn all(spec: GenerateSpec) -> Vec<NewEvent> {
    events(&spec).collect()
}

/// Checks that one event type's payload decodes.
type Decoder = fn(&NewEvent) -> Result<(), String>;

/// Decodes a generated payload with its event type, or names the unknown type.
fn decode(event: &NewEvent) -> Result<(), String> {
    fn check<E: DomainEvent>(event: &NewEvent) -> Result<(), String> {
        E::decode(event.schema_version, &event.payload.to_string())
            .map(drop)
            .map_err(|e| e.to_string())
    }
    let decoders: &[(&str, Decoder)] = &[
        (
            habits::HabitCreated::EVENT_TYPE,
            check::<habits::HabitCreated>,
        ),
        (
            habits::HabitCheckedIn::EVENT_TYPE,
            check::<habits::HabitCheckedIn>,
        ),
        (
            habits::HabitCheckInUndone::EVENT_TYPE,
            check::<habits::HabitCheckInUndone>,
        ),
        (
            habits::HabitArchived::EVENT_TYPE,
            check::<habits::HabitArchived>,
        ),
        (
            finance::AccountOpened::EVENT_TYPE,
            check::<finance::AccountOpened>,
        ),
        (
            finance::ExpenseRecorded::EVENT_TYPE,
            check::<finance::ExpenseRecorded>,
        ),
        (
            finance::IncomeRecorded::EVENT_TYPE,
            check::<finance::IncomeRecorded>,
        ),
        (
            finance::TransferMade::EVENT_TYPE,
            check::<finance::TransferMade>,
        ),
        (
            finance::AccountClosed::EVENT_TYPE,
            check::<finance::AccountClosed>,
        ),
        (
            calendar::EventScheduled::EVENT_TYPE,
            check::<calendar::EventScheduled>,
        ),
        (
            calendar::EventRescheduled::EVENT_TYPE,
            check::<calendar::EventRescheduled>,
        ),
        (
            calendar::EventCancelled::EVENT_TYPE,
            check::<calendar::EventCancelled>,
        ),
        (
            health::StepsRecorded::EVENT_TYPE,
            check::<health::StepsRecorded>,
        ),
        (
            health::SleepLogged::EVENT_TYPE,
            check::<health::SleepLogged>,
        ),
        (
            health::HeartRateMeasured::EVENT_TYPE,
            check::<health::HeartRateMeasured>,
        ),
        (
            health::WorkoutLogged::EVENT_TYPE,
            check::<health::WorkoutLogged>,
        ),
        (
            journal::EntryWritten::EVENT_TYPE,
            check::<journal::EntryWritten>,
        ),
        (
            journal::EntryDeleted::EVENT_TYPE,
            check::<journal::EntryDeleted>,
        ),
        (
            relationships::PersonAdded::EVENT_TYPE,
            check::<relationships::PersonAdded>,
        ),
        (
            relationships::InteractionLogged::EVENT_TYPE,
            check::<relationships::InteractionLogged>,
        ),
        (
            relationships::PersonRemoved::EVENT_TYPE,
            check::<relationships::PersonRemoved>,
        ),
        (
            projects::ProjectCreated::EVENT_TYPE,
            check::<projects::ProjectCreated>,
        ),
        (
            projects::TaskCreated::EVENT_TYPE,
            check::<projects::TaskCreated>,
        ),
        (
            projects::TaskMoved::EVENT_TYPE,
            check::<projects::TaskMoved>,
        ),
        (
            projects::TaskCompleted::EVENT_TYPE,
            check::<projects::TaskCompleted>,
        ),
        (
            projects::TaskDeleted::EVENT_TYPE,
            check::<projects::TaskDeleted>,
        ),
        (
            projects::TaskArchived::EVENT_TYPE,
            check::<projects::TaskArchived>,
        ),
    ];
    let (_, decode) = decoders
        .iter()
        .find(|(t, _)| *t == event.event_type)
        .ok_or_else(|| format!("unknown event type {}", event.event_type))?;
    decode(event)
}

/// Event types after which a stream has no further events.
const TERMINAL: &[&str] = &[
    "habits.habit_archived",
    "finance.account_closed",
    "calendar.event_cancelled",
    "journal.entry_deleted",
    "relationships.person_removed",
    "projects.task_deleted",
    "projects.task_archived",
];

/// The event types that have a schema version 2.
const VERSIONED: &[&str] = &[
    "habits.checked_in",
    "finance.expense_recorded",
    "calendar.event_scheduled",
    "health.sleep_logged",
    "journal.entry_written",
];

#[test]
fn epoch_is_new_year_2026() {
    use chrono::TimeZone;
    let new_year = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).single();
    assert_eq!(Some(EPOCH), new_year);
}

#[test]
fn same_seed_same_events_different_seed_different_events() {
    let a = all(spec(5, 2_000, 7));
    let b = all(spec(5, 2_000, 7));
    let c = all(spec(5, 2_000, 8));
    assert_eq!(a, b);
    assert_ne!(a, c);
    let ids = |events: &[NewEvent]| events.iter().map(|e| e.user_id).collect::<BTreeSet<_>>();
    assert!(ids(&a).is_disjoint(&ids(&c)), "user ids depend on the seed");
}

#[test]
fn produces_exactly_the_requested_count() {
    for (users, count) in [(1, 0), (1, 1), (3, 2), (10, 10), (7, 12_345), (200, 50)] {
        assert_eq!(
            all(spec(users, count, 1)).len() as u64,
            count,
            "{users} users"
        );
        assert_eq!(events(&spec(users, count, 1)).size_hint().0 as u64, count);
    }
    assert!(all(spec(0, 100, 1)).is_empty());
}

#[test]
fn every_user_creates_a_habit_first() {
    let events = all(spec(50, 50, 3));
    let users: BTreeSet<_> = events.iter().map(|e| e.user_id).collect();
    assert_eq!(users.len(), 50);
    assert!(events
        .iter()
        .all(|e| e.event_type == "habits.habit_created"));
}

#[test]
fn streams_are_contiguous_single_owner_and_end_at_terminal_events() {
    let events = all(spec(20, 40_000, 11));
    let mut streams: BTreeMap<Uuid, Vec<&NewEvent>> = BTreeMap::new();
    for event in &events {
        streams.entry(event.stream_id).or_default().push(event);
    }
    for (stream, events) in &streams {
        for (i, event) in events.iter().enumerate() {
            assert_eq!(event.event_version, i as i64 + 1, "stream {stream}");
            assert_eq!(event.user_id, events[0].user_id, "one owner per stream");
            assert_eq!(event.recorded_at, None);
            let domain = event.event_type.split('.').next();
            assert_eq!(
                domain,
                events[0].event_type.split('.').next(),
                "one domain per stream"
            );
        }
        if events[0].event_type.starts_with("habits.") {
            assert_eq!(events[0].event_type, "habits.habit_created");
            assert!(events
                .iter()
                .all(|e| e.payload["habit_id"] == json!(stream)));
        }
        if events[0].event_type.starts_with("finance.") {
            assert_eq!(events[0].event_type, "finance.account_opened");
        }
        if let Some(at) = events
            .iter()
            .position(|e| TERMINAL.contains(&e.event_type.as_str()))
        {
            assert_eq!(
                at,
                events.len() - 1,
                "nothing after {}",
                events[at].event_type
            );
        }
    }
}

#[test]
fn transfers_move_money_between_open_accounts_of_one_user() {
    let events = all(spec(30, 60_000, 17));
    let mut open: BTreeMap<Uuid, Uuid> = BTreeMap::new();
    let mut transfers = 0;
    for event in &events {
        let account = |field: &str| -> Uuid {
            serde_json::from_value(event.payload[field].clone()).expect("an account id")
        };
        match event.event_type.as_str() {
            "finance.account_opened" => {
                open.insert(account("account_id"), event.user_id);
            }
            "finance.account_closed" => {
                open.remove(&account("account_id"));
            }
            "finance.transfer_made" => {
                transfers += 1;
                let (from, to) = (account("from_account_id"), account("to_account_id"));
                assert_ne!(from, to);
                assert_eq!(open.get(&from), Some(&event.user_id));
                assert_eq!(open.get(&to), Some(&event.user_id));
                assert_eq!(event.stream_id, from);
            }
            "finance.expense_recorded" | "finance.income_recorded" => {
                assert_eq!(open.get(&account("account_id")), Some(&event.user_id));
            }
            _ => {}
        }
    }
    assert!(transfers > 50, "{transfers} transfers");
}

#[test]
fn time_moves_forward_from_the_epoch() {
    let events = all(spec(8, 20_000, 5));
    assert!(events[0].occurred_at >= EPOCH);
    assert!(events
        .windows(2)
        .all(|w| w[0].occurred_at <= w[1].occurred_at));
}

#[test]
fn every_domain_and_both_schema_versions_appear() {
    let events = all(spec(10, 50_000, 99));
    let count = |t: &str| events.iter().filter(|e| e.event_type == t).count();
    let types: BTreeSet<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(types.len(), 27, "every event type appears: {types:?}");
    for domain in [
        "habits",
        "finance",
        "calendar",
        "health",
        "journal",
        "relationships",
        "projects",
    ] {
        let n = events
            .iter()
            .filter(|e| e.event_type.starts_with(domain))
            .count();
        assert!(n > 1_000, "{domain}: {n} events");
    }
    assert!(count("habits.check_in_undone") > 100);
    assert!(count("habits.habit_archived") > 5);
    for versioned in VERSIONED {
        let total = count(versioned);
        let v1 = events
            .iter()
            .filter(|e| e.event_type == *versioned && e.schema_version == 1)
            .count();
        let share = v1 as f64 / total as f64;
        assert!(
            (0.07..0.2).contains(&share),
            "{versioned}: v1 share {share}"
        );
    }
    let v1_check_ins = events
        .iter()
        .filter(|e| e.event_type == "habits.checked_in" && e.schema_version == 1);
    assert!(v1_check_ins
        .clone()
        .all(|e| e.payload.get("date").is_some() && e.payload.get("day").is_none()));
}

#[test]
fn undo_names_a_day_previously_checked_in() {
    let events = all(spec(10, 20_000, 4));
    let mut checked: BTreeSet<(Uuid, String)> = BTreeSet::new();
    for event in &events {
        let day = |field: &str| event.payload[field].as_str().map(str::to_owned);
        match event.event_type.as_str() {
            "habits.checked_in" => {
                let day = day("day").or_else(|| day("date")).expect("a day");
                checked.insert((event.stream_id, day));
            }
            "habits.check_in_undone" => {
                let day = day("day").expect("a day");
                assert!(checked.contains(&(event.stream_id, day)));
            }
            _ => {}
        }
    }
}

#[test]
fn payloads_decode_with_the_event_types() {
    for event in all(spec(6, 10_000, 21)) {
        decode(&event).unwrap_or_else(|e| panic!("{} does not decode: {e}", event.event_type));
    }
}

/// Generation streams: a million events come out one at a time, exactly as many as asked.
/// (How fast is the benchmark's business, not a test's.)
#[test]
fn a_million_events_stream_out_exactly() {
    let count = events(&spec(1_000, 1_000_000, 42)).count();
    assert_eq!(count, 1_000_000);
}
