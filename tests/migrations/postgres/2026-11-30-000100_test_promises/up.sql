-- Models of the replay-promises test binary: test.full_only (rebuild = "full") and
-- test.team_totals (writes a shared row, so it cannot be rebuilt by user).
CREATE TABLE readmodels.test_full_only (
    model_version INTEGER NOT NULL,
    user_id       UUID    NOT NULL,
    notes         BIGINT  NOT NULL
);
CREATE UNIQUE INDEX test_full_only_key ON readmodels.test_full_only (model_version, user_id);
CREATE TABLE readmodels.test_team_totals (
    model_version INTEGER NOT NULL,
    user_id       UUID    NOT NULL,
    words         BIGINT  NOT NULL
);
CREATE UNIQUE INDEX test_team_totals_key ON readmodels.test_team_totals (model_version, user_id);
