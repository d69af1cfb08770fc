-- name: agent_summary
select period, window_start, window_end, total_cash_outs, unique_customers,
       total_stake, total_cash_out_amount, net_profit_loss, auto_cash_out_count,
       auto_cash_out_percentage, avg_return_ratio
from agent_cash_out_summary
where agent_id = %(agent_id)s and period = %(period)s;

-- name: agent_top_customers
select customer_id, customer_username, cash_out_count, total_cash_out_amount,
       net_profit_loss
from agent_cash_out_top_customers
where agent_id = %(agent_id)s and period = %(period)s and rank <= %(top)s
order by rank;
