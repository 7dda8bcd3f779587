//! Raw baselines: the same rows as the habits read models, for the same events, without
//! the framework.
//!
//! * `habits.checkins` and `habits.monthly_completions`: one `INSERT … SELECT … FROM
//!   event_record … ON CONFLICT (key) DO UPDATE` statement, computed inside the database.
//! * `habits.streaks`: a plain fold in Rust — the events read by keyset pages, decoded
//!   with serde, folded with [`StreakRules`] in a `HashMap`, and every final row written
//!   with multi-row upserts (`unnest` arrays on PostgreSQL, `VALUES` lists on SQLite).
//!
//! Each baseline runs in one transaction on an emptied table and returns the number of
//! events it consumed.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::pg::PgConnection;
use diesel::sql_types::{Array, BigInt, Date, Integer, Nullable, Text, Timestamptz};
use diesel::sqlite::SqliteConnection;
use diesel::{sql_query, Connection, RunQueryDsl};
use readmodel_runtime::field::timestamp_text;
use readmodel_runtime::{DomainEvent, Event, Store};
use uuid::Uuid;

use super::BenchError;
use projections::habits::HabitStreak;
use projections::habits::{
    HabitArchived, HabitCheckInUndone, HabitCheckedIn, HabitCreated, StreakRules,
    ACTION_CHECKED_IN, ACTION_UNDONE,
};

/// What a baseline does, for the table.
pub(crate) fn describe(model: &str) -> &'static str {
    match model {
        "habits.streaks" => "raw fold",
        _ => "INSERT…SELECT",
    }
}

/// The event types `model` consumes, quoted for SQL.
fn consumed(model: &str) -> Result<String, BenchError> {
    let types: &[&str] = match model {
        "habits.checkins" | "habits.monthly_completions" => {
            &[HabitCheckedIn::EVENT_TYPE, HabitCheckInUndone::EVENT_TYPE]
        }
        "habits.streaks" => &[
            HabitCreated::EVENT_TYPE,
            HabitCheckedIn::EVENT_TYPE,
            HabitCheckInUndone::EVENT_TYPE,
            HabitArchived::EVENT_TYPE,
        ],
        other => return Err(BenchError::new(format!("no baseline for model {other}"))),
    };
    Ok(types
        .iter()
        .map(|t| format!("'{t}'"))
        .collect::<Vec<_>>()
        .join(", "))
}

/// The model's table.
fn table(model: &str) -> Result<&'static str, BenchError> {
    match model {
        "habits.checkins" => Ok("readmodels.habit_checkins"),
        "habits.streaks" => Ok("readmodels.habit_streaks"),
        "habits.monthly_completions" => Ok("readmodels.habit_monthly_completions"),
        other => Err(BenchError::new(format!("no baseline for model {other}"))),
    }
}

fn failed(what: String) -> impl FnOnce(diesel::result::Error) -> BenchError {
    move |e| BenchError::new(format!("{what}: {e}"))
}

/// Untimed preparation: deletes the model's version 1 rows (and, on PostgreSQL, vacuums
/// the table so the baseline starts from the same clean state as the framework's run).
pub(crate) fn clear(store: &mut Store, model: &str) -> Result<(), BenchError> {
    let table = table(model)?;
    let delete = format!("DELETE FROM {table} WHERE model_version = 1");
    match store {
        Store::Sqlite(c) => {
            sql_query(&delete)
                .execute(c)
                .map_err(failed(format!("clearing {table}")))?;
        }
        Store::Postgres(c) => {
            sql_query(&delete)
                .execute(c)
                .map_err(failed(format!("clearing {table}")))?;
            sql_query(format!("VACUUM {table}"))
                .execute(c)
                .map_err(failed(format!("vacuuming {table}")))?;
        }
    }
    Ok(())
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// How many events of the model's types the log holds (untimed, for the report).
pub(crate) fn count_consumed(store: &mut Store, model: &str) -> Result<u64, BenchError> {
    let sql = format!(
        "SELECT COUNT(*) AS n FROM event_record WHERE event_type IN ({})",
        consumed(model)?
    );
    let rows: Vec<Count> = match store {
        Store::Sqlite(c) => sql_query(&sql).load(c),
        Store::Postgres(c) => sql_query(&sql).load(c),
    }
    .map_err(failed(format!("counting the events of {model}")))?;
    Ok(rows.first().map_or(0, |r| u64::try_from(r.n).unwrap_or(0)))
}

/// Runs the model's baseline in one transaction; returns the events it consumed.
pub(crate) fn run(store: &mut Store, model: &str, page: usize) -> Result<u64, BenchError> {
    match model {
        "habits.checkins" | "habits.monthly_completions" => {
            let sql = statement(store, model)?;
            let affected = match store {
                Store::Sqlite(c) => c.transaction(|c| sql_query(&sql).execute(c)),
                Store::Postgres(c) => c.transaction(|c| sql_query(&sql).execute(c)),
            }
            .map_err(failed(format!("baseline of {model}")))?;
            if model == "habits.checkins" {
                // One row per event.
                Ok(affected as u64)
            } else {
                count_consumed(store, model)
            }
        }
        "habits.streaks" => streaks(store, page),
        other => Err(BenchError::new(format!("no baseline for model {other}"))),
    }
}

/// The single `INSERT … SELECT` of a timeline or aggregate baseline, for the backend.
pub(crate) fn statement(store: &Store, model: &str) -> Result<String, BenchError> {
    let checked_in = HabitCheckedIn::EVENT_TYPE;
    let types = consumed(model)?;
    let sqlite = matches!(store, Store::Sqlite(_));
    // Schema version 1 of `habits.checked_in` calls the day `date` (see events.rs).
    let (habit_id, day) = if sqlite {
        (
            "json_extract(payload, '$.habit_id')",
            "COALESCE(json_extract(payload, '$.day'), json_extract(payload, '$.date'))",
        )
    } else {
        (
            "(payload->>'habit_id')::uuid",
            "COALESCE(payload->>'day', payload->>'date')::date",
        )
    };
    match model {
        "habits.checkins" => Ok(format!(
            "INSERT INTO readmodels.habit_checkins \
             (model_version, event_id, user_id, habit_id, day, action, occurred_at) \
             SELECT 1, id, user_id, {habit_id}, {day}, \
             CASE event_type WHEN '{checked_in}' THEN '{ACTION_CHECKED_IN}' ELSE '{ACTION_UNDONE}' END, \
             occurred_at FROM event_record WHERE event_type IN ({types}) \
             ON CONFLICT (model_version, event_id) DO UPDATE SET user_id = excluded.user_id, \
             habit_id = excluded.habit_id, day = excluded.day, action = excluded.action, \
             occurred_at = excluded.occurred_at"
        )),
        "habits.monthly_completions" => {
            // The month of the checked-in day (not of occurred_at), as its first day.
            let month = if sqlite {
                format!("substr({day}, 1, 8) || '01'")
            } else {
                format!("date_trunc('month', ({day})::timestamp)::date")
            };
            Ok(format!(
                "INSERT INTO readmodels.habit_monthly_completions \
                 (model_version, user_id, habit_id, month, check_ins, undos, completions) \
                 SELECT 1, user_id, habit_id, month, SUM(c), SUM(u), SUM(c) - SUM(u) FROM ( \
                 SELECT user_id, {habit_id} AS habit_id, {month} AS month, \
                 CASE WHEN event_type = '{checked_in}' THEN 1 ELSE 0 END AS c, \
                 CASE WHEN event_type = '{checked_in}' THEN 0 ELSE 1 END AS u \
                 FROM event_record WHERE event_type IN ({types})) AS e \
                 WHERE true GROUP BY user_id, habit_id, month \
                 ON CONFLICT (model_version, user_id, habit_id, month) DO UPDATE SET \
                 check_ins = excluded.check_ins, undos = excluded.undos, \
                 completions = excluded.completions"
            ))
        }
        other => Err(BenchError::new(format!("no statement for model {other}"))),
    }
}

/// An event as the fold reads it.
struct RawEvent {
    id: i64,
    event_type: String,
    schema_version: i32,
    user_id: Uuid,
    occurred_at: DateTime<Utc>,
    payload: String,
}

#[derive(diesel::QueryableByName)]
struct SqliteEvent {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    event_type: String,
    #[diesel(sql_type = Integer)]
    schema_version: i32,
    #[diesel(sql_type = Text)]
    user_id: String,
    #[diesel(sql_type = Text)]
    occurred_at: String,
    #[diesel(sql_type = Text)]
    payload: String,
}

#[derive(diesel::QueryableByName)]
struct PgEvent {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    event_type: String,
    #[diesel(sql_type = Integer)]
    schema_version: i32,
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    user_id: Uuid,
    #[diesel(sql_type = Timestamptz)]
    occurred_at: DateTime<Utc>,
    #[diesel(sql_type = Text)]
    payload: String,
}

fn bad(id: i64, what: impl std::fmt::Display) -> BenchError {
    BenchError::new(format!("baseline of habits.streaks: event {id}: {what}"))
}

/// What the fold needs from a connection: pages of events and the final write.
trait FoldConn: Connection {
    /// One keyset page of the streak model's events (`types`, quoted) after `after`.
    fn page_after(
        &mut self,
        types: &str,
        after: i64,
        limit: i64,
    ) -> Result<Vec<RawEvent>, BenchError>;
    /// Upserts the final rows.
    fn write(&mut self, rows: &[HabitStreak]) -> Result<(), BenchError>;
}

fn reading(after: i64) -> impl FnOnce(diesel::result::Error) -> BenchError {
    failed(format!("baseline of habits.streaks: reading after {after}"))
}

impl FoldConn for SqliteConnection {
    fn page_after(
        &mut self,
        types: &str,
        after: i64,
        limit: i64,
    ) -> Result<Vec<RawEvent>, BenchError> {
        let rows: Vec<SqliteEvent> = sql_query(format!(
            "SELECT id, event_type, schema_version, user_id, occurred_at, payload \
             FROM event_record WHERE id > ? AND event_type IN ({types}) ORDER BY id LIMIT ?"
        ))
        .bind::<BigInt, _>(after)
        .bind::<BigInt, _>(limit)
        .load(self)
        .map_err(reading(after))?;
        rows.into_iter()
            .map(|r| {
                Ok(RawEvent {
                    id: r.id,
                    user_id: Uuid::parse_str(&r.user_id).map_err(|e| bad(r.id, e))?,
                    occurred_at: DateTime::parse_from_rfc3339(&r.occurred_at)
                        .map_err(|e| bad(r.id, e))?
                        .with_timezone(&Utc),
                    event_type: r.event_type,
                    schema_version: r.schema_version,
                    payload: r.payload,
                })
            })
            .collect()
    }
    fn write(&mut self, rows: &[HabitStreak]) -> Result<(), BenchError> {
        write_sqlite(self, rows)
    }
}

impl FoldConn for PgConnection {
    fn page_after(
        &mut self,
        types: &str,
        after: i64,
        limit: i64,
    ) -> Result<Vec<RawEvent>, BenchError> {
        let rows: Vec<PgEvent> = sql_query(format!(
            "SELECT id, event_type, schema_version, user_id, occurred_at, payload::text AS payload \
             FROM event_record WHERE id > $1 AND event_type IN ({types}) ORDER BY id LIMIT $2"
        ))
        .bind::<BigInt, _>(after)
        .bind::<BigInt, _>(limit)
        .load(self)
        .map_err(reading(after))?;
        Ok(rows
            .into_iter()
            .map(|r| RawEvent {
                id: r.id,
                event_type: r.event_type,
                schema_version: r.schema_version,
                user_id: r.user_id,
                occurred_at: r.occurred_at,
                payload: r.payload,
            })
            .collect())
    }
    fn write(&mut self, rows: &[HabitStreak]) -> Result<(), BenchError> {
        write_pg(self, rows)
    }
}

/// Applies one event to the habits' rows with the model's own pure rules.
fn fold(rows: &mut HashMap<Uuid, HabitStreak>, e: RawEvent) -> Result<(), BenchError> {
    let new_row = |habit_id| StreakRules::new_row(habit_id, e.user_id, e.occurred_at);
    match e.event_type.as_str() {
        HabitCreated::EVENT_TYPE => {
            let payload =
                HabitCreated::decode(e.schema_version, &e.payload).map_err(|r| bad(e.id, r))?;
            let habit_id = payload.habit_id;
            // `StreakRules::created` reads the owner, the payload and `occurred_at`; the
            // stream of a habit is the habit (`stream_id` = `habit_id`), and the stream
            // version and storage time are not read, so they are not selected.
            let event = Event {
                id: e.id,
                stream_id: habit_id,
                event_version: 0,
                schema_version: e.schema_version,
                user_id: e.user_id,
                occurred_at: e.occurred_at,
                recorded_at: e.occurred_at,
                payload,
            };
            let row = rows.entry(habit_id).or_insert_with(|| new_row(habit_id));
            StreakRules::created(row, &event);
        }
        HabitCheckedIn::EVENT_TYPE => {
            let p =
                HabitCheckedIn::decode(e.schema_version, &e.payload).map_err(|r| bad(e.id, r))?;
            let row = rows
                .entry(p.habit_id)
                .or_insert_with(|| new_row(p.habit_id));
            StreakRules::checked_in(row, p.day, e.occurred_at);
        }
        HabitCheckInUndone::EVENT_TYPE => {
            let p = HabitCheckInUndone::decode(e.schema_version, &e.payload)
                .map_err(|r| bad(e.id, r))?;
            if let Some(row) = rows.get_mut(&p.habit_id) {
                StreakRules::undone(row, p.day, e.occurred_at);
            }
        }
        HabitArchived::EVENT_TYPE => {
            let p =
                HabitArchived::decode(e.schema_version, &e.payload).map_err(|r| bad(e.id, r))?;
            rows.remove(&p.habit_id);
        }
        other => return Err(bad(e.id, format!("unexpected event type {other}"))),
    }
    Ok(())
}

const STREAK_COLUMNS: &str = "model_version, habit_id, user_id, name, target_per_week, \
     current_streak, longest_streak, last_day, total_check_ins, updated_at";
const STREAK_UPDATE: &str = " ON CONFLICT (model_version, habit_id) DO UPDATE SET \
     user_id = excluded.user_id, name = excluded.name, target_per_week = excluded.target_per_week, \
     current_streak = excluded.current_streak, longest_streak = excluded.longest_streak, \
     last_day = excluded.last_day, total_check_ins = excluded.total_check_ins, \
     updated_at = excluded.updated_at";

/// The streaks baseline: read, decode, fold, write; in one transaction.
fn streaks(store: &mut Store, page: usize) -> Result<u64, BenchError> {
    let types = consumed("habits.streaks")?;
    let page = i64::try_from(page.max(1)).unwrap_or(i64::MAX);
    match store {
        Store::Sqlite(c) => c.transaction(|c| streaks_on(c, &types, page)),
        Store::Postgres(c) => c.transaction(|c| streaks_on(c, &types, page)),
    }
}

fn streaks_on<C: FoldConn>(c: &mut C, types: &str, page: i64) -> Result<u64, BenchError> {
    let mut rows = HashMap::new();
    let mut after = 0;
    let mut events = 0u64;
    loop {
        let batch = c.page_after(types, after, page)?;
        let Some(last) = batch.last() else { break };
        after = last.id;
        events += batch.len() as u64;
        for event in batch {
            fold(&mut rows, event)?;
        }
    }
    let rows: Vec<HabitStreak> = rows.into_values().collect();
    c.write(&rows)?;
    Ok(events)
}

fn write_sqlite(c: &mut SqliteConnection, rows: &[HabitStreak]) -> Result<(), BenchError> {
    // 9 binds a row; SQLite allows 32766 per statement since 3.32.
    for chunk in rows.chunks(1_000) {
        let mut q = sql_query(format!(
            "INSERT INTO readmodels.habit_streaks ({STREAK_COLUMNS}) VALUES "
        ))
        .into_boxed::<diesel::sqlite::Sqlite>();
        for (i, r) in chunk.iter().enumerate() {
            q = q
                .sql(if i == 0 { "" } else { ", " })
                .sql("(1, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
                .bind::<Text, _>(r.habit_id.hyphenated().to_string())
                .bind::<Text, _>(r.user_id.hyphenated().to_string())
                .bind::<Text, _>(r.name.clone())
                .bind::<Nullable<Integer>, _>(r.target_per_week)
                .bind::<Integer, _>(r.current_streak)
                .bind::<Integer, _>(r.longest_streak)
                .bind::<Nullable<Text>, _>(r.last_day.map(|d| d.format("%Y-%m-%d").to_string()))
                .bind::<BigInt, _>(r.total_check_ins)
                .bind::<Text, _>(timestamp_text(r.updated_at));
        }
        q.sql(STREAK_UPDATE).execute(c).map_err(failed(
            "baseline of habits.streaks: writing rows".to_owned(),
        ))?;
    }
    Ok(())
}

fn write_pg(c: &mut PgConnection, rows: &[HabitStreak]) -> Result<(), BenchError> {
    let sql = format!(
        "INSERT INTO readmodels.habit_streaks ({STREAK_COLUMNS}) \
         SELECT 1, * FROM unnest($1, $2, $3, $4, $5, $6, $7, $8, $9){STREAK_UPDATE}"
    );
    for chunk in rows.chunks(10_000) {
        sql_query(&sql)
            .bind::<Array<diesel::sql_types::Uuid>, _>(
                chunk.iter().map(|r| r.habit_id).collect::<Vec<_>>(),
            )
            .bind::<Array<diesel::sql_types::Uuid>, _>(
                chunk.iter().map(|r| r.user_id).collect::<Vec<_>>(),
            )
            .bind::<Array<Text>, _>(chunk.iter().map(|r| r.name.clone()).collect::<Vec<_>>())
            .bind::<Array<Nullable<Integer>>, _>(
                chunk.iter().map(|r| r.target_per_week).collect::<Vec<_>>(),
            )
            .bind::<Array<Integer>, _>(chunk.iter().map(|r| r.current_streak).collect::<Vec<_>>())
            .bind::<Array<Integer>, _>(chunk.iter().map(|r| r.longest_streak).collect::<Vec<_>>())
            .bind::<Array<Nullable<Date>>, _>(
                chunk
                    .iter()
                    .map(|r| r.last_day)
                    .collect::<Vec<Option<NaiveDate>>>(),
            )
            .bind::<Array<BigInt>, _>(chunk.iter().map(|r| r.total_check_ins).collect::<Vec<_>>())
            .bind::<Array<Timestamptz>, _>(
                chunk
                    .iter()
                    .map(|r| readmodel_runtime::field::to_micros(r.updated_at))
                    .collect::<Vec<_>>(),
            )
            .execute(c)
            .map_err(failed(
                "baseline of habits.streaks: writing rows".to_owned(),
            ))?;
    }
    Ok(())
}
