//! # Journal
//!
//! A daily journal. Each entry is one event stream (`stream_id` = `entry_id`) of these
//! [`events`]:
//!
//! | event type | payload |
//! |---|---|
//! | `journal.entry_written` (schema version 2; 1 is upcast) | [`EntryWritten`] |
//! | `journal.entry_deleted` | [`EntryDeleted`] |
//!
//! Two read models:
//!
//! * [`JournalEntry`] — timeline `journal.entries` (`readmodels.journal_entries`): one row per
//!   written or deleted entry.
//! * [`MonthlyMood`] — aggregate `journal.monthly_mood` (`readmodels.journal_monthly_mood`):
//!   entries, words and the sum of moods per user and month of the entries' days (a
//!   deletion takes its entry back out). The average mood is `mood_sum / entries`.

use chrono::{DateTime, NaiveDate, Utc};
use readmodel_runtime::{handlers, Event, ReadModel, Rows};
use uuid::Uuid;

use crate::days::first_of_month;

pub mod events;

pub use events::{EntryDeleted, EntryWritten};

/// The `action` of an [`JournalEntry`] row for a written entry.
pub const ACTION_WRITTEN: &str = "written";
/// The `action` of an [`JournalEntry`] row for a deleted entry.
pub const ACTION_DELETED: &str = "deleted";

/// Timeline: entries written and deleted, in log order.
///
/// One written or deleted entry.
#[derive(Clone, Debug, PartialEq, ReadModel)]
#[read_model(
    name = "journal.entries",
    domain = "journal",
    version = 1,
    kind = "timeline",
    events = [EntryWritten, EntryDeleted],
    key = (model_version, event_id),
    table = readmodels::journal_entries,
)]
pub struct JournalEntry {
    /// Model version.
    pub model_version: i32,
    /// The event's global position.
    pub event_id: i64,
    /// Owner.
    pub user_id: Uuid,
    /// The entry.
    pub entry_id: Uuid,
    /// [`ACTION_WRITTEN`] or [`ACTION_DELETED`].
    pub action: String,
    /// The day the entry is about.
    pub day: NaiveDate,
    /// Mood from 1 to 5.
    pub mood: i32,
    /// Length in words.
    pub word_count: i32,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
}

#[handlers]
impl JournalEntry {
    /// A written entry.
    fn written(event: &Event<EntryWritten>) -> Vec<JournalEntry> {
        vec![JournalEntry {
            model_version: Self::MODEL_VERSION,
            event_id: event.id,
            user_id: event.user_id,
            entry_id: event.entry_id,
            action: ACTION_WRITTEN.to_owned(),
            day: event.day,
            mood: event.mood,
            word_count: event.word_count,
            occurred_at: event.occurred_at,
        }]
    }

    /// A deleted entry.
    fn deleted(event: &Event<EntryDeleted>) -> Vec<JournalEntry> {
        vec![JournalEntry {
            model_version: Self::MODEL_VERSION,
            event_id: event.id,
            user_id: event.user_id,
            entry_id: event.entry_id,
            action: ACTION_DELETED.to_owned(),
            day: event.day,
            mood: event.mood,
            word_count: event.word_count,
            occurred_at: event.occurred_at,
        }]
    }
}

/// Aggregate: mood and writing per user and month.
///
/// One user's month of journaling.
#[derive(Clone, Debug, PartialEq, ReadModel)]
#[read_model(
    name = "journal.monthly_mood",
    domain = "journal",
    version = 1,
    kind = "aggregate",
    events = [EntryWritten, EntryDeleted],
    key = (model_version, user_id, month),
    table = readmodels::journal_monthly_mood,
)]
pub struct MonthlyMood {
    /// Model version.
    pub model_version: i32,
    /// Owner.
    pub user_id: Uuid,
    /// First day of the month.
    pub month: NaiveDate,
    /// Entries (written minus deleted).
    pub entries: i64,
    /// Their words.
    pub words: i64,
    /// The sum of their moods (average = `mood_sum / entries`).
    pub mood_sum: i64,
}

#[handlers]
impl MonthlyMood {
    /// Counts the entry in.
    fn written(event: &Event<EntryWritten>, rows: &mut Rows<'_, MonthlyMood>) {
        count(
            rows,
            event.user_id,
            event.day,
            event.mood,
            event.word_count,
            1,
        );
    }

    /// Counts the entry back out.
    fn deleted(event: &Event<EntryDeleted>, rows: &mut Rows<'_, MonthlyMood>) {
        count(
            rows,
            event.user_id,
            event.day,
            event.mood,
            event.word_count,
            -1,
        );
    }
}

/// Adds (`sign` 1) or removes (`sign` -1) one entry in its day's month.
fn count(
    rows: &mut Rows<'_, MonthlyMood>,
    user_id: Uuid,
    day: NaiveDate,
    mood: i32,
    words: i32,
    sign: i64,
) {
    let month = first_of_month(day);
    rows.modify(
        (user_id, month),
        || MonthlyMood {
            model_version: MonthlyMood::MODEL_VERSION,
            user_id,
            month,
            entries: 0,
            words: 0,
            mood_sum: 0,
        },
        |row| {
            row.entries += sign;
            row.words += sign * i64::from(words);
            row.mood_sum += sign * i64::from(mood);
        },
    );
}

#[cfg(test)]
mod tests;
