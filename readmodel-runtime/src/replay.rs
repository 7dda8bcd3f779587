//! The replay engine: events in global id order, through the model's handlers, into its
//! table, one transaction per batch holding the rows and the checkpoint together.

use std::time::{Duration, Instant};

use crate::checksum;
use crate::contract::Contract;
use crate::error::{ReplayError, StoreError};
use crate::ledger::{self, NewRun};
use crate::rows::{BatchState, Loaded, Projection, ReadModelRow, Rows};
use crate::source;
use crate::store::{Conn, Statement};

/// What a run does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Delete the version's rows and replay from `replay_start_version`; otherwise catch up
    /// from the checkpoint.
    pub full: bool,
    /// Last event id to apply; the log's head when the run starts if `None`.
    pub to: Option<i64>,
    /// Events per batch (and per transaction).
    pub batch_size: usize,
}

impl Default for Plan {
    fn default() -> Self {
        Self {
            full: false,
            to: None,
            batch_size: 5_000,
        }
    }
}

/// How a run went.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RunReport {
    /// Model name.
    pub model: &'static str,
    /// Model version written.
    pub version: i32,
    /// Id in `replay_runs`.
    pub run_id: i64,
    /// Whether the rows were deleted first.
    pub full: bool,
    /// First event id considered.
    pub from: i64,
    /// Last event id considered.
    pub to: i64,
    /// Events read from the log (of consumed types).
    pub events_read: u64,
    /// Rows written or deleted.
    pub rows_written: u64,
    /// Wall time.
    #[serde(serialize_with = "seconds")]
    pub elapsed: Duration,
    /// Checksum of the version's rows after the run.
    pub checksum: String,
}

fn seconds<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

impl RunReport {
    /// Events read per second.
    pub fn events_per_second(&self) -> f64 {
        self.events_read as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Receives progress after each committed batch.
pub trait Progress {
    /// `last_id` of `to` is applied; `events` read so far in this run.
    fn batch(&mut self, model: &str, last_id: i64, to: i64, events: u64);
}

/// Progress that goes nowhere.
#[derive(Debug, Default)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn batch(&mut self, _: &str, _: i64, _: i64, _: u64) {}
}

/// Runs `plan` for projection `P` on one connection.
pub(crate) fn run<P: Projection, C: Conn>(
    conn: &mut C,
    plan: &Plan,
    progress: &mut dyn Progress,
) -> Result<RunReport, ReplayError> {
    let started = Instant::now();
    let contract = P::CONTRACT;
    let head = crate::store::scalar_i64(
        conn,
        "SELECT COALESCE(MAX(id), 0) AS value FROM event_record",
    )?;
    let to = plan.to.map_or(head, |to| to.min(head));
    let start_after = contract.replay_start_version.saturating_sub(1).max(0);
    if plan.full {
        conn.transaction::<_, StoreError, _>(|c| {
            delete_version(c, contract)?;
            ledger::save_checkpoint(c, contract, contract.version, start_after)
        })?;
    }
    let checkpoint = ledger::checkpoint(conn, contract, contract.version)?;
    let mut after = checkpoint.unwrap_or(start_after).max(start_after);
    let run_id = ledger::start_run(
        conn,
        &NewRun {
            contract,
            full: plan.full,
            from: after + 1,
            to,
        },
    )?;
    let from = after + 1;
    let mut events_read = 0u64;
    let mut rows_written = 0u64;
    let outcome = (|| -> Result<String, ReplayError> {
        while after < to {
            let batch = conn.transaction::<_, ReplayError, _>(|c| {
                apply_batch::<P, C>(c, run_id, after, to, plan.batch_size.max(1))
            })?;
            let Some(batch) = batch else { break };
            after = batch.last_id;
            events_read += batch.events;
            rows_written += batch.rows;
            progress.batch(contract.name, after, to, events_read);
        }
        if after < to {
            // The tail of the log holds no event this model consumes.
            ledger::save_checkpoint(conn, contract, contract.version, to)?;
        }
        Ok(checksum::of_rows::<P::Row, C>(conn, contract, contract.version)?.digest)
    })();
    let finished = match &outcome {
        Ok(checksum) => ledger::finish_run(conn, run_id, Ok(checksum)),
        Err(error) => ledger::finish_run(conn, run_id, Err(&error.to_string())),
    };
    let checksum = outcome?;
    finished?;
    Ok(RunReport {
        model: contract.name,
        version: contract.version,
        run_id,
        full: plan.full,
        from,
        to,
        events_read,
        rows_written,
        elapsed: started.elapsed(),
        checksum,
    })
}

struct BatchDone {
    last_id: i64,
    events: u64,
    rows: u64,
}

fn apply_batch<P: Projection, C: Conn>(
    conn: &mut C,
    run_id: i64,
    after: i64,
    to: i64,
    batch_size: usize,
) -> Result<Option<BatchDone>, ReplayError> {
    let contract = P::CONTRACT;
    let events = source::next_batch(conn, contract, after, to, batch_size)?;
    let Some(last) = events.last() else {
        return Ok(None);
    };
    let last_id = last.id;
    let mut state = BatchState::<P::Row>::default();
    {
        let mut load =
            |key: &<P::Row as ReadModelRow>::Key| load_row::<P::Row, C>(conn, contract, key);
        let mut previous = after;
        for event in &events {
            if event.id <= previous {
                return Err(ReplayError::OutOfOrder {
                    model: contract.name,
                    id: event.id,
                    previous,
                });
            }
            previous = event.id;
            let mut rows = Rows::new(&mut state, &mut load);
            P::apply(event, &mut rows).map_err(|source| ReplayError::Decode {
                model: contract.name,
                source,
            })?;
            if let Some(failure) = state.failure.take() {
                return Err(failure.into());
            }
        }
    }
    let rows = write_rows::<P::Row, C>(conn, contract, state)?;
    ledger::save_checkpoint(conn, contract, contract.version, last_id)?;
    let count = events.len() as i64;
    ledger::count_batch(conn, run_id, count, count)?;
    Ok(Some(BatchDone {
        last_id,
        events: events.len() as u64,
        rows,
    }))
}

/// Key columns without `model_version`, in key order.
pub(crate) fn entity_key(contract: &Contract) -> Vec<&'static str> {
    contract
        .idempotency_key
        .iter()
        .copied()
        .filter(|c| *c != "model_version")
        .collect()
}

fn column_list(contract: &Contract) -> String {
    contract
        .columns
        .iter()
        .map(|c| c.name)
        .collect::<Vec<_>>()
        .join(", ")
}

fn load_row<R: ReadModelRow, C: Conn>(
    conn: &mut C,
    contract: &Contract,
    key: &R::Key,
) -> Result<Option<R>, StoreError> {
    let stmt = Statement::<C::Db>::new(&format!(
        "SELECT {} FROM {} WHERE model_version = ",
        column_list(contract),
        contract.qualified_table()
    ))
    .bind(&contract.version)
    .sql(" AND ")
    .bind_equal(&entity_key(contract), |q| R::bind_key(key, q));
    let rows: Vec<Loaded<R>> = conn.fetch(stmt).map_err(StoreError::query(format!(
        "loading a row of {} ({key:?})",
        contract.name
    )))?;
    Ok(rows.into_iter().next().map(|l| l.0))
}

/// Writes a batch's changed rows: deletes, then multi-row upserts sized to the bind limit.
fn write_rows<R: ReadModelRow, C: Conn>(
    conn: &mut C,
    contract: &Contract,
    state: BatchState<R>,
) -> Result<u64, StoreError> {
    let mut upserts = Vec::new();
    let mut written = 0u64;
    for (key, slot) in state.slots {
        if !slot.dirty {
            continue;
        }
        match slot.row {
            Some(mut row) => {
                row.set_model_version(contract.version);
                upserts.push(row);
            }
            None => {
                let stmt = Statement::<C::Db>::new(&format!(
                    "DELETE FROM {} WHERE model_version = ",
                    contract.qualified_table()
                ))
                .bind(&contract.version)
                .sql(" AND ")
                .bind_equal(&entity_key(contract), |q| R::bind_key(&key, q));
                conn.run(stmt).map_err(StoreError::query(format!(
                    "deleting a row of {}",
                    contract.name
                )))?;
                written += 1;
            }
        }
    }
    let columns = contract.columns.len();
    let per_statement = (conn.max_binds() / columns).clamp(1, 5_000);
    let update: Vec<String> = contract
        .columns
        .iter()
        .filter(|c| !contract.idempotency_key.contains(&c.name))
        .map(|c| format!("{0} = excluded.{0}", c.name))
        .collect();
    let on_conflict = if update.is_empty() {
        format!(
            " ON CONFLICT ({}) DO NOTHING",
            contract.idempotency_key.join(", ")
        )
    } else {
        format!(
            " ON CONFLICT ({}) DO UPDATE SET {}",
            contract.idempotency_key.join(", "),
            update.join(", ")
        )
    };
    let insert = format!(
        "INSERT INTO {} ({}) VALUES ",
        contract.qualified_table(),
        column_list(contract)
    );
    for chunk in upserts.chunks(per_statement) {
        let mut stmt = Statement::<C::Db>::new(&insert);
        for (i, row) in chunk.iter().enumerate() {
            stmt = stmt
                .sql(if i == 0 { "(" } else { ", (" })
                .bind_many(columns, |q| row.bind_columns(q))
                .sql(")");
        }
        stmt = stmt.sql(&on_conflict);
        conn.run(stmt).map_err(StoreError::query(format!(
            "writing rows of {}",
            contract.name
        )))?;
        written += chunk.len() as u64;
    }
    Ok(written)
}

/// Deletes every row of the contract's version.
pub(crate) fn delete_version<C: Conn>(
    conn: &mut C,
    contract: &Contract,
) -> Result<usize, StoreError> {
    let stmt = Statement::<C::Db>::new(&format!(
        "DELETE FROM {} WHERE model_version = ",
        contract.qualified_table()
    ))
    .bind(&contract.version);
    conn.run(stmt).map_err(StoreError::query(format!(
        "deleting the rows of {} version {}",
        contract.name, contract.version
    )))
}
