//! What every subcommand gets: the application, the registry, the output mode chosen
//! once from `--json`, and the one place a store is opened.

use super::output::Output;
use super::CliError;
use crate::registry::{Model, Registry};
use crate::store::{Access, DatabaseUrl, Store};
use crate::App;

/// Whether a command needs every migration applied before it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Migrated {
    /// Refuse an unmigrated database (`replay migrate` first).
    Required,
    /// The command migrates, or only appends to a store `open` migrated.
    NotRequired,
}

/// The environment of one command.
pub(super) struct Context<'a> {
    /// The application plugged into the CLI.
    pub(super) app: &'a App,
    /// The models of this binary.
    pub(super) registry: &'static Registry,
    /// Text or JSON.
    pub(super) out: Output,
    /// Hide progress bars.
    pub(super) quiet: bool,
    database_url: &'a str,
}

impl<'a> Context<'a> {
    /// The context of a command run with these global options.
    pub(super) fn new(
        app: &'a App,
        database_url: &'a str,
        json: bool,
        quiet: bool,
    ) -> Result<Self, CliError> {
        Ok(Self {
            app,
            registry: Registry::global()?,
            out: Output::chosen(json),
            quiet,
            database_url,
        })
    }

    /// Opens the store named by `--database-url` to write, creating a missing SQLite
    /// database.
    pub(super) fn store(&self, migrated: Migrated) -> Result<Store, CliError> {
        self.open(&self.url()?, migrated)
    }

    /// Opens the existing, migrated store named by `--database-url` to write: a missing
    /// SQLite database is an error naming it, not a new empty one.
    pub(super) fn existing_store(&self) -> Result<Store, CliError> {
        self.open_for(&self.url()?, Access::Existing)
    }

    /// Opens the existing, migrated store named by `--database-url` only to read: nothing
    /// is created, migrated or written, and a read-only copy opens.
    pub(super) fn read_store(&self) -> Result<Store, CliError> {
        self.open_for(&self.url()?, Access::ReadOnly)
    }

    fn open_for(&self, url: &DatabaseUrl, access: Access) -> Result<Store, CliError> {
        let mut store = Store::open_for(url, &self.app.migrations, access)?;
        store.ensure_migrated(&self.app.migrations)?;
        Ok(store)
    }

    /// `--database-url`, parsed (a pass over many models opens a second connection).
    pub(super) fn url(&self) -> Result<DatabaseUrl, CliError> {
        Ok(DatabaseUrl::parse(self.database_url)?)
    }

    /// Opens the store at `url`.
    pub(super) fn open(&self, url: &DatabaseUrl, migrated: Migrated) -> Result<Store, CliError> {
        let mut store = Store::open(url, &self.app.migrations)?;
        if migrated == Migrated::Required {
            store.ensure_migrated(&self.app.migrations)?;
        }
        Ok(store)
    }

    /// The model called `name`.
    pub(super) fn model(&self, name: &str) -> Result<&'static dyn Model, CliError> {
        Ok(self.registry.get(name)?)
    }

    /// The models called `names` (each once, where first named), or every model when
    /// there are none: `--model M...` / `--all`.
    pub(super) fn named_models(
        &self,
        names: &[String],
    ) -> Result<Vec<&'static dyn Model>, CliError> {
        if names.is_empty() {
            return self.models(None);
        }
        let mut models = names
            .iter()
            .map(|name| self.model(name))
            .collect::<Result<Vec<_>, _>>()?;
        let mut seen = std::collections::BTreeSet::new();
        models.retain(|m| seen.insert(m.contract().name));
        Ok(models)
    }

    /// The model called `name`, or every model.
    pub(super) fn models(&self, name: Option<&str>) -> Result<Vec<&'static dyn Model>, CliError> {
        match name {
            Some(name) => Ok(vec![self.model(name)?]),
            None => Ok(self.registry.iter().collect()),
        }
    }
}
