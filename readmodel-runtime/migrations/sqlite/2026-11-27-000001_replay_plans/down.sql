ALTER TABLE readmodels.replay_runs DROP COLUMN resumed_from;
ALTER TABLE readmodels.replay_runs DROP COLUMN events_per_second;
ALTER TABLE readmodels.replay_runs DROP COLUMN plan;
