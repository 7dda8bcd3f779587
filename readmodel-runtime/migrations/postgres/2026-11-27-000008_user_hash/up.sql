-- Each event's user hash: the first 8 bytes of the SHA-256 of its user id, as a signed
-- bigint. A user's partition (`replay::partition`) is this hash, read unsigned, modulo the
-- partition count; stored, it lets a worker read only its partitions' events
-- (`source::partition_sql`) without hashing every row it reads. Adding it rewrites the
-- table once. Workers need PostgreSQL, so SQLite's log has no such column.
ALTER TABLE event_record ADD COLUMN IF NOT EXISTS user_hash BIGINT
    GENERATED ALWAYS AS (
        ('x' || encode(substring(sha256(uuid_send(user_id)) FROM 1 FOR 8), 'hex'))::bit(64)::bigint
    ) STORED;
