-- Followers (`replay follow`, `replay worker`) LISTEN on readmodel_event_record instead of
-- polling the log: every statement that appends events notifies once, when its
-- transaction commits (PostgreSQL delivers notifications at commit, never for a rollback).
-- The payload is empty: a follower re-reads the settled head, which is what gap safety
-- needs anyway. Statement-level, so a bulk import notifies once, not once per row.
CREATE OR REPLACE FUNCTION readmodels.notify_event_record() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('readmodel_event_record', '');
    RETURN NULL;
END
$$;
CREATE TRIGGER readmodel_event_record_notify
    AFTER INSERT ON event_record
    FOR EACH STATEMENT EXECUTE FUNCTION readmodels.notify_event_record();
