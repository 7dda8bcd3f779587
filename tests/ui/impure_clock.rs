//! Clock reads in every disguise: a helper, a const holding a clock function, an alias, a qualified call, a method, the local time zone.
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
        use chrono::Utc as Clock;
        let _aliased = Clock::now();
        let _qualified = <Utc>::now();
        let _elapsed = std::time::UNIX_EPOCH.elapsed();
        let _local = event.occurred_at.with_timezone(&chrono::Local);
        let _ = (Self::stamp(), Self::CLOCK);
        rows.put(Account {
            model_version: Self::MODEL_VERSION,
            account_id: event.account_id,
            total: event.amount,
            opened_at: event.occurred_at,
        });
    }

    fn stamp() -> DateTime<Utc> {
        Utc::now()
    }

    const CLOCK: fn() -> DateTime<Utc> = Utc::now;
}

fn main() {}
