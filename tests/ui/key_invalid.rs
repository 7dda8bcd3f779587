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
    events = [Opened],
    key = (account_id),
    table = readmodels::no_version,
)]
pub struct NoVersion {
    pub model_version: i32,
    pub account_id: Uuid,
}

#[handlers]
impl NoVersion {
    pub fn opened(event: &Event<Opened>, rows: &mut Rows<'_, NoVersion>) {
        rows.put(NoVersion { model_version: Self::MODEL_VERSION, account_id: event.account_id });
    }
}

#[derive(Clone, Debug, ReadModel)]
#[read_model(
    domain = "t",
    kind = "snapshot",
    events = [Opened],
    key = (model_version, acount_id),
    table = readmodels::typo,
)]
pub struct Typo {
    pub model_version: i32,
    pub account_id: Uuid,
}

#[handlers]
impl Typo {
    pub fn opened(event: &Event<Opened>, rows: &mut Rows<'_, Typo>) {
        rows.put(Typo { model_version: Self::MODEL_VERSION, account_id: event.account_id });
    }
}

#[derive(Clone, Debug, ReadModel)]
#[read_model(
    domain = "t",
    kind = "snapshot",
    events = [Opened],
    key = (model_version, account_id, account_id),
    table = readmodels::repeated,
)]
pub struct Repeated {
    pub model_version: i32,
    pub account_id: Uuid,
}

#[handlers]
impl Repeated {
    pub fn opened(event: &Event<Opened>, rows: &mut Rows<'_, Repeated>) {
        rows.put(Repeated { model_version: Self::MODEL_VERSION, account_id: event.account_id });
    }
}

fn main() {}
