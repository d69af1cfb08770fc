-- Back to the summary views and rollup trigger of 0007.
-- depends: 0007.cash_out_feed_rollup

create or replace function cash_out_feed_daily_apply() returns trigger
language plpgsql as $$
begin
    if tg_op = 'INSERT' then
        insert into cash_out_feed_daily as d (agent_id, day, cash_outs, cash_out_cents, stake_cents)
        select agent_id, (settled_at at time zone 'UTC')::date, count(*),
               sum(cash_out_cents), sum(stake_cents)
        from new_rows group by 1, 2 order by 1, 2
        on conflict (agent_id, day) do update
        set cash_outs = d.cash_outs + excluded.cash_outs,
            cash_out_cents = d.cash_out_cents + excluded.cash_out_cents,
            stake_cents = d.stake_cents + excluded.stake_cents;
    elsif tg_op = 'DELETE' then
        insert into cash_out_feed_daily as d (agent_id, day, cash_outs, cash_out_cents, stake_cents)
        select agent_id, (settled_at at time zone 'UTC')::date, -count(*),
               -sum(cash_out_cents), -sum(stake_cents)
        from old_rows group by 1, 2 order by 1, 2
        on conflict (agent_id, day) do update
        set cash_outs = d.cash_outs + excluded.cash_outs,
            cash_out_cents = d.cash_out_cents + excluded.cash_out_cents,
            stake_cents = d.stake_cents + excluded.stake_cents;
    else
        insert into cash_out_feed_daily as d (agent_id, day, cash_outs, cash_out_cents, stake_cents)
        select agent_id, day, sum(n), sum(amount), sum(stake)
        from (
            select agent_id, (settled_at at time zone 'UTC')::date as day, 1 as n,
                   cash_out_cents as amount, stake_cents as stake
            from new_rows
            union all
            select agent_id, (settled_at at time zone 'UTC')::date, -1,
                   -cash_out_cents, -stake_cents
            from old_rows
        ) delta
        group by 1, 2
        having sum(n) <> 0 or sum(amount) <> 0 or sum(stake) <> 0
        order by 1, 2
        on conflict (agent_id, day) do update
        set cash_outs = d.cash_outs + excluded.cash_outs,
            cash_out_cents = d.cash_out_cents + excluded.cash_out_cents,
            stake_cents = d.stake_cents + excluded.stake_cents;
    end if;
    return null;
end
$$;

create or replace view agent_cash_out_summary as
select
    a.id                                                      as agent_id,
    a.username                                                as agent_username,
    w.period,
    w.window_start,
    w.window_end,
    s.n                                                       as total_cash_outs,
    s.customers                                               as unique_customers,
    coalesce(s.stake_cents * 0.01, 0.00)                      as total_stake,
    coalesce(s.cash_out_cents * 0.01, 0.00)                   as total_cash_out_amount,
    coalesce((s.cash_out_cents - s.stake_cents) * 0.01, 0.00) as net_profit_loss,
    s.auto                                                    as auto_cash_out_count,
    round(100.0 * s.auto / nullif(s.n, 0), 2)                 as auto_cash_out_percentage,
    round(s.ratio_sum / nullif(s.n, 0), 4)                    as avg_return_ratio
from agents a
cross join cash_out_summary_periods w
cross join lateral (
    select
        count(*)                                      as n,
        count(distinct f.customer_id)                 as customers,
        sum(f.stake_cents)                            as stake_cents,
        sum(f.cash_out_cents)                         as cash_out_cents,
        count(*) filter (where f.is_auto_cash_out)    as auto,
        sum(f.ratio)                                  as ratio_sum
    from cash_out_feed f
    where f.agent_id = a.id
      and f.settled_at between w.window_start and w.window_end
) s;

-- Same columns as in 0003. Rank on integer sums (same order as on the numeric
-- amounts), and look the usernames up after ranking, one scalar lookup per
-- row returned: grouping by username would look up a user for every cash-out
-- in the window, and a join lets the planner (which cannot tell that
-- "rank <= 5" keeps 5 rows) hash all 200,000 users.
-- 0008 added a column, which create or replace cannot take away.
drop view agent_cash_out_top_customers;
create view agent_cash_out_top_customers as
select
    r.agent_id,
    r.period,
    r.customer_id,
    (select u.username from users u where u.id = r.customer_id) as customer_username,
    r.cash_out_count,
    r.cash_out_cents * 0.01           as total_cash_out_amount,
    r.profit_loss_cents * 0.01        as net_profit_loss,
    r.rank
from (
    select
        f.agent_id,
        w.period,
        f.customer_id,
        count(*)                                   as cash_out_count,
        sum(f.cash_out_cents)                      as cash_out_cents,
        sum(f.cash_out_cents - f.stake_cents)      as profit_loss_cents,
        row_number() over (
            partition by f.agent_id, w.period
            order by count(*) desc, sum(f.cash_out_cents) desc, f.customer_id
        )                                          as rank
    from cash_out_feed f
    join cash_out_summary_periods w
      on f.settled_at between w.window_start and w.window_end
    group by f.agent_id, w.period, f.customer_id
) r;

drop function cash_out_window_sums(bigint, timestamptz, timestamptz);

alter table cash_out_feed_daily drop column auto_cash_outs, drop column ratio_sum;
