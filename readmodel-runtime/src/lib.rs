//! # readmodel-runtime
//!
//! Deterministic, replayable read models fed only by an immutable event log
//! (`event_record`). Declare a model with `#[derive(ReadModel)]` and `#[read_model(...)]` on its row
//! struct and `#[handlers]` on its impl block of event handlers; the runtime replays events in global order, idempotently, into
//! the model's table on SQLite (the embedded default) or PostgreSQL, and [`cli`] turns the
//! registry into an operator's `replay` binary.
//!
//! The path of one event: [`source`] reads it from `event_record` (keyset pagination, event
//! types filtered in SQL) → [`replay`] hands it to the model's generated dispatch, which
//! decodes the payload ([`event`]) and calls the pure handler → the handler changes rows in
//! memory ([`Rows`]) → [`replay`] writes the batch's rows and the checkpoint ([`ledger`]) in
//! one transaction.

pub mod checksum;
pub mod cli;
pub mod contract;
pub mod dead_letters;
mod declaration;
pub mod error;
pub mod event;
pub mod field;
pub mod import;
pub mod ledger;
pub mod reader;
pub mod registry;
pub mod replay;
pub mod rows;
pub mod source;
pub mod sql_types;
pub mod store;
pub mod testing;
pub mod verify;
pub mod versions;

pub use contract::{Column, Contract, Kind, RebuildStrategy};
pub use error::{ImportError, RegistryError, ReplayError, StoreError};
pub use event::{DomainEvent, Event, StoredEvent};
pub use readmodel_macros::{handlers, DomainEvent, ReadModel};
pub use registry::{Model, Registry};
pub use replay::{Plan, RunReport};
pub use rows::{Projection, ReadModelRow, Rows};
pub use source::NewEvent;
pub use store::{DatabaseUrl, Migrations, Store};

/// diesel, as this crate uses it: the generated tables, `impl_field!` and applications
/// reading their models name it through here or their own dependency on the same version.
pub use diesel;

/// Re-exports for generated code. Not public API: items that are public elsewhere are
/// named by their public paths.
#[doc(hidden)]
pub mod __private {
    pub use inventory;
    pub use serde_json;
    pub use uuid::Uuid;

    pub use crate::declaration::*;
}
