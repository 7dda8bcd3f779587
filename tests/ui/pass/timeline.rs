//! A timeline: one row per event, keyed by the event's identity.
use chrono::{DateTime, Utc};
use readmodel_runtime::{handlers, ReadModel, DomainEvent, Event};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, Serialize, Deserialize, DomainEvent)]
#[event(type = "t.noted")]
pub struct Noted {
    pub note_id: Uuid,
    pub text: String,
}

#[derive(Clone, Debug, PartialEq, ReadModel)]
#[read_model(
    domain = "t",
    kind = "timeline",
    events = [Noted],
    key = (model_version, event_id),
    table = readmodels::notes_log,
)]
pub struct NoteEntry {
    pub model_version: i32,
    pub event_id: i64,
    pub note_id: Uuid,
    pub text: String,
    pub occurred_at: DateTime<Utc>,
}

#[handlers]
impl NoteEntry {
    pub fn noted(event: &Event<Noted>) -> Vec<NoteEntry> {
        vec![NoteEntry {
            model_version: Self::MODEL_VERSION,
            event_id: event.id,
            note_id: event.note_id,
            text: event.text.clone(),
            occurred_at: event.occurred_at,
        }]
    }
}

fn main() {
    let _ = NoteEntry::CONTRACT;
}
