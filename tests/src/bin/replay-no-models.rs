//! A `replay` binary that links no read model: what a `src/bin/replay.rs` that never names
//! the models' crate amounts to. Its `list`, `run` and `status` must fail, not succeed
//! doing nothing.

use diesel_migrations::EmbeddedMigrations;
use readmodel_runtime::App;
use readmodel_runtime::Migrations;

static NONE: EmbeddedMigrations = EmbeddedMigrations::new(&[]);

fn main() -> std::process::ExitCode {
    readmodel_runtime::cli::main(App {
        migrations: Migrations {
            postgres: &NONE,
            sqlite: &NONE,
        },
        generator: None,
        name: "replay-no-models",
        description: "",
        version: env!("CARGO_PKG_VERSION"),
    })
}
