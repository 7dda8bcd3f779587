-- Read models of the insights domain (projections::insights), in the database ATTACHed as
-- `readmodels`. Uuids, dates and timestamps are TEXT, booleans and integers INTEGER.
-- No foreign keys: every table may be emptied.

-- insights.daily_summary (aggregate), key (model_version, user_id, day).
CREATE TABLE readmodels.insights_daily_summary (
    model_version   INTEGER NOT NULL,
    user_id         TEXT    NOT NULL,
    day             TEXT    NOT NULL,
    habit_check_ins INTEGER NOT NULL,
    spent_cents     INTEGER NOT NULL,
    journal_words   INTEGER NOT NULL,
    steps           INTEGER NOT NULL,
    interactions    INTEGER NOT NULL,
    tasks_completed INTEGER NOT NULL
);
CREATE UNIQUE INDEX readmodels.insights_daily_summary_key
    ON insights_daily_summary (model_version, user_id, day);

-- insights.engagement (snapshot), key (model_version, user_id).
CREATE TABLE readmodels.insights_engagement (
    model_version    INTEGER NOT NULL,
    user_id          TEXT    NOT NULL,
    first_active_day TEXT    NOT NULL,
    last_active_day  TEXT    NOT NULL,
    active_days      INTEGER NOT NULL,
    events           INTEGER NOT NULL,
    last_domain      TEXT    NOT NULL,
    updated_at       TEXT    NOT NULL
);
CREATE UNIQUE INDEX readmodels.insights_engagement_key
    ON insights_engagement (model_version, user_id);
