-- What each run was asked to do (so `--resume` can continue it), its rate, and which
-- run it resumed.
ALTER TABLE readmodels.replay_runs ADD COLUMN plan TEXT NOT NULL DEFAULT '{}';
ALTER TABLE readmodels.replay_runs ADD COLUMN events_per_second REAL;
ALTER TABLE readmodels.replay_runs ADD COLUMN resumed_from INTEGER;
