DROP TRIGGER readmodel_event_record_notify ON event_record;
DROP FUNCTION readmodels.notify_event_record();
