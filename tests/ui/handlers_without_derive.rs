use readmodel_runtime::{handlers, DomainEvent, Event, Rows};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, Serialize, Deserialize, DomainEvent)]
#[event(type = "t.opened")]
pub struct Opened {
    pub account_id: Uuid,
}

/// `#[derive(ReadModel)]` is forgotten.
#[derive(Clone, Debug)]
pub struct Account {
    pub model_version: i32,
    pub account_id: Uuid,
}

#[handlers]
impl Account {
    fn opened(event: &Event<Opened>, rows: &mut Rows<'_, Self>) {
        let _ = (event, rows);
    }
}

fn main() {}
