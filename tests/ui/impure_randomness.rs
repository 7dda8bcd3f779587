//! Randomness: random ids and generators, whatever the path before them.
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
        let _id = Uuid::new_v4();
        let _n = rand::rng();
        let _ulid = Ulid::new();
        rows.put(Account {
            model_version: Self::MODEL_VERSION,
            account_id: event.account_id,
            total: event.amount,
            opened_at: event.occurred_at,
        });
    }
}

struct Ulid;
impl Ulid {
    fn new() -> Self {
        Ulid
    }
}

/// Stands in for the `rand` crate: the rule goes by the name, whatever the crate.
mod rand {
    pub fn rng() -> u64 {
        4
    }
}

fn main() {}
