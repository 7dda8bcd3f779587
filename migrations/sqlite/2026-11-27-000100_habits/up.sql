-- Read models of the habits domain (projections::habits), in the database ATTACHed as
-- `readmodels`. Runtime tables come from readmodel-runtime's own migrations. Uuids, dates
-- and timestamps are TEXT (hyphenated UUID, YYYY-MM-DD, RFC 3339 UTC with microseconds);
-- booleans and integers are INTEGER. No foreign keys: every table may be emptied.

-- habits.checkins (timeline): one row per check-in or undo.
CREATE TABLE readmodels.habit_checkins (
    model_version INTEGER NOT NULL,
    event_id      INTEGER NOT NULL,
    user_id       TEXT    NOT NULL,
    habit_id      TEXT    NOT NULL,
    day           TEXT    NOT NULL,
    action        TEXT    NOT NULL,
    occurred_at   TEXT    NOT NULL
);
CREATE UNIQUE INDEX readmodels.habit_checkins_key ON habit_checkins (model_version, event_id);
CREATE INDEX readmodels.habit_checkins_user ON habit_checkins (user_id, model_version);

-- habits.streaks (snapshot): one row per live habit.
CREATE TABLE readmodels.habit_streaks (
    model_version   INTEGER NOT NULL,
    habit_id        TEXT    NOT NULL,
    user_id         TEXT    NOT NULL,
    name            TEXT    NOT NULL,
    target_per_week INTEGER,
    current_streak  INTEGER NOT NULL,
    longest_streak  INTEGER NOT NULL,
    last_day        TEXT,
    total_check_ins INTEGER NOT NULL,
    updated_at      TEXT    NOT NULL
);
CREATE UNIQUE INDEX readmodels.habit_streaks_key ON habit_streaks (model_version, habit_id);
CREATE INDEX readmodels.habit_streaks_user ON habit_streaks (user_id, model_version);

-- habits.monthly_completions (aggregate): check-ins minus undos per habit and month.
CREATE TABLE readmodels.habit_monthly_completions (
    model_version INTEGER NOT NULL,
    user_id       TEXT    NOT NULL,
    habit_id      TEXT    NOT NULL,
    month         TEXT    NOT NULL,
    check_ins     INTEGER NOT NULL,
    undos         INTEGER NOT NULL,
    completions   INTEGER NOT NULL
);
CREATE UNIQUE INDEX readmodels.habit_monthly_completions_key
    ON habit_monthly_completions (model_version, user_id, habit_id, month);
CREATE INDEX readmodels.habit_monthly_completions_user
    ON habit_monthly_completions (user_id, model_version);
