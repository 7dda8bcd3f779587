//! PostgreSQL: the event log in the connection's search path, read models in schema
//! `readmodels`.

use diesel::{Connection, PgConnection, RunQueryDsl};

use super::error::StoreError;
use super::url::{redact, scrub};
use super::Upkeep;
use crate::pause::{pause_at, Point};

pub(super) fn open(raw: &str) -> Result<PgConnection, StoreError> {
    let mut conn = PgConnection::establish(raw).map_err(|e| StoreError::Connect {
        target: redact(raw),
        reason: scrub(raw, &e.to_string().trim().replace('\n', " ")),
    })?;
    diesel::sql_query("SET client_min_messages = warning")
        .execute(&mut conn)
        .map_err(StoreError::query("configuring the session"))?;
    Ok(conn)
}

/// Makes the session read-only: a command that only reads cannot write, whatever it runs.
pub(super) fn read_only(conn: &mut PgConnection) -> Result<(), StoreError> {
    diesel::sql_query("SET default_transaction_read_only = on")
        .execute(conn)
        .map(|_| ())
        .map_err(StoreError::query("making the session read-only"))
}

/// Events one append must reach for the log to be vacuumed after it.
const VACUUM_AFTER_EVENTS: usize = 100_000;

/// After an append of at least [`VACUUM_AFTER_EVENTS`] events (an import, `generate`),
/// `VACUUM (ANALYZE)` the log, once its transaction has committed (VACUUM cannot run in
/// one). Otherwise the first reader of the new rows, usually a full replay, sets every
/// page's hint bits as it goes, and the planner lacks their statistics until autovacuum
/// comes by: `run --all --full` over a 1M-event log generated just before took 44 s
/// (22.6k log events/s) without the VACUUM and 9.6–9.9 s with it, as fast as over a log
/// read before. The append has committed by then, so a failed VACUUM is a warning, not the
/// append's error; a stop asked for after the commit skips it.
pub(super) fn after_bulk_append(
    conn: &mut PgConnection,
    appended: usize,
    skip: &dyn Fn() -> bool,
) -> Upkeep {
    if appended < VACUUM_AFTER_EVENTS {
        return Upkeep::Done;
    }
    if skip() {
        return Upkeep::Skipped;
    }
    let sql = "VACUUM (ANALYZE) event_record";
    match diesel::sql_query(sql).execute(conn) {
        Ok(_) => Upkeep::Done,
        Err(source) => Upkeep::Failed(StoreError::Query {
            context: sql.to_owned(),
            source,
        }),
    }
}

/// How long a run waits, by default, for transactions that may still commit events below
/// the head.
const SETTLE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// The environment variable overriding [`SETTLE_TIMEOUT`], in whole seconds (operators
/// with slow batch writers raise it; tests lower it).
pub(crate) const SETTLE_TIMEOUT_VAR: &str = "READMODEL_SETTLE_TIMEOUT_SECS";

/// [`SETTLE_TIMEOUT`], or the seconds in [`SETTLE_TIMEOUT_VAR`].
fn settle_timeout() -> Result<std::time::Duration, StoreError> {
    match std::env::var(SETTLE_TIMEOUT_VAR) {
        Err(_) => Ok(SETTLE_TIMEOUT),
        Ok(text) => text
            .trim()
            .parse::<u64>()
            .map(std::time::Duration::from_secs)
            .map_err(|_| StoreError::BadSetting {
                name: SETTLE_TIMEOUT_VAR,
                value: text,
                expected: "a whole number of seconds",
            }),
    }
}

/// The shared advisory lock (two keys) that every transaction appending to the log holds
/// from before it takes its first event id until it ends (`readmodels.next_event_id()`,
/// migration `settle_by_writers`).
const WRITERS_LOCK: (i64, i64) = (1_380_270_404, 1_297_040_460);

/// The highest event id below which no event can still appear.
///
/// Concurrent writers can commit ids out of order: id 10 may commit after id 11, and a
/// reader that checkpointed 11 would skip 10 forever. Every id comes from
/// `readmodels.next_event_id()`, which takes the shared lock [`WRITERS_LOCK`] *before* it
/// takes an id, and the transaction holds it until it has committed or aborted. So: read
/// the sequence's last allocated id `L`, *then* the transactions holding the lock, and
/// wait until each of those has ended. A transaction that took an id `<= L` took it, and
/// the lock before it, before `L` was read: it is among those waited for, or had ended
/// already. Every id `<= L` is then final. Read in the other order, a writer that takes
/// the lock and an id between the two reads is neither seen nor below the old value.
///
/// Only writers of the log are waited for: a worker paused inside a flush, a read-model
/// transaction or a long transaction of the application that appends no event hold
/// nothing back. Must be called outside a transaction that appends to the log.
pub(super) fn settled_head(conn: &mut PgConnection) -> Result<i64, StoreError> {
    let allocated = value(
        conn,
        "SELECT COALESCE(pg_sequence_last_value(pg_get_serial_sequence('event_record', 'id')::regclass), \
         (SELECT MAX(id) FROM event_record), 0) AS value",
    )?;
    pause_at(Point::SettledHeadReads);
    let writers: Vec<String> = writing(conn, None)?
        .into_iter()
        .map(|w| w.transaction)
        .collect();
    wait_for(conn, writers, allocated)?;
    Ok(allocated)
}

/// Waits until none of the `writers` (virtual transaction ids) is running, at most the
/// settle timeout.
fn wait_for(
    conn: &mut PgConnection,
    mut writers: Vec<String>,
    head: i64,
) -> Result<(), StoreError> {
    let timeout = settle_timeout()?;
    let started = std::time::Instant::now();
    let mut pause = std::time::Duration::from_millis(2);
    while !writers.is_empty() {
        let running = writing(conn, Some(&writers))?;
        let Some(oldest) = running.first() else {
            return Ok(());
        };
        pause_at(Point::SettleWait);
        if started.elapsed() > timeout {
            return Err(StoreError::Unsettled {
                waited: started.elapsed().as_secs(),
                head,
                transactions: running.len(),
                oldest_pid: oldest.pid,
                oldest_seconds: oldest.open_seconds,
            });
        }
        writers = running.into_iter().map(|w| w.transaction).collect();
        std::thread::sleep(pause);
        pause = (pause * 2).min(std::time::Duration::from_millis(50));
    }
    Ok(())
}

/// A transaction holding [`WRITERS_LOCK`].
#[derive(diesel::QueryableByName)]
struct Writer {
    /// Its virtual transaction id (unique while it runs, never reused by the next).
    #[diesel(sql_type = diesel::sql_types::Text)]
    transaction: String,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    pid: i32,
    /// Seconds since it began (0 when `pg_stat_activity` does not show it to this role).
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    open_seconds: i64,
}

/// The transactions of other sessions holding [`WRITERS_LOCK`] (among `among`, when
/// given), oldest first.
fn writing(conn: &mut PgConnection, among: Option<&[String]>) -> Result<Vec<Writer>, StoreError> {
    use diesel::sql_types::{Array, Nullable, Text};
    let sql = format!(
        "SELECT l.virtualtransaction AS transaction, l.pid, \
         COALESCE(EXTRACT(EPOCH FROM clock_timestamp() - a.xact_start)::bigint, 0) AS open_seconds \
         FROM pg_locks AS l LEFT JOIN pg_stat_activity AS a ON a.pid = l.pid \
         WHERE l.locktype = 'advisory' AND l.classid = {} AND l.objid = {} AND l.objsubid = 2 \
         AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) \
         AND l.pid <> pg_backend_pid() \
         AND ($1 IS NULL OR l.virtualtransaction = ANY($1)) \
         ORDER BY a.xact_start NULLS LAST",
        WRITERS_LOCK.0, WRITERS_LOCK.1
    );
    diesel::sql_query(sql)
        .bind::<Nullable<Array<Text>>, _>(among.map(<[String]>::to_vec))
        .load(conn)
        .map_err(StoreError::query(
            "establishing the settled head of event_record",
        ))
}

#[derive(diesel::QueryableByName)]
struct Value {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    value: i64,
}

fn value(conn: &mut PgConnection, sql: &str) -> Result<i64, StoreError> {
    let rows: Vec<Value> = diesel::sql_query(sql)
        .load(conn)
        .map_err(StoreError::query(
            "establishing the settled head of event_record",
        ))?;
    Ok(rows.first().map_or(0, |r| r.value))
}
