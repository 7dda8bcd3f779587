-- Read models of the relationships domain (projections::relationships), in the database ATTACHed as
-- `readmodels`. Uuids, dates and timestamps are TEXT, booleans and integers INTEGER.
-- No foreign keys: every table may be emptied.

-- relationships.interactions (timeline), key (model_version, event_id).
CREATE TABLE readmodels.relationships_interactions (
    model_version  INTEGER NOT NULL,
    event_id       INTEGER NOT NULL,
    user_id        TEXT    NOT NULL,
    person_id      TEXT    NOT NULL,
    interaction_id TEXT    NOT NULL,
    channel        TEXT    NOT NULL,
    occurred_at    TEXT    NOT NULL
);
CREATE UNIQUE INDEX readmodels.relationships_interactions_key
    ON relationships_interactions (model_version, event_id);
CREATE INDEX readmodels.relationships_interactions_user
    ON relationships_interactions (user_id, model_version);

-- relationships.last_contact (snapshot), key (model_version, person_id).
CREATE TABLE readmodels.relationships_last_contact (
    model_version   INTEGER NOT NULL,
    person_id       TEXT    NOT NULL,
    user_id         TEXT    NOT NULL,
    name            TEXT    NOT NULL,
    circle          TEXT    NOT NULL,
    last_contact_at TEXT,
    last_channel    TEXT,
    interactions    INTEGER NOT NULL,
    updated_at      TEXT    NOT NULL
);
CREATE UNIQUE INDEX readmodels.relationships_last_contact_key
    ON relationships_last_contact (model_version, person_id);
CREATE INDEX readmodels.relationships_last_contact_user
    ON relationships_last_contact (user_id, model_version);
