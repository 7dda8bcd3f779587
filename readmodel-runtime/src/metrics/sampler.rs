//! Reads what the engine cannot report by itself, on a connection of its own, every
//! interval: the log's head, each series' lag in events, and the age of its oldest
//! unapplied event; a failing connection makes the process unhealthy, with the reason.

use std::time::Duration;

use diesel::RunQueryDsl;

use super::Metrics;
use crate::stop::StopFlag;
use crate::store::{DatabaseUrl, Store, StoreError};

/// How often the sampler reads the database.
pub const SAMPLE_EVERY: Duration = Duration::from_millis(500);

/// Samples into `metrics` from the database at `url` every [`SAMPLE_EVERY`] until `stop`
/// is set (on a thread of its own).
pub fn spawn(metrics: &'static Metrics, url: DatabaseUrl, stop: StopFlag) {
    std::thread::spawn(move || {
        let mut conn: Option<Store> = None;
        while !stop.is_set() {
            let outcome = match conn.as_mut() {
                Some(store) => sample(metrics, store),
                None => Store::open_log_reader(&url).and_then(|mut store| {
                    let sampled = sample(metrics, &mut store);
                    conn = Some(store);
                    sampled
                }),
            };
            if let Err(error) = &outcome {
                // A fresh connection next time: this one may be gone for good.
                conn = None;
                metrics.health.sampled(Some(error.to_string()));
            } else {
                metrics.health.sampled(None);
            }
            std::thread::sleep(SAMPLE_EVERY);
        }
    });
}

/// One sample: the log's head and every series' lag.
fn sample(metrics: &Metrics, store: &mut Store) -> Result<(), StoreError> {
    let head = store.log_head()?;
    metrics.families.log_head.set(head);
    let mut ages: Vec<(i64, f64)> = Vec::new();
    for (_, checkpoint) in metrics.checkpoints() {
        if !ages.iter().any(|(at, _)| *at == checkpoint) {
            ages.push((checkpoint, oldest_after(store, checkpoint)?));
        }
    }
    metrics.families.set_lags(head, &ages);
    Ok(())
}

#[derive(diesel::QueryableByName)]
struct Age {
    #[diesel(sql_type = diesel::sql_types::Double)]
    seconds: f64,
}

/// Seconds since the first event above `checkpoint` was recorded; 0 when there is none.
fn oldest_after(store: &mut Store, checkpoint: i64) -> Result<f64, StoreError> {
    let sql = match store {
        Store::Postgres(_) => {
            "SELECT CAST(EXTRACT(EPOCH FROM (now() - recorded_at)) AS DOUBLE PRECISION) AS seconds \
             FROM event_record WHERE id > $1 ORDER BY id LIMIT 1"
        }
        Store::Sqlite(_) => {
            "SELECT CAST((julianday('now') - julianday(recorded_at)) * 86400.0 AS REAL) AS seconds \
             FROM event_record WHERE id > ? ORDER BY id LIMIT 1"
        }
    };
    let query = diesel::sql_query(sql).bind::<diesel::sql_types::BigInt, _>(checkpoint);
    let ages: Vec<Age> = match store {
        Store::Postgres(conn) => query.load(conn),
        Store::Sqlite(conn) => query.load(conn),
    }
    .map_err(StoreError::query(
        "reading the age of the oldest unapplied event".to_owned(),
    ))?;
    Ok(ages.first().map_or(0.0, |age| age.seconds.max(0.0)))
}
