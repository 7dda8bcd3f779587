DROP TABLE IF EXISTS readmodels.insights_engagement;
DROP TABLE IF EXISTS readmodels.insights_daily_summary;
