DROP TABLE readmodels.replay_leases;
