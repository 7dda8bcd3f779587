-- Read models of the insights domain (projections::insights). Runtime tables come from
-- readmodel-runtime's own migrations. No foreign keys: every table may be truncated.
CREATE SCHEMA IF NOT EXISTS readmodels;

-- insights.daily_summary (aggregate), key (model_version, user_id, day).
CREATE TABLE readmodels.insights_daily_summary (
    model_version   INTEGER NOT NULL,
    user_id         UUID    NOT NULL,
    day             DATE    NOT NULL,
    habit_check_ins BIGINT  NOT NULL,
    spent_cents     BIGINT  NOT NULL,
    journal_words   BIGINT  NOT NULL,
    steps           BIGINT  NOT NULL,
    interactions    BIGINT  NOT NULL,
    tasks_completed BIGINT  NOT NULL
);
CREATE UNIQUE INDEX insights_daily_summary_key
    ON readmodels.insights_daily_summary (model_version, user_id, day);

-- insights.engagement (snapshot), key (model_version, user_id).
CREATE TABLE readmodels.insights_engagement (
    model_version    INTEGER     NOT NULL,
    user_id          UUID        NOT NULL,
    first_active_day DATE        NOT NULL,
    last_active_day  DATE        NOT NULL,
    active_days      BIGINT      NOT NULL,
    events           BIGINT      NOT NULL,
    last_domain      TEXT        NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX insights_engagement_key
    ON readmodels.insights_engagement (model_version, user_id);
