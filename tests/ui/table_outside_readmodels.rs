use readmodel_runtime::{handlers, ReadModel, DomainEvent, Event, Rows};
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
    kind = "snapshot",
    events = [Opened],
    key = (model_version, account_id),
    table = public::accounts,
)]
pub struct Account1 {
    pub model_version: i32,
    pub account_id: Uuid,
}

#[handlers]
impl Account1 {
    pub fn opened(event: &Event<Opened>, rows: &mut Rows<'_, Account1>) {
        rows.put(Account1 { model_version: Self::MODEL_VERSION, account_id: event.account_id });
    }
}

#[derive(Clone, Debug, ReadModel)]
#[read_model(
    domain = "t",
    kind = "snapshot",
    events = [Opened],
    key = (model_version, account_id),
    table = accounts,
)]
pub struct Account2 {
    pub model_version: i32,
    pub account_id: Uuid,
}

#[handlers]
impl Account2 {
    pub fn opened(event: &Event<Opened>, rows: &mut Rows<'_, Account2>) {
        rows.put(Account2 { model_version: Self::MODEL_VERSION, account_id: event.account_id });
    }
}

fn main() {}
