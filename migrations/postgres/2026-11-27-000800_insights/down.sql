-- The schema `readmodels` belongs to the runtime's migrations: only the tables go.
DROP TABLE IF EXISTS readmodels.insights_engagement;
DROP TABLE IF EXISTS readmodels.insights_daily_summary;
