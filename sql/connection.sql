-- name: connection_setup
-- Once per app connection (the pool's and the listener's). Timestamps leave
-- the database in UTC. The optional filters ("param is null or ...") would
-- get poor generic plans, so always plan per value. No JIT: compiling costs
-- tens of milliseconds, more than any of these queries runs. Every statement waits at
-- most lock_timeout for a lock another transaction holds (a platform deploy's
-- ALTER TABLE) and runs at most statement_timeout: a request answers 503
-- instead of hanging. Neither limits an idle session, so the listener's wait
-- for notifications is unaffected. Values are milliseconds, as text.
select set_config('TimeZone', 'UTC', false),
       set_config('plan_cache_mode', 'force_custom_plan', false),
       set_config('jit', 'off', false),
       set_config('lock_timeout', %(lock_timeout_ms)s, false),
       set_config('statement_timeout', %(statement_timeout_ms)s, false);

-- name: connection_setup_pooled
-- The same through a transaction pooler (app/db/pool.py, PooledSetup): only
-- the time zone, which the pooler carries from one server session to the
-- next, and what the server session has of the rest (from the role's
-- settings), in connection_setup's units.
select set_config('TimeZone', 'UTC', false),
       current_setting('jit'),
       (select setting::bigint from pg_settings where name = 'lock_timeout'),
       (select setting::bigint from pg_settings where name = 'statement_timeout');
