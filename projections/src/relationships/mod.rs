//! # Relationships
//!
//! The people a user keeps in touch with. Each person is one event stream (`stream_id` =
//! `person_id`) of these [`events`]:
//!
//! | event type | payload |
//! |---|---|
//! | `relationships.person_added` | [`PersonAdded`] |
//! | `relationships.interaction_logged` | [`InteractionLogged`] |
//! | `relationships.person_removed` | [`PersonRemoved`] |
//!
//! Two read models:
//!
//! * [`LastContact`] — snapshot `relationships.last_contact`
//!   (`readmodels.relationships_last_contact`): one row per person with the last time the
//!   user was in touch; removing the person deletes the row.
//! * [`Interaction`] — timeline `relationships.interactions`
//!   (`readmodels.relationships_interactions`): every interaction, in log order.

use chrono::{DateTime, Utc};
use readmodel_runtime::{handlers, Event, ReadModel, Rows};
use uuid::Uuid;

pub mod events;

pub use events::{InteractionLogged, PersonAdded, PersonRemoved};

/// Snapshot: per person, when the user was last in touch.
///
/// One person.
#[derive(Clone, Debug, PartialEq, ReadModel)]
#[read_model(
    name = "relationships.last_contact",
    domain = "relationships",
    version = 1,
    kind = "snapshot",
    events = [PersonAdded, InteractionLogged, PersonRemoved],
    key = (model_version, person_id),
    table = readmodels::relationships_last_contact,
)]
pub struct LastContact {
    /// Model version.
    pub model_version: i32,
    /// The person.
    pub person_id: Uuid,
    /// Owner.
    pub user_id: Uuid,
    /// Their name; empty until `relationships.person_added` is seen.
    pub name: String,
    /// Their circle; empty until `relationships.person_added` is seen.
    pub circle: String,
    /// The last interaction's `occurred_at`, if any.
    pub last_contact_at: Option<DateTime<Utc>>,
    /// The last interaction's channel, if any.
    pub last_channel: Option<String>,
    /// Interactions so far.
    pub interactions: i64,
    /// `occurred_at` of the last event applied to the row.
    pub updated_at: DateTime<Utc>,
}

#[handlers]
impl LastContact {
    /// Creates the row, or names a row that interactions created first.
    fn added(event: &Event<PersonAdded>, rows: &mut Rows<'_, LastContact>) {
        rows.modify(
            event.person_id,
            || new_person(event.person_id, event.user_id, event.occurred_at),
            |row| {
                row.name.clone_from(&event.name);
                row.circle.clone_from(&event.circle);
                row.updated_at = event.occurred_at;
            },
        );
    }

    /// Records the contact.
    fn interaction(event: &Event<InteractionLogged>, rows: &mut Rows<'_, LastContact>) {
        rows.modify(
            event.person_id,
            || new_person(event.person_id, event.user_id, event.occurred_at),
            |row| {
                row.last_contact_at = Some(event.occurred_at);
                row.last_channel = Some(event.channel.clone());
                row.interactions += 1;
                row.updated_at = event.occurred_at;
            },
        );
    }

    /// Removing the person deletes the row.
    fn removed(event: &Event<PersonRemoved>, rows: &mut Rows<'_, LastContact>) {
        rows.delete(&event.person_id);
    }
}

/// The row of a person no event has touched yet.
fn new_person(person_id: Uuid, user_id: Uuid, at: DateTime<Utc>) -> LastContact {
    LastContact {
        model_version: LastContact::MODEL_VERSION,
        person_id,
        user_id,
        name: String::new(),
        circle: String::new(),
        last_contact_at: None,
        last_channel: None,
        interactions: 0,
        updated_at: at,
    }
}

/// Timeline: every interaction, in log order.
///
/// One interaction.
#[derive(Clone, Debug, PartialEq, ReadModel)]
#[read_model(
    name = "relationships.interactions",
    domain = "relationships",
    version = 1,
    kind = "timeline",
    events = [InteractionLogged],
    key = (model_version, event_id),
    table = readmodels::relationships_interactions,
)]
pub struct Interaction {
    /// Model version.
    pub model_version: i32,
    /// The event's global position.
    pub event_id: i64,
    /// Owner.
    pub user_id: Uuid,
    /// The person.
    pub person_id: Uuid,
    /// The interaction.
    pub interaction_id: Uuid,
    /// How they were in touch.
    pub channel: String,
    /// When.
    pub occurred_at: DateTime<Utc>,
}

#[handlers]
impl Interaction {
    /// Appends the interaction.
    fn logged(event: &Event<InteractionLogged>) -> Vec<Interaction> {
        vec![Interaction {
            model_version: Self::MODEL_VERSION,
            event_id: event.id,
            user_id: event.user_id,
            person_id: event.person_id,
            interaction_id: event.interaction_id,
            channel: event.channel.clone(),
            occurred_at: event.occurred_at,
        }]
    }
}

#[cfg(test)]
mod tests;
