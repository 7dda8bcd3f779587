-- Read models of the journal domain (projections::journal), in the database ATTACHed as
-- `readmodels`. Uuids, dates and timestamps are TEXT, booleans and integers INTEGER.
-- No foreign keys: every table may be emptied.

-- journal.entries (timeline), key (model_version, event_id).
CREATE TABLE readmodels.journal_entries (
    model_version INTEGER NOT NULL,
    event_id      INTEGER NOT NULL,
    user_id       TEXT    NOT NULL,
    entry_id      TEXT    NOT NULL,
    action        TEXT    NOT NULL,
    day           TEXT    NOT NULL,
    mood          INTEGER NOT NULL,
    word_count    INTEGER NOT NULL,
    occurred_at   TEXT    NOT NULL
);
CREATE UNIQUE INDEX readmodels.journal_entries_key
    ON journal_entries (model_version, event_id);
CREATE INDEX readmodels.journal_entries_user ON journal_entries (user_id, model_version);

-- journal.monthly_mood (aggregate), key (model_version, user_id, month).
CREATE TABLE readmodels.journal_monthly_mood (
    model_version INTEGER NOT NULL,
    user_id       TEXT    NOT NULL,
    month         TEXT    NOT NULL,
    entries       INTEGER NOT NULL,
    words         INTEGER NOT NULL,
    mood_sum      INTEGER NOT NULL
);
CREATE UNIQUE INDEX readmodels.journal_monthly_mood_key
    ON journal_monthly_mood (model_version, user_id, month);
