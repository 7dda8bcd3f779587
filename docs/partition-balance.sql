-- How evenly `partition_of` (replay/partition.rs: the first 8 bytes of SHA-256 of the
-- user's UUID, big-endian, mod P) spreads a PostgreSQL event log over P partitions:
-- the busiest partition's events over the mean, per P.
--   psql "$DATABASE_URL" -f docs/partition-balance.sql
WITH per_user AS (
    SELECT user_id, count(*) AS events FROM event_record GROUP BY user_id
), hashed AS (
    SELECT events, sha256(uuid_send(user_id)) AS h FROM per_user
), keyed AS (
    SELECT events,
           get_byte(h, 0)::numeric * 72057594037927936 + get_byte(h, 1)::numeric * 281474976710656
         + get_byte(h, 2)::numeric * 1099511627776 + get_byte(h, 3)::numeric * 4294967296
         + get_byte(h, 4)::numeric * 16777216 + get_byte(h, 5)::numeric * 65536
         + get_byte(h, 6)::numeric * 256 + get_byte(h, 7)::numeric AS k
    FROM hashed
), per_partition AS (
    SELECT p, k % p AS partition, sum(events) AS events
    FROM keyed, (VALUES (2), (4), (8), (16), (32), (64)) AS counts(p)
    GROUP BY p, k % p
)
SELECT p AS partitions,
       round(max(events) / (sum(events) / p), 3) AS busiest_over_mean,
       round(min(events) / (sum(events) / p), 3) AS quietest_over_mean
FROM per_partition GROUP BY p ORDER BY p;
