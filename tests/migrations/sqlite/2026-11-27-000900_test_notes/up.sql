-- test.notes: a tiny aggregate declared at two versions by the versioned test binaries.
CREATE TABLE readmodels.test_notes (
    model_version INTEGER NOT NULL,
    user_id       TEXT    NOT NULL,
    notes         INTEGER NOT NULL,
    score         INTEGER NOT NULL
);
CREATE UNIQUE INDEX readmodels.test_notes_key ON test_notes (model_version, user_id);
