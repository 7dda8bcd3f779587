-- Gap-safe reading by writers only (see store/postgres.rs, `settled_head`): a transaction
-- takes event ids only while it holds the shared advisory lock (1380270404, 1297040460),
-- which it keeps until it ends. A reader waits for the transactions holding that lock when
-- it has read the sequence, and for no other: not for read-model flushes, not for a paused
-- worker, not for a long transaction of the application that appends no event. Shared
-- locks never wait for each other, and nothing takes this one exclusively, so writers
-- never wait either.
CREATE OR REPLACE FUNCTION readmodels.next_event_id() RETURNS BIGINT
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM pg_advisory_xact_lock_shared(1380270404, 1297040460);
    RETURN nextval(pg_get_serial_sequence('event_record', 'id'));
END
$$;
