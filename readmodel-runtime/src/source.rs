//! The event log, `event_record`: streamed in id order by keyset pagination, with the
//! consumed event types pushed into SQL; and appended to by import and generate.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::contract::Contract;
use crate::event::StoredEvent;
use crate::field::Db;
use crate::store::{Conn, Statement, StoreError, Value};

/// An event to append to the log; the line format of `replay import`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewEvent {
    /// The entity stream.
    pub stream_id: Uuid,
    /// Version within the stream, from 1.
    pub event_version: i64,
    /// E.g. `habits.checked_in`.
    pub event_type: String,
    /// Payload schema version.
    #[serde(default = "first_schema_version")]
    pub schema_version: i32,
    /// Owner.
    pub user_id: Uuid,
    /// Domain time.
    pub occurred_at: DateTime<Utc>,
    /// Storage time; the import time when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recorded_at: Option<DateTime<Utc>>,
    /// The JSON body.
    pub payload: serde_json::Value,
}

fn first_schema_version() -> i32 {
    1
}

impl NewEvent {
    /// The event as a replay would read it with id `id`, before it is stored (to check
    /// that it decodes); `recorded_at` defaults to `occurred_at`.
    pub(crate) fn as_stored(&self, id: i64) -> StoredEvent {
        StoredEvent {
            id,
            stream_id: self.stream_id,
            event_version: self.event_version,
            event_type: self.event_type.clone(),
            schema_version: self.schema_version,
            user_id: self.user_id,
            occurred_at: self.occurred_at,
            recorded_at: self.recorded_at.unwrap_or(self.occurred_at),
            payload: self.payload.to_string(),
        }
    }
}

const EVENT_COLUMNS: &str =
    "id, stream_id, event_version, event_type, schema_version, user_id, occurred_at, recorded_at";

/// Reads the next batch of events after `after` and up to `upto`, of the model's types.
///
/// Without a user, each consumed type is read by its own `(event_type, id)` index range
/// with its own LIMIT, and the pieces merged by id: one `event_type IN (…)` query makes
/// SQLite sort every remaining matching event for each batch, and PostgreSQL walk the
/// whole log in id order. With a user, the `(user_id, id)` index serves the range.
pub(crate) fn next_batch<C: Conn>(
    conn: &mut C,
    contract: &Contract,
    after: i64,
    upto: i64,
    user: Option<Uuid>,
    limit: usize,
) -> Result<Vec<StoredEvent>, StoreError> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let select = format!(
        "SELECT {EVENT_COLUMNS}, {} AS payload FROM event_record WHERE id > ",
        <C::Db as Db>::PAYLOAD_AS_TEXT
    );
    let range = |stmt: Statement<C::Db>| stmt.bind(&after).sql(" AND id <= ").bind(&upto);
    let stmt = match user {
        Some(user) => {
            let mut stmt = range(Statement::new(&select))
                .sql(" AND user_id = ")
                .bind(&user);
            stmt = stmt.sql(" AND event_type IN (");
            for (i, event_type) in contract.consumed_events.iter().enumerate() {
                stmt = stmt
                    .sql(if i == 0 { "" } else { ", " })
                    .bind(&(*event_type).to_owned());
            }
            stmt.sql(") ORDER BY id LIMIT ").bind(&limit)
        }
        None => {
            let mut stmt = Statement::new("");
            for (i, event_type) in contract.consumed_events.iter().enumerate() {
                if i > 0 {
                    stmt = stmt.sql(" UNION ALL ");
                }
                stmt = range(stmt.sql("SELECT * FROM (").sql(&select))
                    .sql(" AND event_type = ")
                    .bind(&(*event_type).to_owned())
                    .sql(" ORDER BY id LIMIT ")
                    .bind(&limit)
                    .sql(&format!(") AS e{i}"));
            }
            stmt.sql(" ORDER BY id LIMIT ").bind(&limit)
        }
    };
    conn.fetch(stmt).map_err(StoreError::query(format!(
        "reading events after id {after}"
    )))
}

/// The events of a worker's pass, by type and user: events of the types of `whole` are
/// read for every user; those of a group's types only for users whose partition is one of
/// its indexes. Workers run on PostgreSQL only (the filter reads the log's `user_hash`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct UserFilter {
    /// Types read for every user.
    pub(crate) whole: Vec<&'static str>,
    /// Types read for some partitions' users.
    pub(crate) groups: Vec<PartitionGroup>,
}

/// Events of `types` whose user's partition, of `of`, is one of `indexes`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PartitionGroup {
    pub(crate) types: Vec<&'static str>,
    pub(crate) of: u32,
    pub(crate) indexes: Vec<u32>,
}

/// PostgreSQL's `replay::partition::partition_of(user_id, of)` from the log's stored
/// `user_hash` (the first 8 bytes of the user id's SHA-256 as a *signed* bigint, see the
/// `user_hash` migration): the unsigned value `u` modulo `of` is computed as
/// `(2 * ((u >> 1) mod of) + (u & 1)) mod of`, all in bigint, where `u >> 1` is the
/// arithmetic shift with the sign bit cleared.
pub fn partition_sql(column: &str, of: u32) -> String {
    let of = of.max(1);
    format!("(((({column} >> 1) & 9223372036854775807) % {of}) * 2 + ({column} & 1)) % {of}")
}

/// ` AND (...)`: the condition `filter` puts on the events read.
fn filtered<D: Db>(mut stmt: Statement<D>, filter: Option<&UserFilter>) -> Statement<D> {
    let Some(filter) = filter else {
        return stmt;
    };
    stmt = stmt.sql(" AND (");
    let mut first = true;
    if !filter.whole.is_empty() {
        stmt = of_types(stmt.sql("("), &filter.whole).sql(")");
        first = false;
    }
    for group in &filter.groups {
        stmt = of_types(stmt.sql(if first { "(" } else { " OR (" }), &group.types);
        let indexes: Vec<String> = group.indexes.iter().map(u32::to_string).collect();
        stmt = stmt.sql(&format!(
            " AND {} IN ({}))",
            partition_sql("user_hash", group.of),
            indexes.join(", ")
        ));
        first = false;
    }
    stmt.sql(if first { "FALSE)" } else { ")" })
}

/// `event_type IN (...)` over `types`, bound.
fn of_types<D: Db>(mut stmt: Statement<D>, types: &[&str]) -> Statement<D> {
    stmt = stmt.sql("event_type IN (");
    for (i, event_type) in types.iter().enumerate() {
        stmt = stmt
            .sql(if i == 0 { "" } else { ", " })
            .bind(&(*event_type).to_owned());
    }
    stmt.sql(")")
}

/// Reads the next events of one type after `after` and up to `upto`, in id order, by its
/// `(event_type, id)` index range: a pass over few types merges one such range per type.
pub(crate) fn next_of_type<C: Conn>(
    conn: &mut C,
    event_type: &str,
    after: i64,
    upto: i64,
    limit: usize,
    users: Option<&UserFilter>,
) -> Result<Vec<StoredEvent>, StoreError> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let stmt = Statement::<C::Db>::new(&format!(
        "SELECT {EVENT_COLUMNS}, {} AS payload FROM event_record WHERE event_type = ",
        <C::Db as Db>::PAYLOAD_AS_TEXT
    ))
    .bind(&event_type.to_owned())
    .sql(" AND id > ")
    .bind(&after)
    .sql(" AND id <= ")
    .bind(&upto);
    let stmt = filtered(stmt, users)
        .sql(" ORDER BY id LIMIT ")
        .bind(&limit);
    conn.fetch(stmt).map_err(StoreError::query(format!(
        "reading {event_type} events after id {after}"
    )))
}

/// Reads the next events after `after` and up to `upto` of any of `types`, in id order,
/// for a pass feeding many models.
///
/// One range of the primary key: the types a pass over many models consumes are most of
/// the log, so reading by id and skipping the few others costs less than merging one
/// index range per type (which makes each batch read up to `limit` rows per type).
/// Comparing an expression keeps the planner off the `(event_type, id)` index, which on
/// SQLite would sort every remaining matching event for each batch.
pub(crate) fn next_of_types<C: Conn>(
    conn: &mut C,
    types: &[&str],
    after: i64,
    upto: i64,
    limit: usize,
    users: Option<&UserFilter>,
) -> Result<Vec<StoredEvent>, StoreError> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let mut stmt = Statement::<C::Db>::new(&format!(
        "SELECT {EVENT_COLUMNS}, {} AS payload FROM event_record WHERE id > ",
        <C::Db as Db>::PAYLOAD_AS_TEXT
    ))
    .bind(&after)
    .sql(" AND id <= ")
    .bind(&upto)
    .sql(" AND (event_type || '') IN (");
    for (i, event_type) in types.iter().enumerate() {
        stmt = stmt
            .sql(if i == 0 { "" } else { ", " })
            .bind(&(*event_type).to_owned());
    }
    let stmt = filtered(stmt.sql(")"), users)
        .sql(" ORDER BY id LIMIT ")
        .bind(&limit);
    conn.fetch(stmt).map_err(StoreError::query(format!(
        "reading events after id {after}"
    )))
}

/// Whether any event of `user` is in the log.
pub(crate) fn user_has_events<C: Conn>(conn: &mut C, user: Uuid) -> Result<bool, StoreError> {
    let stmt = Statement::<C::Db>::new(
        "SELECT COUNT(*) AS value FROM (SELECT 1 FROM event_record WHERE user_id = ",
    )
    .bind(&user)
    .sql(" LIMIT 1) AS one");
    let rows: Vec<Value<i64>> = conn
        .fetch(stmt)
        .map_err(StoreError::query(format!("looking up user {user}")))?;
    Ok(rows.first().is_some_and(|r| r.0 > 0))
}

/// An append statement the database refused, and the events it carried.
#[derive(Debug)]
pub(crate) struct Refused {
    /// The index, in the appended slice, of the statement's first event.
    pub(crate) first: usize,
    /// How many events the statement carried.
    pub(crate) len: usize,
    /// The driver's error.
    pub(crate) source: diesel::result::Error,
}

/// Appends events in order, in the caller's transaction; returns how many. Several
/// events go in one statement, so a refusal names the statement's events, not one.
pub(crate) fn append<C: Conn>(
    conn: &mut C,
    events: &[NewEvent],
    recorded_at: DateTime<Utc>,
) -> Result<usize, Refused> {
    let per_statement = events_per_statement(conn);
    let mut written = 0;
    for (index, chunk) in events.chunks(per_statement).enumerate() {
        written += conn
            .run(insert(chunk, recorded_at))
            .map_err(|source| Refused {
                first: index * per_statement,
                len: chunk.len(),
                source,
            })?;
    }
    Ok(written)
}

/// Appends events in order, in the caller's transaction; returns the ids they were given,
/// in the events' order.
pub(crate) fn append_returning_ids<C: Conn>(
    conn: &mut C,
    events: &[NewEvent],
    recorded_at: DateTime<Utc>,
) -> Result<Vec<i64>, StoreError> {
    let mut ids = Vec::with_capacity(events.len());
    for chunk in events.chunks(events_per_statement(conn)) {
        let stmt = insert(chunk, recorded_at).sql(" RETURNING id AS value");
        let rows: Vec<Value<i64>> = conn.fetch(stmt).map_err(appending(chunk))?;
        // RETURNING gives no order; the ids are taken in the VALUES' order (one sequence on
        // PostgreSQL, the rowid under SQLite's write lock), so ascending is the events'.
        let mut chunk_ids: Vec<i64> = rows.into_iter().map(|row| row.0).collect();
        chunk_ids.sort_unstable();
        ids.extend(chunk_ids);
    }
    Ok(ids)
}

fn events_per_statement<C: Conn>(conn: &mut C) -> usize {
    const COLUMNS: usize = 8;
    (conn.max_binds() / COLUMNS).clamp(1, 1000)
}

/// `INSERT INTO event_record ... VALUES` for `events` (not empty).
fn insert<DB: Db>(events: &[NewEvent], recorded_at: DateTime<Utc>) -> Statement<DB> {
    let mut stmt = Statement::<DB>::new(
        "INSERT INTO event_record (stream_id, event_version, event_type, schema_version, \
         user_id, occurred_at, recorded_at, payload) VALUES ",
    );
    for (i, event) in events.iter().enumerate() {
        stmt = stmt
            .sql(if i == 0 { "(" } else { ", (" })
            .bind(&event.stream_id)
            .sql(", ")
            .bind(&event.event_version)
            .sql(", ")
            .bind(&event.event_type)
            .sql(", ")
            .bind(&event.schema_version)
            .sql(", ")
            .bind(&event.user_id)
            .sql(", ")
            .bind(&event.occurred_at)
            .sql(", ")
            .bind(&event.recorded_at.unwrap_or(recorded_at))
            .sql(", ")
            .bind_json(&event.payload.to_string())
            .sql(")");
    }
    stmt
}

fn appending(chunk: &[NewEvent]) -> impl FnOnce(diesel::result::Error) -> StoreError {
    StoreError::query(format!(
        "appending events (stream {} version {} and following)",
        chunk[0].stream_id, chunk[0].event_version
    ))
}
