-- The summary's flat figures from the daily rollup, and one grouped pass per
-- window for the per-customer ones.
-- depends: 0007.cash_out_feed_rollup

-- Why: in 0007 a 30-day summary of the large agent (25,000 cash-outs in the
-- window) read every row of the window twice, once sorted for
-- count(distinct customer) and once grouped for the top customers: ~30 ms on
-- two cores. The counts and sums need no rows at all: the rollup has them per
-- whole UTC day once it also keeps the auto cash-outs and the sum of the
-- return ratios; only the two partial days at the window's edges are read row
-- by row. The per-customer figures are one hash aggregate over the window.
alter table cash_out_feed_daily
    add column auto_cash_outs bigint not null default 0,
    add column ratio_sum numeric not null default 0;

update cash_out_feed_daily d
set auto_cash_outs = s.auto_cash_outs, ratio_sum = s.ratio_sum
from (
    select agent_id, (settled_at at time zone 'UTC')::date as day,
           count(*) filter (where is_auto_cash_out) as auto_cash_outs, sum(ratio) as ratio_sum
    from cash_out_feed
    group by 1, 2
) s
where s.agent_id = d.agent_id and s.day = d.day;

-- As in 0007, with the two new sums. An update (a corrected amount, a
-- customer moved) is the delete of its old rows plus the insert of its new
-- ones; deltas are applied in (agent, day) order so that two bulk statements
-- cannot deadlock on each other's rollup rows.
create or replace function cash_out_feed_daily_apply() returns trigger
language plpgsql as $$
begin
    if tg_op = 'INSERT' then
        insert into cash_out_feed_daily as d
            (agent_id, day, cash_outs, cash_out_cents, stake_cents, auto_cash_outs, ratio_sum)
        select agent_id, (settled_at at time zone 'UTC')::date, count(*),
               sum(cash_out_cents), sum(stake_cents),
               count(*) filter (where is_auto_cash_out), sum(ratio)
        from new_rows group by 1, 2 order by 1, 2
        on conflict (agent_id, day) do update
        set cash_outs = d.cash_outs + excluded.cash_outs,
            cash_out_cents = d.cash_out_cents + excluded.cash_out_cents,
            stake_cents = d.stake_cents + excluded.stake_cents,
            auto_cash_outs = d.auto_cash_outs + excluded.auto_cash_outs,
            ratio_sum = d.ratio_sum + excluded.ratio_sum;
    elsif tg_op = 'DELETE' then
        insert into cash_out_feed_daily as d
            (agent_id, day, cash_outs, cash_out_cents, stake_cents, auto_cash_outs, ratio_sum)
        select agent_id, (settled_at at time zone 'UTC')::date, -count(*),
               -sum(cash_out_cents), -sum(stake_cents),
               -count(*) filter (where is_auto_cash_out), -sum(ratio)
        from old_rows group by 1, 2 order by 1, 2
        on conflict (agent_id, day) do update
        set cash_outs = d.cash_outs + excluded.cash_outs,
            cash_out_cents = d.cash_out_cents + excluded.cash_out_cents,
            stake_cents = d.stake_cents + excluded.stake_cents,
            auto_cash_outs = d.auto_cash_outs + excluded.auto_cash_outs,
            ratio_sum = d.ratio_sum + excluded.ratio_sum;
    else
        insert into cash_out_feed_daily as d
            (agent_id, day, cash_outs, cash_out_cents, stake_cents, auto_cash_outs, ratio_sum)
        select agent_id, day, sum(n), sum(amount), sum(stake), sum(auto), sum(ratio)
        from (
            select agent_id, (settled_at at time zone 'UTC')::date as day, 1 as n,
                   cash_out_cents as amount, stake_cents as stake,
                   is_auto_cash_out::int as auto, ratio
            from new_rows
            union all
            select agent_id, (settled_at at time zone 'UTC')::date, -1,
                   -cash_out_cents, -stake_cents, -is_auto_cash_out::int, -ratio
            from old_rows
        ) delta
        group by 1, 2
        having sum(n) <> 0 or sum(amount) <> 0 or sum(stake) <> 0 or sum(auto) <> 0
            or sum(ratio) <> 0
        order by 1, 2
        on conflict (agent_id, day) do update
        set cash_outs = d.cash_outs + excluded.cash_outs,
            cash_out_cents = d.cash_out_cents + excluded.cash_out_cents,
            stake_cents = d.stake_cents + excluded.stake_cents,
            auto_cash_outs = d.auto_cash_outs + excluded.auto_cash_outs,
            ratio_sum = d.ratio_sum + excluded.ratio_sum;
    end if;
    return null;
end
$$;

-- Count and sums of an agent's cash-outs with p_from <= settled_at <= p_to
-- (both ends included, as the summary's window is): whole UTC days from the
-- rollup, the rest of the window row by row.
create function cash_out_window_sums(p_agent_id bigint, p_from timestamptz, p_to timestamptz)
returns table (
    cash_outs bigint, stake_cents numeric, cash_out_cents numeric, auto_cash_outs bigint,
    ratio_sum numeric
)
language plpgsql stable rows 1 as $$
declare
    first_day date;  -- first whole day inside the window
    end_day   date;  -- the day holding p_to: the days before it end before p_to
begin
    first_day := ((p_from at time zone 'UTC') + interval '1 day' - interval '1 microsecond')::date;
    end_day := (p_to at time zone 'UTC')::date;
    if first_day >= end_day then
        return query
        select count(*), sum(f.stake_cents), sum(f.cash_out_cents),
               count(*) filter (where f.is_auto_cash_out), sum(f.ratio)
        from cash_out_feed f
        where f.agent_id = p_agent_id and f.settled_at between p_from and p_to;
        return;
    end if;
    return query
    select coalesce(sum(n), 0)::bigint, sum(stake), sum(amount), coalesce(sum(auto), 0)::bigint,
           sum(ratio)
    from (
        select d.cash_outs as n, d.stake_cents as stake, d.cash_out_cents as amount,
               d.auto_cash_outs as auto, d.ratio_sum as ratio
        from cash_out_feed_daily d
        where d.agent_id = p_agent_id and d.day >= first_day and d.day < end_day
        union all
        select 1, f.stake_cents, f.cash_out_cents, f.is_auto_cash_out::int, f.ratio
        from cash_out_feed f
        where f.agent_id = p_agent_id and f.settled_at >= p_from
          and f.settled_at < (first_day::timestamp at time zone 'UTC')
        union all
        select 1, f.stake_cents, f.cash_out_cents, f.is_auto_cash_out::int, f.ratio
        from cash_out_feed f
        where f.agent_id = p_agent_id and f.settled_at <= p_to
          and f.settled_at >= (end_day::timestamp at time zone 'UTC')
    ) parts;
end
$$;

-- Same columns, types and meaning as in 0003 and 0007. unique_customers is a
-- scalar subquery rather than a join so that a query not selecting it (the
-- API reads it from the ranking) does not pay for it.
create or replace view agent_cash_out_summary as
select
    a.id                                                      as agent_id,
    a.username                                                as agent_username,
    w.period,
    w.window_start,
    w.window_end,
    s.cash_outs                                               as total_cash_outs,
    (select count(*) from (
        select f.customer_id from cash_out_feed f
        where f.agent_id = a.id and f.settled_at between w.window_start and w.window_end
        group by f.customer_id) g)                            as unique_customers,
    coalesce(s.stake_cents * 0.01, 0.00)                      as total_stake,
    coalesce(s.cash_out_cents * 0.01, 0.00)                   as total_cash_out_amount,
    coalesce((s.cash_out_cents - s.stake_cents) * 0.01, 0.00) as net_profit_loss,
    s.auto_cash_outs                                          as auto_cash_out_count,
    round(100.0 * s.auto_cash_outs / nullif(s.cash_outs, 0), 2) as auto_cash_out_percentage,
    round(s.ratio_sum / nullif(s.cash_outs, 0), 4)            as avg_return_ratio
from agents a
cross join cash_out_summary_periods w
cross join lateral cash_out_window_sums(a.id, w.window_start, w.window_end) s;

-- The columns of 0003 and 0007, plus ranked_customers: how many customers the
-- window ranks, i.e. the summary's unique_customers, so that the summary and
-- its top customers take one pass over the window's rows (the API reads the
-- summary's sums and this ranking in one statement). One aggregate per agent
-- and window (lateral), so that a query for one agent and period groups that
-- window's rows only.
create or replace view agent_cash_out_top_customers as
select
    a.id                                                        as agent_id,
    w.period,
    r.customer_id,
    (select u.username from users u where u.id = r.customer_id) as customer_username,
    r.cash_out_count,
    r.cash_out_cents * 0.01                                     as total_cash_out_amount,
    r.profit_loss_cents * 0.01                                  as net_profit_loss,
    r.rank,
    r.ranked_customers
from agents a
cross join cash_out_summary_periods w
cross join lateral (
    select
        f.customer_id,
        count(*)                              as cash_out_count,
        sum(f.cash_out_cents)                 as cash_out_cents,
        sum(f.cash_out_cents - f.stake_cents) as profit_loss_cents,
        row_number() over (
            order by count(*) desc, sum(f.cash_out_cents) desc, f.customer_id
        )                                     as rank,
        count(*) over ()                      as ranked_customers
    from cash_out_feed f
    where f.agent_id = a.id and f.settled_at between w.window_start and w.window_end
    group by f.customer_id
) r;
