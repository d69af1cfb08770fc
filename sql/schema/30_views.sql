-- The views for psql (SPEC §5), beside the platform's tables; the app's
-- queries read them too. The current definitions; `migrate` applies this file
-- whenever it changed. Money and ratios are rounded here, once, at full
-- precision before (half away from zero, as round(numeric) does).

-- One row per cashed-out bet, attributed to the customer's current agent.
-- event_id is the bet's event in that agent's stream (null for a bet inserted
-- already cashed out, one copied at the install, or one cashed out before the
-- customer changed agent). bets and users are LEFT joined on their
-- primary keys: a query that uses none of their columns (counts, sums) reads
-- the copy alone, and a page of 20 rows looks its 20 bets up.
create or replace view cash_out_activity as
select
    f.agent_id,
    (case when f.event_agent_id = f.agent_id then f.event_seq end)::text as event_id,
    f.bet_id,
    f.customer_id,
    u.username                               as customer_username,
    b.selection,
    round(f.stake, 2)                        as stake,
    round(f.cash_out_amount, 2)              as cash_out_amount,
    round(f.cash_out_amount - f.stake, 2)    as profit_loss,
    round(f.ratio, 4)                        as return_ratio,
    f.is_auto_cash_out,
    b.cash_out_trigger_reason,
    b.placed_at,
    f.settled_at
from cashout_feed.cash_outs f
left join bets b on b.id = f.bet_id
left join users u on u.id = f.customer_id;

-- The rolling windows of the summary widget, ending now. Lengths are in hours
-- so that a window is exactly 24 h, 7 d or 30 d long whatever the session's
-- time zone (interval '7 days' would stretch or shrink across a DST change).
create or replace view cash_out_summary_periods as
select p.period, now() - p.length as window_start, now() as window_end
from (values ('24h', interval '24 hours'),
             ('7d',  interval '168 hours'),
             ('30d', interval '720 hours')) as p (period, length);

-- One row per agent and period: cash-outs with window_start <= settled_at <=
-- window_end. unique_customers is a scalar subquery so that a query not
-- selecting it (the app reads it from the ranking below) does not pay for it.
create or replace view agent_cash_out_summary as
select
    a.id                                                         as agent_id,
    a.username                                                   as agent_username,
    w.period,
    w.window_start,
    w.window_end,
    s.cash_outs                                                  as total_cash_outs,
    (select count(*) from (
        select f.customer_id from cashout_feed.cash_outs f
        where f.agent_id = a.id and f.settled_at between w.window_start and w.window_end
        group by f.customer_id) g)                               as unique_customers,
    round(s.stake, 2)                                            as total_stake,
    round(s.cash_out_amount, 2)                                  as total_cash_out_amount,
    round(s.profit_loss, 2)                                      as net_profit_loss,
    s.auto_cash_outs                                             as auto_cash_out_count,
    round(100.0 * s.auto_cash_outs / nullif(s.cash_outs, 0), 2)  as auto_cash_out_percentage,
    round(s.ratio_sum / nullif(s.ratio_count, 0), 4)             as avg_return_ratio
from agents a
cross join cash_out_summary_periods w
cross join lateral cashout_feed.range_totals(
    a.id, w.window_start, w.window_end + interval '1 microsecond') s;

-- Each agent's customers ranked by cash-outs in each window (SPEC's
-- tie-breaks), with ranked_customers: how many customers the window ranks,
-- i.e. the summary's unique_customers, so that the summary and its top
-- customers take one pass over the window's rows. One aggregate per agent
-- and window (lateral): a query for one agent and period groups that
-- window's rows only. Usernames are looked up after ranking, one per row
-- returned.
create or replace view agent_cash_out_top_customers as
select
    a.id                                                        as agent_id,
    w.period,
    r.customer_id,
    (select u.username from users u where u.id = r.customer_id) as customer_username,
    r.cash_out_count,
    round(r.cash_out_amount, 2)                                 as total_cash_out_amount,
    round(r.profit_loss, 2)                                     as net_profit_loss,
    r.rank,
    r.ranked_customers
from agents a
cross join cash_out_summary_periods w
cross join lateral (
    select
        f.customer_id,
        count(*)                                             as cash_out_count,
        sum(f.cash_out_amount)                               as cash_out_amount,
        coalesce(sum(f.cash_out_amount - f.stake), 0)        as profit_loss,
        row_number() over (
            order by count(*) desc, sum(f.cash_out_amount) desc, f.customer_id
        )                                                    as rank,
        count(*) over ()                                     as ranked_customers
    from cashout_feed.cash_outs f
    where f.agent_id = a.id and f.settled_at between w.window_start and w.window_end
    group by f.customer_id
) r;
