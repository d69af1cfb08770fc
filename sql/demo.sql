-- name: demo_agent_upsert
-- The demo agent, with a new password on every run (only its hash is kept).
with existing as (
    select id from agents where username = %(username)s
),
created as (
    insert into agents (username, display_name)
    select %(username)s, %(display_name)s
    where not exists (select 1 from existing)
    returning id
),
agent as (
    select id from existing union all select id from created
)
insert into cashout_feed.credentials (agent_id, password_hash)
select id, %(password_hash)s from agent
on conflict (agent_id) do update
set password_hash = excluded.password_hash, updated_at = now()
returning agent_id;

-- name: demo_customers_seed
insert into users (agent_id, username, display_name)
select %(agent_id)s,
       'demo_' || lower(f.name) || '_' || lpad(g::text, 2, '0'),
       f.name || ' ' || l.name
from generate_series(1, %(customers)s) as g
cross join lateral (
    select (array['Alice', 'Ben', 'Chloe', 'Dan', 'Ella', 'Femi', 'Grace', 'Hugo', 'Isla',
                  'Jack', 'Kemi', 'Liam', 'Maya', 'Noah', 'Olu', 'Priya', 'Quinn'])[1 + g %% 17] as name
) as f
cross join lateral (
    select (array['Smith', 'Okafor', 'Patel', 'Jones', 'Garcia', 'Nowak', 'Brown', 'Murphy',
                  'Silva', 'Khan', 'Walker'])[1 + (g * 7) %% 11] as name
) as l
on conflict (username) do nothing;

-- name: demo_bet_count
select count(*)
from bets b
join users u on u.id = b.user_id
where u.agent_id = %(agent_id)s;

-- name: demo_seed_random
select setseed(%(seed)s);

-- name: demo_bets_seed
-- A history of bets over the last 45 days: most settled won or lost, about
-- 30 %% cashed out (about a third of those automatically), some void, a few
-- recent ones still open. Cashed-out bets are inserted as such (a backfill),
-- so they show in the list but produce no live event.
with customers as (
    select array_agg(id order by id) as ids from users where agent_id = %(agent_id)s
),
teams as (
    select array['Arsenal', 'Chelsea', 'Liverpool', 'Everton', 'Leeds', 'Spurs', 'Fulham',
                 'Brentford', 'Newcastle', 'Wolves', 'Brighton', 'Villa'] as names
),
raw as (
    select
        c.ids[1 + floor(random() * cardinality(c.ids))::int]                    as user_id,
        (array[5, 10, 10, 20, 25, 50, 100, 250])[1 + floor(random() * 8)::int]::numeric(14, 2)
                                                                                as stake,
        round((1.2 + random() * 4.8)::numeric, 2)                               as odds,
        t.names[1 + floor(random() * 12)::int]                                  as home,
        t.names[1 + floor(random() * 12)::int]                                  as away,
        random() < 0.5                                                          as backs_home,
        now() - random() * interval '45 days'                                   as placed_at,
        random() as r_status, random() as r_amount, random() as r_auto, random() as r_settle
    from customers c, teams t, generate_series(1, %(bets)s)
),
shaped as (
    select r.*,
        case
            when r.placed_at > now() - interval '3 hours' and r.r_status < 0.6 then 'open'
            when r.r_status < 0.30 then 'cashed_out'
            when r.r_status < 0.63 then 'won'
            when r.r_status < 0.96 then 'lost'
            else 'void'
        end as status,
        round(r.stake * (0.1 + r.r_amount * 1.7)::numeric, 2) as amount
    from raw r
    where r.home <> r.away
)
insert into bets (user_id, stake, odds, selection, status, cash_out_amount, is_auto_cash_out,
                  cash_out_trigger_reason, placed_at, settled_at)
select
    s.user_id, s.stake, s.odds,
    s.home || ' v ' || s.away || ' — ' || case when s.backs_home then s.home else s.away end,
    s.status,
    case when s.status = 'cashed_out' then s.amount end,
    s.status = 'cashed_out' and s.r_auto < 0.35,
    case
        when s.status <> 'cashed_out' then null
        when s.r_auto >= 0.35 then 'manual'
        when s.amount >= s.stake * 1.2 then 'auto_profit_target'
        when s.amount <= s.stake * 0.6 then 'auto_stop_loss'
        else 'auto_threshold'
    end,
    s.placed_at,
    case when s.status = 'open' then null
         else least(s.placed_at + s.r_settle * interval '3 hours', now()) end
from shaped s;
