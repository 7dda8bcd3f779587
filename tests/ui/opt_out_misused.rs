//! The opt-out is checked too: an unknown rule name, and an opt-out that allows nothing.
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
        let _ = (Self::lookup(), Self::plain());
        rows.put(Account {
            model_version: Self::MODEL_VERSION,
            account_id: event.account_id,
            total: event.amount,
            opened_at: event.occurred_at,
        });
    }

    #[read_model(allow(clocks))]
    fn lookup() -> i64 {
        1
    }

    #[read_model(allow(macro))]
    fn plain() -> i64 {
        2
    }
}

fn main() {}
