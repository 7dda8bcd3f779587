-- The event log. IF NOT EXISTS: the application usually owns event_record already.
CREATE TABLE IF NOT EXISTS event_record (
    id             BIGSERIAL PRIMARY KEY,
    stream_id      UUID        NOT NULL,
    event_version  BIGINT      NOT NULL,
    event_type     TEXT        NOT NULL,
    schema_version INTEGER     NOT NULL DEFAULT 1,
    user_id        UUID        NOT NULL,
    occurred_at    TIMESTAMPTZ NOT NULL,
    recorded_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    payload        JSONB       NOT NULL,
    UNIQUE (stream_id, event_version)
);
CREATE INDEX IF NOT EXISTS event_record_type_id ON event_record (event_type, id);
CREATE INDEX IF NOT EXISTS event_record_user_id ON event_record (user_id, id);

CREATE SCHEMA IF NOT EXISTS readmodels;

CREATE TABLE readmodels.replay_checkpoints (
    model         TEXT        NOT NULL,
    model_version INTEGER     NOT NULL,
    scope         TEXT        NOT NULL,
    last_event_id BIGINT      NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (model, model_version, scope)
);

CREATE TABLE readmodels.replay_runs (
    run_id         BIGSERIAL PRIMARY KEY,
    model          TEXT        NOT NULL,
    model_version  INTEGER     NOT NULL,
    scope          TEXT        NOT NULL,
    full_rebuild   BOOLEAN     NOT NULL,
    from_event_id  BIGINT      NOT NULL,
    to_event_id    BIGINT      NOT NULL,
    started_at     TIMESTAMPTZ NOT NULL,
    finished_at    TIMESTAMPTZ,
    events_read    BIGINT      NOT NULL DEFAULT 0,
    events_applied BIGINT      NOT NULL DEFAULT 0,
    status         TEXT        NOT NULL,
    error          TEXT,
    checksum       TEXT
);
CREATE INDEX replay_runs_model ON readmodels.replay_runs (model, run_id);

CREATE TABLE readmodels.model_versions (
    model          TEXT        PRIMARY KEY,
    active_version INTEGER     NOT NULL,
    switched_at    TIMESTAMPTZ NOT NULL
);
