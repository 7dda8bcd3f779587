//! Macros whose expansion the scan cannot see: one defined outside the model, defined next to it, whose expansion could read the clock.
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

macro_rules! stamp {
    () => {
        0
    };
}

#[handlers]
impl Account {
    pub fn opened(event: &Event<Opened>, rows: &mut Rows<'_, Self>) {
        let _ = stamp!();
        rows.put(Account {
            model_version: Self::MODEL_VERSION,
            account_id: event.account_id,
            total: event.amount,
            opened_at: event.occurred_at,
        });
    }
}

fn main() {}
