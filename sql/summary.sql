-- name: agent_summary_with_top
-- One statement (one now(), one snapshot): the summary's counts and sums, and
-- its top customers, whose ranking also counts the window's customers, so the
-- window's rows are read once. One row per top customer, or one row with the
-- top_* columns null when the window has no cash-outs.
select s.period, s.window_start, s.window_end, s.total_cash_outs,
       coalesce(t.ranked_customers, 0) as unique_customers,
       s.total_stake, s.total_cash_out_amount, s.net_profit_loss, s.auto_cash_out_count,
       s.auto_cash_out_percentage, s.avg_return_ratio,
       t.customer_id as top_customer_id,
       t.customer_username as top_customer_username,
       t.cash_out_count as top_cash_out_count,
       t.total_cash_out_amount as top_total_cash_out_amount,
       t.net_profit_loss as top_net_profit_loss
from agent_cash_out_summary s
left join agent_cash_out_top_customers t
       on t.agent_id = s.agent_id and t.period = s.period and t.rank <= %(top)s
where s.agent_id = %(agent_id)s and s.period = %(period)s
order by t.rank;
