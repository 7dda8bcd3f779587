-- Gap-safe reading (see store/postgres.rs): an event id is handed out only to a
-- transaction that already holds a transaction id, so that a reader which waits until
-- every transaction id below a snapshot's xmax has ended has also waited for every event
-- id allocated before that snapshot. Explicitly supplied ids are left alone.
CREATE OR REPLACE FUNCTION readmodels.next_event_id() RETURNS BIGINT
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM pg_current_xact_id();
    RETURN nextval(pg_get_serial_sequence('event_record', 'id'));
END
$$;
ALTER TABLE event_record ALTER COLUMN id SET DEFAULT readmodels.next_event_id();
