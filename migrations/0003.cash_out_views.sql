-- Views that compute profit/loss and the summary metrics: the app reads them,
-- and so can the operator's staff from psql.
-- depends: 0002.cash_out_events

-- One row per cashed-out bet, attributed to the customer's current agent.
-- event_id is the bet's newest event in that agent's stream (null for a
-- backfilled bet, or one cashed out before the customer changed agent).
create view cash_out_activity as
select
    u.agent_id,
    (select max(e.seq) from cash_out_events e
      where e.bet_id = b.id and e.agent_id = u.agent_id)::text as event_id,
    b.id                                   as bet_id,
    u.id                                   as customer_id,
    u.username                             as customer_username,
    b.selection,
    b.stake,
    b.cash_out_amount,
    b.cash_out_amount - b.stake            as profit_loss,
    round(b.cash_out_amount / b.stake, 4)  as return_ratio,
    b.is_auto_cash_out,
    b.cash_out_trigger_reason,
    b.placed_at,
    b.settled_at
from bets b
join users u on u.id = b.user_id
where b.status = 'cashed_out';

-- The rolling windows of the summary widget, ending now. Lengths are in hours
-- so that a window is exactly 24 h, 7 d or 30 d long whatever the session's
-- time zone (interval '7 days' would stretch or shrink across a DST change).
create view cash_out_summary_periods as
select p.period, now() - p.length as window_start, now() as window_end
from (values ('24h', interval '24 hours'),
             ('7d',  interval '168 hours'),
             ('30d', interval '720 hours')) as p (period, length);

create view agent_cash_out_summary as
select
    a.id                                                     as agent_id,
    a.username                                               as agent_username,
    w.period,
    w.window_start,
    w.window_end,
    count(c.bet_id)                                          as total_cash_outs,
    count(distinct c.customer_id)                            as unique_customers,
    coalesce(sum(c.stake), 0.00)                             as total_stake,
    coalesce(sum(c.cash_out_amount), 0.00)                   as total_cash_out_amount,
    coalesce(sum(c.profit_loss), 0.00)                       as net_profit_loss,
    count(c.bet_id) filter (where c.is_auto_cash_out)        as auto_cash_out_count,
    round(100.0 * count(c.bet_id) filter (where c.is_auto_cash_out)
          / nullif(count(c.bet_id), 0), 2)                   as auto_cash_out_percentage,
    round(avg(c.cash_out_amount / c.stake), 4)               as avg_return_ratio
from agents a
cross join cash_out_summary_periods w
left join cash_out_activity c
       on c.agent_id = a.id
      and c.settled_at between w.window_start and w.window_end
group by a.id, a.username, w.period, w.window_start, w.window_end;

-- Each agent's customers ranked by cash-outs in each window (SPEC's tie-breaks).
create view agent_cash_out_top_customers as
select *
from (
    select
        c.agent_id,
        w.period,
        c.customer_id,
        c.customer_username,
        count(*)                 as cash_out_count,
        sum(c.cash_out_amount)   as total_cash_out_amount,
        sum(c.profit_loss)       as net_profit_loss,
        row_number() over (
            partition by c.agent_id, w.period
            order by count(*) desc, sum(c.cash_out_amount) desc, c.customer_id
        )                        as rank
    from cash_out_activity c
    join cash_out_summary_periods w
      on c.settled_at between w.window_start and w.window_end
    group by c.agent_id, w.period, c.customer_id, c.customer_username
) ranked;
