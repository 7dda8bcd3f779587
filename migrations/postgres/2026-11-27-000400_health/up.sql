-- Read models of the health domain (projections::health). Runtime tables come from
-- readmodel-runtime's own migrations. No foreign keys: every table may be truncated.
CREATE SCHEMA IF NOT EXISTS readmodels;

-- health.daily_metrics (snapshot), key (model_version, user_id, day).
CREATE TABLE readmodels.health_daily_metrics (
    model_version   INTEGER     NOT NULL,
    user_id         UUID        NOT NULL,
    day             DATE        NOT NULL,
    steps           BIGINT,
    asleep_minutes  INTEGER,
    resting_bpm     INTEGER,
    workouts        INTEGER     NOT NULL,
    workout_minutes INTEGER     NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX health_daily_metrics_key
    ON readmodels.health_daily_metrics (model_version, user_id, day);

-- health.monthly_workouts (aggregate), key (model_version, user_id, month, activity).
CREATE TABLE readmodels.health_monthly_workouts (
    model_version INTEGER NOT NULL,
    user_id       UUID    NOT NULL,
    month         DATE    NOT NULL,
    activity      TEXT    NOT NULL,
    workouts      BIGINT  NOT NULL,
    minutes       BIGINT  NOT NULL,
    calories      BIGINT  NOT NULL
);
CREATE UNIQUE INDEX health_monthly_workouts_key
    ON readmodels.health_monthly_workouts (model_version, user_id, month, activity);

-- health.resting_heart_rate (timeline), key (model_version, event_id).
CREATE TABLE readmodels.health_resting_heart_rate (
    model_version INTEGER     NOT NULL,
    event_id      BIGINT      NOT NULL,
    user_id       UUID        NOT NULL,
    day           DATE        NOT NULL,
    resting_bpm   INTEGER     NOT NULL,
    occurred_at   TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX health_resting_heart_rate_key
    ON readmodels.health_resting_heart_rate (model_version, event_id);
CREATE INDEX health_resting_heart_rate_user
    ON readmodels.health_resting_heart_rate (user_id, model_version);
