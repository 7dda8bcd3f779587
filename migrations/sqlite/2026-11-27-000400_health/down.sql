DROP TABLE IF EXISTS readmodels.health_resting_heart_rate;
DROP TABLE IF EXISTS readmodels.health_monthly_workouts;
DROP TABLE IF EXISTS readmodels.health_daily_metrics;
