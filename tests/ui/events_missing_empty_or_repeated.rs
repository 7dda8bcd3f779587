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
    key = (model_version, account_id),
    table = readmodels::accounts,
)]
pub struct Accounts {
    pub model_version: i32,
    pub account_id: Uuid,
}

#[handlers]
impl Accounts {
    pub fn opened(event: &Event<Opened>, rows: &mut Rows<'_, Accounts>) {
        rows.put(Accounts { model_version: Self::MODEL_VERSION, account_id: event.account_id });
    }
}

#[derive(Clone, Debug, ReadModel)]
#[read_model(
    domain = "t",
    kind = "snapshot",
    events = [],
    key = (model_version, account_id),
    table = readmodels::accounts_empty,
)]
pub struct AccountsEmpty {
    pub model_version: i32,
    pub account_id: Uuid,
}

#[handlers]
impl AccountsEmpty {
    pub fn opened(event: &Event<Opened>, rows: &mut Rows<'_, AccountsEmpty>) {
        rows.put(AccountsEmpty { model_version: Self::MODEL_VERSION, account_id: event.account_id });
    }
}

#[derive(Clone, Debug, ReadModel)]
#[read_model(
    domain = "t",
    kind = "snapshot",
    events = [Opened, Opened],
    key = (model_version, account_id),
    table = readmodels::accounts_twice,
)]
pub struct AccountsTwice {
    pub model_version: i32,
    pub account_id: Uuid,
}

#[handlers]
impl AccountsTwice {
    pub fn opened(event: &Event<Opened>, rows: &mut Rows<'_, AccountsTwice>) {
        rows.put(AccountsTwice { model_version: Self::MODEL_VERSION, account_id: event.account_id });
    }
}

fn main() {}
