DROP TABLE readmodels.model_versions;
DROP TABLE readmodels.replay_runs;
DROP TABLE readmodels.replay_checkpoints;
