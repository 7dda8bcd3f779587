-- Which code built each model version's rows (see the PostgreSQL migration).
CREATE TABLE readmodels.replay_fingerprints (
    model         TEXT    NOT NULL,
    model_version INTEGER NOT NULL,
    fingerprint   TEXT    NOT NULL,
    rebuilding    TEXT,
    recorded_at   TEXT    NOT NULL,
    PRIMARY KEY (model, model_version)
);
