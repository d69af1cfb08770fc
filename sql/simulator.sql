-- name: sim_place_bets
-- New open bets for random customers (of every agent, or of one agent).
with customers as (
    select array_agg(id) as ids from users
    where %(agent_id)s::bigint is null or agent_id = %(agent_id)s
),
teams as (
    select array['Arsenal', 'Chelsea', 'Liverpool', 'Everton', 'Leeds', 'Spurs', 'Fulham',
                 'Brentford', 'Newcastle', 'Wolves', 'Brighton', 'Villa'] as names
)
insert into bets (user_id, stake, odds, selection, status, placed_at)
select
    c.ids[1 + floor(random() * cardinality(c.ids))::int],
    (array[5, 10, 20, 25, 50, 100])[1 + floor(random() * 6)::int],
    round((1.3 + random() * 3.7)::numeric, 2),
    t.names[m.home] || ' v ' || t.names[m.away] || ' — '
        || t.names[case when m.backs_home then m.home else m.away end],
    'open',
    now() - random() * interval '90 minutes'
from customers c, teams t, generate_series(1, %(count)s) as g
cross join lateral (
    -- home and away always differ: away is home shifted by 1 to 11 places
    select h as home, 1 + (h - 1 + 1 + floor(random() * 11)::int) %% 12 as away,
           random() < 0.5 as backs_home
    from (select 1 + floor(random() * 12)::int + 0 * g as h) as pick
) as m
where cardinality(c.ids) > 0;

-- name: sim_cash_out
-- Cash out some open bets, like a customer tapping "cash out" or an auto
-- cash-out rule firing. One statement per bet keeps each a separate event.
with picked as (
    select b.id, b.stake
    from bets b
    join users u on u.id = b.user_id
    where b.status = 'open'
      and (%(agent_id)s::bigint is null or u.agent_id = %(agent_id)s)
    order by b.id desc
    limit 1
    for update of b skip locked
),
priced as (
    select id, round(stake * (0.1 + random() * 1.7)::numeric, 2) as amount, random() < 0.35 as auto
    from picked
)
update bets b
set status = 'cashed_out',
    cash_out_amount = p.amount,
    is_auto_cash_out = p.auto,
    cash_out_trigger_reason = case
        when not p.auto then 'manual'
        when p.amount >= b.stake * 1.2 then 'auto_profit_target'
        when p.amount <= b.stake * 0.6 then 'auto_stop_loss'
        else 'auto_threshold'
    end,
    settled_at = now()
from priced p
where b.id = p.id
returning b.id;
