//! A lane's share of a flush: what it applied since the last one, owned, so that the
//! writing thread can write it while the applying thread goes on.

use super::super::write::RowWrites;
use super::super::ReplayError;
use crate::dead_letters;
use crate::event::StoredEvent;
use crate::ledger::{self, Advance, Scope};
use crate::rows::ReadModelRow;
use crate::store::Conn;

/// A lane's share of a flush, owned, for the writing thread.
pub(super) struct FlushJob<R: ReadModelRow> {
    pub(super) writes: RowWrites<R>,
    pub(super) parked: Vec<(StoredEvent, String)>,
    pub(super) version: i32,
    pub(super) scope: Scope,
    /// The checkpoint committed last, and the one to commit.
    pub(super) flushed: i64,
    pub(super) applied: i64,
    /// A worker's partition count, when the model is split.
    pub(super) partitions: Option<u32>,
    pub(super) run_id: i64,
    pub(super) events: i64,
    pub(super) activate: bool,
}

impl<R: ReadModelRow> FlushJob<R> {
    /// Writes the rows, parked events, checkpoint and counters in the caller's transaction.
    pub(super) fn write<C: Conn>(self, conn: &mut C) -> Result<(), ReplayError> {
        let contract = self.writes.contract();
        let version = self.version;
        self.writes.write(conn)?;
        for (event, reason) in &self.parked {
            dead_letters::park(conn, contract.name, version, event, reason)?;
        }
        let advance = ledger::advance_checkpoint(
            conn,
            contract.name,
            version,
            self.scope,
            self.flushed,
            self.applied,
        )?;
        if let Advance::Concurrent { found } = advance {
            return Err(ReplayError::ConcurrentRun {
                model: contract.name,
                expected: self.flushed,
                found,
            });
        }
        if let Some(of) = self.partitions {
            ledger::raise_to_partitions(conn, contract.name, version, of)?;
        }
        let parked = self.parked.len() as i64;
        ledger::count_batch(conn, self.run_id, self.events, self.events - parked)?;
        if self.activate {
            crate::versions::activate_if_none(conn, contract.name, version)?;
        }
        Ok(())
    }
}
