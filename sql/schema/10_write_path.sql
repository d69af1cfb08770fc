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
--    bet's id in `pending` (its own rows: no other transaction waits on them).
--    The work is done once per transaction, at commit, by a deferred
--    constraint trigger on the transaction's first staged row (`flush`). So a
--    transaction that cashed out a bet and is still open holds nothing that a
--    settlement, a bet placement or an odds edit of the same agent's
--    customers could wait for.
--
-- 3. Event ids in commit order per agent, with a lock held only from the
--    flush to the end of COMMIT. Ids come from one sequence; nextval() alone
--    is not commit-ordered (a transaction can take an id and commit after one
--    that took a later id, and a client resuming "after id X" would miss it).
--    So `flush` first takes the agent's commit lock, a transaction-level
--    advisory lock, and only then takes the ids: a second transaction of the
--    same agent waits for the first to become visible before it takes its
--    ids, so per agent id order is the order in which events become visible.
--    Agents share 256 lock slots (a bulk cash-out over thousands of agents
--    takes at most 256 locks), always taken in slot order: two transactions
--    cashing out bets of agents A and B in opposite orders both commit.
--    The previous design, a counter row per agent updated by the trigger,
--    held that row lock from the first UPDATE to COMMIT and deadlocked them.
--    Advisory locks are not rows: no serialization failure under REPEATABLE
--    READ either, where a second UPDATE of a counter row would fail.
--
-- 4. Rollups are insert-only (daily_totals, quarter_totals): every flush adds
--    rows of deltas, never updates one, so two bulk inserts of cashed-out
--    bets for the same agents and days cannot lock each other's rollup rows
--    (the previous design's upsert deadlocked them, applying deltas in row
--    order). The app merges a bucket's rows in the background
--    (`merge_totals`); readers sum whatever rows a bucket has.
--
-- 5. Everything here is total: no check, cast or division that the
--    platform's data could make fail (a stake of 0 or null gives a null
--    ratio; a cashed-out bet without an amount or a settlement time, which
--    the platform's own constraint forbids, is left out of the copy).
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

-- Stage one changed bet of the current transaction (row trigger on bets).
create or replace function cashout_feed.stage_bet() returns trigger
language plpgsql as $$
declare
    first_row boolean := current_setting('cashout_feed.staged', true) is distinct from 'y';
    bet bigint;
    is_event boolean := false;
begin
    if tg_op = 'DELETE' then
        bet := old.id;
    else
        bet := new.id;
        if tg_op = 'UPDATE' then
            is_event := new.status = 'cashed_out' and old.status is distinct from 'cashed_out';
        end if;
    end if;
    if first_row then
        perform set_config('cashout_feed.staged', 'y', true);
    end if;
    insert into cashout_feed.pending (xid, bet_id, is_event, first)
    values (pg_current_xact_id(), bet, is_event, first_row);
    return null;
end
$$;

-- Add (sign 1) or take away (sign -1) copy rows from the rollups: one delta
-- row per (agent, UTC day) and per (agent, quarter hour).
create or replace function cashout_feed.add_to_totals(sign integer, rows cashout_feed.cash_outs[])
returns void
language sql as $$
    insert into cashout_feed.daily_totals
        (agent_id, day, cash_outs, auto_cash_outs, ratio_count, stake, cash_out_amount,
         profit_loss, ratio_sum)
    select r.agent_id, (r.settled_at at time zone 'UTC')::date, sign * count(*),
           sign * count(*) filter (where r.is_auto_cash_out), sign * count(r.ratio),
           sign * coalesce(sum(r.stake), 0), sign * sum(r.cash_out_amount),
           sign * coalesce(sum(r.cash_out_amount - r.stake), 0),
           sign * coalesce(sum(r.ratio), 0)
    from unnest(rows) r
    group by 1, 2;
    insert into cashout_feed.quarter_totals
        (agent_id, quarter, cash_outs, auto_cash_outs, ratio_count, stake, cash_out_amount,
         profit_loss, ratio_sum)
    select r.agent_id, date_bin('15 minutes', r.settled_at, timestamptz '2000-01-01 00:00Z'),
           sign * count(*), sign * count(*) filter (where r.is_auto_cash_out),
           sign * count(r.ratio), sign * coalesce(sum(r.stake), 0),
           sign * sum(r.cash_out_amount), sign * coalesce(sum(r.cash_out_amount - r.stake), 0),
           sign * coalesce(sum(r.ratio), 0)
    from unnest(rows) r
    group by 1, 2;
$$;

-- The copy rows the given bets should have now: cashed out, with an amount
-- and a settlement time, attributed to the customer's current agent.
create or replace function cashout_feed.copy_rows(bet_ids bigint[])
returns setof cashout_feed.cash_outs
language sql stable set search_path from current as $$
    select b.id, u.agent_id, b.user_id, b.settled_at, b.stake, b.cash_out_amount,
           case when b.stake > 0 then b.cash_out_amount / b.stake end,
           coalesce(b.is_auto_cash_out, false)
    from bets b
    join users u on u.id = b.user_id
    where b.id = any(bet_ids)
      and b.status = 'cashed_out'
      and b.cash_out_amount is not null
      and b.settled_at is not null;
$$;

-- At commit (deferred constraint trigger on the first staged row): bring the
-- copy and the rollups up to date for every bet the transaction changed,
-- record its new events under the agents' commit locks, and NOTIFY each
-- agent once.
create or replace function cashout_feed.flush() returns trigger
language plpgsql set search_path from current as $$
declare
    bet_ids   bigint[];
    event_ids bigint[];
    old_rows  cashout_feed.cash_outs[];
    new_rows  cashout_feed.cash_outs[];
    notified  bigint;
begin
    -- A later change in this transaction stages a new first row (and a new flush).
    perform set_config('cashout_feed.staged', '', true);
    with staged as (
        delete from cashout_feed.pending where xid = pg_current_xact_id()
        returning bet_id, is_event
    )
    select array_agg(distinct bet_id), array_agg(distinct bet_id) filter (where is_event)
    into bet_ids, event_ids
    from staged;
    if bet_ids is null then
        return null;
    end if;
    perform pg_advisory_xact_lock_shared(1667330923, b.bucket)
    from (select distinct cashout_feed.bet_bucket(id) as bucket from unnest(bet_ids) id
          order by 1) b;

    select array_agg(f) into old_rows
    from (select f from cashout_feed.cash_outs f where f.bet_id = any(bet_ids)
          order by f.bet_id for update) locked (f);
    select array_agg(c order by c.bet_id) into new_rows from cashout_feed.copy_rows(bet_ids) c;

    if old_rows is not null then
        delete from cashout_feed.cash_outs where bet_id = any(bet_ids);
        perform cashout_feed.add_to_totals(-1, old_rows);
    end if;
    if new_rows is not null then
        insert into cashout_feed.cash_outs select * from unnest(new_rows);
        perform cashout_feed.add_to_totals(1, new_rows);
    end if;

    if event_ids is not null and new_rows is not null then
        perform pg_advisory_xact_lock(1667330920, s.slot)
        from (select distinct (n.agent_id % 256)::integer as slot
              from unnest(new_rows) n where n.bet_id = any(event_ids) order by 1) s;
        with numbered as (
            insert into cashout_feed.events (agent_id, seq, bet_id)
            select o.agent_id, nextval('cashout_feed.event_seq'), o.bet_id
            from (select n.agent_id, n.bet_id from unnest(new_rows) n
                  where n.bet_id = any(event_ids) order by n.agent_id, n.bet_id) o
            returning agent_id, seq
        )
        -- The payload is only a wake-up (the newest id): listeners read the
        -- events themselves, so a long selection never meets NOTIFY's limit.
        select count(pg_notify('cash_out_' || agent_id, newest::text)) into notified
        from (select agent_id, max(seq) as newest from numbered group by agent_id) a;
    end if;
    return null;
end
$$;

-- Ownership is current ownership: a customer moved to another agent takes
-- every past cash-out along (row trigger on users, when agent_id changed).
create or replace function cashout_feed.customer_moved() returns trigger
language plpgsql as $$
declare
    moved cashout_feed.cash_outs[];
begin
    select array_agg(f) into moved
    from (select f from cashout_feed.cash_outs f where f.customer_id = new.id
          order by f.bet_id for update) locked (f);
    if moved is null then
        return null;
    end if;
    update cashout_feed.cash_outs set agent_id = new.agent_id where customer_id = new.id;
    perform cashout_feed.add_to_totals(-1, moved);
    perform cashout_feed.add_to_totals(
        1, array(select row(m.bet_id, new.agent_id, m.customer_id, m.settled_at, m.stake,
                             m.cash_out_amount, m.ratio, m.is_auto_cash_out)::cashout_feed.cash_outs
                 from unnest(moved) m));
    return null;
end
$$;

-- TRUNCATE bets empties what was copied from it.
create or replace function cashout_feed.bets_truncated() returns trigger
language plpgsql as $$
begin
    delete from cashout_feed.cash_outs;
    delete from cashout_feed.daily_totals;
    delete from cashout_feed.quarter_totals;
    return null;
end
$$;

-- Cash-outs made before the install, copied one bucket of bet ids at a time
-- (ids in (after_id, upto_id], within one bucket), under the bucket's lock
-- (see bet_bucket above). Rows the trigger copied meanwhile are left as they are.
create or replace function cashout_feed.backfill(after_id bigint, upto_id bigint)
returns bigint
language plpgsql set search_path from current as $$
declare
    added cashout_feed.cash_outs[];
begin
    perform pg_advisory_xact_lock(1667330923, cashout_feed.bet_bucket(after_id + 1));
    with inserted as (
        insert into cashout_feed.cash_outs
        select c.* from cashout_feed.copy_rows(array(
            select b.id from bets b
            where b.id > after_id and b.id <= upto_id and b.status = 'cashed_out')) c
        on conflict (bet_id) do nothing
        returning *
    )
    select array_agg(i) into added from inserted i;
    if added is not null then
        perform cashout_feed.add_to_totals(1, added);
    end if;
    return coalesce(cardinality(added), 0);
end
$$;

-- Merge each rollup bucket's rows into one (the app runs it in the
-- background, in its own short transactions; the platform never waits on it).
create or replace function cashout_feed.merge_totals(max_buckets integer)
returns integer
language plpgsql as $$
declare
    merged_daily integer;
    merged_quarter integer;
begin
    with buckets as (
        select distinct agent_id, day from cashout_feed.daily_totals
        where not merged limit max_buckets
    ),
    taken as (
        delete from cashout_feed.daily_totals t using buckets b
        where t.agent_id = b.agent_id and t.day = b.day
        returning t.*
    ),
    summed as (
        insert into cashout_feed.daily_totals
        select agent_id, day, sum(cash_outs), sum(auto_cash_outs), sum(ratio_count), sum(stake),
               sum(cash_out_amount), sum(profit_loss), sum(ratio_sum), true
        from taken group by agent_id, day
        having sum(cash_outs) <> 0 or sum(ratio_count) <> 0 or sum(stake) <> 0
            or sum(cash_out_amount) <> 0
        returning 1
    )
    select count(*) into merged_daily from buckets;
    with buckets as (
        select distinct agent_id, quarter from cashout_feed.quarter_totals
        where not merged limit max_buckets
    ),
    taken as (
        delete from cashout_feed.quarter_totals t using buckets b
        where t.agent_id = b.agent_id and t.quarter = b.quarter
        returning t.*
    ),
    summed as (
        insert into cashout_feed.quarter_totals
        select agent_id, quarter, sum(cash_outs), sum(auto_cash_outs), sum(ratio_count),
               sum(stake), sum(cash_out_amount), sum(profit_loss), sum(ratio_sum), true
        from taken group by agent_id, quarter
        having sum(cash_outs) <> 0 or sum(ratio_count) <> 0 or sum(stake) <> 0
            or sum(cash_out_amount) <> 0
        returning 1
    )
    select count(*) into merged_quarter from buckets;
    return merged_daily + merged_quarter;
end
$$;
