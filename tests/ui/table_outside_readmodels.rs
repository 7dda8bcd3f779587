use readmodel_runtime::{read_model, DomainEvent, Event, Rows};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, Serialize, Deserialize, DomainEvent)]
#[event(type = "t.e")]
pub struct Opened {
    pub account_id: Uuid,
}

#[read_model(
    domain = "t",
    kind = "snapshot",
    events = [Opened],
    key = (model_version, account_id),
    table = public::accounts,
)]
pub mod accounts {
    use super::*;

    #[derive(Clone, Debug)]
    pub struct Account {
        pub model_version: i32,
        pub account_id: Uuid,
    }

    pub fn opened(event: &Event<Opened>, rows: &mut Rows<'_, Account>) {
        rows.put(Account { model_version: MODEL_VERSION, account_id: event.account_id });
    }
}

#[read_model(
    domain = "t",
    kind = "snapshot",
    events = [Opened],
    key = (model_version, account_id),
    table = accounts,
)]
pub mod unqualified {
    use super::*;

    #[derive(Clone, Debug)]
    pub struct Account {
        pub model_version: i32,
        pub account_id: Uuid,
    }

    pub fn opened(event: &Event<Opened>, rows: &mut Rows<'_, Account>) {
        rows.put(Account { model_version: MODEL_VERSION, account_id: event.account_id });
    }
}

fn main() {}
