-- Read models of the journal domain (projections::journal). Runtime tables come from
-- readmodel-runtime's own migrations. No foreign keys: every table may be truncated.
CREATE SCHEMA IF NOT EXISTS readmodels;

-- journal.entries (timeline), key (model_version, event_id).
CREATE TABLE readmodels.journal_entries (
    model_version INTEGER     NOT NULL,
    event_id      BIGINT      NOT NULL,
    user_id       UUID        NOT NULL,
    entry_id      UUID        NOT NULL,
    action        TEXT        NOT NULL,
    day           DATE        NOT NULL,
    mood          INTEGER     NOT NULL,
    word_count    INTEGER     NOT NULL,
    occurred_at   TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX journal_entries_key
    ON readmodels.journal_entries (model_version, event_id);
CREATE INDEX journal_entries_user ON readmodels.journal_entries (user_id, model_version);

-- journal.monthly_mood (aggregate), key (model_version, user_id, month).
CREATE TABLE readmodels.journal_monthly_mood (
    model_version INTEGER NOT NULL,
    user_id       UUID    NOT NULL,
    month         DATE    NOT NULL,
    entries       BIGINT  NOT NULL,
    words         BIGINT  NOT NULL,
    mood_sum      BIGINT  NOT NULL
);
CREATE UNIQUE INDEX journal_monthly_mood_key
    ON readmodels.journal_monthly_mood (model_version, user_id, month);
