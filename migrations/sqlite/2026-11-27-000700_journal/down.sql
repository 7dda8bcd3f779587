-- The schema `readmodels` belongs to the runtime: only the tables go.
DROP TABLE IF EXISTS readmodels.journal_monthly_mood;
DROP TABLE IF EXISTS readmodels.journal_entries;
