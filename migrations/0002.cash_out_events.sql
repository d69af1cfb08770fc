-- Live cash-out events: a per-agent, commit-ordered event id and a NOTIFY per agent.
-- depends: 0001.schema

-- Why a counter row per agent and not a sequence or a timestamp: nextval() and
-- now() are taken before commit, so two transactions can commit in the opposite
-- order to their ids, and a client resuming "after id X" would miss the one that
-- committed late. The trigger below increments the agent's counter row inside
-- the cash-out's own transaction; the row lock it takes is held until commit, so
-- a second transaction cashing out for the same agent waits on it and can only
-- take the next number after the first has committed (or rolled back, which
-- undoes its increment: no gaps). Counter order is therefore commit order, per
-- agent, which is all the stream needs. Transactions for different agents never
-- wait on each other.
create table cash_out_event_counters (
    agent_id bigint primary key references agents (id) on delete cascade,
    last_seq bigint not null check (last_seq >= 0)
);

-- One row per cash-out event, keyed by the agent whose stream it belongs to.
-- The NOTIFY payload carries only the newest sequence number: listeners read
-- the events themselves from here, so a long selection never meets NOTIFY's
-- 8,000-byte limit and a listener that was away can catch up from any position.
create table cash_out_events (
    agent_id   bigint not null references agents (id) on delete cascade,
    seq        bigint not null,
    bet_id     bigint not null references bets (id) on delete cascade,
    created_at timestamptz not null default now(),
    primary key (agent_id, seq)
);
create index cash_out_events_bet_id_idx on cash_out_events (bet_id);

-- Statement level with transition tables: a bulk settlement that cashes out
-- many bets takes each agent's counter once and sends one NOTIFY per agent for
-- the whole statement. Agents are visited in id order so that two bulk
-- statements cannot deadlock on each other's counters. An INSERT (a backfill of
-- an already cashed-out bet) fires nothing, and NOTIFY is only delivered on
-- commit, so rolled-back cash-outs are never announced.
create function cash_out_events_record() returns trigger
language plpgsql as $$
declare
    grp      record;
    last_seq bigint;
begin
    for grp in
        select u.agent_id, array_agg(n.id order by n.id) as bet_ids
        from new_rows n
        join old_rows o on o.id = n.id
        join users u on u.id = n.user_id
        where n.status = 'cashed_out' and o.status <> 'cashed_out'
        group by u.agent_id
        order by u.agent_id
    loop
        insert into cash_out_event_counters as c (agent_id, last_seq)
        values (grp.agent_id, cardinality(grp.bet_ids))
        on conflict (agent_id) do update set last_seq = c.last_seq + excluded.last_seq
        returning c.last_seq into last_seq;

        insert into cash_out_events (agent_id, seq, bet_id)
        select grp.agent_id, last_seq - cardinality(grp.bet_ids) + t.ord, t.bet_id
        from unnest(grp.bet_ids) with ordinality as t (bet_id, ord);

        perform pg_notify('cash_out_' || grp.agent_id, last_seq::text);
    end loop;
    return null;
end
$$;

-- Transition tables cannot be combined with "UPDATE OF status", so the
-- function filters on the status change itself.
create trigger bets_cash_out_events
    after update on bets
    referencing old table as old_rows new table as new_rows
    for each statement execute function cash_out_events_record();
