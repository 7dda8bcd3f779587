use readmodel_runtime::{handlers, DomainEvent, Event, ReadModel, Rows};
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

/// A timeline whose handlers are written like a snapshot's.
#[derive(Clone, Debug, ReadModel)]
#[read_model(
    domain = "t",
    kind = "timeline",
    events = [Opened, Closed],
    key = (model_version, event_id),
    table = readmodels::account_log,
)]
pub struct AccountLog {
    pub model_version: i32,
    pub event_id: i64,
}

#[handlers]
impl AccountLog {
    fn opened(event: &Event<Opened>, rows: &mut Rows<'_, Self>) {
        rows.put(AccountLog { model_version: Self::MODEL_VERSION, event_id: event.id });
    }

    fn closed(event: &Event<Closed>) {
        let _ = event;
    }
}

/// A snapshot whose handlers are written like a timeline's.
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
    fn opened(event: &Event<Opened>) -> Vec<Self> {
        vec![Account { model_version: Self::MODEL_VERSION, account_id: event.account_id }]
    }

    fn closed(event: &Event<Closed>) {
        let _ = event;
    }
}

fn main() {}
