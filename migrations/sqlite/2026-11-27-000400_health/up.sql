-- Read models of the health domain (projections::health), in the database ATTACHed as
-- `readmodels`. Uuids, dates and timestamps are TEXT, booleans and integers INTEGER.
-- No foreign keys: every table may be emptied.

-- health.daily_metrics (snapshot), key (model_version, user_id, day).
CREATE TABLE readmodels.health_daily_metrics (
    model_version   INTEGER NOT NULL,
    user_id         TEXT    NOT NULL,
    day             TEXT    NOT NULL,
    steps           INTEGER,
    asleep_minutes  INTEGER,
    resting_bpm     INTEGER,
    workouts        INTEGER NOT NULL,
    workout_minutes INTEGER NOT NULL,
    updated_at      TEXT    NOT NULL
);
CREATE UNIQUE INDEX readmodels.health_daily_metrics_key
    ON health_daily_metrics (model_version, user_id, day);

-- health.monthly_workouts (aggregate), key (model_version, user_id, month, activity).
CREATE TABLE readmodels.health_monthly_workouts (
    model_version INTEGER NOT NULL,
    user_id       TEXT    NOT NULL,
    month         TEXT    NOT NULL,
    activity      TEXT    NOT NULL,
    workouts      INTEGER NOT NULL,
    minutes       INTEGER NOT NULL,
    calories      INTEGER NOT NULL
);
CREATE UNIQUE INDEX readmodels.health_monthly_workouts_key
    ON health_monthly_workouts (model_version, user_id, month, activity);

-- health.resting_heart_rate (timeline), key (model_version, event_id).
CREATE TABLE readmodels.health_resting_heart_rate (
    model_version INTEGER NOT NULL,
    event_id      INTEGER NOT NULL,
    user_id       TEXT    NOT NULL,
    day           TEXT    NOT NULL,
    resting_bpm   INTEGER NOT NULL,
    occurred_at   TEXT    NOT NULL
);
CREATE UNIQUE INDEX readmodels.health_resting_heart_rate_key
    ON health_resting_heart_rate (model_version, event_id);
CREATE INDEX readmodels.health_resting_heart_rate_user
    ON health_resting_heart_rate (user_id, model_version);
