//! An aggregate: counters per composite key. A timeline keyed by
//! `stream_id` + `event_version` is also accepted (see `Sale`).
use chrono::{Datelike, NaiveDate};
use readmodel_runtime::{handlers, ReadModel, DomainEvent, Event, Rows};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, Serialize, Deserialize, DomainEvent)]
#[event(type = "shop.sold")]
pub struct Sold {
    pub product_id: Uuid,
    pub day: NaiveDate,
    pub quantity: i64,
}

#[derive(Clone, Debug, PartialEq, ReadModel)]
#[read_model(
    domain = "shop",
    kind = "aggregate",
    events = [Sold],
    key = (model_version, product_id, month),
    table = readmodels::monthly_sales,
)]
pub struct MonthlySale {
    pub model_version: i32,
    pub product_id: Uuid,
    pub month: NaiveDate,
    pub quantity: i64,
}

#[handlers]
impl MonthlySale {
    pub fn sold(event: &Event<Sold>, rows: &mut Rows<'_, MonthlySale>) {
        let month = event.day.with_day(1).unwrap_or(event.day);
        rows.modify(
            (event.product_id, month),
            || MonthlySale {
                model_version: Self::MODEL_VERSION,
                product_id: event.product_id,
                month,
                quantity: 0,
            },
            |row| row.quantity += event.quantity,
        );
    }
}

#[derive(Clone, Debug, PartialEq, ReadModel)]
#[read_model(
    domain = "shop",
    kind = "timeline",
    events = [Sold],
    key = (model_version, stream_id, event_version),
    table = readmodels::sales_log,
)]
pub struct Sale {
    pub model_version: i32,
    pub stream_id: Uuid,
    pub event_version: i64,
    pub quantity: i64,
}

#[handlers]
impl Sale {
    pub fn sold(event: &Event<Sold>) -> Vec<Sale> {
        vec![Sale {
            model_version: Self::MODEL_VERSION,
            stream_id: event.stream_id,
            event_version: event.event_version,
            quantity: event.quantity,
        }]
    }
}

fn main() {
    let _ = (MonthlySale::CONTRACT, Sale::CONTRACT);
}
