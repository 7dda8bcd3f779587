-- Which code built each model version's rows: the fingerprint of the model in the binary
-- that wrote them (readmodel_runtime::fingerprint). A catch-up by a binary whose model has
-- another fingerprint is refused. `rebuilding` is the fingerprint of a full rebuild that
-- was planned but has not deleted the rows yet; the transaction deleting them moves it to
-- `fingerprint` (see ledger/fingerprints.rs).
CREATE TABLE readmodels.replay_fingerprints (
    model         TEXT        NOT NULL,
    model_version INTEGER     NOT NULL,
    fingerprint   TEXT        NOT NULL,
    rebuilding    TEXT,
    recorded_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (model, model_version)
);
