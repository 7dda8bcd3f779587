DROP TABLE IF EXISTS readmodels.habit_monthly_completions;
DROP TABLE IF EXISTS readmodels.habit_streaks;
DROP TABLE IF EXISTS readmodels.habit_checkins;
