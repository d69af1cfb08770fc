-- name: begin_snapshot
-- First statement of a transaction whose reads must all see one snapshot.
set transaction isolation level repeatable read, read only;

-- name: agent_customer_exists
select exists (
    select 1 from users where id = %(customer_id)s and agent_id = %(agent_id)s
);

-- name: activity_totals
-- Totals over every matching row (not just the page), and the agent's newest
-- stream position read in the same snapshot as the page.
select
    count(*)                              as total_count,
    coalesce(sum(cash_out_amount), 0.00)  as total_cash_out_amount,
    coalesce(sum(profit_loss), 0.00)      as total_profit_loss,
    (select last_seq::text from cash_out_event_counters
      where agent_id = %(agent_id)s)      as last_event_id
from cash_out_activity
where agent_id = %(agent_id)s
  and (%(customer_id)s::bigint is null or customer_id = %(customer_id)s)
  and (%(settled_from)s::timestamptz is null or settled_at >= %(settled_from)s)
  and (%(settled_before)s::timestamptz is null or settled_at < %(settled_before)s);

-- name: activity_items
-- The list page, and (limit null = all rows) the CSV export.
select event_id, bet_id, customer_id, customer_username, selection, stake,
       cash_out_amount, profit_loss, return_ratio, is_auto_cash_out,
       cash_out_trigger_reason, placed_at, settled_at
from cash_out_activity
where agent_id = %(agent_id)s
  and (%(customer_id)s::bigint is null or customer_id = %(customer_id)s)
  and (%(settled_from)s::timestamptz is null or settled_at >= %(settled_from)s)
  and (%(settled_before)s::timestamptz is null or settled_at < %(settled_before)s)
order by settled_at desc, bet_id desc
limit %(limit)s offset %(offset)s;
