//! One module per subcommand, each with its arguments and one `run` function; adding a
//! subcommand is one [`Command`] variant, one module here and one line in [`execute`].

pub(super) mod checksum;
pub(super) mod cutover;
pub(crate) mod ddl;
pub(super) mod dead_letters;
pub(super) mod demo;
pub(super) mod describe;
pub(super) mod drop;
pub(super) mod follow;
pub(super) mod generate;
pub(super) mod import;
mod list;
mod migrate;
pub(super) mod run;
pub(super) mod status;
mod status_watch;
pub(super) mod verify;
pub(super) mod worker;

use super::args::Command;
use super::context::Context;
use super::CliError;

/// Runs one subcommand.
pub(super) fn execute(cx: &Context<'_>, command: &Command) -> Result<(), CliError> {
    // Only commands on the log itself make sense in a binary without models.
    if !matches!(
        command,
        Command::Migrate | Command::Import(_) | Command::Generate(_)
    ) {
        cx.registry.require_models()?;
    }
    match command {
        Command::Migrate => migrate::run(cx),
        Command::Import(args) => import::run(cx, args),
        Command::Generate(args) => generate::run(cx, args),
        Command::List => list::run(cx),
        Command::Describe(args) => describe::run(cx, args),
        Command::Run(args) => run::run(cx, args),
        Command::Follow(args) => follow::run(cx, args),
        Command::DeadLetters(args) => dead_letters::run(cx, args),
        Command::Checksum(args) => checksum::run(cx, args),
        Command::Verify(args) => verify::run(cx, args),
        Command::Cutover(args) => cutover::run(cx, args),
        Command::Drop(args) => drop::run(cx, args),
        Command::Status(args) => status::run(cx, args),
        Command::Worker(args) => worker::run(cx, args),
        Command::Demo(args) => demo::run(cx, args),
        Command::Schema(args) => ddl::print(cx, args),
        Command::NewMigration(args) => ddl::write_migration(cx, args),
    }
}
