-- The event log lives in the main database file; read models and the runtime's own
-- tables in the database ATTACHed as `readmodels`.
CREATE TABLE IF NOT EXISTS event_record (
    id             INTEGER PRIMARY KEY,
    stream_id      TEXT    NOT NULL,
    event_version  INTEGER NOT NULL,
    event_type     TEXT    NOT NULL,
    schema_version INTEGER NOT NULL DEFAULT 1,
    user_id        TEXT    NOT NULL,
    occurred_at    TEXT    NOT NULL,
    recorded_at    TEXT    NOT NULL,
    payload        TEXT    NOT NULL,
    UNIQUE (stream_id, event_version)
);
CREATE INDEX IF NOT EXISTS event_record_type_id ON event_record (event_type, id);
CREATE INDEX IF NOT EXISTS event_record_user_id ON event_record (user_id, id);

CREATE TABLE IF NOT EXISTS readmodels.replay_checkpoints (
    model         TEXT    NOT NULL,
    model_version INTEGER NOT NULL,
    scope         TEXT    NOT NULL,
    last_event_id INTEGER NOT NULL,
    updated_at    TEXT    NOT NULL,
    PRIMARY KEY (model, model_version, scope)
);

CREATE TABLE IF NOT EXISTS readmodels.replay_runs (
    run_id         INTEGER PRIMARY KEY,
    model          TEXT    NOT NULL,
    model_version  INTEGER NOT NULL,
    scope          TEXT    NOT NULL,
    full_rebuild   INTEGER NOT NULL,
    from_event_id  INTEGER NOT NULL,
    to_event_id    INTEGER NOT NULL,
    started_at     TEXT    NOT NULL,
    finished_at    TEXT,
    events_read    INTEGER NOT NULL DEFAULT 0,
    events_applied INTEGER NOT NULL DEFAULT 0,
    status         TEXT    NOT NULL,
    error          TEXT,
    checksum       TEXT
);
CREATE INDEX IF NOT EXISTS readmodels.replay_runs_model ON replay_runs (model, run_id);

CREATE TABLE IF NOT EXISTS readmodels.model_versions (
    model          TEXT    PRIMARY KEY,
    active_version INTEGER NOT NULL,
    switched_at    TEXT    NOT NULL
);
