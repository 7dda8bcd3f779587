use readmodel_runtime::{DomainEvent, ReadModel};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, Serialize, Deserialize, DomainEvent)]
#[event(type = "t.opened")]
pub struct Opened {
    pub account_id: Uuid,
}

#[derive(Debug, Clone, Serialize, Deserialize, DomainEvent)]
#[event(type = "t.closed")]
pub struct Closed {
    pub account_id: Uuid,
}

/// The handlers block is forgotten: one error, at the model.
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

fn main() {}
