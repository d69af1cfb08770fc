-- The write path: what runs inside the platform's transactions when bets
-- change. The current definitions; `migrate` applies this file (with the rest
-- of sql/schema/) whenever it changed. The triggers that call these functions
-- are in 40_triggers.sql.
--
-- The contract (SPEC §3, "a good guest"): with us installed, the platform's
-- transactions must not fail, deadlock or wait on each other where they would
-- not without us, and writes that are not cash-outs must cost next to nothing.
-- The design, and why:
--
-- 1. Row triggers with WHEN conditions, not statement triggers with
--    transition tables. A statement trigger runs (and captures every row) for
--    every UPDATE of bets, settlements included: measured 0.66x the
--    throughput of settling bets without us. A row trigger whose WHEN is false
--    is not even called: placing, settling and editing bets pay one
--    comparison per row.
--
-- 2. Nothing contended happens before COMMIT. The row trigger only stages the
--    bet's id: the transaction's first in the `pending` table (its own row,
--    which no other transaction waits on), whose deferred constraint trigger
--    (`flush`) does the work once, at commit; the next few hundred in a
--    transaction-local setting (`cashout_feed.staged`), and a bulk
--    statement's beyond them in `pending` again. So a transaction that cashed
--    out a bet and is still open holds nothing that a settlement, a bet
--    placement or an odds edit of the same agent's customers could wait for.
--    One trigger per event on bets, not a second (deferred) one beside it:
--    measured, each row trigger whose WHEN must be evaluated cost a
--    settlement about 5 %; an odds edit skips the trigger altogether (UPDATE
--    OF lists the columns a cash-out shows).
--
-- 3. Event ids in commit order per agent, with a lock held only from the
--    flush to the end of COMMIT. Ids come from one sequence; nextval() alone
--    is not commit-ordered (a transaction can take an id and commit after one
--    that took a later id, and a client resuming "after id X" would miss it).
--    So `flush` first takes the agent's commit lock, a transaction-level
--    advisory lock, and only then takes the ids: a second transaction of the
--    same agent waits for the first to become visible before it takes its
--    ids, so per agent id order is the order in which events become visible.
--    Agents share 1,024 lock slots (a bulk cash-out over thousands of agents
--    takes at most 1,024 locks; two of eight concurrent writers of 2,000
--    agents share a slot about 3 % of the time, and the second then waits
--    for the first's commit), always taken in slot order: two transactions
--    cashing out bets of agents A and B in opposite orders both commit.
--    The previous design, a counter row per agent updated by the trigger,
--    held that row lock from the first UPDATE to COMMIT and deadlocked them.
--    Advisory locks are not rows: no serialization failure under REPEATABLE
--    READ either, where a second UPDATE of a counter row would fail.
--
-- 4. The rollup is insert-only (hourly_totals): every flush adds rows of
--    deltas, never updates one, so two bulk inserts of cashed-out bets for
--    the same agents and hours cannot lock each other's rollup rows (the
--    previous design's upsert deadlocked them, applying deltas in row order).
--    The app merges a bucket's rows in the background (`merge_totals`);
--    readers sum whatever rows a bucket has.
--
-- 5. Little to write. Every index a cash-out writes to costs the platform
--    WAL (a full page image for each page first touched after a checkpoint),
--    so a cash-out writes three tables: its copy row (which also carries its
--    event id), one rollup row and one event row; and the work is a handful
--    of statements in one plpgsql function, planned once per session, with
--    no nested function calls.
--
-- 6. Everything here is total: no check, cast or division that the
--    platform's data could make fail (a stake of 0 or null gives a null
--    ratio; a cashed-out bet without an amount or a settlement time, which
--    the platform's own constraint forbids, is left out of the copy).
--
-- Hours are UTC hours (hour_of: date_bin, not date_trunc, which follows the
-- session's time zone and would cut a +05:30 zone's hours at the half hour).
--
-- Functions that read the platform's tables pin the search_path they were
-- created with, so that they resolve `bets` and `users` the same way whatever
-- the calling session's search_path is. Our own objects are always written
-- with their schema.

-- Bets are copied before the install in batches of ids, one bucket of 20,000
-- ids at a time (`backfill`), under an exclusive advisory lock on the bucket;
-- `flush` takes the same lock shared for the buckets of the bets it copies. A
-- platform transaction changing a bet of the bucket being copied therefore
-- waits for that batch at its commit (tens of milliseconds, only while the
-- install runs) instead of racing it, and no platform row is ever locked by us.
create or replace function cashout_feed.bet_bucket(bet_id bigint) returns integer
language sql immutable parallel safe as $$
    select ((bet_id - 1) / 20000 % 2147483648)::integer
$$;

-- The UTC hour a time falls in (a rollup bucket). An inlined SQL function:
-- no call in the queries that use it.
create or replace function cashout_feed.hour_of(t timestamptz) returns timestamptz
language sql immutable parallel safe as $$
    select date_bin('1 hour', t, timestamptz '2000-01-01 00:00Z')
$$;

-- Stage one changed bet of the current transaction (row trigger on bets).
-- The setting is transaction-local and follows savepoints: a change rolled
-- back to a savepoint takes its staging with it.
create or replace function cashout_feed.stage_bet() returns trigger
language plpgsql as $$
declare
    staged text := current_setting('cashout_feed.staged', true);
    bet bigint;
    is_event boolean := false;
begin
    if tg_op = 'DELETE' then
        bet := old.id;
    else
        bet := new.id;
        if tg_op = 'UPDATE' then
            if (old.status, old.user_id, old.stake, old.cash_out_amount, old.is_auto_cash_out,
                old.settled_at)
               is not distinct from
               (new.status, new.user_id, new.stake, new.cash_out_amount, new.is_auto_cash_out,
                new.settled_at) then
                return null;  -- nothing a cash-out shows changed
            end if;
            is_event := new.status = 'cashed_out' and old.status is distinct from 'cashed_out';
        end if;
    end if;
    if coalesce(staged, '') = '' then
        -- The transaction's first: its row queues the commit-time flush.
        insert into cashout_feed.pending (xid, bet_id, is_event, first)
        values (pg_current_xact_id(), bet, is_event, true);
        perform set_config('cashout_feed.staged', '+', true);
    elsif length(staged) < 4000 then
        perform set_config('cashout_feed.staged',
                           staged || ',' || bet || case when is_event then 'e' else '' end, true);
    else
        -- A bulk statement: the rest go to the staging table too.
        insert into cashout_feed.pending (xid, bet_id, is_event, first)
        values (pg_current_xact_id(), bet, is_event, false);
    end if;
    return null;
end
$$;

-- At commit (the first firing of the deferred constraint triggers on bets):
-- bring the copy and the rollup up to date for every bet the transaction
-- changed, record its new events under the agents' commit locks, and NOTIFY
-- each agent once.
create or replace function cashout_feed.flush() returns trigger
language plpgsql
set search_path from current
-- Planned once per session: a custom plan per call of these statements (the
-- default while the generic one looks dearer) cost 0.4 ms of every commit.
set plan_cache_mode = force_generic_plan
as $$
declare
    staged    text := current_setting('cashout_feed.staged', true);
    bet_ids   bigint[];
    event_ids bigint[];
    notified  bigint;
begin
    -- A change after this (another deferred trigger's) queues a new flush.
    perform set_config('cashout_feed.staged', '', true);
    with staged_rows as (
        delete from cashout_feed.pending where xid = pg_current_xact_id()
        returning bet_id, is_event
    ),
    ids as (
        select bet_id as id, is_event as ev from staged_rows
        union all
        select rtrim(t, 'e')::bigint, t like '%e'
        from unnest(string_to_array(ltrim(staged, '+,'), ',')) t
        where t <> ''
    )
    select array_agg(distinct id), array_agg(distinct id) filter (where ev)
    into bet_ids, event_ids
    from ids;
    if bet_ids is null then
        return null;
    end if;
    -- The locks, in one fixed order: the buckets of the bets (shared, see
    -- bet_bucket), then the commit locks of the new events' agents, in slot
    -- order, before any id is taken. One statement; the locks are taken
    -- row by row after the sort.
    perform case when l.kind = 1 then pg_advisory_xact_lock_shared(1667330923, l.key)
                 else pg_advisory_xact_lock(1667330920, l.key) end
    from (
        select distinct 1 as kind, cashout_feed.bet_bucket(id) as key from unnest(bet_ids) id
        union
        select 2, (u.agent_id % 1024)::integer
        from bets b join users u on u.id = b.user_id
        where b.id = any(event_ids) and b.status = 'cashed_out'
        order by 1, 2
    ) l;

    if event_ids is not null and cardinality(event_ids) = cardinality(bet_ids) then
        -- Every bet staged became a cash-out in this transaction: a bet that
        -- is not cashed out has no copy row, so there is nothing old to take
        -- away (the common case, kept to plain inserts).
        with current as (
            select b.id as bet_id, u.agent_id, b.user_id as customer_id, b.settled_at,
                   b.stake, b.cash_out_amount,
                   case when b.stake > 0 then b.cash_out_amount / b.stake end as ratio,
                   coalesce(b.is_auto_cash_out, false) as is_auto_cash_out
            from bets b
            join users u on u.id = b.user_id
            where b.id = any(bet_ids)
              and b.status = 'cashed_out'
              and b.cash_out_amount is not null
              and b.settled_at is not null
        ),
        numbered as (
            select o.*, nextval('cashout_feed.event_seq') as seq
            from (select c.* from current c order by c.agent_id, c.bet_id) o
        ),
        copied as (
            insert into cashout_feed.cash_outs
                (bet_id, agent_id, customer_id, settled_at, stake, cash_out_amount, ratio,
                 is_auto_cash_out, event_seq, event_agent_id)
            select n.bet_id, n.agent_id, n.customer_id, n.settled_at, n.stake,
                   n.cash_out_amount, n.ratio, n.is_auto_cash_out, n.seq, n.agent_id
            from numbered n
        ),
        deltas as (
            insert into cashout_feed.hourly_totals
                (agent_id, hour, cash_outs, auto_cash_outs, ratio_count, stake,
                 cash_out_amount, profit_loss, ratio_sum)
            select c.agent_id, cashout_feed.hour_of(c.settled_at), count(*),
                   count(*) filter (where c.is_auto_cash_out), count(c.ratio),
                   coalesce(sum(c.stake), 0), sum(c.cash_out_amount),
                   coalesce(sum(c.cash_out_amount - c.stake), 0), coalesce(sum(c.ratio), 0)
            from current c
            group by 1, 2
        ),
        recorded as (
            insert into cashout_feed.events (agent_id, seq, bet_id)
            select n.agent_id, n.seq, n.bet_id from numbered n
            returning agent_id, seq
        )
        select count(pg_notify('cash_out_' || agent_id, newest::text)) into notified
        from (select agent_id, max(seq) as newest from recorded group by agent_id) a;
        return null;
    end if;

    with current as (
        -- The copy rows the bets should have now: cashed out, with an amount
        -- and a settlement time, attributed to the customer's current agent.
        select b.id as bet_id, u.agent_id, b.user_id as customer_id, b.settled_at, b.stake,
               b.cash_out_amount,
               case when b.stake > 0 then b.cash_out_amount / b.stake end as ratio,
               coalesce(b.is_auto_cash_out, false) as is_auto_cash_out
        from bets b
        join users u on u.id = b.user_id
        where b.id = any(bet_ids)
          and b.status = 'cashed_out'
          and b.cash_out_amount is not null
          and b.settled_at is not null
    ),
    numbered as (
        -- Ids for the new events, in agent then bet order.
        select o.bet_id, nextval('cashout_feed.event_seq') as seq
        from (select c.bet_id from current c
              where c.bet_id = any(event_ids) order by c.agent_id, c.bet_id) o
    ),
    old as (
        select f.* from cashout_feed.cash_outs f where f.bet_id = any(bet_ids) for update
    ),
    gone as (
        delete from cashout_feed.cash_outs f
        where f.bet_id = any(bet_ids)
          and not exists (select 1 from current c where c.bet_id = f.bet_id)
    ),
    copied as (
        insert into cashout_feed.cash_outs as f
            (bet_id, agent_id, customer_id, settled_at, stake, cash_out_amount, ratio,
             is_auto_cash_out, event_seq, event_agent_id)
        select c.bet_id, c.agent_id, c.customer_id, c.settled_at, c.stake, c.cash_out_amount,
               c.ratio, c.is_auto_cash_out, n.seq, case when n.seq is not null then c.agent_id end
        from current c
        left join numbered n on n.bet_id = c.bet_id
        on conflict (bet_id) do update
        set agent_id = excluded.agent_id,
            customer_id = excluded.customer_id,
            settled_at = excluded.settled_at,
            stake = excluded.stake,
            cash_out_amount = excluded.cash_out_amount,
            ratio = excluded.ratio,
            is_auto_cash_out = excluded.is_auto_cash_out,
            -- A correction keeps the bet's event.
            event_seq = coalesce(excluded.event_seq, f.event_seq),
            event_agent_id = coalesce(excluded.event_agent_id, f.event_agent_id)
    ),
    deltas as (
        insert into cashout_feed.hourly_totals
            (agent_id, hour, cash_outs, auto_cash_outs, ratio_count, stake, cash_out_amount,
             profit_loss, ratio_sum)
        select d.agent_id, cashout_feed.hour_of(d.settled_at), sum(d.sign),
               coalesce(sum(d.sign) filter (where d.is_auto_cash_out), 0),
               coalesce(sum(d.sign) filter (where d.ratio is not null), 0),
               coalesce(sum(d.sign * d.stake), 0), sum(d.sign * d.cash_out_amount),
               coalesce(sum(d.sign * (d.cash_out_amount - d.stake)), 0),
               coalesce(sum(d.sign * d.ratio), 0)
        from (
            select 1 as sign, c.agent_id, c.settled_at, c.stake, c.cash_out_amount, c.ratio,
                   c.is_auto_cash_out
            from current c
            union all
            select -1, o.agent_id, o.settled_at, o.stake, o.cash_out_amount, o.ratio,
                   o.is_auto_cash_out
            from old o
        ) d
        group by 1, 2
    ),
    recorded as (
        insert into cashout_feed.events (agent_id, seq, bet_id)
        select c.agent_id, n.seq, n.bet_id
        from numbered n join current c on c.bet_id = n.bet_id
        returning agent_id, seq
    )
    -- The payload is only a wake-up (the newest id): listeners read the
    -- events themselves, so a long selection never meets NOTIFY's limit.
    select count(pg_notify('cash_out_' || agent_id, newest::text)) into notified
    from (select agent_id, max(seq) as newest from recorded group by agent_id) a;
    return null;
end
$$;

-- Ownership is current ownership: a customer moved to another agent takes
-- every past cash-out along; their events stay in the old agent's stream.
-- Row trigger on users, when agent_id changed.
create or replace function cashout_feed.customer_moved() returns trigger
language plpgsql as $$
begin
    with old as (
        select f.* from cashout_feed.cash_outs f where f.customer_id = new.id for update
    ),
    moved as (
        update cashout_feed.cash_outs f set agent_id = new.agent_id
        where f.customer_id = new.id
    )
    insert into cashout_feed.hourly_totals
        (agent_id, hour, cash_outs, auto_cash_outs, ratio_count, stake, cash_out_amount,
         profit_loss, ratio_sum)
    select d.agent_id, cashout_feed.hour_of(o.settled_at), sum(d.sign),
           coalesce(sum(d.sign) filter (where o.is_auto_cash_out), 0),
           coalesce(sum(d.sign) filter (where o.ratio is not null), 0),
           coalesce(sum(d.sign * o.stake), 0), sum(d.sign * o.cash_out_amount),
           coalesce(sum(d.sign * (o.cash_out_amount - o.stake)), 0),
           coalesce(sum(d.sign * o.ratio), 0)
    from old o
    cross join lateral (values (o.agent_id, -1), (new.agent_id, 1)) d (agent_id, sign)
    group by 1, 2;
    return null;
end
$$;

-- TRUNCATE bets empties what was copied from it.
create or replace function cashout_feed.bets_truncated() returns trigger
language plpgsql as $$
begin
    delete from cashout_feed.cash_outs;
    delete from cashout_feed.hourly_totals;
    return null;
end
$$;

-- Cash-outs made before the install, copied one bucket of bet ids at a time
-- (ids in (after_id, upto_id], within one bucket), under the bucket's lock
-- (see bet_bucket above). Rows the trigger copied meanwhile are left as they
-- are. The rollup is rebuilt from the copy afterwards, agent by agent
-- (rebuild_totals): one row per hour rather than a delta row per batch.
create or replace function cashout_feed.backfill(after_id bigint, upto_id bigint)
returns bigint
language plpgsql set search_path from current as $$
declare
    added bigint;
begin
    perform pg_advisory_xact_lock(1667330923, cashout_feed.bet_bucket(after_id + 1));
    insert into cashout_feed.cash_outs as f
        (bet_id, agent_id, customer_id, settled_at, stake, cash_out_amount, ratio,
         is_auto_cash_out)
    select b.id, u.agent_id, b.user_id, b.settled_at, b.stake, b.cash_out_amount,
           case when b.stake > 0 then b.cash_out_amount / b.stake end,
           coalesce(b.is_auto_cash_out, false)
    from bets b
    join users u on u.id = b.user_id
    where b.id > after_id and b.id <= upto_id
      and b.status = 'cashed_out'
      and b.cash_out_amount is not null
      and b.settled_at is not null
    on conflict (bet_id) do nothing;
    get diagnostics added = row_count;
    return added;
end
$$;

-- One agent's rollup, rebuilt from its copy rows, merged. One statement, so
-- one snapshot: a platform transaction that commits meanwhile either is in
-- it (its delta rows are replaced with the sums they were part of) or is
-- not (its delta rows stay, and apply to the copy as this statement saw it).
-- No lock is needed: the platform's writes to the rollup are inserts.
create or replace function cashout_feed.rebuild_totals(p_agent_id bigint)
returns bigint
language sql as $$
    with dropped as (
        delete from cashout_feed.hourly_totals where agent_id = p_agent_id
    ),
    rebuilt as (
        insert into cashout_feed.hourly_totals
            (agent_id, hour, cash_outs, auto_cash_outs, ratio_count, stake, cash_out_amount,
             profit_loss, ratio_sum, merged)
        select f.agent_id, cashout_feed.hour_of(f.settled_at), count(*),
               count(*) filter (where f.is_auto_cash_out), count(f.ratio),
               coalesce(sum(f.stake), 0), sum(f.cash_out_amount),
               coalesce(sum(f.cash_out_amount - f.stake), 0), coalesce(sum(f.ratio), 0), true
        from cashout_feed.cash_outs f
        where f.agent_id = p_agent_id
        group by 1, 2
        returning 1
    )
    select count(*) from rebuilt
$$;

-- Merge each rollup bucket's rows into one (the app runs it in the
-- background, in its own short transactions; the platform never waits on it).
-- Returns the number of buckets merged.
create or replace function cashout_feed.merge_totals(max_buckets integer)
returns integer
language plpgsql as $$
declare
    done integer;
begin
    with buckets as (
        select distinct agent_id, hour from cashout_feed.hourly_totals
        where not merged limit max_buckets
    ),
    taken as (
        delete from cashout_feed.hourly_totals t using buckets b
        where t.agent_id = b.agent_id and t.hour = b.hour
        returning t.*
    ),
    summed as (
        insert into cashout_feed.hourly_totals
        select agent_id, hour, sum(cash_outs), sum(auto_cash_outs), sum(ratio_count), sum(stake),
               sum(cash_out_amount), sum(profit_loss), sum(ratio_sum), true
        from taken group by agent_id, hour
        having sum(cash_outs) <> 0 or sum(ratio_count) <> 0 or sum(stake) <> 0
            or sum(cash_out_amount) <> 0
    )
    select count(*) into done from buckets;
    return done;
end
$$;
