use std::collections::HashMap;

use chrono::{DateTime, Utc};
use readmodel_runtime::{handlers, ReadModel, DomainEvent, Event, Rows};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, Serialize, Deserialize, DomainEvent)]
#[event(type = "shop.order_placed")]
pub struct OrderPlaced {
    pub order_id: Uuid,
    pub total_cents: i64,
}

#[derive(Clone, Debug, ReadModel)]
#[read_model(
    domain = "shop",
    kind = "snapshot",
    events = [OrderPlaced],
    key = (model_version, order_id),
    table = readmodels::orders,
)]
pub struct Order {
    pub model_version: i32,
    pub order_id: Uuid,
    pub total_cents: i64,
    pub line_counts: HashMap<String, i64>,
    pub placed_at: DateTime<Utc>,
}

#[handlers]
impl Order {
    pub fn placed(event: &Event<OrderPlaced>, rows: &mut Rows<'_, Order>) {
        rows.put(Order {
            model_version: Self::MODEL_VERSION,
            order_id: event.order_id,
            total_cents: event.total_cents,
            line_counts: HashMap::new(),
            placed_at: Utc::now(),
        });
    }
}

fn main() {}
