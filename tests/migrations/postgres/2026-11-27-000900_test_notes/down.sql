DROP TABLE readmodels.test_notes;
