-- name: stream_last_seq
-- The agent's newest stream position (0 before its first event).
select coalesce(
    (select max(seq) from cashout_feed.events where agent_id = %(agent_id)s), 0
) as last_seq;

-- name: stream_events_behind
-- How many of the agent's events come after a position, counting no further
-- than the limit (event ids are not dense per agent: one sequence serves all).
select count(*) from (
    select 1 from cashout_feed.events
    where agent_id = %(agent_id)s and seq > %(after_seq)s
    limit %(limit)s
) e;

-- name: stream_last_seqs
select a.agent_id,
       coalesce((select max(e.seq) from cashout_feed.events e where e.agent_id = a.agent_id), 0)
from unnest(%(agent_ids)s::bigint[]) as a (agent_id);

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
    from cashout_feed.events ev
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
