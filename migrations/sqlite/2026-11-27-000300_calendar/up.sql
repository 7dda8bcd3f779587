-- Read models of the calendar domain (projections::calendar), in the database ATTACHed as
-- `readmodels`. Uuids, dates and timestamps are TEXT, booleans and integers INTEGER.
-- No foreign keys: every table may be emptied.

-- calendar.agenda (timeline), key (model_version, event_id).
CREATE TABLE readmodels.calendar_agenda (
    model_version      INTEGER NOT NULL,
    event_id           INTEGER NOT NULL,
    user_id            TEXT    NOT NULL,
    entry_id           TEXT    NOT NULL,
    action             TEXT    NOT NULL,
    title              TEXT,
    starts_at          TEXT    NOT NULL,
    duration_minutes   INTEGER NOT NULL,
    previous_starts_at TEXT,
    occurred_at        TEXT    NOT NULL
);
CREATE UNIQUE INDEX readmodels.calendar_agenda_key
    ON calendar_agenda (model_version, event_id);
CREATE INDEX readmodels.calendar_agenda_user ON calendar_agenda (user_id, model_version);

-- calendar.weekly_busy (aggregate), key (model_version, user_id, week).
CREATE TABLE readmodels.calendar_weekly_busy (
    model_version INTEGER NOT NULL,
    user_id       TEXT    NOT NULL,
    week          TEXT    NOT NULL,
    busy_minutes  INTEGER NOT NULL,
    entries       INTEGER NOT NULL
);
CREATE UNIQUE INDEX readmodels.calendar_weekly_busy_key
    ON calendar_weekly_busy (model_version, user_id, week);
