-- The schema `readmodels` belongs to the runtime: only the tables go.
DROP TABLE IF EXISTS readmodels.insights_engagement;
DROP TABLE IF EXISTS readmodels.insights_daily_summary;
