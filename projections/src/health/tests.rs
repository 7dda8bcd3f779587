//! The health models replayed in memory, with exact expected rows.

use readmodel_runtime::testing::{stored, InMemory};
use readmodel_runtime::{DomainEvent, StoredEvent};
use serde_json::json;

use super::DailyMetrics;
use super::MonthlyWorkouts;
use super::RestingHeartRate;
use super::*;
use crate::test_support::{at, day, id, raw};

const USER: Uuid = id(1);
const LOG: Uuid = id(2);

fn workout(n: u64, d: u32, activity: &str, minutes: i32, calories: i32) -> WorkoutLogged {
    WorkoutLogged {
        workout_id: id(n),
        day: day(3, d),
        activity: activity.to_owned(),
        duration_minutes: minutes,
        calories,
    }
}

/// Two days: sleep (one v1 payload), heart rate, steps synced twice, three workouts.
fn log() -> Vec<StoredEvent> {
    vec![
        raw(
            1,
            USER,
            LOG,
            at(3, 1, 7),
            SleepLogged::EVENT_TYPE,
            1,
            json!({"night_of": "2026-03-01", "minutes": 420}),
        ),
        stored(
            2,
            USER,
            LOG,
            2,
            at(3, 1, 7),
            &HeartRateMeasured {
                day: day(3, 1),
                resting_bpm: 58,
            },
        ),
        stored(
            3,
            USER,
            LOG,
            3,
            at(3, 1, 12),
            &StepsRecorded {
                day: day(3, 1),
                steps: 4_000,
            },
        ),
        stored(
            4,
            USER,
            LOG,
            4,
            at(3, 1, 18),
            &workout(20, 1, "run", 30, 310),
        ),
        stored(
            5,
            USER,
            LOG,
            5,
            at(3, 1, 21),
            &StepsRecorded {
                day: day(3, 1),
                steps: 11_250,
            },
        ),
        stored(
            6,
            USER,
            LOG,
            6,
            at(3, 2, 7),
            &SleepLogged {
                day: day(3, 2),
                asleep_minutes: 455,
            },
        ),
        stored(
            7,
            USER,
            LOG,
            7,
            at(3, 2, 7),
            &HeartRateMeasured {
                day: day(3, 2),
                resting_bpm: 56,
            },
        ),
        stored(
            8,
            USER,
            LOG,
            8,
            at(3, 2, 19),
            &workout(21, 2, "run", 45, 460),
        ),
        stored(
            9,
            USER,
            LOG,
            9,
            at(3, 2, 20),
            &workout(22, 2, "yoga", 20, 90),
        ),
    ]
}

#[test]
fn daily_metrics_keep_the_latest_values_and_add_workouts() {
    let mut model = InMemory::<DailyMetrics>::new();
    model.apply_all(&log()).expect("applies");
    assert_eq!(
        model.rows(),
        vec![
            DailyMetrics {
                model_version: 1,
                user_id: USER,
                day: day(3, 1),
                steps: Some(11_250),
                asleep_minutes: Some(420),
                resting_bpm: Some(58),
                workouts: 1,
                workout_minutes: 30,
                updated_at: at(3, 1, 21),
            },
            DailyMetrics {
                model_version: 1,
                user_id: USER,
                day: day(3, 2),
                steps: None,
                asleep_minutes: Some(455),
                resting_bpm: Some(56),
                workouts: 2,
                workout_minutes: 65,
                updated_at: at(3, 2, 20),
            },
        ]
    );
}

#[test]
fn resting_heart_rate_is_a_trend_of_measurements() {
    let mut model = InMemory::<RestingHeartRate>::new();
    model.apply_all(&log()).expect("applies");
    let row = |event_id, d, resting_bpm| RestingHeartRate {
        model_version: 1,
        event_id,
        user_id: USER,
        day: day(3, d),
        resting_bpm,
        occurred_at: at(3, d, 7),
    };
    assert_eq!(model.rows(), vec![row(2, 1, 58), row(7, 2, 56)]);
}

#[test]
fn monthly_workouts_add_up_per_activity() {
    let mut model = InMemory::<MonthlyWorkouts>::new();
    model.apply_all(&log()).expect("applies");
    let row = |activity: &str, workouts, minutes, calories| MonthlyWorkouts {
        model_version: 1,
        user_id: USER,
        month: day(3, 1),
        activity: activity.to_owned(),
        workouts,
        minutes,
        calories,
    };
    assert_eq!(
        model.rows(),
        vec![row("run", 2, 75, 770), row("yoga", 1, 20, 90)]
    );
}
