-- Read models of the habits domain (projections::habits). Runtime tables come from
-- readmodel-runtime's own migrations. No foreign keys: every table may be truncated.
CREATE SCHEMA IF NOT EXISTS readmodels;

-- habits.checkins (timeline): one row per check-in or undo.
CREATE TABLE readmodels.habit_checkins (
    model_version INTEGER     NOT NULL,
    event_id      BIGINT      NOT NULL,
    user_id       UUID        NOT NULL,
    habit_id      UUID        NOT NULL,
    day           DATE        NOT NULL,
    action        TEXT        NOT NULL,
    occurred_at   TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX habit_checkins_key ON readmodels.habit_checkins (model_version, event_id);
CREATE INDEX habit_checkins_user ON readmodels.habit_checkins (user_id, model_version);

-- habits.streaks (snapshot): one row per live habit.
CREATE TABLE readmodels.habit_streaks (
    model_version   INTEGER     NOT NULL,
    habit_id        UUID        NOT NULL,
    user_id         UUID        NOT NULL,
    name            TEXT        NOT NULL,
    target_per_week INTEGER,
    current_streak  INTEGER     NOT NULL,
    longest_streak  INTEGER     NOT NULL,
    last_day        DATE,
    total_check_ins BIGINT      NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX habit_streaks_key ON readmodels.habit_streaks (model_version, habit_id);
CREATE INDEX habit_streaks_user ON readmodels.habit_streaks (user_id, model_version);

-- habits.monthly_completions (aggregate): check-ins minus undos per habit and month.
CREATE TABLE readmodels.habit_monthly_completions (
    model_version INTEGER NOT NULL,
    user_id       UUID    NOT NULL,
    habit_id      UUID    NOT NULL,
    month         DATE    NOT NULL,
    check_ins     BIGINT  NOT NULL,
    undos         BIGINT  NOT NULL,
    completions   BIGINT  NOT NULL
);
CREATE UNIQUE INDEX habit_monthly_completions_key
    ON readmodels.habit_monthly_completions (model_version, user_id, habit_id, month);
CREATE INDEX habit_monthly_completions_user
    ON readmodels.habit_monthly_completions (user_id, model_version);
