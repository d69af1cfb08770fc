-- Installing onto the platform's database and removing the app from it
-- (app/db/install.py). The schema's own definitions are in sql/schema/.

-- name: install_lock
-- One install or removal at a time (several workers or hosts may start at once).
select pg_advisory_lock(1667330921);

-- name: install_unlock
select pg_advisory_unlock(1667330921);

-- name: platform_table
select to_regclass(%(table)s)::text;

-- name: platform_table_schema
select n.nspname
from pg_class c
join pg_namespace n on n.oid = c.relnamespace
where c.oid = %(table)s::regclass;

-- name: current_schema
select current_schema();

-- name: platform_columns
-- Every column of the given tables with its type's name (a domain's base type).
select c.relname, a.attname, coalesce(base.typname, t.typname)
from pg_class c
join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
join pg_type t on t.oid = a.atttypid
left join pg_type base on t.typtype = 'd' and base.oid = t.typbasetype
where c.oid = any(%(tables)s::regclass[]);

-- name: create_app_schema
create schema if not exists cashout_feed;

-- name: app_schema_exists
select to_regnamespace('cashout_feed') is not null;

-- name: drop_app_schema
drop schema if exists cashout_feed cascade;

-- name: equivalent_index
-- A valid, non-partial b-tree index on the table whose key starts with these
-- columns serves the story's queries as well as one of ours would.
select exists (
    select 1
    from pg_index i
    join pg_class ic on ic.oid = i.indexrelid
    join pg_am am on am.oid = ic.relam
    where i.indrelid = %(table)s::regclass
      and i.indisvalid
      and i.indpred is null
      and am.amname = 'btree'
      and i.indnkeyatts >= cardinality(%(columns)s::text[])
      and array(
          select a.attname::text
          from unnest(i.indkey::int2[]) with ordinality as k (attnum, ord)
          join pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum
          where k.ord <= cardinality(%(columns)s::text[])
          order by k.ord
      ) = %(columns)s::text[]
);

-- name: invalid_index
-- A CREATE INDEX CONCURRENTLY that failed leaves an invalid index behind.
select exists (
    select 1 from pg_index i
    where i.indexrelid = to_regclass(%(name)s) and not i.indisvalid
);

-- name: create_index_bets_status_settled_at
create index concurrently if not exists cashout_feed_bets_status_settled_at_idx
    on bets (status, settled_at);

-- name: create_index_bets_user_id_status
create index concurrently if not exists cashout_feed_bets_user_id_status_idx
    on bets (user_id, status);

-- name: drop_index_bets_status_settled_at
drop index concurrently if exists cashout_feed_bets_status_settled_at_idx;

-- name: drop_index_bets_user_id_status
drop index concurrently if exists cashout_feed_bets_user_id_status_idx;

-- name: record_added_index
insert into cashout_feed.added_indexes (name) values (%(name)s) on conflict do nothing;

-- name: added_indexes
select name from cashout_feed.added_indexes order by name;

-- name: definition_checksums
select file, checksum from cashout_feed.definitions;

-- name: record_definition
insert into cashout_feed.definitions (file, checksum) values (%(file)s, %(checksum)s)
on conflict (file) do update set checksum = excluded.checksum, applied_at = now();

-- name: definitions_session
-- For the transaction that applies a file of sql/schema/: views are created
-- beside the platform's tables, functions pin this search_path, and a lock on
-- the platform's tables that is not granted at once is given up and retried.
select set_config('search_path', quote_ident(%(schema)s), true),
       set_config('lock_timeout', %(lock_timeout)s, true);

-- name: backfill_state
select backfill_done, backfill_after from cashout_feed.install;

-- name: backfill_bounds
select coalesce(min(id) - 1, 0), coalesce(max(id), 0) from bets;

-- name: short_lock_timeout
-- For this transaction: a lock not granted at once is given up (and retried).
select set_config('lock_timeout', %(lock_timeout)s, true);

-- name: backfill_batch
select cashout_feed.backfill(%(after)s, %(upto)s);

-- name: backfill_progress
update cashout_feed.install set backfill_after = %(upto)s;

-- name: backfill_agents
select distinct agent_id from cashout_feed.cash_outs order by 1;

-- name: rebuild_totals
select cashout_feed.rebuild_totals(%(agent_id)s);

-- name: backfill_finished
update cashout_feed.install set backfill_done = true, backfill_after = null;

-- name: remove_triggers
-- Every trigger that calls a function of the app's, whatever its name or table.
do $$
declare
    t record;
begin
    for t in select tg.tgname, tg.tgrelid::regclass as rel
             from pg_trigger tg join pg_proc p on p.oid = tg.tgfoid
             where p.pronamespace = to_regnamespace('cashout_feed') and not tg.tgisinternal
    loop
        execute format('drop trigger %I on %s', t.tgname, t.rel);
    end loop;
end
$$;

-- name: remove_functions
-- Before yoyo drops the tables: the functions use their row types (the
-- triggers that call them are gone by now).
do $$
declare
    f regprocedure;
begin
    for f in select p.oid::regprocedure from pg_proc p
             where p.pronamespace = to_regnamespace('cashout_feed')
    loop
        execute format('drop function %s', f);
    end loop;
end
$$;

-- name: remove_views
drop view if exists agent_cash_out_top_customers;
drop view if exists agent_cash_out_summary;
drop view if exists cash_out_summary_periods;
drop view if exists cash_out_activity;

-- name: earlier_layout
-- The unreleased layout before the app had a schema of its own kept yoyo's
-- bookkeeping beside the platform's tables.
select to_regclass('public._yoyo_migration') is not null
   and to_regclass('public.cash_out_event_counters') is not null;
