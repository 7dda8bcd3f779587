-- The schema `readmodels` belongs to the runtime: only the tables go.
DROP TABLE IF EXISTS readmodels.health_resting_heart_rate;
DROP TABLE IF EXISTS readmodels.health_monthly_workouts;
DROP TABLE IF EXISTS readmodels.health_daily_metrics;
