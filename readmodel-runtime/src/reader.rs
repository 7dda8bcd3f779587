//! Reading a model from an application: which version readers use, how far the model has
//! applied the log, and a bounded wait for read-your-writes. `#[derive(ReadModel)]` puts
//! these behind the model's own associated functions (`HabitStreak::active(&mut conn)?`,
//! `HabitStreak::checkpoint`, `HabitStreak::wait_until_applied`).
//!
//! The connection is a [`Store`] opened with [`Store::open`] (either backend, one type),
//! or the connection the model's tables live on: a `PgConnection`, or a
//! `SqliteConnection` with the read-model database ATTACHed as `readmodels`.

use std::time::{Duration, Instant};

use diesel::pg::PgConnection;
use diesel::sqlite::SqliteConnection;

use crate::contract::Contract;
use crate::store::{with_conn, Store, StoreError};
use crate::{ledger, versions};

/// A connection a model can be read from: a [`Store`], PostgreSQL, or SQLite with
/// `readmodels` attached.
pub trait ReadConnection: diesel::Connection + sealed::Sealed {
    #[doc(hidden)]
    fn active_version_of(&mut self, model: &str) -> Result<Option<i32>, StoreError>;
    #[doc(hidden)]
    fn checkpoint_of(&mut self, model: &str, version: i32) -> Result<Option<i64>, StoreError>;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for diesel::pg::PgConnection {}
    impl Sealed for diesel::sqlite::SqliteConnection {}
    impl Sealed for crate::store::Store {}
}

macro_rules! read_connection {
    ($conn:ty) => {
        impl ReadConnection for $conn {
            fn active_version_of(&mut self, model: &str) -> Result<Option<i32>, StoreError> {
                versions::active(self, model)
            }
            fn checkpoint_of(
                &mut self,
                model: &str,
                version: i32,
            ) -> Result<Option<i64>, StoreError> {
                ledger::checkpoint(self, model, version, ledger::Scope::All)
            }
        }
    };
}

read_connection!(PgConnection);
read_connection!(SqliteConnection);

impl ReadConnection for Store {
    fn active_version_of(&mut self, model: &str) -> Result<Option<i32>, StoreError> {
        with_conn!(self, |c| c.active_version_of(model))
    }
    fn checkpoint_of(&mut self, model: &str, version: i32) -> Result<Option<i64>, StoreError> {
        with_conn!(self, |c| c.checkpoint_of(model, version))
    }
}

/// Why a read failed.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The database could not be read.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A query of the model's rows failed (`Model::active(conn)?.load(conn)?`).
    #[error("reading rows failed: {0}")]
    Query(#[from] diesel::result::Error),
    /// The model had not applied the event when the wait ended.
    #[error("read model {model} has not applied event {event_id} after {waited:?} (it has applied up to {applied})")]
    NotYetApplied {
        /// The model.
        model: &'static str,
        /// The event waited for.
        event_id: i64,
        /// The model's checkpoint when the wait ended (0: nothing applied).
        applied: i64,
        /// How long it waited.
        waited: Duration,
    },
}

/// The version readers use: the one made active by the first complete run or a cutover,
/// or the declared version when none was recorded yet.
pub fn active_version<C: ReadConnection>(
    conn: &mut C,
    contract: &'static Contract,
) -> Result<i32, StoreError> {
    Ok(conn
        .active_version_of(contract.name)?
        .unwrap_or(contract.version))
}

/// The last event id the active version's rows reflect (`None`: never run).
pub fn checkpoint<C: ReadConnection>(
    conn: &mut C,
    contract: &'static Contract,
) -> Result<Option<i64>, StoreError> {
    let version = active_version(conn, contract)?;
    conn.checkpoint_of(contract.name, version)
}

/// How often [`wait_until_applied`] looks at the checkpoint.
const POLL: Duration = Duration::from_millis(20);

/// Waits, at most `timeout`, until the active version has applied event `event_id`
/// (its checkpoint is at or past it); returns the checkpoint.
pub fn wait_until_applied<C: ReadConnection>(
    conn: &mut C,
    contract: &'static Contract,
    event_id: i64,
    timeout: Duration,
) -> Result<i64, ReadError> {
    let started = Instant::now();
    loop {
        let applied = checkpoint(conn, contract)?.unwrap_or(0);
        if applied >= event_id {
            return Ok(applied);
        }
        let waited = started.elapsed();
        if waited >= timeout {
            return Err(ReadError::NotYetApplied {
                model: contract.name,
                event_id,
                applied,
                waited,
            });
        }
        std::thread::sleep(POLL.min(timeout - waited));
    }
}
