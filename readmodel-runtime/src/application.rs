//! What an application declares with [`app!`](crate::app): its read-model migrations, its
//! event generator, its name. Plain data, so that a crate built without the `cli` feature
//! can still declare its migrations.

use crate::source::NewEvent;
use crate::store::Migrations;

/// What an application plugs into the CLI (made by [`app!`](crate::app)).
#[derive(Debug, Clone, Copy)]
pub struct App {
    /// The application's read-model migrations.
    pub migrations: Migrations,
    /// Makes synthetic events for `replay generate`, if the application has a generator.
    pub generator: Option<Generator>,
    /// What `--version` calls the application.
    pub name: &'static str,
    /// What `--help` says it is (none: a sentence naming it).
    pub description: &'static str,
    /// Its version, for `--version`.
    pub version: &'static str,
}

/// What `replay generate` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GenerateSpec {
    /// Number of users.
    pub users: u32,
    /// Number of events.
    pub events: u64,
    /// Seed: the same seed gives the same events.
    pub seed: u64,
}

/// A deterministic synthetic event generator.
pub type Generator = fn(&GenerateSpec) -> Box<dyn Iterator<Item = NewEvent>>;

impl App {
    /// What `--help` says first.
    pub(crate) fn about(&self) -> String {
        match self.description.trim() {
            "" => format!(
                "Replay {}'s events into its read models, and inspect them.",
                self.name
            ),
            description => description.to_owned(),
        }
    }
}
