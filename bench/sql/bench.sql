-- Benchmark dataset and probes (`cashout-feed bench`). Run only against the
-- benchmark's own database: bench_reset empties every table.

-- name: bench_meta_create
create table if not exists bench_meta (
    id           int primary key check (id = 1),
    scale        numeric not null,
    seed         double precision not null,
    agents       int not null,
    customers    int not null,
    bets         bigint not null,
    anchor       timestamptz not null,
    schema       text not null,
    generated_at timestamptz not null default now()
);

-- name: bench_meta_get
select * from bench_meta;

-- name: bench_meta_set
insert into bench_meta (id, scale, seed, agents, customers, bets, anchor, schema)
values (1, %(scale)s, %(seed)s, %(agents)s, %(customers)s, %(bets)s, %(anchor)s, %(schema)s)
on conflict (id) do update
set scale = excluded.scale, seed = excluded.seed, agents = excluded.agents,
    customers = excluded.customers, bets = excluded.bets, anchor = excluded.anchor,
    schema = excluded.schema, generated_at = now();

-- name: bench_reset
truncate agent_sessions, cash_out_events, cash_out_event_counters, cash_out_feed,
         cash_out_feed_daily,
         bets, users, agents, bench_meta restart identity;

-- name: bench_setseed
select setseed(%(seed)s);

-- name: bench_agents
-- Agent 1 is the large agent; the rest share the other customers evenly.
insert into agents (id, username, display_name, password_hash, created_at)
select g,
       case when g = 1 then 'bench_large' else 'bench_agent_' || g end,
       case when g = 1 then 'Large Agent' else 'Agent ' || g end,
       %(password_hash)s,
       %(anchor)s::timestamptz - interval '365 days'
from generate_series(1, %(agents)s) as g;

-- name: bench_customers
insert into users (id, agent_id, username, display_name, created_at)
select g,
       case when g <= %(large_customers)s then 1
            else 2 + (g - %(large_customers)s - 1) %% (%(agents)s - 1) end,
       'bench_c' || g,
       'Customer ' || g,
       %(anchor)s::timestamptz - interval '180 days'
from generate_series(1, %(customers)s) as g;

-- name: bench_bets
-- One chunk [lo, hi] of bets: ~30%% cashed out, the rest won/lost/void/open,
-- placed uniformly over the 90 days before the anchor, settled up to 3 h later.
insert into bets (id, user_id, stake, odds, selection, status, cash_out_amount,
                  is_auto_cash_out, cash_out_trigger_reason, placed_at, settled_at)
select g, user_id, stake, odds,
       t.names[1 + home] || ' v ' || t.names[1 + away] || ' — ' || t.names[1 + home],
       status,
       case when status = 'cashed_out' then round(stake * (0.1 + r_amount * 1.7)::numeric, 2) end,
       status = 'cashed_out' and r_auto < 0.35,
       case when status <> 'cashed_out' then null
            when r_auto >= 0.35 then 'manual'
            when r_amount > 0.6 then 'auto_profit_target'
            when r_amount < 0.3 then 'auto_stop_loss'
            else 'auto_threshold' end,
       placed_at,
       case when status = 'open' then null
            else least(%(anchor)s::timestamptz, placed_at + r_settle * interval '3 hours') end
from (
    select g,
           1 + floor(random() * %(customers)s)::bigint as user_id,
           (array[5, 10, 20, 25, 50, 100])[1 + floor(random() * 6)::int]::numeric(14, 2) as stake,
           round((1.3 + random() * 3.7)::numeric, 2) as odds,
           floor(random() * 12)::int as home,
           floor(random() * 12)::int as away,
           case when r < 0.30 then 'cashed_out' when r < 0.55 then 'won'
                when r < 0.90 then 'lost' when r < 0.92 then 'void' else 'open' end as status,
           random() as r_amount,
           random() as r_auto,
           random() as r_settle,
           %(anchor)s::timestamptz - random() * interval '90 days' as placed_at
    from (select g, random() as r from generate_series(%(lo)s::bigint, %(hi)s::bigint) as g
          offset 0) s
    offset 0
) b,
(select array['Arsenal', 'Chelsea', 'Liverpool', 'Everton', 'Leeds', 'Spurs', 'Fulham',
              'Brentford', 'Newcastle', 'Wolves', 'Brighton', 'Villa'] as names) t;

-- name: bench_secondary_indexes
select indexname, indexdef from pg_indexes
where schemaname = current_schema()
  and tablename in ('bets', 'cash_out_feed')
  and indexname not in (select conname from pg_constraint);

-- name: bench_fill_feed
insert into cash_out_feed
select b.id, u.agent_id, b.user_id, b.settled_at, (b.stake * 100)::bigint,
       (b.cash_out_amount * 100)::bigint, b.cash_out_amount / b.stake, b.is_auto_cash_out
from bets b
join users u on u.id = b.user_id
where b.status = 'cashed_out';

-- name: bench_fill_daily
insert into cash_out_feed_daily
    (agent_id, day, cash_outs, cash_out_cents, stake_cents, auto_cash_outs, ratio_sum)
select agent_id, (settled_at at time zone 'UTC')::date, count(*), sum(cash_out_cents),
       sum(stake_cents), count(*) filter (where is_auto_cash_out), sum(ratio)
from cash_out_feed
group by 1, 2;

-- name: bench_fix_sequences
select setval(pg_get_serial_sequence('agents', 'id'), (select max(id) from agents)),
       setval(pg_get_serial_sequence('users', 'id'), (select max(id) from users)),
       setval(pg_get_serial_sequence('bets', 'id'), (select max(id) from bets));

-- name: bench_session
insert into agent_sessions (token_hash, agent_id, expires_at)
values (%(token_hash)s, %(agent_id)s, now() + interval '1 day');

-- name: bench_clear_sessions
delete from agent_sessions;

-- name: bench_typical_agent
-- The agent with the median number of cash-outs among the ordinary agents.
select agent_id from (
    select agent_id, count(*) as n from cash_out_feed where agent_id <> 1 group by agent_id
) c order by n, agent_id offset (select count(distinct agent_id) / 2 from cash_out_feed
                                 where agent_id <> 1) limit 1;

-- name: bench_busiest_customer
select customer_id, count(*) as n from cash_out_feed where agent_id = %(agent_id)s
group by customer_id order by n desc, customer_id limit 1;

-- name: bench_agent_cash_outs
select count(*) from cash_out_feed where agent_id = %(agent_id)s;

-- name: bench_open_bets
-- Open bets to cash out, of the given agents' customers, round-robin over the agents.
select id, agent_id from (
    select b.id, u.agent_id,
           row_number() over (partition by u.agent_id order by b.id) as k
    from bets b join users u on u.id = b.user_id
    where b.status = 'open' and u.agent_id = any(%(agent_ids)s)
) o
where k <= %(per_agent)s
order by k, agent_id;

-- name: bench_cash_out
update bets
set status = 'cashed_out', cash_out_amount = round(stake * 0.8, 2), is_auto_cash_out = false,
    cash_out_trigger_reason = 'manual', settled_at = now()
where id = %(bet_id)s and status = 'open';

-- name: bench_resync_feed
-- After cash-outs made with the trigger disabled: put those bets into the copy.
-- (Its own statement triggers keep the daily rollup in step.)
insert into cash_out_feed
select b.id, u.agent_id, b.user_id, b.settled_at, (b.stake * 100)::bigint,
       (b.cash_out_amount * 100)::bigint, b.cash_out_amount / b.stake, b.is_auto_cash_out
from bets b
join users u on u.id = b.user_id
where b.id = any(%(bet_ids)s) and b.status = 'cashed_out'
on conflict (bet_id) do nothing;

-- name: bench_trigger_disable
alter table bets disable trigger bets_cash_out_events;

-- name: bench_trigger_enable
alter table bets enable trigger bets_cash_out_events;

-- name: bench_events_of
select agent_id, seq, bet_id from cash_out_events where bet_id = any(%(bet_ids)s);

-- name: bench_connections
-- The app's connections: everything on this database except the benchmark's own.
select count(*) from pg_stat_activity
where datname = current_database() and backend_type = 'client backend'
  and application_name <> 'cashout-bench';

-- name: bench_settings
select name, setting, unit from pg_settings
where name in ('server_version', 'shared_buffers', 'max_connections', 'synchronous_commit',
               'fsync', 'wal_level', 'work_mem', 'max_wal_size', 'jit')
order by name;

-- name: bench_open_bet_count
select count(*) from bets where status = 'open';

-- name: bench_place_open_bets
-- New open bets for random customers, as the platform places them.
insert into bets (user_id, stake, odds, selection, status, placed_at)
select 1 + floor(random() * (select max(id) from users))::bigint,
       (array[5, 10, 20, 25, 50, 100])[1 + floor(random() * 6)::int],
       round((1.3 + random() * 3.7)::numeric, 2),
       'Arsenal v Chelsea — Arsenal', 'open', now() - random() * interval '2 hours'
from generate_series(1, %(n)s);

-- name: bench_trigger_source
select pg_get_functiondef('cash_out_events_record'::regproc);

-- name: bench_queue_drop
drop table if exists bench_write_queue;

-- name: bench_queue_create
create table bench_write_queue (n bigint primary key, id bigint not null);

-- name: bench_queue_fill
-- The open bets the writers will cash out, numbered: writer k takes rows
-- ((k - 1) * batch, k * batch] with k from a sequence, so none is taken twice.
insert into bench_write_queue
select row_number() over (order by id), id
from (select id from bets where status = 'open' order by id limit %(n)s) o;

-- name: bench_queue_seq
drop sequence if exists bench_write_seq;

-- name: bench_queue_seq_create
create sequence bench_write_seq;

-- name: bench_queue_taken
select id from bench_write_queue
where n <= (select case when is_called then last_value else 0 end from bench_write_seq)
               * %(batch)s;
