-- name: merge_totals
-- One instance of the fleet at a time merges the rollups' delta rows; the
-- others find the lock taken and skip the round (app/db/maintenance.py).
select case when pg_try_advisory_xact_lock(1667330922)
            then cashout_feed.merge_totals(%(max_buckets)s) end;
