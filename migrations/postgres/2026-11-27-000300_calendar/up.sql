-- Read models of the calendar domain (projections::calendar). Runtime tables come from
-- readmodel-runtime's own migrations. No foreign keys: every table may be truncated.
CREATE SCHEMA IF NOT EXISTS readmodels;

-- calendar.agenda (timeline), key (model_version, event_id).
CREATE TABLE readmodels.calendar_agenda (
    model_version      INTEGER     NOT NULL,
    event_id           BIGINT      NOT NULL,
    user_id            UUID        NOT NULL,
    entry_id           UUID        NOT NULL,
    action             TEXT        NOT NULL,
    title              TEXT,
    starts_at          TIMESTAMPTZ NOT NULL,
    duration_minutes   INTEGER     NOT NULL,
    previous_starts_at TIMESTAMPTZ,
    occurred_at        TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX calendar_agenda_key
    ON readmodels.calendar_agenda (model_version, event_id);
CREATE INDEX calendar_agenda_user ON readmodels.calendar_agenda (user_id, model_version);

-- calendar.weekly_busy (aggregate), key (model_version, user_id, week).
CREATE TABLE readmodels.calendar_weekly_busy (
    model_version INTEGER NOT NULL,
    user_id       UUID    NOT NULL,
    week          DATE    NOT NULL,
    busy_minutes  BIGINT  NOT NULL,
    entries       BIGINT  NOT NULL
);
CREATE UNIQUE INDEX calendar_weekly_busy_key
    ON readmodels.calendar_weekly_busy (model_version, user_id, week);
