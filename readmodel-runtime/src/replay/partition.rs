//! Partitions: how a model whose every row belongs to one user is split between workers.
//!
//! A user's partition is the first 8 bytes of the SHA-256 of the user id's 16 bytes, read
//! as a big-endian `u64`, modulo the number of partitions. The function is stable across
//! processes, machines and releases (it is part of the stored checkpoints' meaning), and
//! PostgreSQL computes the same value from the stored UUID (see [`sql_expression`]).
//!
//! A partition applies its users' events in log order, so each row still sees its events
//! in order; rows of different partitions never share an event. Only models whose rows
//! carry `user_id` and that may be rebuilt by user (`rebuild = "partial"`) are split: the
//! same promise that makes a by-user rebuild correct (a handler writes only its event's
//! user's rows) makes a partition's result independent of the others. Any other model is
//! one partition.

use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::error::ReplayError;
use super::plan::Execution;
use crate::contract::{Contract, RebuildStrategy};
use crate::ledger;
pub use crate::source::partition_sql;
use crate::store::rows::RowSet;
use crate::store::Conn;

/// Partitions of a partitionable model unless the operator says otherwise.
pub const DEFAULT_PARTITIONS: u32 = 16;

/// The partition, `0..of`, of `user`'s rows and events.
pub fn partition_of(user: Uuid, of: u32) -> u32 {
    let digest = Sha256::digest(user.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    (u64::from_be_bytes(first) % u64::from(of.max(1))) as u32
}

/// Whether `contract`'s model can be split by user: its rows carry `user_id` and it may be
/// rebuilt by user.
pub fn is_partitionable(contract: &Contract) -> bool {
    contract.rebuild_strategy == RebuildStrategy::Partial && contract.has_user_column()
}

/// How many partitions `contract`'s model is split into when the operator asks for
/// `wanted`: `wanted` for a partitionable model, else 1.
pub fn partitions_of(contract: &Contract, wanted: u32) -> u32 {
    if is_partitionable(contract) {
        wanted.max(1)
    } else {
        1
    }
}

/// A PostgreSQL expression computing [`partition_of`] for the UUID column `column` with
/// `of` partitions (`of` is a number, never user input): the same bytes, hashed by the
/// server.
pub fn sql_expression(column: &str, of: u32) -> String {
    let bytes = (0..8)
        .map(|i| format!("(get_byte(h, {i})::numeric * {})", 256u128.pow(7 - i)))
        .collect::<Vec<_>>()
        .join(" + ");
    format!("(SELECT (({bytes}) % {of})::int FROM (SELECT sha256(uuid_send({column})) AS h) AS d)")
}

/// Refuses a run of the whole model (or of a user's or a range's rows) from the model's
/// checkpoint `global` while workers' partitions are ahead of it: their rows already fold
/// later events, which the run would apply again. A full rebuild starts afresh and is
/// allowed.
pub(crate) fn refuse_if_workers_ahead<C: Conn>(
    conn: &mut C,
    contract: &'static Contract,
    version: i32,
    global: Option<i64>,
    execution: &Execution,
) -> Result<(), ReplayError> {
    if execution.delete == Some(RowSet::WholeVersion) {
        return Ok(());
    }
    let checkpoint = global.unwrap_or_else(|| contract.start_after());
    match ledger::furthest_partition(conn, contract.name, version)? {
        Some(partitions) if partitions > checkpoint => Err(ReplayError::WorkersAhead {
            model: contract.name,
            partitions,
            checkpoint,
        }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_users_partition_is_the_documented_hash() {
        // sha256 of the 16 zero bytes starts 374708fff7719dd5 (`head -c16 /dev/zero |
        // sha256sum`); that number mod 16 is 5, mod 10 is 9.
        assert_eq!(0x3747_08ff_f771_9dd5u64 % 16, 5);
        assert_eq!(partition_of(Uuid::nil(), 16), 5);
        assert_eq!(partition_of(Uuid::nil(), 10), 9);
        assert_eq!(partition_of(Uuid::nil(), 1), 0);
    }

    #[test]
    fn users_spread_over_every_partition() {
        let mut seen = [0u32; 16];
        for n in 0..1_000u128 {
            seen[partition_of(Uuid::from_u128(n), 16) as usize] += 1;
        }
        assert!(seen.iter().all(|&count| count > 30), "{seen:?}");
    }
}
