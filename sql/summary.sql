-- name: agent_summary_with_top
-- One statement (one now(), one snapshot): the summary's counts and sums, and
-- its top customers (cashout_feed.top_customers, which also counts the
-- window's customers). One row per top customer, or one row with the top_*
-- columns null when the window has no cash-outs.
select s.period, s.window_start, s.window_end, s.total_cash_outs,
       coalesce(t.ranked_customers, 0) as unique_customers,
       s.total_stake, s.total_cash_out_amount, s.net_profit_loss, s.auto_cash_out_count,
       s.auto_cash_out_percentage, s.avg_return_ratio,
       t.customer_id as top_customer_id,
       (select u.username from users u where u.id = t.customer_id) as top_customer_username,
       t.cash_out_count as top_cash_out_count,
       round(t.cash_out_amount, 2) as top_total_cash_out_amount,
       round(t.profit_loss, 2) as top_net_profit_loss
from agent_cash_out_summary s
left join lateral cashout_feed.top_customers(
    s.agent_id, s.window_start, s.window_end, %(top)s) t on true
where s.agent_id = %(agent_id)s and s.period = %(period)s
order by t.rank;

-- name: customer_summary_with_top
-- The summary restricted to one customer of the agent, same columns as
-- agent_summary_with_top and the same window (cash_out_summary_periods, both
-- ends included, one now()). Always one row; the top_* columns describe the
-- customer, or are null when the window has none of their cash-outs.
select w.period, w.window_start, w.window_end,
       count(f.bet_id)                                              as total_cash_outs,
       count(distinct f.customer_id)                                as unique_customers,
       round(coalesce(sum(f.stake), 0), 2)                          as total_stake,
       round(coalesce(sum(f.cash_out_amount), 0), 2)                as total_cash_out_amount,
       round(coalesce(sum(f.cash_out_amount - f.stake), 0), 2)      as net_profit_loss,
       count(*) filter (where f.is_auto_cash_out)                   as auto_cash_out_count,
       round(100.0 * count(*) filter (where f.is_auto_cash_out)
             / nullif(count(f.bet_id), 0), 2)                       as auto_cash_out_percentage,
       round(sum(f.ratio) / nullif(count(f.ratio), 0), 4)           as avg_return_ratio,
       case when count(f.bet_id) > 0 then %(customer_id)s::bigint end as top_customer_id,
       case when count(f.bet_id) > 0 then
           (select u.username from users u where u.id = %(customer_id)s) end
                                                                    as top_customer_username,
       case when count(f.bet_id) > 0 then count(f.bet_id) end       as top_cash_out_count,
       round(sum(f.cash_out_amount), 2)                             as top_total_cash_out_amount,
       case when count(f.bet_id) > 0 then
           round(coalesce(sum(f.cash_out_amount - f.stake), 0), 2) end as top_net_profit_loss
from cash_out_summary_periods w
left join cashout_feed.cash_outs f
       on f.customer_id = %(customer_id)s
      and f.agent_id = %(agent_id)s
      and f.settled_at between w.window_start and w.window_end
where w.period = %(period)s
group by w.period, w.window_start, w.window_end;
