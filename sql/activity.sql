-- name: begin_snapshot
-- First statement of a transaction whose reads must all see one snapshot.
set transaction isolation level repeatable read, read only;

-- name: agent_customer_exists
select exists (
    select 1 from users where id = %(customer_id)s and agent_id = %(agent_id)s
);

-- name: activity_totals
-- Totals over every matching row (not just the page), and the agent's newest
-- stream position read in the same snapshot as the page ("0" before its first
-- event). range_totals() (sql/schema/20_totals.sql) reads the rollups for
-- whole days and quarter hours and the copy for the minutes at the edges: a
-- few hundred rows instead of ~75,000 for a large agent.
select
    t.cash_outs                      as total_count,
    round(t.cash_out_amount, 2)      as total_cash_out_amount,
    round(t.profit_loss, 2)          as total_profit_loss,
    coalesce((select max(e.seq) from cashout_feed.events e
              where e.agent_id = %(agent_id)s), 0)::text as last_event_id
from cashout_feed.range_totals(%(agent_id)s::bigint, %(settled_from)s::timestamptz,
                               %(settled_before)s::timestamptz) t;

-- name: activity_totals_customer
-- The same for one customer's cash-outs: few rows, read from the customer index.
select
    t.cash_outs                      as total_count,
    round(t.cash_out_amount, 2)      as total_cash_out_amount,
    round(t.profit_loss, 2)          as total_profit_loss,
    coalesce((select max(e.seq) from cashout_feed.events e
              where e.agent_id = %(agent_id)s), 0)::text as last_event_id
from cashout_feed.customer_range_totals(%(agent_id)s::bigint, %(customer_id)s::bigint,
                                        %(settled_from)s::timestamptz,
                                        %(settled_before)s::timestamptz) t;

-- name: activity_page
-- One page of the list. The page's bet ids are picked first from the index
-- alone (the view's joins are removed when no joined column is used), then
-- only those rows are looked up: a deep offset skips index entries instead of
-- joining every skipped row to bets, users and the events.
select event_id, bet_id, customer_id, customer_username, selection, stake,
       cash_out_amount, profit_loss, return_ratio, is_auto_cash_out,
       cash_out_trigger_reason, placed_at, settled_at
from cash_out_activity
where agent_id = %(agent_id)s
  and bet_id in (
      select bet_id
      from cash_out_activity
      where agent_id = %(agent_id)s
        and (%(customer_id)s::bigint is null or customer_id = %(customer_id)s)
        and (%(settled_from)s::timestamptz is null or settled_at >= %(settled_from)s)
        and (%(settled_before)s::timestamptz is null or settled_at < %(settled_before)s)
      order by settled_at desc, bet_id desc
      limit %(limit)s offset %(offset)s
  )
order by settled_at desc, bet_id desc;

-- name: activity_items_after
-- One chunk of the CSV export: the next matching rows in list order after
-- the last row of the previous chunk (null for the first). (settled_at,
-- bet_id) is unique and the order is strictly by it, so chunk after chunk
-- walks the list without a row twice, each chunk in a short transaction of
-- its own (no snapshot is held for the length of a download). The keyset
-- condition is an index condition of cash_out_feed_agent_idx (and of
-- cash_out_feed_customer_idx with a customer).
select event_id, bet_id, customer_id, customer_username, selection, stake,
       cash_out_amount, profit_loss, return_ratio, is_auto_cash_out,
       cash_out_trigger_reason, placed_at, settled_at
from cash_out_activity
where agent_id = %(agent_id)s
  and (%(customer_id)s::bigint is null or customer_id = %(customer_id)s)
  and (%(settled_from)s::timestamptz is null or settled_at >= %(settled_from)s)
  and (%(settled_before)s::timestamptz is null or settled_at < %(settled_before)s)
  and (%(after_settled_at)s::timestamptz is null
       or (settled_at, bet_id) < (%(after_settled_at)s::timestamptz, %(after_bet_id)s::bigint))
order by settled_at desc, bet_id desc
limit %(limit)s;

-- name: export_timeouts
-- For one chunk's transaction only (set_config(..., true) is SET LOCAL): the
-- export's own, longer statement timeout. Milliseconds, as text.
select set_config('statement_timeout', %(statement_timeout_ms)s, true);
