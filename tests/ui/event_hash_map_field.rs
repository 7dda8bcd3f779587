//! An event payload with a hash-ordered collection: a handler iterating it would replay
//! differently. The derive still implements `DomainEvent` (a stand-in), so the model that
//! lists the event reports nothing else.
use std::collections::{HashMap, HashSet};

use readmodel_runtime::{handlers, DomainEvent, Event, ReadModel, Rows};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, Serialize, Deserialize, DomainEvent)]
#[event(type = "t.tagged")]
pub struct Tagged {
    pub account_id: Uuid,
    pub tags: HashSet<String>,
    pub limits: Option<std::collections::HashMap<String, i64>>,
    pub weights: Vec<(String, HashMap<String, u8>)>,
}

#[derive(Clone, Debug, ReadModel)]
#[read_model(
    domain = "t",
    kind = "snapshot",
    events = [Tagged],
    key = (model_version, account_id),
    table = readmodels::tagged,
)]
pub struct Account {
    pub model_version: i32,
    pub account_id: Uuid,
    pub tags: i64,
}

#[handlers]
impl Account {
    pub fn tagged(event: &Event<Tagged>, rows: &mut Rows<'_, Self>) {
        rows.put(Account {
            model_version: Self::MODEL_VERSION,
            account_id: event.account_id,
            tags: event.tags.len() as i64,
        });
    }
}

fn main() {}
