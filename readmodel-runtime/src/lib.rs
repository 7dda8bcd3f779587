//! # readmodel-runtime
//!
//! Deterministic, replayable read models fed only by an immutable event log
//! (`event_record`). Declare a model with `#[derive(ReadModel)]` and `#[read_model(...)]` on
//! its row struct and `#[handlers]` on its impl block of event handlers; the runtime replays
//! events in global order, idempotently, into the model's table on SQLite (the embedded
//! default) or PostgreSQL.
//!
//! - An application opens a [`Store`] (one diesel connection for either backend), appends
//!   events in its own transactions with [`outbox::append`], and reads its models through
//!   their generated tables and the [`reader`] functions.
//! - [`run_models`] replays registered models from a program; with the `cli` feature (on by
//!   default) [`replay_main!`] and [`cli`] make the operator's `replay` binary. A crate that
//!   only declares and reads models can depend on this one with `default-features = false`
//!   and compiles no command line.
//!
//! How the modules are layered, and the path one event takes from `event_record` to a row,
//! is in the repository's `ARCHITECTURE.md`.

// Some bookkeeping queries (dead letters, lease tables, run lists) serve only the command
// line's reports.
#![cfg_attr(not(feature = "cli"), allow(dead_code, unused_imports))]

// Layers, bottom to top; a module uses only modules of its own layer or below.
//
// Values and contracts (no database):
mod contract;
pub mod ddl;
pub mod determinism;
pub mod event;
pub mod field;
mod fingerprint;
#[doc(hidden)]
pub mod pause;
pub mod rows;
pub mod sql_types;
mod stop;
pub mod testing;
// Storage: connections, dialects, statements, row codecs, schema checks:
pub mod store;
// The log and the bookkeeping tables:
mod checksum;
mod dead_letters;
pub mod import;
pub mod ledger;
pub mod metrics;
mod source;
mod versions;
pub mod watch;
// The replay engine:
pub mod replay;
// Operations built on it:
pub mod code_check;
mod cutover;
pub mod reader;
pub mod verify;
// Registry and CLI (and the glue the two macros generate against):
mod application;
#[cfg(feature = "cli")]
pub mod cli;
mod declaration;
pub mod outbox;
pub mod registry;
mod replay_main;
pub mod scale_out;

pub use application::{App, GenerateSpec, Generator};
pub use checksum::Checksum;
pub use contract::{Column, Contract, Kind, RebuildStrategy};
pub use cutover::CutoverError;
pub use dead_letters::DeadLetter;
pub use event::{DecodeError, DomainEvent, Event, PayloadError, StoredEvent};
pub use fingerprint::Fingerprint;
pub use import::ImportError;
pub use readmodel_macros::{handlers, DomainEvent, ReadModel};
pub use registry::{run_models, run_models_with, Model, Registry, RegistryError};
pub use replay::{BadEventPolicy, Plan, Progress, ReplayError, RunReport, Start};
pub use rows::{Projection, ReadModelRow, Rows};
pub use source::NewEvent;
pub use stop::{StopFlag, SECOND_SIGNAL_EXIT};
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
