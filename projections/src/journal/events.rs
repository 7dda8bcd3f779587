//! The events of the journal domain: the payloads stored in `event_record.payload`.
//!
//! Every journal entry is its own stream (`stream_id` = `entry_id`). A deletion carries
//! the values of the entry it removes, so aggregates can take them back out.

use chrono::NaiveDate;
use readmodel_runtime::DomainEvent;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::upcast;

/// `journal.entry_written`: the user wrote the journal entry of `day`.
///
/// # Schema versions
///
/// * **2** (current): `{"entry_id", "day", "mood", "word_count"}`.
/// * **1**: the word count was called `words`: `{"entry_id", "day", "mood", "words"}`.
///   Version 1 payloads are upcast by [`upcast_entry_written`] (`words` renamed to
///   `word_count`), so handlers only ever see version 2.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, DomainEvent)]
#[event(type = "journal.entry_written", schema_version = 2, upcast = upcast_entry_written)]
pub struct EntryWritten {
    /// The entry (also the stream id).
    pub entry_id: Uuid,
    /// The day it is about.
    pub day: NaiveDate,
    /// Mood from 1 (low) to 5 (great).
    pub mood: i32,
    /// Length of the text in words (the text itself stays in the journal service).
    pub word_count: i32,
}

/// Upcasts a `journal.entry_written` payload of schema version `from_version` to
/// version 2: version 1 called the word count `words`.
pub fn upcast_entry_written(
    from_version: i32,
    mut payload: serde_json::Value,
) -> Result<serde_json::Value, String> {
    const TYPE: &str = "journal.entry_written";
    match from_version {
        1 => {
            upcast::rename(
                TYPE,
                upcast::object(TYPE, &mut payload)?,
                "words",
                "word_count",
            )?;
            Ok(payload)
        }
        2 => Ok(payload),
        other => Err(upcast::unknown_version(TYPE, other)),
    }
}

/// `journal.entry_deleted`: the user deleted an entry. No event of its stream follows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, DomainEvent)]
#[event(type = "journal.entry_deleted")]
pub struct EntryDeleted {
    /// The entry.
    pub entry_id: Uuid,
    /// The day it was about.
    pub day: NaiveDate,
    /// Its mood.
    pub mood: i32,
    /// Its length in words.
    pub word_count: i32,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn v1_entry_is_upcast_by_renaming_words() {
        let v1 = json!({"entry_id": "00000000-0000-4000-8000-000000000001",
                        "day": "2026-03-01", "mood": 4, "words": 250});
        let event = EntryWritten::decode(1, &v1.to_string()).expect("v1 decodes");
        assert_eq!((event.mood, event.word_count), (4, 250));
        assert!(EntryWritten::decode(2, &v1.to_string()).is_err());
        assert!(upcast_entry_written(1, json!({"words": 1, "word_count": 2})).is_err());
        assert!(upcast_entry_written(5, json!({})).is_err());
    }
}
