-- The habit tracker's read models. No foreign keys: every table may be truncated.
CREATE SCHEMA IF NOT EXISTS readmodels;

-- tracker.habit_totals (snapshot)
CREATE TABLE readmodels.habit_totals (
    model_version INTEGER     NOT NULL,
    habit_id      UUID        NOT NULL,
    user_id       UUID        NOT NULL,
    title         TEXT        NOT NULL,
    times_done    BIGINT      NOT NULL,
    minutes       BIGINT      NOT NULL,
    last_done     DATE,
    updated_at    TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX habit_totals_key ON readmodels.habit_totals (model_version, habit_id);
CREATE INDEX habit_totals_user ON readmodels.habit_totals (user_id, model_version);

-- tracker.done_log (timeline)
CREATE TABLE readmodels.done_log (
    model_version INTEGER     NOT NULL,
    event_id      BIGINT      NOT NULL,
    user_id       UUID        NOT NULL,
    habit_id      UUID        NOT NULL,
    day           DATE        NOT NULL,
    minutes       INTEGER     NOT NULL,
    occurred_at   TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX done_log_key ON readmodels.done_log (model_version, event_id);
CREATE INDEX done_log_user ON readmodels.done_log (user_id, model_version);
