-- test.notes: a tiny aggregate declared at two versions by the versioned test binaries.
CREATE TABLE readmodels.test_notes (
    model_version INTEGER NOT NULL,
    user_id       UUID    NOT NULL,
    notes         BIGINT  NOT NULL,
    score         BIGINT  NOT NULL
);
CREATE UNIQUE INDEX test_notes_key ON readmodels.test_notes (model_version, user_id);
