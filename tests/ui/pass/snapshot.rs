//! A snapshot: one row per entity, changed in place; a handler may take the rows it
//! changes by several keys, and may use helpers and `BTreeMap` locals freely.
use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use readmodel_runtime::{handlers, ReadModel, DomainEvent, Event, Rows};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, Serialize, Deserialize, DomainEvent)]
#[event(type = "bank.opened")]
pub struct Opened {
    pub account_id: Uuid,
    pub owner: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, DomainEvent)]
#[event(type = "bank.transferred")]
pub struct Transferred {
    pub from: Uuid,
    pub to: Uuid,
    pub cents: i64,
}

#[derive(Clone, Debug, PartialEq, ReadModel)]
#[read_model(
    name = "bank.balances",
    domain = "bank",
    version = 2,
    kind = "snapshot",
    events = [Opened, Transferred],
    key = (model_version, account_id),
    table = readmodels::bank_balances,
    replay_start_version = 0,
    rebuild = "full",
)]
pub struct Balance {
    pub model_version: i32,
    pub account_id: Uuid,
    pub owner: String,
    pub cents: i64,
    pub rate: f64,
    pub updated_at: DateTime<Utc>,
}

#[handlers]
impl Balance {
    fn empty(account_id: Uuid, at: DateTime<Utc>) -> Balance {
        Balance {
            model_version: Self::MODEL_VERSION,
            account_id,
            owner: String::new(),
            cents: 0,
            rate: 0.0,
            updated_at: at,
        }
    }

    pub fn opened(event: &Event<Opened>, rows: &mut Rows<'_, Balance>) {
        rows.modify(
            event.account_id,
            || Self::empty(event.account_id, event.occurred_at),
            |row| row.owner = event.owner.clone(),
        );
    }

    pub fn transferred(event: &Event<Transferred>, rows: &mut Rows<'_, Balance>) {
        let mut deltas: BTreeMap<Uuid, i64> = BTreeMap::new();
        *deltas.entry(event.from).or_default() -= event.cents;
        *deltas.entry(event.to).or_default() += event.cents;
        let random = 1;
        for account in [event.from, event.to] {
            let delta = deltas[&account] * random;
            rows.modify(
                account,
                || Self::empty(account, event.occurred_at),
                |row| {
                    row.cents += delta;
                    row.updated_at = event.occurred_at;
                },
            );
        }
    }
}

fn main() {
    let _ = Balance::CONTRACT;
}
