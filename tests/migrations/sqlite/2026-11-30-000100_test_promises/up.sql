-- Models of the replay-promises test binary: test.full_only (rebuild = "full") and
-- test.team_totals (writes a shared row, so it cannot be rebuilt by user).
CREATE TABLE readmodels.test_full_only (
    model_version INTEGER NOT NULL,
    user_id       TEXT    NOT NULL,
    notes         INTEGER NOT NULL
);
CREATE UNIQUE INDEX readmodels.test_full_only_key ON test_full_only (model_version, user_id);
CREATE TABLE readmodels.test_team_totals (
    model_version INTEGER NOT NULL,
    user_id       TEXT    NOT NULL,
    words         INTEGER NOT NULL
);
CREATE UNIQUE INDEX readmodels.test_team_totals_key ON test_team_totals (model_version, user_id);
