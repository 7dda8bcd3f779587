use std::collections::{HashMap, HashSet};
use std::time::{Instant, SystemTime};

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
    key = (model_version, account_id, rate),
    table = readmodels::accounts,
)]
pub struct Account {
    pub model_version: i32,
    pub account_id: Uuid,
    pub rate: f64,
    pub tags: HashSet<String>,
    pub limits: Option<HashMap<String, i64>>,
    pub opened_at: SystemTime,
    pub seen_at: Instant,
    /// A float outside the key is fine, and so is a name that merely contains "f64".
    pub balance_f64: f64,
}

#[handlers]
impl Account {
    pub fn opened(event: &Event<Opened>, rows: &mut Rows<'_, Account>) {
        let _ = (event, rows);
    }
}

fn main() {}
