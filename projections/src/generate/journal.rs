//! Journal: one agent per user, one turn a day; every entry is its own stream.
//!
//! Per turn: 2 % deleting one of the 5 most recent entries (older ones are forgotten and
//! never deleted), else 55 % writing the entry of today (5 % of them of yesterday), mood
//! 1 to 5, 20 to 800 words (15 % with schema version 1: `words` instead of `word_count`),
//! else nothing.

use chrono::NaiveDate;
use readmodel_runtime::{DomainEvent, NewEvent};
use serde_json::json;
use uuid::Uuid;

use super::{Stream, Turn};
use crate::journal::{EntryDeleted, EntryWritten};

const RECENT: usize = 5;
/// Per mille: chance an entry is written with payload schema version 1.
const V1_PER_MILLE: u64 = 150;

#[derive(Debug, Clone)]
struct Entry {
    stream: Stream,
    day: NaiveDate,
    mood: i32,
    word_count: i32,
}

/// One user's journal.
#[derive(Debug, Clone)]
pub(super) struct Journal {
    pub(super) user_id: Uuid,
    recent: Vec<Entry>,
}

impl Journal {
    pub(super) fn new(user_id: Uuid) -> Self {
        Self {
            user_id,
            recent: Vec::new(),
        }
    }

    pub(super) fn turn(&mut self, turn: &mut Turn) -> Option<NewEvent> {
        if !self.recent.is_empty() && turn.rng.chance(20) {
            let index = turn.rng.index(self.recent.len());
            let mut entry = self.recent.remove(index);
            let payload = EntryDeleted {
                entry_id: entry.stream.id,
                day: entry.day,
                mood: entry.mood,
                word_count: entry.word_count,
            };
            return Some(entry.stream.emit(turn, &payload));
        }
        if !turn.rng.chance(550) {
            return None;
        }
        let day = if turn.rng.chance(50) {
            turn.today.pred_opt().unwrap_or(turn.today)
        } else {
            turn.today
        };
        let mut entry = Entry {
            stream: Stream::new(turn.mint()),
            day,
            mood: i32::try_from(turn.rng.between(1, 6)).unwrap_or(3),
            word_count: i32::try_from(turn.rng.between(20, 801)).unwrap_or(0),
        };
        let event = if turn.rng.chance(V1_PER_MILLE) {
            let payload = json!({
                "entry_id": entry.stream.id,
                "day": day,
                "mood": entry.mood,
                "words": entry.word_count,
            });
            entry
                .stream
                .emit_raw(turn, EntryWritten::EVENT_TYPE, 1, payload)
        } else {
            let payload = EntryWritten {
                entry_id: entry.stream.id,
                day,
                mood: entry.mood,
                word_count: entry.word_count,
            };
            entry.stream.emit(turn, &payload)
        };
        self.recent.push(entry);
        if self.recent.len() > RECENT {
            self.recent.remove(0);
        }
        Some(event)
    }
}
