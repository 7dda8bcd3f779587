//! A lane's share of a flush: what it applied since the last one, owned, so that the
//! writing thread can write it while the applying thread goes on.

use super::super::error::ReplayError;
use super::super::write::{end_batch, BatchEnd, RowWrites};
use crate::event::StoredEvent;
use crate::ledger::{self, Scope};
use crate::rows::ReadModelRow;
use crate::store::Conn;

/// A lane's share of a flush, owned, for the writing thread.
pub(super) struct FlushJob<R: ReadModelRow> {
    pub(super) writes: RowWrites<R>,
    pub(super) parked: Vec<(StoredEvent, String)>,
    /// The checkpoint committed last, the one to commit, and the events between.
    pub(super) end: BatchEnd,
    /// A worker's partition count, when the model is split.
    pub(super) partitions: Option<u32>,
    /// The lane reached its bound: readers may use the version once the whole model has
    /// (a split model's own checkpoint follows its slowest partition).
    pub(super) activate: bool,
    /// ...and then becomes the version readers use unless the active one is further
    /// (`--cutover-when-caught-up`).
    pub(super) cutover: bool,
}

impl<R: ReadModelRow> FlushJob<R> {
    /// Writes the rows, parked events, checkpoint and counters in the caller's transaction.
    pub(super) fn write<C: Conn>(self, conn: &mut C) -> Result<(), ReplayError> {
        let contract = self.writes.contract();
        let version = self.writes.version();
        self.writes.write(conn)?;
        end_batch(conn, contract, version, &self.end, &self.parked)?;
        let mut built = self.activate;
        if let Some(of) = self.partitions {
            ledger::raise_to_partitions(conn, contract.name, version, of)?;
            built = built
                && ledger::checkpoint(conn, contract.name, version, Scope::All)?
                    .is_some_and(|at| at >= self.end.to);
        }
        if built && self.cutover {
            crate::versions::switch_when_caught_up(conn, contract.name, version)?;
        } else if built {
            crate::versions::activate_if_none(conn, contract.name, version)?;
        }
        Ok(())
    }
}
