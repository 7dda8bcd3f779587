-- The habit tracker's read models, in the database ATTACHed as `readmodels`. Uuids, dates
-- and timestamps are TEXT (hyphenated UUID, YYYY-MM-DD, RFC 3339 UTC with microseconds).

-- tracker.habit_totals (snapshot)
CREATE TABLE readmodels.habit_totals (
    model_version INTEGER NOT NULL,
    habit_id      TEXT    NOT NULL,
    user_id       TEXT    NOT NULL,
    title         TEXT    NOT NULL,
    times_done    INTEGER NOT NULL,
    minutes       INTEGER NOT NULL,
    last_done     TEXT,
    updated_at    TEXT    NOT NULL
);
CREATE UNIQUE INDEX readmodels.habit_totals_key ON habit_totals (model_version, habit_id);
CREATE INDEX readmodels.habit_totals_user ON habit_totals (user_id, model_version);

-- tracker.done_log (timeline)
CREATE TABLE readmodels.done_log (
    model_version INTEGER NOT NULL,
    event_id      INTEGER NOT NULL,
    user_id       TEXT    NOT NULL,
    habit_id      TEXT    NOT NULL,
    day           TEXT    NOT NULL,
    minutes       INTEGER NOT NULL,
    occurred_at   TEXT    NOT NULL
);
CREATE UNIQUE INDEX readmodels.done_log_key ON done_log (model_version, event_id);
CREATE INDEX readmodels.done_log_user ON done_log (user_id, model_version);
