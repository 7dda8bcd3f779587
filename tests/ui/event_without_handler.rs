use readmodel_runtime::{handlers, ReadModel, DomainEvent, Event, Rows};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, Serialize, Deserialize, DomainEvent)]
#[event(type = "t.e")]
pub struct Opened {
    pub account_id: Uuid,
}

#[derive(Debug, Clone, Serialize, Deserialize, DomainEvent)]
#[event(type = "t.closed")]
pub struct Closed {
    pub account_id: Uuid,
}

#[derive(Clone, Debug, ReadModel)]
#[read_model(
    domain = "t",
    kind = "snapshot",
    events = [Opened, Closed],
    key = (model_version, account_id),
    table = readmodels::accounts,
)]
pub struct Account {
    pub model_version: i32,
    pub account_id: Uuid,
}

#[handlers]
impl Account {
    pub fn opened(event: &Event<Opened>, rows: &mut Rows<'_, Account>) {
        rows.put(Account { model_version: Self::MODEL_VERSION, account_id: event.account_id });
    }
}

fn main() {}
