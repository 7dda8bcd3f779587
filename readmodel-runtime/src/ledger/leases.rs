//! Partition leases (`readmodels.replay_leases`): which worker holds each partition of a
//! model version, until when, and with which fencing token.
//!
//! A worker claims free or expired partitions, or those of an owner whose process is gone
//! (its registered connection has left `pg_stat_activity`), with `FOR UPDATE SKIP LOCKED`
//! (two workers never wait for, nor take, the same row) and each claim adds one to the
//! row's `token`. Every flush renews the worker's leases first, in the flush's own
//! transaction, matching owner *and* token ([`renew`]): a worker that paused past its
//! expiry, and whose partition another worker claimed meanwhile, renews nothing, and its
//! flush rolls back before it writes anything. Row locks make claim and flush race-free:
//! a claim skips a row a flush holds, and a flush waiting for a claim re-checks its token
//! on the claimed row (READ COMMITTED). A flush holds those locks no longer than a lease
//! ([`end_if_idle_past`]): the server ends the transaction of a worker paused inside a
//! flush, so its partitions can be claimed once its leases expire.
//!
//! Expiry uses the database's clock (`clock_timestamp()`), so workers on different
//! machines need no synchronised clocks. Claiming and renewing are PostgreSQL's (SQLite
//! allows one writer at a time: it never runs several workers).

use chrono::{DateTime, Utc};
use diesel::deserialize::QueryableByName;
use diesel::pg::{Pg, PgConnection};
use diesel::row::NamedRow;
use diesel::{Connection, RunQueryDsl};

use super::Scope;
use crate::field::Db;
use crate::store::{Conn, Statement, StoreError, Value};

/// One partition a worker holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// The model.
    pub model: String,
    /// Its version.
    pub version: i32,
    /// The partition, `0..partitions`.
    pub partition: u32,
    /// How many partitions the model version is split into.
    pub partitions: u32,
    /// The fencing token of this claim.
    pub token: i64,
}

impl Lease {
    /// The checkpoint scope of the partition: the model's own for an unsplit model.
    pub fn scope(&self) -> Scope {
        scope_of(self.partition, self.partitions)
    }
}

/// The checkpoint scope of partition `index` of `of`: [`Scope::All`] when `of` is 1.
pub fn scope_of(index: u32, of: u32) -> Scope {
    if of <= 1 {
        Scope::All
    } else {
        Scope::Partition { index, of }
    }
}

/// A lease row, as `status` shows it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LeaseRecord {
    /// The partition.
    pub partition: u32,
    /// Of how many.
    pub partitions: u32,
    /// The worker holding it; `None` when free.
    pub owner: Option<String>,
    /// The token of the latest claim.
    pub token: i64,
    /// When the holder last renewed it.
    pub heartbeat_at: Option<DateTime<Utc>>,
    /// When it can be claimed by another worker.
    pub expires_at: Option<DateTime<Utc>>,
}

impl<DB: Db> QueryableByName<DB> for LeaseRecord {
    fn build<'a>(row: &impl NamedRow<'a, DB>) -> diesel::deserialize::Result<Self> {
        Ok(Self {
            partition: DB::read::<i32>(row, "partition")? as u32,
            partitions: DB::read::<i32>(row, "partitions")? as u32,
            owner: DB::read(row, "owner")?,
            token: DB::read(row, "token")?,
            heartbeat_at: DB::read(row, "heartbeat_at")?,
            expires_at: DB::read(row, "expires_at")?,
        })
    }
}

impl QueryableByName<Pg> for Lease {
    fn build<'a>(row: &impl NamedRow<'a, Pg>) -> diesel::deserialize::Result<Self> {
        Ok(Self {
            model: Pg::read(row, "model")?,
            version: Pg::read(row, "model_version")?,
            partition: Pg::read::<i32>(row, "partition")? as u32,
            partitions: Pg::read::<i32>(row, "partitions")? as u32,
            token: Pg::read(row, "token")?,
        })
    }
}

/// Creates the lease rows of a model version split into `partitions` unless it has some;
/// returns the number of partitions in use (the first worker's choice stands).
pub(crate) fn ensure<C: Conn>(
    conn: &mut C,
    model: &str,
    version: i32,
    partitions: u32,
) -> Result<u32, StoreError> {
    let context = || format!("creating the partition leases of {model}");
    if let Some(existing) = partitions_in_use(conn, model, version)? {
        return Ok(existing);
    }
    for partition in 0..partitions as i32 {
        let stmt = Statement::<C::Db>::new(
            "INSERT INTO readmodels.replay_leases (model, model_version, partition, partitions) VALUES (",
        )
        .bind(&model.to_owned())
        .sql(", ")
        .bind(&version)
        .sql(", ")
        .bind(&partition)
        .sql(", ")
        .bind(&(partitions as i32))
        .sql(") ON CONFLICT (model, model_version, partition) DO NOTHING");
        conn.run(stmt).map_err(StoreError::query(context()))?;
    }
    Ok(partitions_in_use(conn, model, version)?.unwrap_or(partitions))
}

/// How many partitions a model version's leases split it into; `None` without leases.
fn partitions_in_use<C: Conn>(
    conn: &mut C,
    model: &str,
    version: i32,
) -> Result<Option<u32>, StoreError> {
    let stmt = Statement::<C::Db>::new(
        "SELECT CAST(MIN(partitions) AS BIGINT) AS value FROM readmodels.replay_leases WHERE model = ",
    )
    .bind(&model.to_owned())
    .sql(" AND model_version = ")
    .bind(&version)
    .sql(" HAVING COUNT(*) > 0");
    let rows: Vec<Value<i64>> = conn.fetch(stmt).map_err(StoreError::query(format!(
        "reading the partition leases of {model}"
    )))?;
    Ok(rows.first().map(|v| v.0 as u32))
}

/// A partition just claimed, with the worker that held it before (`None` when it was free).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Claimed {
    pub(crate) lease: Lease,
    /// The owner whose lease had expired, or whose worker was gone.
    pub(crate) previous: Option<String>,
}

impl QueryableByName<Pg> for Claimed {
    fn build<'a>(row: &impl NamedRow<'a, Pg>) -> diesel::deserialize::Result<Self> {
        Ok(Self {
            lease: Lease::build(row)?,
            previous: Pg::read(row, "previous")?,
        })
    }
}

/// Whether lease row `f` may be claimed: free, expired, or held by an owner that no
/// connection of this database is registered as any more (its process is gone: a killed
/// worker's partitions need not wait out its leases). A paused worker keeps its
/// connection, so only expiry frees its leases.
const CLAIMABLE: &str = "(f.owner IS NULL OR f.expires_at < clock_timestamp() OR NOT EXISTS (\
    SELECT 1 FROM pg_stat_activity AS a WHERE a.datname = current_database() \
    AND a.application_name = left('readmodel-worker:' || f.owner, 63)))";

/// How long a claim may wait for a lock: for another worker's claim to end, never for a
/// lease row (rows another transaction holds are skipped, `SKIP LOCKED`). A claim that
/// does wait for a row fails instead of hanging.
const CLAIM_LOCK_TIMEOUT: &str = "SET LOCAL lock_timeout = '2s'";

/// Claims take turns (a transaction-level advisory lock): two at once would interleave
/// their rows, leaving each worker a few partitions of many indexes instead of the same
/// partitions of every model, and more of the log to read.
const CLAIM_TURN: &str = "SELECT pg_advisory_xact_lock(1380270404, 1297040461)";

/// Claims up to `want` claimable partitions (see [`CLAIMABLE`]) of `models` (name,
/// version) for `owner`, for `ttl`, skipping rows another transaction holds; with
/// `below`, only partitions whose checkpoint (or their model's) is below it. Partitions
/// go by index first, so that each worker holds the same few partitions of every model
/// and reads only their events. Returns the leases, each with its new token.
pub(crate) fn claim(
    conn: &mut PgConnection,
    owner: &str,
    ttl: std::time::Duration,
    models: &[(&str, i32)],
    below: Option<i64>,
    want: usize,
) -> Result<Vec<Claimed>, StoreError> {
    if models.is_empty() || want == 0 {
        return Ok(Vec::new());
    }
    let mut stmt = Statement::<Pg>::new(
        "UPDATE readmodels.replay_leases AS l SET owner = ",
    )
    .bind(&owner.to_owned())
    .sql(", token = l.token + 1, heartbeat_at = clock_timestamp(), expires_at = clock_timestamp() + ")
    .bind(&(ttl.as_millis() as i64))
    .sql(" * interval '1 millisecond' FROM (SELECT f.model, f.model_version, f.partition, f.owner AS previous \
         FROM readmodels.replay_leases AS f WHERE ")
    .sql(CLAIMABLE)
    .sql(" AND (");
    stmt = of_models(stmt, models).sql(")");
    if let Some(below) = below {
        stmt = below_bound(stmt, below);
    }
    let stmt = stmt
        .sql(" ORDER BY f.partition, f.model LIMIT ")
        .bind(&(want as i64))
        .sql(
            " FOR UPDATE SKIP LOCKED) AS free WHERE l.model = free.model \
             AND l.model_version = free.model_version AND l.partition = free.partition \
             RETURNING l.model, l.model_version, l.partition, l.partitions, l.token, free.previous",
        );
    conn.transaction(|c| {
        diesel::sql_query(CLAIM_LOCK_TIMEOUT).execute(c)?;
        diesel::sql_query(CLAIM_TURN).execute(c)?;
        c.fetch(stmt)
    })
    .map_err(StoreError::query("claiming partitions"))
}

/// ` AND` lease row `f`'s partition (or its whole model) has not reached `below`.
fn below_bound(stmt: Statement<Pg>, below: i64) -> Statement<Pg> {
    stmt.sql(
        " AND NOT EXISTS (SELECT 1 FROM readmodels.replay_checkpoints AS c \
         WHERE c.model = f.model AND c.model_version = f.model_version \
         AND (c.scope = 'all' OR (f.partitions > 1 AND c.scope = \
         'partition:' || f.partition || '/' || f.partitions)) AND c.last_event_id >= ",
    )
    .bind(&below)
    .sql(")")
}

/// `(model = .. AND model_version = ..) OR ...` over `models` (name, version).
fn of_models(mut stmt: Statement<Pg>, models: &[(&str, i32)]) -> Statement<Pg> {
    for (i, (model, version)) in models.iter().enumerate() {
        stmt = stmt
            .sql(if i == 0 { "(model = " } else { " OR (model = " })
            .bind(&(*model).to_owned())
            .sql(" AND model_version = ")
            .bind(version)
            .sql(")");
    }
    stmt
}

/// Makes the server end the caller's open transaction, and its session, should the
/// transaction stand idle for `ttl` (`idle_in_transaction_session_timeout`, for this
/// transaction only). A worker paused inside a flush then holds its leases' row locks and
/// the rows it wrote no longer than a lease, instead of until it resumes or dies.
pub(crate) fn end_if_idle_past(
    conn: &mut PgConnection,
    ttl: std::time::Duration,
) -> Result<(), StoreError> {
    let millis = ttl.as_millis().max(1);
    diesel::sql_query(format!(
        "SET LOCAL idle_in_transaction_session_timeout = {millis}"
    ))
    .execute(conn)
    .map_err(StoreError::query("bounding the flush's transaction"))?;
    Ok(())
}

/// Renews `held` for `owner` until `ttl` from now, in the caller's transaction; returns
/// the first lease that is no longer this worker's (another claimed it after it expired).
pub(crate) fn renew(
    conn: &mut PgConnection,
    owner: &str,
    ttl: std::time::Duration,
    held: &[Lease],
) -> Result<Option<Lease>, StoreError> {
    if held.is_empty() {
        return Ok(None);
    }
    let stmt = Statement::<Pg>::new(
        "UPDATE readmodels.replay_leases SET heartbeat_at = clock_timestamp(), expires_at = clock_timestamp() + ",
    )
    .bind(&(ttl.as_millis() as i64))
    .sql(" * interval '1 millisecond' WHERE owner = ")
    .bind(&owner.to_owned())
    .sql(" AND (");
    let stmt = matching(stmt, held, true)
        .sql(") RETURNING model, model_version, partition, partitions, token");
    let renewed: Vec<Lease> = conn
        .fetch(stmt)
        .map_err(StoreError::query("renewing partition leases"))?;
    Ok(held.iter().find(|lease| !renewed.contains(lease)).cloned())
}

/// Renews those of `held` that are still `owner`'s and that no transaction holds (a
/// flush renewing them itself): a heartbeat between flushes that never waits for, nor
/// deadlocks with, the worker's own flush.
pub(crate) fn renew_unlocked(
    conn: &mut PgConnection,
    owner: &str,
    ttl: std::time::Duration,
    held: &[Lease],
) -> Result<(), StoreError> {
    if held.is_empty() {
        return Ok(());
    }
    let stmt = Statement::<Pg>::new(
        "UPDATE readmodels.replay_leases AS l SET heartbeat_at = clock_timestamp(), expires_at = clock_timestamp() + ",
    )
    .bind(&(ttl.as_millis() as i64))
    .sql(
        " * interval '1 millisecond' FROM (SELECT model, model_version, partition \
         FROM readmodels.replay_leases WHERE owner = ",
    )
    .bind(&owner.to_owned())
    .sql(" AND (");
    let stmt = matching(stmt, held, true).sql(
        ") FOR UPDATE SKIP LOCKED) AS free WHERE l.model = free.model \
         AND l.model_version = free.model_version AND l.partition = free.partition",
    );
    conn.run(stmt)
        .map_err(StoreError::query("renewing partition leases"))?;
    Ok(())
}

/// Frees `held` (those still `owner`'s), so other workers can claim them at once.
pub(crate) fn release(
    conn: &mut PgConnection,
    owner: &str,
    held: &[Lease],
) -> Result<(), StoreError> {
    if held.is_empty() {
        return Ok(());
    }
    let stmt = Statement::<Pg>::new(
        "UPDATE readmodels.replay_leases SET owner = NULL, expires_at = NULL WHERE owner = ",
    )
    .bind(&owner.to_owned())
    .sql(" AND (");
    let stmt = matching(stmt, held, true).sql(")");
    conn.run(stmt)
        .map_err(StoreError::query("releasing partition leases"))?;
    Ok(())
}

/// `(model = .. AND model_version = .. AND partition = .. [AND token = ..]) OR ...`
fn matching(mut stmt: Statement<Pg>, leases: &[Lease], token: bool) -> Statement<Pg> {
    for (i, lease) in leases.iter().enumerate() {
        stmt = stmt
            .sql(if i == 0 { "(model = " } else { " OR (model = " })
            .bind(&lease.model)
            .sql(" AND model_version = ")
            .bind(&lease.version)
            .sql(" AND partition = ")
            .bind(&(lease.partition as i32));
        if token {
            stmt = stmt.sql(" AND token = ").bind(&lease.token);
        }
        stmt = stmt.sql(")");
    }
    stmt
}

/// The `application_name` prefix of a worker's connection: `pg_stat_activity` is the
/// registry of live workers (a killed worker's connection is gone at once), so that a
/// newcomer holding no lease yet counts too.
const WORKER_APPLICATION: &str = "readmodel-worker:";

/// Names this connection as worker `me` in `pg_stat_activity`.
pub(crate) fn register_worker(conn: &mut PgConnection, me: &str) -> Result<(), StoreError> {
    let stmt = Statement::<Pg>::new("SELECT set_config('application_name', ")
        .bind(&format!("{WORKER_APPLICATION}{me}"))
        .sql(", false) AS value");
    conn.fetch::<Value<String>>(stmt)
        .map_err(StoreError::query("registering the worker"))?;
    Ok(())
}

/// How many workers are live: those connected to this database (see
/// [`register_worker`]; a killed worker's connection is gone at once, a paused one's
/// stays), counting `me` once.
pub(crate) fn live_workers(conn: &mut PgConnection, me: &str) -> Result<usize, StoreError> {
    let stmt =
        Statement::<Pg>::new("SELECT COUNT(*) AS value FROM (SELECT substr(application_name, ")
            .bind(&(WORKER_APPLICATION.len() as i32 + 1))
            .sql(
                ") AS owner FROM pg_stat_activity WHERE datname = current_database() \
         AND starts_with(application_name, ",
            )
            .bind(&WORKER_APPLICATION.to_owned())
            .sql(") UNION SELECT left(")
            .bind(&me.to_owned())
            .sql(", ")
            .bind(&(63 - WORKER_APPLICATION.len() as i32))
            .sql(")) AS live");
    let rows: Vec<Value<i64>> = conn
        .fetch(stmt)
        .map_err(StoreError::query("counting live workers"))?;
    Ok(rows.first().map_or(1, |v| v.0.max(1) as usize))
}

/// How many partitions of `models` (name, version) could be claimed now (see
/// [`CLAIMABLE`]).
pub(crate) fn claimable(
    conn: &mut PgConnection,
    models: &[(&str, i32)],
) -> Result<i64, StoreError> {
    if models.is_empty() {
        return Ok(0);
    }
    let stmt =
        Statement::<Pg>::new("SELECT COUNT(*) AS value FROM readmodels.replay_leases AS f WHERE ")
            .sql(CLAIMABLE)
            .sql(" AND (");
    let rows: Vec<Value<i64>> = conn
        .fetch(of_models(stmt, models).sql(")"))
        .map_err(StoreError::query("counting free partitions"))?;
    Ok(rows.first().map_or(0, |v| v.0))
}

/// Partitions of `models` below `below` that other live workers hold: how many, and the
/// seconds until the first of their leases expires.
pub(crate) fn held_by_others(
    conn: &mut PgConnection,
    owner: &str,
    models: &[(&str, i32)],
    below: i64,
) -> Result<(i64, f64), StoreError> {
    if models.is_empty() {
        return Ok((0, 0.0));
    }
    let stmt = Statement::<Pg>::new(
        "SELECT COUNT(*) AS partitions, COALESCE(MIN(EXTRACT(EPOCH FROM f.expires_at - clock_timestamp())), 0)::float8 AS seconds \
         FROM readmodels.replay_leases AS f WHERE NOT ",
    )
    .sql(CLAIMABLE)
    .sql(" AND f.owner <> ")
    .bind(&owner.to_owned());
    let stmt = below_bound(stmt, below).sql(" AND (");
    let rows: Vec<HeldByOthers> =
        conn.fetch(of_models(stmt, models).sql(")"))
            .map_err(StoreError::query(
                "reading the partitions other workers hold",
            ))?;
    Ok(rows.first().map_or((0, 0.0), |r| (r.partitions, r.seconds)))
}

#[derive(diesel::QueryableByName)]
struct HeldByOthers {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    partitions: i64,
    #[diesel(sql_type = diesel::sql_types::Double)]
    seconds: f64,
}

/// A model version's leases, by partition.
pub(crate) fn leases<C: Conn>(
    conn: &mut C,
    model: &str,
    version: i32,
) -> Result<Vec<LeaseRecord>, StoreError> {
    let stmt = Statement::<C::Db>::new(
        "SELECT partition, partitions, owner, token, heartbeat_at, expires_at \
         FROM readmodels.replay_leases WHERE model = ",
    )
    .bind(&model.to_owned())
    .sql(" AND model_version = ")
    .bind(&version)
    .sql(" ORDER BY partition");
    conn.fetch(stmt).map_err(StoreError::query(format!(
        "reading the partition leases of {model}"
    )))
}

/// Deletes a model version's leases (a full rebuild starts its partitions afresh).
pub(crate) fn delete_leases<C: Conn>(
    conn: &mut C,
    model: &str,
    version: i32,
) -> Result<(), StoreError> {
    let stmt = Statement::<C::Db>::new("DELETE FROM readmodels.replay_leases WHERE model = ")
        .bind(&model.to_owned())
        .sql(" AND model_version = ")
        .bind(&version);
    conn.run(stmt).map_err(StoreError::query(format!(
        "deleting the partition leases of {model}"
    )))?;
    Ok(())
}
