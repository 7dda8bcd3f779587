CREATE OR REPLACE FUNCTION readmodels.next_event_id() RETURNS BIGINT
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM pg_current_xact_id();
    RETURN nextval(pg_get_serial_sequence('event_record', 'id'));
END
$$;
