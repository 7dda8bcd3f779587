//! The events of the relationships domain: the payloads stored in `event_record.payload`.
//!
//! Every person the user keeps in touch with is one stream (`stream_id` = `person_id`).

use readmodel_runtime::DomainEvent;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// `relationships.person_added`: the user added someone to keep in touch with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, DomainEvent)]
#[event(type = "relationships.person_added")]
pub struct PersonAdded {
    /// The person (also the stream id).
    pub person_id: Uuid,
    /// Their name.
    pub name: String,
    /// E.g. `family`, `friends`, `work`.
    pub circle: String,
}

/// `relationships.interaction_logged`: the user was in touch with the person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, DomainEvent)]
#[event(type = "relationships.interaction_logged")]
pub struct InteractionLogged {
    /// The interaction.
    pub interaction_id: Uuid,
    /// The person.
    pub person_id: Uuid,
    /// E.g. `call`, `message`, `meeting`.
    pub channel: String,
}

/// `relationships.person_removed`: the user removed the person. No event of their stream
/// follows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, DomainEvent)]
#[event(type = "relationships.person_removed")]
pub struct PersonRemoved {
    /// The person.
    pub person_id: Uuid,
}
