//! Addresses: pointer-to-integer casts and {:p}.
use chrono::{DateTime, Utc};
use readmodel_runtime::{handlers, DomainEvent, Event, ReadModel, Rows};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, Serialize, Deserialize, DomainEvent)]
#[event(type = "t.opened")]
pub struct Opened {
    pub account_id: Uuid,
    pub amount: i64,
}

#[derive(Clone, Debug, ReadModel)]
#[read_model(
    domain = "t",
    kind = "snapshot",
    events = [Opened],
    key = (model_version, account_id),
    table = readmodels::accounts,
)]
pub struct Account {
    pub model_version: i32,
    pub account_id: Uuid,
    pub total: i64,
    pub opened_at: DateTime<Utc>,
}

#[handlers]
impl Account {
    pub fn opened(event: &Event<Opened>, rows: &mut Rows<'_, Self>) {
        let _address = event as *const _ as usize;
        let _printed = format!("{:p}", event);
        let bytes = vec![1u8];
        let _raw = bytes.as_ptr() as usize;
        rows.put(Account {
            model_version: Self::MODEL_VERSION,
            account_id: event.account_id,
            total: event.amount,
            opened_at: event.occurred_at,
        });
    }
}

fn main() {}
