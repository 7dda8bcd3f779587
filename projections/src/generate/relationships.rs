//! Relationships: one agent per user, one turn a day, keeping 3 to 10 people (one stream
//! each).
//!
//! Per turn: adding a person while there are fewer than the user's number (always when
//! there is nobody, else 10 %); otherwise 0.5 % removing a random person (someone new is
//! added later), 45 % an interaction with a random person, else nothing.

use readmodel_runtime::NewEvent;
use uuid::Uuid;

use super::{SplitMix64, Stream, Turn};
use crate::relationships::{InteractionLogged, PersonAdded, PersonRemoved};

const NAMES: &[&str] = &[
    "Ana", "Ben", "Chloé", "Dmitri", "Esra", "Farid", "Grace", "Hiro", "Ines", "Jonas",
];
const CIRCLES: &[&str] = &["family", "friends", "work", "neighbours"];
const CHANNELS: &[&str] = &["call", "message", "meeting", "video", "letter"];

/// One user's people.
#[derive(Debug, Clone)]
pub(super) struct People {
    pub(super) user_id: Uuid,
    people: Vec<Stream>,
    target: usize,
}

impl People {
    pub(super) fn new(user_id: Uuid, rng: &mut SplitMix64) -> Self {
        Self {
            user_id,
            people: Vec::new(),
            target: 3 + rng.index(8),
        }
    }

    pub(super) fn turn(&mut self, turn: &mut Turn) -> Option<NewEvent> {
        if self.people.len() < self.target && (self.people.is_empty() || turn.rng.chance(100)) {
            let mut person = Stream::new(turn.mint());
            let payload = PersonAdded {
                person_id: person.id,
                name: (*turn.rng.pick(NAMES)).to_owned(),
                circle: (*turn.rng.pick(CIRCLES)).to_owned(),
            };
            let event = person.emit(turn, &payload);
            self.people.push(person);
            return Some(event);
        }
        if self.people.is_empty() {
            return None;
        }
        let roll = turn.rng.below(1000);
        let index = turn.rng.index(self.people.len());
        if roll < 5 {
            let mut person = self.people.swap_remove(index);
            let person_id = person.id;
            return Some(person.emit(turn, &PersonRemoved { person_id }));
        }
        if roll >= 455 {
            return None;
        }
        let payload = InteractionLogged {
            interaction_id: turn.mint(),
            person_id: self.people[index].id,
            channel: (*turn.rng.pick(CHANNELS)).to_owned(),
        };
        Some(self.people[index].emit(turn, &payload))
    }
}
