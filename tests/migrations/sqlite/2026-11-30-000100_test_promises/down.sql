DROP TABLE readmodels.test_team_totals;
DROP TABLE readmodels.test_full_only;
