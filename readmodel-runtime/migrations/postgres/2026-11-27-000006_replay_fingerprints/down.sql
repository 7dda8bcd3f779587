DROP TABLE readmodels.replay_fingerprints;
