use readmodel_runtime::{handlers, ReadModel, DomainEvent, Event};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, Serialize, Deserialize, DomainEvent)]
#[event(type = "t.e")]
pub struct Opened {
    pub account_id: Uuid,
}

#[derive(Clone, Debug, ReadModel)]
#[read_model(
    domain = "t",
    kind = "timeline",
    events = [Opened],
    key = (model_version, account_id, event_version),
    table = readmodels::openings,
)]
pub struct Opening {
    pub model_version: i32,
    pub account_id: Uuid,
    pub event_version: i64,
}

#[handlers]
impl Opening {
    pub fn opened(event: &Event<Opened>) -> Vec<Opening> {
        vec![Opening {
            model_version: Self::MODEL_VERSION,
            account_id: event.account_id,
            event_version: event.event_version,
        }]
    }
}

fn main() {}
