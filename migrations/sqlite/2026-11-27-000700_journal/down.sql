DROP TABLE IF EXISTS readmodels.journal_monthly_mood;
DROP TABLE IF EXISTS readmodels.journal_entries;
