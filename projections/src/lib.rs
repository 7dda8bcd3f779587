//! # projections
//!
//! The LifeOS read models, declared with `#[read_model]` and replayed by
//! [`readmodel_runtime`] from the event log `event_record`, and the `replay` binary that
//! operates them (`cargo run --release -p projections --bin replay -- --help`).
//!
//! * [`habits`] — habits and their check-ins: a timeline, a snapshot and an aggregate.
//! * [`generate`] — a deterministic synthetic event log for `replay generate`.
//!
//! The read-model tables are created by the diesel migrations in the workspace's
//! `migrations/postgres` and `migrations/sqlite` directories ([`MIGRATIONS`]); the
//! runtime applies its own tables (event log, checkpoints, runs) first.

use diesel_migrations::{embed_migrations, EmbeddedMigrations};
use readmodel_runtime::cli::App;
use readmodel_runtime::Migrations;

pub mod calendar;
pub mod days;
pub mod finance;
pub mod generate;
pub mod habits;
pub mod health;
pub mod insights;
pub mod journal;
pub mod projects;
pub mod relationships;
#[cfg(test)]
mod test_support;
mod upcast;

/// The read-model tables for PostgreSQL (paths are relative to this crate's manifest).
const POSTGRES: EmbeddedMigrations = embed_migrations!("../migrations/postgres");
/// The read-model tables for SQLite (in the database ATTACHed as `readmodels`).
const SQLITE: EmbeddedMigrations = embed_migrations!("../migrations/sqlite");

/// The read-model migrations of this crate, for both backends.
pub const MIGRATIONS: Migrations = Migrations {
    postgres: &POSTGRES,
    sqlite: &SQLITE,
};

/// The `replay` binary's application: these migrations and the habits event generator.
/// The read models themselves are found through the runtime's registry.
pub fn app() -> App {
    App {
        migrations: MIGRATIONS,
        generator: Some(generate::events),
    }
}
