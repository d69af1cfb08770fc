-- name: stream_last_seq
-- The agent's newest stream position (0 before its first event).
select coalesce(
    (select last_seq from cash_out_event_counters where agent_id = %(agent_id)s), 0
) as last_seq;

-- name: stream_last_seqs
select agent_id, last_seq
from cash_out_event_counters
where agent_id = any(%(agent_ids)s::bigint[]);

-- name: stream_events_after
-- For each (agent, position) pair, that agent's next events in seq order with
-- the activity item. The item is joined on the same agent, so an agent never
-- gets another agent's rows; it is null when the customer has since moved to
-- another agent (the event still advances the position).
select
    c.agent_id,
    e.seq,
    e.seq::text            as event_id,
    a.bet_id,
    a.customer_id,
    a.customer_username,
    a.selection,
    a.stake,
    a.cash_out_amount,
    a.profit_loss,
    a.return_ratio,
    a.is_auto_cash_out,
    a.cash_out_trigger_reason,
    a.placed_at,
    a.settled_at
from unnest(%(agent_ids)s::bigint[], %(after_seqs)s::bigint[]) as c (agent_id, after_seq)
cross join lateral (
    select ev.seq, ev.bet_id
    from cash_out_events ev
    where ev.agent_id = c.agent_id and ev.seq > c.after_seq
    order by ev.seq
    limit %(batch)s
) e
left join cash_out_activity a on a.bet_id = e.bet_id and a.agent_id = c.agent_id
order by c.agent_id, e.seq;

-- name: stream_snapshot
-- First statement of the resume transaction: position check and replay read
-- the same snapshot.
set transaction isolation level repeatable read;
