//! A deterministic synthetic LifeOS event log over all eight domains, for
//! `replay generate`.
//!
//! The same [`GenerateSpec`] always yields the same events: every choice comes from a
//! SplitMix64 generator seeded with `spec.seed`, ids are derived from the seed, and time
//! is simulated from a fixed epoch ([`EPOCH`]) — never the wall clock.
//!
//! Each user is simulated by a set of *agents*, one per thing they keep events about:
//! 1 to 4 habits, and one each for their money, calendar, health log, journal, the people
//! they keep in touch with, and their projects. The simulation walks day by day; each day every agent gets
//! one turn (the finance agent two, the health agent three: morning, midday, evening), in
//! a fixed order, and emits at most one event per turn. The agents' rules are documented
//! in their modules; together they produce, per stream, a creation first and nothing
//! after a terminal event (archive, close, cancel, delete, removal), transfers only
//! between two open accounts of the same user, and undos, deletions, reschedulings and
//! cancellations that name what exists. About 10 to 15 % of the events of the five
//! versioned event types are written with their older schema version 1.
//!
//! Events are numbered in turn order and each turn owns its own slice of the day
//! (06:00–22:00 UTC), so `occurred_at` never decreases along the log. `event_version`
//! counts 1, 2, 3… per stream. Exactly `spec.events` events are produced (none when
//! `spec.users` is 0). Every user's first habit acts first, so the first `spec.users`
//! events create one habit per user.
//!
//! The iterator is lazy: memory is a small record per live agent and entity (bounded per
//! user), not per event.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use readmodel_runtime::GenerateSpec;
use readmodel_runtime::{DomainEvent, NewEvent};
use serde::Serialize;
use uuid::Uuid;

mod calendar;
mod finance;
mod habits;
mod health;
mod journal;
mod projects;
mod relationships;

/// Simulated time starts at this instant: 2026-01-01T00:00:00Z (day 0).
pub const EPOCH: DateTime<Utc> = DateTime::from_timestamp_nanos(1_767_225_600_000_000_000);

/// Habits per user: 1 to this many.
const MAX_HABITS_PER_USER: u64 = 4;
/// Turns a day has at most (the health agent's morning, midday and evening).
const MAX_ROUNDS: u32 = 3;
/// Events of a day fall between 06:00 and 22:00.
const DAY_START_MS: i64 = 6 * 3_600_000;
/// Length of the active part of a day.
const DAY_SPAN_MS: i64 = 16 * 3_600_000;

/// Domain-separation tags for values derived from the seed.
const TAG_RNG: u64 = 0x5EED_0000_0000_0001;
const TAG_USER: u64 = 0x5EED_0000_0000_0002;
const TAG_ENTITY: u64 = 0x5EED_0000_0000_0003;
const TAG_HABIT_COUNT: u64 = 0x5EED_0000_0000_0004;

/// Synthetic LifeOS events for `spec`; see the module docs for what they look like.
pub fn events(spec: &GenerateSpec) -> Box<dyn Iterator<Item = NewEvent>> {
    Box::new(Simulation::new(*spec))
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

    /// Uniform in `low..high` (`low < high`), as an `i64`.
    fn between(&mut self, low: i64, high: i64) -> i64 {
        low + i64::try_from(self.below(high.abs_diff(low))).unwrap_or(0)
    }

    /// True with probability `per_mille / 1000`.
    fn chance(&mut self, per_mille: u64) -> bool {
        self.below(1000) < per_mille
    }

    /// One of `items` (not empty).
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// An index into a collection of `len` items (`len > 0`).
    fn index(&mut self, len: usize) -> usize {
        self.below(len as u64) as usize
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

/// One event stream: its id and the `event_version` of its next event.
#[derive(Debug, Clone)]
struct Stream {
    id: Uuid,
    next_version: i64,
}

impl Stream {
    fn new(id: Uuid) -> Self {
        Self {
            id,
            next_version: 1,
        }
    }

    /// An event of this stream with a typed payload at its newest schema version.
    fn emit<E: DomainEvent + Serialize>(&mut self, turn: &Turn, payload: &E) -> NewEvent {
        // Serializing a plain data struct into JSON does not fail; `null` would surface
        // as a decode error in the tests if it ever did.
        let json = serde_json::to_value(payload).unwrap_or_default();
        self.emit_raw(turn, E::EVENT_TYPE, E::SCHEMA_VERSION, json)
    }

    /// An event of this stream with a hand-written payload (older schema versions).
    fn emit_raw(
        &mut self,
        turn: &Turn,
        event_type: &str,
        schema_version: i32,
        payload: serde_json::Value,
    ) -> NewEvent {
        let event_version = self.next_version;
        self.next_version += 1;
        NewEvent {
            stream_id: self.id,
            event_version,
            event_type: event_type.to_owned(),
            schema_version,
            user_id: turn.user_id,
            occurred_at: turn.at,
            recorded_at: None,
            payload,
        }
    }
}

/// What an agent's turn can use: randomness, the time, fresh ids.
struct Turn<'a> {
    rng: &'a mut SplitMix64,
    seed: u64,
    /// Entities minted so far (the index their ids are derived from).
    minted: &'a mut u64,
    /// The acting agent's user.
    user_id: Uuid,
    /// The event's time, if the turn emits one.
    at: DateTime<Utc>,
    /// `at`'s UTC date.
    today: NaiveDate,
    /// 0, 1 or 2: the agent's turn of the day.
    round: u32,
    /// Agents joining the simulation at the end of the day (replacement habits).
    joining: &'a mut Vec<Agent>,
}

impl Turn<'_> {
    /// A fresh entity id.
    fn mint(&mut self) -> Uuid {
        let id = derive_uuid(self.seed, TAG_ENTITY, *self.minted);
        *self.minted += 1;
        id
    }
}

/// One simulated actor of one user.
#[derive(Debug)]
enum Agent {
    Habit(habits::Habit),
    Finance(finance::Finance),
    Calendar(calendar::Calendar),
    Health(health::Health),
    Journal(journal::Journal),
    People(relationships::People),
    Projects(projects::Projects),
}

impl Agent {
    fn user_id(&self) -> Uuid {
        match self {
            Agent::Habit(a) => a.user_id,
            Agent::Finance(a) => a.user_id,
            Agent::Calendar(a) => a.user_id,
            Agent::Health(a) => a.user_id,
            Agent::Journal(a) => a.user_id,
            Agent::People(a) => a.user_id,
            Agent::Projects(a) => a.user_id,
        }
    }

    /// Turns a day.
    fn rounds(&self) -> u32 {
        match self {
            Agent::Health(_) => 3,
            Agent::Finance(_) => 2,
            _ => 1,
        }
    }

    /// Whether the agent is gone (an archived habit).
    fn retired(&self) -> bool {
        matches!(self, Agent::Habit(h) if h.archived)
    }

    fn turn(&mut self, turn: &mut Turn) -> Option<NewEvent> {
        match self {
            Agent::Habit(a) => a.turn(turn),
            Agent::Finance(a) => a.turn(turn),
            Agent::Calendar(a) => a.turn(turn),
            Agent::Health(a) => a.turn(turn),
            Agent::Journal(a) => a.turn(turn),
            Agent::People(a) => a.turn(turn),
            Agent::Projects(a) => a.turn(turn),
        }
    }
}

/// The lazy event iterator.
#[derive(Debug)]
struct Simulation {
    seed: u64,
    rng: SplitMix64,
    remaining: u64,
    /// Live agents, in the order they act each round.
    agents: Vec<Agent>,
    /// Agents joining at the end of the day.
    joining: Vec<Agent>,
    /// The agent whose turn it is, and the round of the day.
    cursor: usize,
    round: u32,
    /// Turns taken today (each owns a slice of the day).
    slot: i64,
    /// Days since [`EPOCH`].
    day: i64,
    /// Milliseconds between two turns today.
    spacing_ms: i64,
    minted: u64,
}

impl Simulation {
    fn new(spec: GenerateSpec) -> Self {
        let seed = spec.seed;
        let mut sim = Self {
            seed,
            rng: SplitMix64(mix(seed ^ TAG_RNG)),
            remaining: spec.events,
            agents: Vec::new(),
            joining: Vec::new(),
            cursor: 0,
            round: 0,
            slot: 0,
            day: 0,
            spacing_ms: 0,
            minted: 0,
        };
        if spec.users == 0 {
            sim.remaining = 0;
            return sim;
        }
        // Every user's first habit, then every user's other agents, then further habits
        // round-robin. No more agents than events: each needs a turn to matter.
        let cap = usize::try_from(spec.events).unwrap_or(usize::MAX);
        let users: Vec<Uuid> = (0..u64::from(spec.users))
            .map(|user| derive_uuid(seed, TAG_USER, user))
            .collect();
        let mut plan: Vec<(Uuid, u8)> = users.iter().map(|&u| (u, 0)).collect();
        for &user in &users {
            plan.extend((1..=6).map(|kind| (user, kind)));
        }
        for round in 1..MAX_HABITS_PER_USER {
            for (index, &user) in users.iter().enumerate() {
                let count = 1 + derive(seed, TAG_HABIT_COUNT, index as u64) % MAX_HABITS_PER_USER;
                if count > round {
                    plan.push((user, 0));
                }
            }
        }
        plan.truncate(cap);
        for (user_id, kind) in plan {
            let id = sim.mint();
            let rng = &mut sim.rng;
            let agent = match kind {
                0 => Agent::Habit(habits::Habit::new(id, user_id, rng)),
                1 => Agent::Finance(finance::Finance::new(user_id, rng)),
                2 => Agent::Health(health::Health::new(id, user_id, rng)),
                3 => Agent::Journal(journal::Journal::new(user_id)),
                4 => Agent::Calendar(calendar::Calendar::new(user_id)),
                5 => Agent::People(relationships::People::new(user_id, rng)),
                _ => Agent::Projects(projects::Projects::new(user_id)),
            };
            sim.agents.push(agent);
        }
        sim.start_day();
        sim
    }

    fn mint(&mut self) -> Uuid {
        let id = derive_uuid(self.seed, TAG_ENTITY, self.minted);
        self.minted += 1;
        id
    }

    fn start_day(&mut self) {
        self.cursor = 0;
        self.round = 0;
        self.slot = 0;
        let turns: u64 = self.agents.iter().map(|a| u64::from(a.rounds())).sum();
        let turns = i64::try_from(turns.max(1)).unwrap_or(i64::MAX);
        self.spacing_ms = (DAY_SPAN_MS / turns).max(1);
    }

    fn end_day(&mut self) {
        self.agents.retain(|a| !a.retired());
        self.agents.append(&mut self.joining);
        self.day += 1;
        self.start_day();
    }

    /// Moves to the next agent (and round, and day).
    fn advance(&mut self) {
        self.cursor += 1;
        if self.cursor >= self.agents.len() {
            self.cursor = 0;
            self.round += 1;
            if self.round >= MAX_ROUNDS {
                self.end_day();
            }
        }
    }

    /// The current agent's turn: at most one event.
    fn turn(&mut self) -> Option<NewEvent> {
        let agent = &mut self.agents[self.cursor];
        if self.round >= agent.rounds() {
            return None;
        }
        let offset_ms = DAY_START_MS
            + self.slot * self.spacing_ms
            + i64::try_from(self.rng.below(self.spacing_ms.unsigned_abs())).unwrap_or(0);
        self.slot += 1;
        let at = EPOCH + Duration::days(self.day) + Duration::milliseconds(offset_ms);
        let mut turn = Turn {
            rng: &mut self.rng,
            seed: self.seed,
            minted: &mut self.minted,
            user_id: agent.user_id(),
            at,
            today: at.date_naive(),
            round: self.round,
            joining: &mut self.joining,
        };
        agent.turn(&mut turn)
    }
}

impl Iterator for Simulation {
    type Item = NewEvent;

    fn next(&mut self) -> Option<NewEvent> {
        if self.remaining == 0 || self.agents.is_empty() {
            return None;
        }
        loop {
            let event = self.turn();
            self.advance();
            if let Some(event) = event {
                self.remaining -= 1;
                return Some(event);
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let remaining = usize::try_from(self.remaining).unwrap_or(usize::MAX);
        if self.agents.is_empty() {
            (0, Some(0))
        } else {
            (remaining, Some(remaining))
        }
    }
}

#[cfg(test)]
mod tests;
