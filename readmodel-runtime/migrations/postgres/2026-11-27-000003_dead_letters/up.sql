-- Events a replay could not apply, parked under `--on-bad-event park`.
CREATE TABLE readmodels.replay_dead_letters (
    model         TEXT        NOT NULL,
    model_version INTEGER     NOT NULL,
    event_id      BIGINT      NOT NULL,
    event_type    TEXT        NOT NULL,
    reason        TEXT        NOT NULL,
    parked_at     TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (model, model_version, event_id)
);
