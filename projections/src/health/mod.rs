//! # Health
//!
//! Steps, sleep, resting heart rate and workouts. Each user's measurements are one event
//! stream of these [`events`]:
//!
//! | event type | payload |
//! |---|---|
//! | `health.steps_recorded` | [`StepsRecorded`] |
//! | `health.sleep_logged` (schema version 2; 1 is upcast) | [`SleepLogged`] |
//! | `health.heart_rate_measured` | [`HeartRateMeasured`] |
//! | `health.workout_logged` | [`WorkoutLogged`] |
//!
//! Three read models:
//!
//! * [`DailyMetrics`] — snapshot `health.daily_metrics` (`readmodels.health_daily_metrics`):
//!   one row per user and day with the day's latest steps, sleep and heart rate and its
//!   workouts.
//! * [`RestingHeartRate`] — timeline `health.resting_heart_rate`
//!   (`readmodels.health_resting_heart_rate`): every measurement, the trend to plot.
//! * [`MonthlyWorkouts`] — aggregate `health.monthly_workouts`
//!   (`readmodels.health_monthly_workouts`): workouts, minutes and calories per user, month
//!   and activity.

use chrono::{DateTime, NaiveDate, Utc};
use readmodel_runtime::{handlers, Event, ReadModel, Rows};
use uuid::Uuid;

use crate::days::first_of_month;

pub mod events;

pub use events::{HeartRateMeasured, SleepLogged, StepsRecorded, WorkoutLogged};

/// Snapshot: one user's day of measurements. Later values of a day replace earlier ones;
/// workouts add up.
///
/// One user's day.
#[derive(Clone, Debug, PartialEq, ReadModel)]
#[read_model(
    name = "health.daily_metrics",
    domain = "health",
    version = 1,
    kind = "snapshot",
    events = [StepsRecorded, SleepLogged, HeartRateMeasured, WorkoutLogged],
    key = (model_version, user_id, day),
    table = readmodels::health_daily_metrics,
)]
pub struct DailyMetrics {
    /// Model version.
    pub model_version: i32,
    /// Owner.
    pub user_id: Uuid,
    /// The day.
    pub day: NaiveDate,
    /// The day's step count, once synced.
    pub steps: Option<i64>,
    /// Minutes asleep the night before, once logged.
    pub asleep_minutes: Option<i32>,
    /// Resting heart rate, once measured.
    pub resting_bpm: Option<i32>,
    /// Workouts logged for the day.
    pub workouts: i32,
    /// Their total length in minutes.
    pub workout_minutes: i32,
    /// `occurred_at` of the last event applied to the row.
    pub updated_at: DateTime<Utc>,
}

#[handlers]
impl DailyMetrics {
    /// Replaces the day's steps.
    fn steps(event: &Event<StepsRecorded>, rows: &mut Rows<'_, DailyMetrics>) {
        update_day(rows, event.user_id, event.day, event.occurred_at, |row| {
            row.steps = Some(event.steps);
        });
    }

    /// Replaces the night's sleep.
    fn sleep(event: &Event<SleepLogged>, rows: &mut Rows<'_, DailyMetrics>) {
        update_day(rows, event.user_id, event.day, event.occurred_at, |row| {
            row.asleep_minutes = Some(event.asleep_minutes);
        });
    }

    /// Replaces the day's resting heart rate.
    fn heart_rate(event: &Event<HeartRateMeasured>, rows: &mut Rows<'_, DailyMetrics>) {
        update_day(rows, event.user_id, event.day, event.occurred_at, |row| {
            row.resting_bpm = Some(event.resting_bpm);
        });
    }

    /// Adds a workout to the day.
    fn workout(event: &Event<WorkoutLogged>, rows: &mut Rows<'_, DailyMetrics>) {
        update_day(rows, event.user_id, event.day, event.occurred_at, |row| {
            row.workouts += 1;
            row.workout_minutes += event.duration_minutes;
        });
    }
}

/// Changes one user's day, creating it empty first.
fn update_day(
    rows: &mut Rows<'_, DailyMetrics>,
    user_id: Uuid,
    day: NaiveDate,
    at: DateTime<Utc>,
    change: impl FnOnce(&mut DailyMetrics),
) {
    rows.modify(
        (user_id, day),
        || DailyMetrics {
            model_version: DailyMetrics::MODEL_VERSION,
            user_id,
            day,
            steps: None,
            asleep_minutes: None,
            resting_bpm: None,
            workouts: 0,
            workout_minutes: 0,
            updated_at: at,
        },
        |row| {
            change(row);
            row.updated_at = at;
        },
    );
}

/// Timeline: every resting heart rate measurement, in log order.
///
/// One measurement.
#[derive(Clone, Debug, PartialEq, ReadModel)]
#[read_model(
    name = "health.resting_heart_rate",
    domain = "health",
    version = 1,
    kind = "timeline",
    events = [HeartRateMeasured],
    key = (model_version, event_id),
    table = readmodels::health_resting_heart_rate,
)]
pub struct RestingHeartRate {
    /// Model version.
    pub model_version: i32,
    /// The event's global position.
    pub event_id: i64,
    /// Owner.
    pub user_id: Uuid,
    /// The day measured.
    pub day: NaiveDate,
    /// Beats per minute.
    pub resting_bpm: i32,
    /// When it was recorded.
    pub occurred_at: DateTime<Utc>,
}

#[handlers]
impl RestingHeartRate {
    /// Appends the measurement.
    fn measured(event: &Event<HeartRateMeasured>) -> Vec<RestingHeartRate> {
        vec![RestingHeartRate {
            model_version: Self::MODEL_VERSION,
            event_id: event.id,
            user_id: event.user_id,
            day: event.day,
            resting_bpm: event.resting_bpm,
            occurred_at: event.occurred_at,
        }]
    }
}

/// Aggregate: workouts per user, month (of the workout's day) and activity.
///
/// One activity's month.
#[derive(Clone, Debug, PartialEq, ReadModel)]
#[read_model(
    name = "health.monthly_workouts",
    domain = "health",
    version = 1,
    kind = "aggregate",
    events = [WorkoutLogged],
    key = (model_version, user_id, month, activity),
    table = readmodels::health_monthly_workouts,
)]
pub struct MonthlyWorkouts {
    /// Model version.
    pub model_version: i32,
    /// Owner.
    pub user_id: Uuid,
    /// First day of the month.
    pub month: NaiveDate,
    /// The activity.
    pub activity: String,
    /// Workouts.
    pub workouts: i64,
    /// Their total length in minutes.
    pub minutes: i64,
    /// Their total active kilocalories.
    pub calories: i64,
}

#[handlers]
impl MonthlyWorkouts {
    /// Counts the workout.
    fn workout(event: &Event<WorkoutLogged>, rows: &mut Rows<'_, MonthlyWorkouts>) {
        let month = first_of_month(event.day);
        rows.modify(
            (event.user_id, month, event.activity.clone()),
            || MonthlyWorkouts {
                model_version: Self::MODEL_VERSION,
                user_id: event.user_id,
                month,
                activity: event.activity.clone(),
                workouts: 0,
                minutes: 0,
                calories: 0,
            },
            |row| {
                row.workouts += 1;
                row.minutes += i64::from(event.duration_minutes);
                row.calories += i64::from(event.calories);
            },
        );
    }
}

#[cfg(test)]
mod tests;
