-- A denormalised copy of the cashed-out bets, keyed by the customer's current agent,
-- with a daily rollup, so an agent's list, totals and summary are short index scans.
-- depends: 0003.cash_out_views

-- Why: the views of 0003 find an agent's cash-outs through users -> bets
-- (user_id, status), i.e. one index probe per customer and then a sort of every
-- row they return. For an agent with 5,000 customers and ~75,000 cash-outs that
-- is 50-160 ms before the first row, for every page. Here each cashed-out bet is
-- one narrow row carrying agent_id, and the index below is in the order the
-- list is read (newest first) and covers what the summary adds up, so a page is
-- a short index scan and a summary an index-only scan of its window.
-- Money is kept in integer cents: sum(bigint) accumulates in native integers,
-- several times faster than numeric, and cents * 0.01 gives back the exact
-- numeric(…, 2) value. ratio is cash_out_amount / stake as PostgreSQL's numeric
-- division computes it, so sums and averages of it equal those of 0003.
-- The platform still owns bets and users: nothing here changes them; triggers
-- keep this copy equal to "bets where status = 'cashed_out'" joined to the
-- customer's CURRENT agent.
create table cash_out_feed (
    bet_id           bigint primary key,
    agent_id         bigint not null,
    customer_id      bigint not null,
    settled_at       timestamptz not null,
    stake_cents      bigint not null,
    cash_out_cents   bigint not null,
    ratio            numeric not null,
    is_auto_cash_out boolean not null
);
create index cash_out_feed_agent_idx on cash_out_feed
    (agent_id, settled_at desc, bet_id desc)
    include (customer_id, stake_cents, cash_out_cents, ratio, is_auto_cash_out);
create index cash_out_feed_customer_idx on cash_out_feed
    (customer_id, settled_at desc, bet_id desc);

insert into cash_out_feed
select b.id, u.agent_id, b.user_id, b.settled_at, (b.stake * 100)::bigint,
       (b.cash_out_amount * 100)::bigint, b.cash_out_amount / b.stake, b.is_auto_cash_out
from bets b
join users u on u.id = b.user_id
where b.status = 'cashed_out';

-- Per agent and UTC day: count and sums of the cash-outs, so that an agent's
-- totals (every row matching the list's filters, not just the page) read at
-- most ~90 rollup rows plus the rows of the two partial days at the edges of a
-- date filter, instead of every cash-out (~75,000 for the large agent).
create table cash_out_feed_daily (
    agent_id       bigint not null,
    day            date not null,
    cash_outs      bigint not null,
    cash_out_cents bigint not null,
    stake_cents    bigint not null,
    primary key (agent_id, day)
);

insert into cash_out_feed_daily
select agent_id, (settled_at at time zone 'UTC')::date, count(*), sum(cash_out_cents),
       sum(stake_cents)
from cash_out_feed
group by 1, 2;

-- Kept by the copy's own statement triggers, so that every path that changes
-- the copy (cash-out, correction, backfill, delete, customer moved) keeps the
-- rollup equal to it. Deltas are applied in (agent, day) order: two bulk
-- statements cannot deadlock on each other's rollup rows.
create function cash_out_feed_daily_apply() returns trigger
language plpgsql as $$
begin
    if tg_op = 'INSERT' then
        insert into cash_out_feed_daily as d (agent_id, day, cash_outs, cash_out_cents, stake_cents)
        select agent_id, (settled_at at time zone 'UTC')::date, count(*),
               sum(cash_out_cents), sum(stake_cents)
        from new_rows group by 1, 2 order by 1, 2
        on conflict (agent_id, day) do update
        set cash_outs = d.cash_outs + excluded.cash_outs,
            cash_out_cents = d.cash_out_cents + excluded.cash_out_cents,
            stake_cents = d.stake_cents + excluded.stake_cents;
    elsif tg_op = 'DELETE' then
        insert into cash_out_feed_daily as d (agent_id, day, cash_outs, cash_out_cents, stake_cents)
        select agent_id, (settled_at at time zone 'UTC')::date, -count(*),
               -sum(cash_out_cents), -sum(stake_cents)
        from old_rows group by 1, 2 order by 1, 2
        on conflict (agent_id, day) do update
        set cash_outs = d.cash_outs + excluded.cash_outs,
            cash_out_cents = d.cash_out_cents + excluded.cash_out_cents,
            stake_cents = d.stake_cents + excluded.stake_cents;
    else
        insert into cash_out_feed_daily as d (agent_id, day, cash_outs, cash_out_cents, stake_cents)
        select agent_id, day, sum(n), sum(amount), sum(stake)
        from (
            select agent_id, (settled_at at time zone 'UTC')::date as day, 1 as n,
                   cash_out_cents as amount, stake_cents as stake
            from new_rows
            union all
            select agent_id, (settled_at at time zone 'UTC')::date, -1,
                   -cash_out_cents, -stake_cents
            from old_rows
        ) delta
        group by 1, 2
        having sum(n) <> 0 or sum(amount) <> 0 or sum(stake) <> 0
        order by 1, 2
        on conflict (agent_id, day) do update
        set cash_outs = d.cash_outs + excluded.cash_outs,
            cash_out_cents = d.cash_out_cents + excluded.cash_out_cents,
            stake_cents = d.stake_cents + excluded.stake_cents;
    end if;
    return null;
end
$$;
create trigger cash_out_feed_daily_insert
    after insert on cash_out_feed referencing new table as new_rows
    for each statement execute function cash_out_feed_daily_apply();
create trigger cash_out_feed_daily_update
    after update on cash_out_feed referencing old table as old_rows new table as new_rows
    for each statement execute function cash_out_feed_daily_apply();
create trigger cash_out_feed_daily_delete
    after delete on cash_out_feed referencing old table as old_rows
    for each statement execute function cash_out_feed_daily_apply();

-- The activity list's totals, equal to count/sum over cash_out_activity with
-- the same filters ([settled_from, settled_before), either end open), read
-- from the rollup for whole UTC days and from the copy for the rest.
create function cash_out_totals(
    p_agent_id bigint,
    p_customer_id bigint,
    p_settled_from timestamptz,
    p_settled_before timestamptz
) returns table (total_count bigint, total_cash_out_amount numeric, total_profit_loss numeric)
language plpgsql stable as $$
declare
    first_day date;  -- first whole day inside the range
    end_day   date;  -- day after the last whole day inside the range
begin
    first_day := case when p_settled_from is null then date '-infinity'
                      else ((p_settled_from at time zone 'UTC') + interval '1 day'
                            - interval '1 microsecond')::date end;
    end_day := case when p_settled_before is null then date 'infinity'
                    else (p_settled_before at time zone 'UTC')::date end;
    if p_customer_id is not null or first_day >= end_day then
        -- One customer's cash-outs, or less than a day of them: read the rows.
        return query
        select count(*), coalesce(sum(f.cash_out_cents) * 0.01, 0.00),
               coalesce(sum(f.cash_out_cents - f.stake_cents) * 0.01, 0.00)
        from cash_out_feed f
        where f.agent_id = p_agent_id
          and (p_customer_id is null or f.customer_id = p_customer_id)
          and (p_settled_from is null or f.settled_at >= p_settled_from)
          and (p_settled_before is null or f.settled_at < p_settled_before);
        return;
    end if;
    return query
    select coalesce(sum(n), 0)::bigint, coalesce(sum(amount) * 0.01, 0.00),
           coalesce((sum(amount) - sum(stake)) * 0.01, 0.00)
    from (
        select d.cash_outs as n, d.cash_out_cents as amount, d.stake_cents as stake
        from cash_out_feed_daily d
        where d.agent_id = p_agent_id and d.day >= first_day and d.day < end_day
        union all
        select 1, f.cash_out_cents, f.stake_cents
        from cash_out_feed f
        where f.agent_id = p_agent_id and f.settled_at >= p_settled_from
          and f.settled_at < (first_day::timestamp at time zone 'UTC')
        union all
        select 1, f.cash_out_cents, f.stake_cents
        from cash_out_feed f
        where f.agent_id = p_agent_id and f.settled_at < p_settled_before
          and f.settled_at >= (end_day::timestamp at time zone 'UTC')
    ) parts;
end
$$;

-- The UPDATE trigger of 0002, now doing the events and the copy in ONE
-- statement: plpgsql pays its per-statement overhead (executor start-up,
-- snapshot, a pass over the transition tables, the users lookup) once instead
-- of once per step and per agent. Same contract as before: per-agent counters
-- taken in agent-id order (no deadlocks between bulk statements), event seqs in
-- bet-id order within a statement, one NOTIFY per agent per statement carrying
-- only the newest seq (so payload size never depends on the bet).
create or replace function cash_out_events_record() returns trigger
language plpgsql as $$
declare
    notified bigint;
begin
    with changed as materialized (
        select n.id, n.user_id, n.status, o.status as old_status, n.settled_at,
               n.stake, n.cash_out_amount, n.is_auto_cash_out, u.agent_id
        from new_rows n
        join old_rows o on o.id = n.id
        join users u on u.id = n.user_id
        where n.status = 'cashed_out' or o.status = 'cashed_out'
    ),
    uncashed as (
        delete from cash_out_feed f
        using changed c
        where f.bet_id = c.id and c.status <> 'cashed_out'
    ),
    copied as (
        insert into cash_out_feed as f
            (bet_id, agent_id, customer_id, settled_at, stake_cents, cash_out_cents, ratio,
             is_auto_cash_out)
        select id, agent_id, user_id, settled_at, (stake * 100)::bigint,
               (cash_out_amount * 100)::bigint, cash_out_amount / stake, is_auto_cash_out
        from changed
        where status = 'cashed_out'
        on conflict (bet_id) do update
        set agent_id = excluded.agent_id,
            customer_id = excluded.customer_id,
            settled_at = excluded.settled_at,
            stake_cents = excluded.stake_cents,
            cash_out_cents = excluded.cash_out_cents,
            ratio = excluded.ratio,
            is_auto_cash_out = excluded.is_auto_cash_out
    ),
    fresh as (
        select agent_id, id,
               row_number() over (partition by agent_id order by id) as ord,
               count(*) over (partition by agent_id) as n
        from changed
        where status = 'cashed_out' and old_status <> 'cashed_out'
    ),
    bumped as (
        insert into cash_out_event_counters as c (agent_id, last_seq)
        select agent_id, count(*) from fresh group by agent_id order by agent_id
        on conflict (agent_id) do update set last_seq = c.last_seq + excluded.last_seq
        returning c.agent_id, c.last_seq
    ),
    recorded as (
        insert into cash_out_events (agent_id, seq, bet_id)
        select f.agent_id, b.last_seq - f.n + f.ord, f.id
        from fresh f
        join bumped b on b.agent_id = f.agent_id
    )
    select count(pg_notify('cash_out_' || agent_id, last_seq::text)) into notified
    from bumped;
    return null;
end
$$;

-- A backfill (a bet inserted already cashed out) shows in the list: row level
-- with WHEN so that the platform's ordinary inserts of open bets pay nothing
-- but the WHEN test (a statement trigger would capture every inserted row).
create function cash_out_feed_insert() returns trigger
language plpgsql as $$
begin
    insert into cash_out_feed
        (bet_id, agent_id, customer_id, settled_at, stake_cents, cash_out_cents, ratio,
         is_auto_cash_out)
    select new.id, u.agent_id, new.user_id, new.settled_at, (new.stake * 100)::bigint,
           (new.cash_out_amount * 100)::bigint, new.cash_out_amount / new.stake,
           new.is_auto_cash_out
    from users u
    where u.id = new.user_id;
    return null;
end
$$;
create trigger bets_cash_out_feed_insert
    after insert on bets
    for each row when (new.status = 'cashed_out')
    execute function cash_out_feed_insert();

create function cash_out_feed_delete() returns trigger
language plpgsql as $$
begin
    delete from cash_out_feed where bet_id = old.id;
    return null;
end
$$;
create trigger bets_cash_out_feed_delete
    after delete on bets
    for each row when (old.status = 'cashed_out')
    execute function cash_out_feed_delete();

-- DELETE, not TRUNCATE: a TRUNCATE naming both tables would otherwise fail
-- ("being used by active queries"); emptying bets is rare enough.
create function cash_out_feed_truncate() returns trigger
language plpgsql as $$
begin
    delete from cash_out_feed;
    return null;
end
$$;
create trigger bets_cash_out_feed_truncate
    after truncate on bets
    for each statement execute function cash_out_feed_truncate();

-- Ownership is current ownership: a customer moved to another agent takes
-- every past cash-out along.
create function cash_out_feed_owner() returns trigger
language plpgsql as $$
begin
    update cash_out_feed set agent_id = new.agent_id where customer_id = new.id;
    return null;
end
$$;
create trigger users_cash_out_feed_owner
    after update of agent_id on users
    for each row when (old.agent_id is distinct from new.agent_id)
    execute function cash_out_feed_owner();

-- Same columns, names, types and meaning as in 0003. bets and users are LEFT
-- joined on their primary keys: a query that uses none of their columns
-- (counts, sums) has those joins removed by the planner and reads the copy
-- alone; a page of 20 rows looks its 20 bets up.
create or replace view cash_out_activity as
select
    f.agent_id,
    (select max(e.seq) from cash_out_events e
      where e.bet_id = f.bet_id and e.agent_id = f.agent_id)::text as event_id,
    f.bet_id,
    f.customer_id,
    u.username                                       as customer_username,
    b.selection,
    (f.stake_cents * 0.01)::numeric(14, 2)           as stake,
    (f.cash_out_cents * 0.01)::numeric(14, 2)        as cash_out_amount,
    (f.cash_out_cents - f.stake_cents) * 0.01        as profit_loss,
    round(f.ratio, 4)                                as return_ratio,
    f.is_auto_cash_out,
    b.cash_out_trigger_reason,
    b.placed_at,
    f.settled_at
from cash_out_feed f
left join bets b on b.id = f.bet_id
left join users u on u.id = f.customer_id;

-- Same columns as in 0003. One pass over the agent's window in the covering
-- index: integer sums, the precomputed ratio, and count(distinct) over a
-- bigint; the 0003 form sorted every row by agent name, window and customer.
-- The figures are the same numbers: sums are exact, and sum(ratio) / count is
-- exactly what avg() computes.
create or replace view agent_cash_out_summary as
select
    a.id                                                      as agent_id,
    a.username                                                as agent_username,
    w.period,
    w.window_start,
    w.window_end,
    s.n                                                       as total_cash_outs,
    s.customers                                               as unique_customers,
    coalesce(s.stake_cents * 0.01, 0.00)                      as total_stake,
    coalesce(s.cash_out_cents * 0.01, 0.00)                   as total_cash_out_amount,
    coalesce((s.cash_out_cents - s.stake_cents) * 0.01, 0.00) as net_profit_loss,
    s.auto                                                    as auto_cash_out_count,
    round(100.0 * s.auto / nullif(s.n, 0), 2)                 as auto_cash_out_percentage,
    round(s.ratio_sum / nullif(s.n, 0), 4)                    as avg_return_ratio
from agents a
cross join cash_out_summary_periods w
cross join lateral (
    select
        count(*)                                      as n,
        count(distinct f.customer_id)                 as customers,
        sum(f.stake_cents)                            as stake_cents,
        sum(f.cash_out_cents)                         as cash_out_cents,
        count(*) filter (where f.is_auto_cash_out)    as auto,
        sum(f.ratio)                                  as ratio_sum
    from cash_out_feed f
    where f.agent_id = a.id
      and f.settled_at between w.window_start and w.window_end
) s;

-- Same columns as in 0003. Rank on integer sums (same order as on the numeric
-- amounts), and look the usernames up after ranking, one scalar lookup per
-- row returned: grouping by username would look up a user for every cash-out
-- in the window, and a join lets the planner (which cannot tell that
-- "rank <= 5" keeps 5 rows) hash all 200,000 users.
create or replace view agent_cash_out_top_customers as
select
    r.agent_id,
    r.period,
    r.customer_id,
    (select u.username from users u where u.id = r.customer_id) as customer_username,
    r.cash_out_count,
    r.cash_out_cents * 0.01           as total_cash_out_amount,
    r.profit_loss_cents * 0.01        as net_profit_loss,
    r.rank
from (
    select
        f.agent_id,
        w.period,
        f.customer_id,
        count(*)                                   as cash_out_count,
        sum(f.cash_out_cents)                      as cash_out_cents,
        sum(f.cash_out_cents - f.stake_cents)      as profit_loss_cents,
        row_number() over (
            partition by f.agent_id, w.period
            order by count(*) desc, sum(f.cash_out_cents) desc, f.customer_id
        )                                          as rank
    from cash_out_feed f
    join cash_out_summary_periods w
      on f.settled_at between w.window_start and w.window_end
    group by f.agent_id, w.period, f.customer_id
) r;
