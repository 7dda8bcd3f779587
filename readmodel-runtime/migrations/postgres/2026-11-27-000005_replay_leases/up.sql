-- Which worker holds each partition of a model version (`replay worker`,
-- `replay run --workers N`). `token` grows with every claim: a flush commits only while
-- its worker's (owner, token) is still the row's, so a worker that lost its lease while
-- paused cannot commit another batch.
CREATE TABLE readmodels.replay_leases (
    model         TEXT        NOT NULL,
    model_version INTEGER     NOT NULL,
    partition     INTEGER     NOT NULL,
    partitions    INTEGER     NOT NULL,
    owner         TEXT,
    token         BIGINT      NOT NULL DEFAULT 0,
    heartbeat_at  TIMESTAMPTZ,
    expires_at    TIMESTAMPTZ,
    PRIMARY KEY (model, model_version, partition)
);
