-- Partition leases (see the PostgreSQL migration). SQLite allows one writer at a time,
-- so only PostgreSQL runs several workers; the table keeps the bookkeeping uniform.
CREATE TABLE readmodels.replay_leases (
    model         TEXT    NOT NULL,
    model_version INTEGER NOT NULL,
    partition     INTEGER NOT NULL,
    partitions    INTEGER NOT NULL,
    owner         TEXT,
    token         BIGINT  NOT NULL DEFAULT 0,
    heartbeat_at  TEXT,
    expires_at    TEXT,
    PRIMARY KEY (model, model_version, partition)
);
