-- name: primary_wal_position
-- How much WAL the primary has flushed (all a standby can have received), in
-- bytes from the start: the position a caught-up standby has replayed.
select pg_wal_lsn_diff(pg_current_wal_flush_lsn(), '0/0')::bigint;

-- name: replica_replay_position
-- Whether the read server is a standby, and how much WAL it has replayed
-- (what its queries see), in the same unit.
select pg_is_in_recovery(),
       pg_wal_lsn_diff(pg_last_wal_replay_lsn(), '0/0')::bigint;
