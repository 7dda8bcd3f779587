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
    version = 0,
    kind = "snapshot",
    events = [Opened],
    key = (model_version, account_id),
    table = readmodels::accounts,
    replay_start_version = -1,
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
    version = "2",
    kind = "snapshot",
    events = [Opened],
    key = (model_version, account_id),
    table = readmodels::accounts_v2,
    replay_start_version = 1.5,
)]
pub struct AccountsV2 {
    pub model_version: i32,
    pub account_id: Uuid,
}

#[handlers]
impl AccountsV2 {
    pub fn opened(event: &Event<Opened>, rows: &mut Rows<'_, AccountsV2>) {
        rows.put(AccountsV2 { model_version: Self::MODEL_VERSION, account_id: event.account_id });
    }
}

fn main() {}
