//! # Calendar
//!
//! Entries in the user's calendar. Each entry is one event stream (`stream_id` =
//! `entry_id`) of these [`events`]:
//!
//! | event type | payload |
//! |---|---|
//! | `calendar.event_scheduled` (schema version 2; 1 is upcast) | [`EventScheduled`] |
//! | `calendar.event_rescheduled` | [`EventRescheduled`] |
//! | `calendar.event_cancelled` | [`EventCancelled`] |
//!
//! Two read models:
//!
//! * [`AgendaItem`] — timeline `calendar.agenda` (`readmodels.calendar_agenda`): one row per
//!   scheduling, rescheduling or cancellation, with the slot concerned.
//! * [`WeeklyBusy`] — aggregate `calendar.weekly_busy` (`readmodels.calendar_weekly_busy`):
//!   scheduled minutes and entries per user and week (Monday, UTC) of the entries' starts;
//!   a rescheduling moves them from the old slot's week to the new one's.

use chrono::{DateTime, NaiveDate, Utc};
use readmodel_runtime::{handlers, Event, ReadModel, Rows};
use uuid::Uuid;

use crate::days::week_start;

pub mod events;

pub use events::{EventCancelled, EventRescheduled, EventScheduled};

/// The `action` of an [`AgendaItem`] row for a new entry.
pub const ACTION_SCHEDULED: &str = "scheduled";
/// The `action` of an [`AgendaItem`] row for a moved entry.
pub const ACTION_RESCHEDULED: &str = "rescheduled";
/// The `action` of an [`AgendaItem`] row for a cancelled entry.
pub const ACTION_CANCELLED: &str = "cancelled";

/// Timeline: what happened to the calendar, in log order.
///
/// One change to the calendar.
#[derive(Clone, Debug, PartialEq, ReadModel)]
#[read_model(
    name = "calendar.agenda",
    domain = "calendar",
    version = 1,
    kind = "timeline",
    events = [EventScheduled, EventRescheduled, EventCancelled],
    key = (model_version, event_id),
    table = readmodels::calendar_agenda,
)]
pub struct AgendaItem {
    /// Model version.
    pub model_version: i32,
    /// The event's global position.
    pub event_id: i64,
    /// Owner.
    pub user_id: Uuid,
    /// The calendar entry.
    pub entry_id: Uuid,
    /// [`ACTION_SCHEDULED`], [`ACTION_RESCHEDULED`] or [`ACTION_CANCELLED`].
    pub action: String,
    /// The entry's title; only a scheduling carries it.
    pub title: Option<String>,
    /// The slot's start: the new one, or for a cancellation the freed one.
    pub starts_at: DateTime<Utc>,
    /// The slot's length in minutes.
    pub duration_minutes: i32,
    /// For a rescheduling, the start of the slot left.
    pub previous_starts_at: Option<DateTime<Utc>>,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
}

#[handlers]
impl AgendaItem {
    /// A new entry.
    fn scheduled(event: &Event<EventScheduled>) -> Vec<AgendaItem> {
        vec![AgendaItem {
            model_version: Self::MODEL_VERSION,
            event_id: event.id,
            user_id: event.user_id,
            entry_id: event.entry_id,
            action: ACTION_SCHEDULED.to_owned(),
            title: Some(event.title.clone()),
            starts_at: event.starts_at,
            duration_minutes: event.duration_minutes,
            previous_starts_at: None,
            occurred_at: event.occurred_at,
        }]
    }

    /// A moved entry.
    fn rescheduled(event: &Event<EventRescheduled>) -> Vec<AgendaItem> {
        vec![AgendaItem {
            model_version: Self::MODEL_VERSION,
            event_id: event.id,
            user_id: event.user_id,
            entry_id: event.entry_id,
            action: ACTION_RESCHEDULED.to_owned(),
            title: None,
            starts_at: event.starts_at,
            duration_minutes: event.duration_minutes,
            previous_starts_at: Some(event.from_starts_at),
            occurred_at: event.occurred_at,
        }]
    }

    /// A cancelled entry.
    fn cancelled(event: &Event<EventCancelled>) -> Vec<AgendaItem> {
        vec![AgendaItem {
            model_version: Self::MODEL_VERSION,
            event_id: event.id,
            user_id: event.user_id,
            entry_id: event.entry_id,
            action: ACTION_CANCELLED.to_owned(),
            title: None,
            starts_at: event.starts_at,
            duration_minutes: event.duration_minutes,
            previous_starts_at: None,
            occurred_at: event.occurred_at,
        }]
    }
}

/// Aggregate: booked minutes per user and week of the entries' start.
///
/// One user's week.
#[derive(Clone, Debug, PartialEq, ReadModel)]
#[read_model(
    name = "calendar.weekly_busy",
    domain = "calendar",
    version = 1,
    kind = "aggregate",
    events = [EventScheduled, EventRescheduled, EventCancelled],
    key = (model_version, user_id, week),
    table = readmodels::calendar_weekly_busy,
)]
pub struct WeeklyBusy {
    /// Model version.
    pub model_version: i32,
    /// Owner.
    pub user_id: Uuid,
    /// The Monday starting the week (UTC).
    pub week: NaiveDate,
    /// Minutes of the entries starting in the week.
    pub busy_minutes: i64,
    /// Entries starting in the week.
    pub entries: i64,
}

#[handlers]
impl WeeklyBusy {
    /// Books the slot.
    fn scheduled(event: &Event<EventScheduled>, rows: &mut Rows<'_, WeeklyBusy>) {
        book(
            rows,
            event.user_id,
            event.starts_at,
            event.duration_minutes,
            1,
        );
    }

    /// Frees the old slot and books the new one (possibly in two different weeks).
    fn rescheduled(event: &Event<EventRescheduled>, rows: &mut Rows<'_, WeeklyBusy>) {
        book(
            rows,
            event.user_id,
            event.from_starts_at,
            event.from_duration_minutes,
            -1,
        );
        book(
            rows,
            event.user_id,
            event.starts_at,
            event.duration_minutes,
            1,
        );
    }

    /// Frees the slot.
    fn cancelled(event: &Event<EventCancelled>, rows: &mut Rows<'_, WeeklyBusy>) {
        book(
            rows,
            event.user_id,
            event.starts_at,
            event.duration_minutes,
            -1,
        );
    }
}

/// Adds (`sign` 1) or removes (`sign` -1) one entry of `minutes` starting at `starts_at`.
fn book(
    rows: &mut Rows<'_, WeeklyBusy>,
    user_id: Uuid,
    starts_at: DateTime<Utc>,
    minutes: i32,
    sign: i64,
) {
    let week = week_start(starts_at.date_naive());
    rows.modify(
        (user_id, week),
        || WeeklyBusy {
            model_version: WeeklyBusy::MODEL_VERSION,
            user_id,
            week,
            busy_minutes: 0,
            entries: 0,
        },
        |row| {
            row.busy_minutes += sign * i64::from(minutes);
            row.entries += sign;
        },
    );
}

#[cfg(test)]
mod tests;
