-- Read models of the relationships domain (projections::relationships). Runtime tables come from
-- readmodel-runtime's own migrations. No foreign keys: every table may be truncated.
CREATE SCHEMA IF NOT EXISTS readmodels;

-- relationships.interactions (timeline), key (model_version, event_id).
CREATE TABLE readmodels.relationships_interactions (
    model_version  INTEGER     NOT NULL,
    event_id       BIGINT      NOT NULL,
    user_id        UUID        NOT NULL,
    person_id      UUID        NOT NULL,
    interaction_id UUID        NOT NULL,
    channel        TEXT        NOT NULL,
    occurred_at    TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX relationships_interactions_key
    ON readmodels.relationships_interactions (model_version, event_id);
CREATE INDEX relationships_interactions_user
    ON readmodels.relationships_interactions (user_id, model_version);

-- relationships.last_contact (snapshot), key (model_version, person_id).
CREATE TABLE readmodels.relationships_last_contact (
    model_version   INTEGER     NOT NULL,
    person_id       UUID        NOT NULL,
    user_id         UUID        NOT NULL,
    name            TEXT        NOT NULL,
    circle          TEXT        NOT NULL,
    last_contact_at TIMESTAMPTZ,
    last_channel    TEXT,
    interactions    BIGINT      NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX relationships_last_contact_key
    ON readmodels.relationships_last_contact (model_version, person_id);
CREATE INDEX relationships_last_contact_user
    ON readmodels.relationships_last_contact (user_id, model_version);
