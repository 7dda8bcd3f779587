//! Every read model linked into the binary, collected at start-up (`inventory`), so that
//! a model declared in any crate appears in `replay list` without being named anywhere.

use std::collections::BTreeMap;
use std::marker::PhantomData;
use std::sync::LazyLock;

use uuid::Uuid;

use crate::checksum::{self, Checksum};
use crate::contract::Contract;
use crate::cutover::{self, CutoverError};
use crate::event::{DecodeError, StoredEvent};
use crate::replay::drive;
use crate::replay::engine::Engine;
use crate::replay::handler_guard;
use crate::replay::pass::{self, Resumed};
use crate::replay::{
    self, CacheShare, Control, Lane, Plan, Progress, ReplayError, RunReport, Share,
};
use crate::rows::{BatchState, Projection, ReadModelRow, Rows};
use crate::store::DatabaseUrl;
use crate::store::{with_conn, Store, StoreError};
use crate::verify::{self, Verification};

/// A registered read model, with the operations the runtime runs on it. Its contract,
/// and what the replay engine needs of it, come with a supertrait that is not public:
/// replay models with [`run_models`].
pub trait Model: Engine {
    /// The canonical checksum of the rows of `version` (of one user's rows with `user`).
    fn checksum(
        &self,
        store: &mut Store,
        version: i32,
        user: Option<Uuid>,
    ) -> Result<Checksum, StoreError>;
    /// Whether `event` decodes as this model reads it (upcasting older schema versions);
    /// `None` when the model does not consume its type. The handler runs against empty
    /// rows whose changes are dropped; a handler that panics there has decoded the event.
    fn decodes(&self, event: &StoredEvent) -> Option<Result<(), DecodeError>>;
    /// Rebuilds the model into a scratch version (reading the log on a second connection
    /// opened from `url`, the database `store` is open on) and compares it with the live
    /// rows.
    fn verify(&self, store: &mut Store, url: &DatabaseUrl) -> Result<Verification, ReplayError>;
    /// Makes `version` the active one; returns the previously active version.
    fn cutover(&self, store: &mut Store, version: i32) -> Result<Option<i32>, CutoverError>;
    /// Deletes an inactive version's rows; returns how many.
    fn drop_version(&self, store: &mut Store, version: i32) -> Result<usize, CutoverError>;
}

/// The bridge from a generated [`Projection`] to the object-safe [`Model`].
pub struct ModelOps<P>(PhantomData<fn() -> P>);

impl<P: Projection> ModelOps<P> {
    /// The value `#[derive(ReadModel)]` registers.
    pub const INSTANCE: Self = ModelOps(PhantomData);
}

impl<P: Projection> Engine for ModelOps<P> {
    fn contract(&self) -> &'static Contract {
        P::CONTRACT
    }
    fn lane(
        &self,
        store: &mut Store,
        plan: &Plan,
        head: i64,
        cache_share: &CacheShare,
    ) -> Result<Box<dyn Lane>, ReplayError> {
        pass::prepare::<P>(store, plan, head, cache_share)
    }
    fn resume(
        &self,
        store: &mut Store,
        plan: &Plan,
        head: i64,
        cache_share: &CacheShare,
        progress: &mut dyn Progress,
    ) -> Result<Resumed, ReplayError> {
        pass::prepare_resumed::<P>(store, plan, head, cache_share, progress)
    }
    fn share_lane(
        &self,
        store: &mut Store,
        plan: &Plan,
        to: i64,
        cache_share: &CacheShare,
        share: Share,
    ) -> Result<Box<dyn Lane>, ReplayError> {
        pass::prepare_share::<P>(store, plan, to, cache_share, share)
    }
    fn run_alone(
        &self,
        store: &mut Store,
        plan: &Plan,
        progress: &mut dyn Progress,
    ) -> Result<RunReport, ReplayError> {
        with_conn!(store, |c| replay::scoped::run::<P, _>(c, plan, progress))
    }
}

impl<P: Projection> Model for ModelOps<P> {
    fn checksum(
        &self,
        store: &mut Store,
        version: i32,
        user: Option<Uuid>,
    ) -> Result<Checksum, StoreError> {
        with_conn!(store, |c| checksum::of_rows::<P::Row, _>(
            c,
            P::CONTRACT,
            version,
            user
        ))
    }
    fn decodes(&self, event: &StoredEvent) -> Option<Result<(), DecodeError>> {
        if !P::CONTRACT
            .consumed_events
            .contains(&event.event_type.as_str())
        {
            return None;
        }
        let mut scratch = BatchState::<P::Row>::default();
        let mut nothing = |_: &<P::Row as ReadModelRow>::Key| Ok(None);
        let applied =
            handler_guard::catch(|| P::apply(event, &mut Rows::new(&mut scratch, &mut nothing)));
        // Decoding comes before the handler: a panic is the handler's, after a decode.
        Some(applied.unwrap_or(Ok(())))
    }
    fn verify(&self, store: &mut Store, url: &DatabaseUrl) -> Result<Verification, ReplayError> {
        verify::verify::<P>(store, url)
    }
    fn cutover(&self, store: &mut Store, version: i32) -> Result<Option<i32>, CutoverError> {
        with_conn!(store, |c| cutover::cutover(c, P::CONTRACT, version))
    }
    fn drop_version(&self, store: &mut Store, version: i32) -> Result<usize, CutoverError> {
        with_conn!(store, |c| cutover::drop_version(c, P::CONTRACT, version))
    }
}

/// Replays `models` according to `plan`: runs of whole models (a catch-up, `--full`,
/// `--resume`) in one pass over the log, each model from its own checkpoint; runs of one
/// user (`plan.user`) or one range (`plan.from`) model by model, each all or nothing.
/// `url` names the database `store` is open on (the pass reads the log on a second
/// connection). Stops at the first failure: the failed run is recorded, and every
/// model's rows and checkpoint are left at its last flush.
///
/// ```no_run
/// use readmodel_runtime::replay::NoProgress;
/// use readmodel_runtime::{run_models, DatabaseUrl, Migrations, Plan, Registry, Store};
///
/// fn rebuild_all(migrations: &Migrations) -> Result<(), Box<dyn std::error::Error>> {
///     let url = DatabaseUrl::parse("app.db")?;
///     let mut store = Store::open(&url, migrations)?;
///     let models: Vec<_> = Registry::global()?.iter().collect();
///     let plan = Plan { full: true, ..Plan::default() };
///     for report in run_models(&mut store, &url, &models, &plan, &mut NoProgress)? {
///         println!("{} v{}: {} events", report.model, report.version, report.events_read);
///     }
///     Ok(())
/// }
/// ```
pub fn run_models(
    store: &mut Store,
    url: &DatabaseUrl,
    models: &[&dyn Model],
    plan: &Plan,
    progress: &mut dyn Progress,
) -> Result<Vec<RunReport>, ReplayError> {
    run_models_with(store, url, models, plan, &mut Control::default(), progress)
}

/// [`run_models`], steered by `control`: stopped by its stop flag (every run recorded
/// `stopped` after what was applied is written), following the log when it has a
/// watcher (see [`Control`]).
pub fn run_models_with(
    store: &mut Store,
    url: &DatabaseUrl,
    models: &[&dyn Model],
    plan: &Plan,
    control: &mut Control,
    progress: &mut dyn Progress,
) -> Result<Vec<RunReport>, ReplayError> {
    let engines: Vec<&dyn Engine> = models.iter().map(|m| *m as &dyn Engine).collect();
    drive::run_models(store, url, &engines, plan, control, progress)
}

/// Errors of the registry.
#[derive(Debug, Clone, thiserror::Error)]
pub enum RegistryError {
    /// The binary links no read model.
    #[error("no read model is registered in this binary: declare models with #[derive(ReadModel)] in a crate the binary links, and name that crate in `readmodel_runtime::replay_main!(your_crate)`")]
    Empty,
    /// Two models were registered under one name.
    #[error("read model name {name:?} is registered twice (tables {first} and {second}); model names must be unique")]
    DuplicateName {
        /// The name.
        name: &'static str,
        /// The first model's table.
        first: String,
        /// The second model's table.
        second: String,
    },
    /// Two models were declared on one table.
    #[error("read models {first:?} and {second:?} both use table {table}; each model needs its own table")]
    SharedTable {
        /// The table.
        table: String,
        /// The first model.
        first: &'static str,
        /// The second model.
        second: &'static str,
    },
}

/// One entry of the registry; submitted by `#[derive(ReadModel)]`.
pub struct Registration {
    /// The model.
    pub model: &'static dyn Model,
}

inventory::collect!(Registration);

/// The read models of this binary, by name.
pub struct Registry {
    models: BTreeMap<&'static str, &'static dyn Model>,
}

static GLOBAL: LazyLock<Result<Registry, RegistryError>> =
    LazyLock::new(|| Registry::new(inventory::iter::<Registration>.into_iter().map(|r| r.model)));

impl Registry {
    /// The models linked into this binary. Fails when two share a name.
    pub fn global() -> Result<&'static Registry, RegistryError> {
        GLOBAL.as_ref().map_err(Clone::clone)
    }

    /// A registry of the given models. Fails when two share a name.
    pub fn new(
        models: impl IntoIterator<Item = &'static dyn Model>,
    ) -> Result<Self, RegistryError> {
        let mut by_name: BTreeMap<&'static str, &'static dyn Model> = BTreeMap::new();
        let mut by_table: BTreeMap<String, &'static str> = BTreeMap::new();
        for model in models {
            let contract = model.contract();
            // A full rebuild deletes the version's rows of its table: two models sharing a
            // table would wipe each other's rows.
            if let Some(first) = by_table.insert(contract.qualified_table(), contract.name) {
                return Err(RegistryError::SharedTable {
                    table: contract.qualified_table(),
                    first,
                    second: contract.name,
                });
            }
            if let Some(first) = by_name.insert(contract.name, model) {
                return Err(RegistryError::DuplicateName {
                    name: contract.name,
                    first: first.contract().qualified_table(),
                    second: contract.qualified_table(),
                });
            }
        }
        Ok(Self { models: by_name })
    }

    /// All models, by name.
    pub fn iter(&self) -> impl Iterator<Item = &'static dyn Model> + '_ {
        self.models.values().copied()
    }

    /// The models of one domain, by name.
    pub fn by_domain<'a>(
        &'a self,
        domain: &'a str,
    ) -> impl Iterator<Item = &'static dyn Model> + 'a {
        self.iter().filter(move |m| m.contract().domain == domain)
    }

    /// The event types the binary's code declares: those of every
    /// `#[derive(DomainEvent)]` it links and those its models consume.
    pub fn declared_event_types(&self) -> std::collections::BTreeSet<&'static str> {
        let consumed = self
            .iter()
            .flat_map(|m| m.contract().consumed_events.iter().copied());
        crate::event::declared_event_types()
            .chain(consumed)
            .collect()
    }

    /// Whether `event` decodes for every model consuming its type (the first failure);
    /// `None` when no model consumes it.
    pub fn decodes(&self, event: &StoredEvent) -> Option<Result<(), DecodeError>> {
        let mut verdict = None;
        for model in self.iter() {
            match model.decodes(event) {
                Some(Err(error)) => return Some(Err(error)),
                Some(Ok(())) => verdict = Some(Ok(())),
                None => {}
            }
        }
        verdict
    }

    /// The model called `name`, or an error listing the known names.
    pub fn get(&self, name: &str) -> Result<&'static dyn Model, ReplayError> {
        self.models
            .get(name)
            .copied()
            .ok_or_else(|| ReplayError::UnknownModel {
                name: name.to_owned(),
                known: self.models.keys().copied().collect::<Vec<_>>().join(", "),
            })
    }

    /// This registry, or [`RegistryError::Empty`] when it has no model: a binary that
    /// links none cannot list, run or report on anything, and must not look as if it did.
    pub fn require_models(&self) -> Result<&Self, RegistryError> {
        if self.models.is_empty() {
            Err(RegistryError::Empty)
        } else {
            Ok(self)
        }
    }

    /// How many models are registered.
    pub fn len(&self) -> usize {
        self.models.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.models.is_empty()
    }
}
