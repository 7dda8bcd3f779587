DROP TABLE IF EXISTS readmodels.calendar_weekly_busy;
DROP TABLE IF EXISTS readmodels.calendar_agenda;
