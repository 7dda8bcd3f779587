DROP TABLE readmodels.replay_dead_letters;
