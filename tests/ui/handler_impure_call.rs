use chrono::Utc;
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
    table = readmodels::accounts,
)]
pub struct Account {
    pub model_version: i32,
    pub account_id: Uuid,
    pub note: String,
    pub opened_at: chrono::DateTime<Utc>,
}

#[handlers]
impl Account {
    pub fn opened(event: &Event<Opened>, rows: &mut Rows<'_, Account>) {
        use std::env;
        use std::fs::read_to_string;
        use std::time::SystemTime;

        let opened_at = Utc::now();
        let _local = chrono::offset::Local::now();
        let _elapsed = SystemTime::now();
        let _started = std::time::Instant::now();
        let region = env::var("REGION").unwrap_or_default();
        let note = read_to_string("/etc/motd").unwrap_or_default();
        let _ = std::process::id();
        let _stamps = vec![chrono::Local::now()];
        rows.put(Account {
            model_version: Self::MODEL_VERSION,
            account_id: event.account_id,
            note: format!("{region}{note}"),
            opened_at,
        });
        let _ = (Self::jitter(), Self::STARTED);
    }

    /// A helper a handler calls is scanned like the handler.
    fn jitter() -> u32 {
        std::process::id() % 7
    }

    /// Constants are scanned: this one reads the clock when first used.
    const STARTED: fn() -> std::time::SystemTime = || std::time::SystemTime::now();
}

fn main() {}
