//! The end-to-end tests, one module per subject, in one test binary: they share one
//! PostgreSQL server (`readmodel_tests::pg`) and the `replay` binaries of this package.

mod bad_events;
mod blue_green;
mod bulk_append;
mod code_changes;
mod copy;
mod crash;
mod cross_backend;
mod ddl;
mod determinism;
mod empty_requests;
mod failures;
mod fence;
mod follow;
mod gaps;
mod golden;
mod import_errors;
mod inputs;
mod lifecycle;
mod metrics;
mod migration_evolution;
mod migrations_match_contracts;
mod operator;
mod outbox;
mod output;
mod promises;
mod read_commands;
mod reader;
mod rebuild_beside;
mod round_trip;
mod security;
mod shapes;
mod user_index;
mod workers;
