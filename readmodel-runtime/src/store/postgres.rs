//! PostgreSQL: the event log in the connection's search path, read models in schema
//! `readmodels`.

use diesel::{Connection, PgConnection, RunQueryDsl};

use super::error::StoreError;
use super::url::{redact, scrub};
use super::Upkeep;

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

/// The highest event id below which no event can still appear.
///
/// Concurrent writers can commit ids out of order: id 10 may commit after id 11, and a
/// reader that checkpointed 11 would skip 10 forever. The migration makes every id come
/// from `readmodels.next_event_id()`, which gives the transaction an xid *before* it
/// takes an id. So: read the sequence's last allocated id `L`, then take an xid of our
/// own (`H`, in a transaction of its own that ends at once) and wait until the oldest
/// running transaction (`xmin` of a fresh snapshot) is above `H`. Every transaction that
/// allocated an id `<= L` had its xid before `L` was read, so below `H`, and has now
/// committed or aborted: every id `<= L` is final.
///
/// A snapshot's `xmax` is no such bound: it is one past the highest *completed* xid, so a
/// writer whose xid is above every completed one is below no `xmax` (and not in the
/// snapshot's in-progress list); waiting for `xmin >= xmax` returned while it could still
/// commit a lower id, and catch-up skipped that event for good. Must be called outside a
/// transaction (the xid taken here would otherwise stay running).
pub(super) fn settled_head(conn: &mut PgConnection) -> Result<i64, StoreError> {
    let allocated = value(
        conn,
        "SELECT COALESCE(pg_sequence_last_value(pg_get_serial_sequence('event_record', 'id')::regclass), \
         (SELECT MAX(id) FROM event_record), 0) AS value",
    )?;
    let horizon = value(conn, "SELECT pg_current_xact_id()::text::bigint AS value")?;
    let timeout = settle_timeout()?;
    let started = std::time::Instant::now();
    let mut pause = std::time::Duration::from_millis(2);
    loop {
        let xmin = value(
            conn,
            "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS value",
        )?;
        if xmin > horizon {
            return Ok(allocated);
        }
        if started.elapsed() > timeout {
            return Err(StoreError::Unsettled {
                waited: started.elapsed().as_secs(),
                xmin,
                xmax: horizon + 1,
            });
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(std::time::Duration::from_millis(50));
    }
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
