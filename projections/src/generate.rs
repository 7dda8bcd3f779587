//! A deterministic synthetic habits event log, for `replay generate`.
//!
//! The same [`GenerateSpec`] always yields the same events: every choice comes from a
//! SplitMix64 generator seeded with `spec.seed`, ids are derived from the seed, and time
//! is simulated from a fixed epoch ([`EPOCH`]) — never the wall clock.
//!
//! The simulation walks day by day. Each user owns 1 to 4 habits; on each day every live
//! habit gets one chance, in a fixed order, to produce at most one event:
//!
//! * a habit not created yet emits `habits.habit_created`;
//! * otherwise, rarely (0.2 %, once it has 3 check-ins) `habits.habit_archived` — the
//!   habit then gets no further events, and a new habit of the same user is created from
//!   the next day on;
//! * sometimes (6 %) `habits.check_in_undone` of its last check-in, when it has one not
//!   yet undone;
//! * with the habit's own adherence (40 % to 95 %) `habits.checked_in`, for the current
//!   day or, 3 % of the time, late for the day before; 10 % of check-ins are written with
//!   schema version 1 (`date` instead of `day`);
//! * or nothing that day.
//!
//! Events are numbered in this order, so `occurred_at` never decreases along the log.
//! `stream_id` is the habit id and `event_version` counts 1, 2, 3… per habit. Exactly
//! `spec.events` events are produced (none when `spec.users` is 0). Every user has at
//! least one habit as soon as `spec.events` reaches `spec.users`; users get their habits
//! round-robin, so a small `spec.events` covers the first habit of every user first.
//!
//! The iterator is lazy: memory is one small record per live habit, not per event.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use readmodel_runtime::cli::GenerateSpec;
use readmodel_runtime::{DomainEvent, NewEvent};
use serde_json::json;
use uuid::Uuid;

use crate::habits::{HabitArchived, HabitCheckInUndone, HabitCheckedIn, HabitCreated};

/// Simulated time starts at this instant: 2026-01-01T00:00:00Z (day 0).
pub const EPOCH: DateTime<Utc> = DateTime::from_timestamp_nanos(1_767_225_600_000_000_000);

/// Habits per user: 1 to this many.
const MAX_HABITS_PER_USER: u64 = 4;
/// Per mille: chance a habit with enough check-ins is archived on a given day.
const ARCHIVE_PER_MILLE: u64 = 2;
/// Check-ins a habit needs before it may be archived.
const ARCHIVE_AFTER_CHECK_INS: u32 = 3;
/// Per mille: chance the last check-in is undone on a given day.
const UNDO_PER_MILLE: u64 = 60;
/// Per mille: chance a check-in is for the day before.
const LATE_PER_MILLE: u64 = 30;
/// Per mille: chance a check-in is written with payload schema version 1.
const V1_PER_MILLE: u64 = 100;
/// Events of a day fall between 06:00 and 22:00.
const DAY_START_MS: i64 = 6 * 3_600_000;
/// Length of the active part of a day.
const DAY_SPAN_MS: i64 = 16 * 3_600_000;

const NAMES: &[&str] = &[
    "Meditate",
    "Read 20 pages",
    "Run 5 km",
    "Drink 2 l of water",
    "Stretch",
    "Journal",
    "No sugar",
    "Practice guitar",
    "Walk 10 000 steps",
    "Learn Spanish",
    "Floss",
    "Sleep before 23:00",
];

/// Domain-separation tags for values derived from the seed.
const TAG_RNG: u64 = 0x5EED_0000_0000_0001;
const TAG_USER: u64 = 0x5EED_0000_0000_0002;
const TAG_HABIT: u64 = 0x5EED_0000_0000_0003;
const TAG_HABIT_COUNT: u64 = 0x5EED_0000_0000_0004;

/// Synthetic habits events for `spec`; see the module docs for what they look like.
pub fn events(spec: &GenerateSpec) -> Box<dyn Iterator<Item = NewEvent>> {
    Box::new(Habits::new(*spec))
}

/// SplitMix64 (Steele, Lea, Flood 2014): tiny, fast, and good enough for test data.
#[derive(Debug, Clone)]
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.0)
    }

    /// Uniform in `0..n` (`n > 0`), by multiply-high (bias below 2^-32 for small `n`).
    fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// True with probability `per_mille / 1000`.
    fn chance(&mut self, per_mille: u64) -> bool {
        self.below(1000) < per_mille
    }
}

/// The SplitMix64 output function: a bijective 64-bit mixer.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A value derived from the seed, a tag and an index, independent of generation order.
fn derive(seed: u64, tag: u64, index: u64) -> u64 {
    mix(mix(seed ^ tag).wrapping_add(index))
}

/// A random-looking (version 4 layout) UUID derived from the seed, a tag and an index.
fn derive_uuid(seed: u64, tag: u64, index: u64) -> Uuid {
    let high = derive(seed, tag, index);
    let low = derive(seed, tag ^ 0xFFFF_FFFF, index);
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&high.to_be_bytes());
    bytes[8..].copy_from_slice(&low.to_be_bytes());
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

/// One habit of the simulation.
#[derive(Debug, Clone)]
struct Habit {
    id: Uuid,
    user_id: Uuid,
    /// The `event_version` of the habit's next event.
    next_version: i64,
    created: bool,
    archived: bool,
    /// Per mille: chance of a check-in on a given day.
    adherence: u64,
    check_ins: u32,
    /// The last check-in's day, while it is not undone.
    undoable: Option<NaiveDate>,
}

/// The lazy event iterator.
#[derive(Debug)]
struct Habits {
    seed: u64,
    rng: SplitMix64,
    remaining: u64,
    /// Live habits, in the order they act each day.
    habits: Vec<Habit>,
    /// Habits replacing archived ones; they join at the end of the day.
    joining: Vec<Habit>,
    /// The habit whose turn it is.
    cursor: usize,
    /// Days since [`EPOCH`].
    day: i64,
    /// Milliseconds between two habits' turns today.
    spacing_ms: i64,
    /// Habits minted so far (the index their ids are derived from).
    minted: u64,
}

impl Habits {
    fn new(spec: GenerateSpec) -> Self {
        let seed = spec.seed;
        let mut generator = Self {
            seed,
            rng: SplitMix64(mix(seed ^ TAG_RNG)),
            remaining: spec.events,
            habits: Vec::new(),
            joining: Vec::new(),
            cursor: 0,
            day: 0,
            spacing_ms: 0,
            minted: 0,
        };
        if spec.users == 0 {
            generator.remaining = 0;
            return generator;
        }
        // Round-robin: every user's first habit, then every second habit, and so on. No
        // more habits than events: each needs at least its creation event.
        let cap = usize::try_from(spec.events).unwrap_or(usize::MAX);
        'rounds: for round in 0..MAX_HABITS_PER_USER {
            for user in 0..u64::from(spec.users) {
                if generator.habits.len() >= cap {
                    break 'rounds;
                }
                let count = 1 + derive(seed, TAG_HABIT_COUNT, user) % MAX_HABITS_PER_USER;
                if count > round {
                    let user_id = derive_uuid(seed, TAG_USER, user);
                    let habit = generator.mint(user_id);
                    generator.habits.push(habit);
                }
            }
        }
        generator.start_day();
        generator
    }

    /// A new, not yet created habit of `user_id`.
    fn mint(&mut self, user_id: Uuid) -> Habit {
        let id = derive_uuid(self.seed, TAG_HABIT, self.minted);
        self.minted += 1;
        Habit {
            id,
            user_id,
            next_version: 1,
            created: false,
            archived: false,
            adherence: 400 + self.rng.below(551),
            check_ins: 0,
            undoable: None,
        }
    }

    fn start_day(&mut self) {
        self.cursor = 0;
        let live = i64::try_from(self.habits.len().max(1)).unwrap_or(i64::MAX);
        self.spacing_ms = (DAY_SPAN_MS / live).max(1);
    }

    fn end_day(&mut self) {
        self.habits.retain(|h| !h.archived);
        self.habits.append(&mut self.joining);
        self.day += 1;
        self.start_day();
    }

    /// The current habit's turn: at most one event.
    fn turn(&mut self) -> Option<NewEvent> {
        let offset_ms = DAY_START_MS
            + i64::try_from(self.cursor).unwrap_or(i64::MAX / 2) * self.spacing_ms
            + i64::try_from(self.rng.below(self.spacing_ms.unsigned_abs())).unwrap_or(0);
        let occurred_at = EPOCH + Duration::days(self.day) + Duration::milliseconds(offset_ms);
        let today = occurred_at.date_naive();
        let rng = &mut self.rng;
        let habit = &mut self.habits[self.cursor];

        let (event_type, schema_version, payload) = if !habit.created {
            habit.created = true;
            let name = NAMES[rng.below(NAMES.len() as u64) as usize];
            let target = match rng.below(6) {
                0 => None,
                n => Some(n + 2),
            };
            let payload = json!({"habit_id": habit.id, "name": name, "target_per_week": target});
            (
                HabitCreated::EVENT_TYPE,
                HabitCreated::SCHEMA_VERSION,
                payload,
            )
        } else if habit.check_ins >= ARCHIVE_AFTER_CHECK_INS && rng.chance(ARCHIVE_PER_MILLE) {
            habit.archived = true;
            let user_id = habit.user_id;
            let payload = json!({"habit_id": habit.id});
            let event = (
                HabitArchived::EVENT_TYPE,
                HabitArchived::SCHEMA_VERSION,
                payload,
            );
            let replacement = self.mint(user_id);
            self.joining.push(replacement);
            return Some(self.emit(event, occurred_at));
        } else if habit.undoable.is_some() && rng.chance(UNDO_PER_MILLE) {
            let day = habit.undoable.take();
            habit.check_ins = habit.check_ins.saturating_sub(1);
            let payload = json!({"habit_id": habit.id, "day": day});
            (
                HabitCheckInUndone::EVENT_TYPE,
                HabitCheckInUndone::SCHEMA_VERSION,
                payload,
            )
        } else if rng.chance(habit.adherence) {
            let day = if rng.chance(LATE_PER_MILLE) {
                today.pred_opt().unwrap_or(today)
            } else {
                today
            };
            habit.check_ins += 1;
            habit.undoable = Some(day);
            if rng.chance(V1_PER_MILLE) {
                (
                    HabitCheckedIn::EVENT_TYPE,
                    1,
                    json!({"habit_id": habit.id, "date": day}),
                )
            } else {
                let payload = json!({"habit_id": habit.id, "day": day});
                (
                    HabitCheckedIn::EVENT_TYPE,
                    HabitCheckedIn::SCHEMA_VERSION,
                    payload,
                )
            }
        } else {
            return None;
        };
        Some(self.emit((event_type, schema_version, payload), occurred_at))
    }

    /// Envelopes a payload for the current habit and advances its stream version.
    fn emit(
        &mut self,
        (event_type, schema_version, payload): (&str, i32, serde_json::Value),
        occurred_at: DateTime<Utc>,
    ) -> NewEvent {
        let habit = &mut self.habits[self.cursor];
        let event_version = habit.next_version;
        habit.next_version += 1;
        NewEvent {
            stream_id: habit.id,
            event_version,
            event_type: event_type.to_owned(),
            schema_version,
            user_id: habit.user_id,
            occurred_at,
            recorded_at: None,
            payload,
        }
    }
}

impl Iterator for Habits {
    type Item = NewEvent;

    fn next(&mut self) -> Option<NewEvent> {
        if self.remaining == 0 || self.habits.is_empty() {
            return None;
        }
        loop {
            let event = self.turn();
            self.cursor += 1;
            if self.cursor >= self.habits.len() {
                self.end_day();
            }
            if let Some(event) = event {
                self.remaining -= 1;
                return Some(event);
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let remaining = usize::try_from(self.remaining).unwrap_or(usize::MAX);
        if self.habits.is_empty() {
            (0, Some(0))
        } else {
            (remaining, Some(remaining))
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use super::*;

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
    fn every_user_appears_once_there_are_enough_events() {
        let events = all(spec(50, 50, 3));
        let users: BTreeSet<_> = events.iter().map(|e| e.user_id).collect();
        assert_eq!(users.len(), 50);
        assert!(events
            .iter()
            .all(|e| e.event_type == "habits.habit_created"));
    }

    #[test]
    fn streams_are_contiguous_start_with_creation_and_end_at_archive() {
        let events = all(spec(20, 30_000, 11));
        let mut streams: BTreeMap<Uuid, Vec<&NewEvent>> = BTreeMap::new();
        for event in &events {
            streams.entry(event.stream_id).or_default().push(event);
        }
        for (stream, events) in &streams {
            for (i, event) in events.iter().enumerate() {
                assert_eq!(event.event_version, i as i64 + 1, "stream {stream}");
                assert_eq!(event.user_id, events[0].user_id, "one owner per stream");
                assert_eq!(
                    event.payload["habit_id"],
                    json!(stream),
                    "habit_id = stream_id"
                );
                assert_eq!(event.recorded_at, None);
            }
            assert_eq!(events[0].event_type, HabitCreated::EVENT_TYPE);
            if let Some(at) = events
                .iter()
                .position(|e| e.event_type == HabitArchived::EVENT_TYPE)
            {
                assert_eq!(at, events.len() - 1, "nothing after an archive");
            }
        }
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
    fn mix_of_event_types_and_schema_versions() {
        let events = all(spec(10, 50_000, 99));
        let count = |t: &str| events.iter().filter(|e| e.event_type == t).count();
        let check_ins = count(HabitCheckedIn::EVENT_TYPE);
        assert!(check_ins > 30_000);
        assert!(count(HabitCheckInUndone::EVENT_TYPE) > 100);
        assert!(count(HabitArchived::EVENT_TYPE) > 5);
        assert!(count(HabitCreated::EVENT_TYPE) > 10);
        let v1: Vec<_> = events
            .iter()
            .filter(|e| e.event_type == HabitCheckedIn::EVENT_TYPE && e.schema_version == 1)
            .collect();
        let share = v1.len() as f64 / check_ins as f64;
        assert!((0.07..0.13).contains(&share), "v1 share {share}");
        assert!(v1
            .iter()
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
        for event in all(spec(6, 5_000, 21)) {
            let payload = event.payload.to_string();
            let decoded = match event.event_type.as_str() {
                "habits.habit_created" => {
                    HabitCreated::decode(event.schema_version, &payload).map(drop)
                }
                "habits.checked_in" => {
                    HabitCheckedIn::decode(event.schema_version, &payload).map(drop)
                }
                "habits.check_in_undone" => {
                    HabitCheckInUndone::decode(event.schema_version, &payload).map(drop)
                }
                "habits.habit_archived" => {
                    HabitArchived::decode(event.schema_version, &payload).map(drop)
                }
                other => panic!("unexpected event type {other}"),
            };
            decoded.unwrap_or_else(|e| panic!("{} does not decode: {e}", event.event_type));
        }
    }

    #[test]
    fn a_million_events_is_quick() {
        let started = std::time::Instant::now();
        let count = events(&spec(1_000, 1_000_000, 42)).count();
        assert_eq!(count, 1_000_000);
        // Generous: debug builds are slow; release takes well under a second.
        assert!(
            started.elapsed().as_secs() < 30,
            "took {:?}",
            started.elapsed()
        );
    }
}
