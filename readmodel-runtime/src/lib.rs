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
//! memory ([`Rows`]) → [`replay`] writes the batch's rows ([`store`]) and the checkpoint
//! ([`ledger`]) in one transaction.
//!
//! The modules form layers, each using only its own layer and the layers below: values and
//! contracts ([`contract`], [`fingerprint`], [`event`], [`field`], [`rows`], [`determinism`], [`testing`], [`stop`], [`pause`]) → [`store`] →
//! the log ([`source`], [`import`], [`watch`]) and bookkeeping ([`ledger`], [`versions`],
//! [`dead_letters`], [`checksum`]) → [`replay`] → operations ([`verify`], [`cutover`],
//! [`code_check`]) → [`registry`], [`outbox`] and [`cli`].
//!
//! An application opens a [`Store`] (one diesel connection for either backend), appends
//! events in its own transactions with [`outbox::append`], and reads its models through
//! their generated tables and [`reader`] functions.

// Layers, bottom to top; a module uses only modules of its own layer or below.
//
// Values and contracts (no database):
pub mod contract;
pub mod ddl;
pub mod determinism;
pub mod event;
pub mod field;
pub mod fingerprint;
pub mod pause;
pub mod rows;
pub mod sql_types;
pub mod stop;
pub mod testing;
// Storage: connections, dialects, statements, row codecs, schema checks:
pub mod store;
// The log and the bookkeeping tables:
pub mod checksum;
pub mod dead_letters;
pub mod import;
pub mod ledger;
pub mod metrics;
pub mod source;
pub mod versions;
pub mod watch;
// The replay engine:
pub mod replay;
// Operations built on it:
pub mod code_check;
pub mod cutover;
pub mod reader;
pub mod verify;
// Registry and CLI (and the glue the two macros generate against):
pub mod cli;
mod declaration;
pub mod outbox;
pub mod registry;
mod replay_main;
pub mod scale_out;

pub use contract::{Column, Contract, Kind, RebuildStrategy};
pub use event::{DecodeError, DomainEvent, Event, PayloadError, StoredEvent};
pub use fingerprint::Fingerprint;
pub use import::ImportError;
pub use readmodel_macros::{handlers, DomainEvent, ReadModel};
pub use registry::{run_models, run_models_with, Model, Registry, RegistryError};
pub use replay::{BadEventPolicy, Plan, Progress, ReplayError, RunReport, Start};
pub use rows::{Projection, ReadModelRow, Rows};
pub use source::NewEvent;
pub use store::{DatabaseUrl, Migrations, Store, StoreError};

/// diesel, as this crate uses it: the generated tables, `impl_field!` and applications
/// reading their models name it through here or their own dependency on the same version.
pub use diesel;

/// Re-exports for generated code. Not public API: items that are public elsewhere are
/// named by their public paths.
#[doc(hidden)]
pub mod __private {
    pub use diesel_migrations;
    pub use inventory;
    pub use serde_json;
    pub use uuid::Uuid;

    pub use crate::declaration::*;
    pub use crate::event::EventDeclaration;
}
