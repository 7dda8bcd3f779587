//! # projections
//!
//! The LifeOS read models, declared with `#[derive(ReadModel)]` + `#[handlers]` and replayed by
//! [`readmodel_runtime`] from the event log `event_record`, and the `replay` binary that
//! operates them (`cargo run --release -p projections --bin replay -- --help`).
//!
//! The eight LifeOS domains, each with its events and at least two read models:
//!
//! | domain | timeline | snapshot | aggregate |
//! |---|---|---|---|
//! | [`finance`] | `transactions` | `balances` | `monthly_spend` |
//! | [`calendar`] | `agenda` | | `weekly_busy` |
//! | [`health`] | `resting_heart_rate` | `daily_metrics` | `monthly_workouts` |
//! | [`habits`] | `checkins` | `streaks` | `monthly_completions` |
//! | [`projects`] | | `task_board` | `progress` |
//! | [`relationships`] | `interactions` | `last_contact` | |
//! | [`journal`] | `entries` | | `monthly_mood` |
//! | [`insights`] (cross-domain) | | `engagement` | `daily_summary` |
//!
//! Events with an older payload schema version (upcast to the newest by the event type):
//! `habits.checked_in`, `finance.expense_recorded`, `calendar.event_scheduled`,
//! `health.sleep_logged` and `journal.entry_written`.
//!
//! * [`days`] — month and week arithmetic shared by the handlers.
//! * [`generate`] — a deterministic synthetic event log over all domains for
//!   `replay generate`.
//!
//! The read-model tables are created by the diesel migrations in the workspace's
//! `migrations/postgres` and `migrations/sqlite` directories ([`MIGRATIONS`]); the
//! runtime applies its own tables (event log, checkpoints, runs) first.

use diesel_migrations::{embed_migrations, EmbeddedMigrations};
use readmodel_runtime::App;
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

readmodel_runtime::app! {
    migrations: crate::MIGRATIONS,
    generator: crate::generate::events,
    name: "lifeos",
    description: "Replay the LifeOS event log (habits, finance, health, journal, projects, relationships, calendar and insights) into its read models, and inspect them.",
}

/// The `replay` binary's application: these migrations and the LifeOS event generator.
/// The read models themselves are found through the runtime's registry.
pub fn app() -> App {
    __readmodel_app()
}
