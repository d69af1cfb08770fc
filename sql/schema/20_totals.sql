-- Counts and sums of an agent's cash-outs over a range of time, read from the
-- rollups for whole UTC days and whole quarter hours and from the copy only
-- for the minutes at the edges: a few hundred rows instead of every cash-out
-- (75,000 for the bench's large agent). The current definitions; `migrate`
-- applies this file whenever it changed.
--
-- Each function reads with plain range predicates (no "(p is null or ...)"):
-- a cached generic plan is then as good as a custom one, on every version.

-- The first quarter-hour boundary at or after t / at or before t.
create or replace function cashout_feed.quarter_ceil(t timestamptz) returns timestamptz
language sql immutable parallel safe as $$
    select case when isfinite(t)
                then date_bin('15 minutes', t - interval '1 microsecond',
                              timestamptz '2000-01-01 00:00Z') + interval '15 minutes'
                else t end
$$;

create or replace function cashout_feed.quarter_floor(t timestamptz) returns timestamptz
language sql immutable parallel safe as $$
    select case when isfinite(t)
                then date_bin('15 minutes', t, timestamptz '2000-01-01 00:00Z')
                else t end
$$;

-- Sums over [p_from, p_before) of one agent's cash-outs; a null end is open.
-- ratio_count counts the cash-outs that have a return ratio (a stake), so
-- that ratio_sum / ratio_count is their mean.
create or replace function cashout_feed.range_totals(
    p_agent_id bigint, p_from timestamptz, p_before timestamptz
) returns table (
    cash_outs bigint, auto_cash_outs bigint, ratio_count bigint, stake numeric,
    cash_out_amount numeric, profit_loss numeric, ratio_sum numeric
)
language plpgsql stable as $$
declare
    lo timestamptz := coalesce(p_from, '-infinity');
    hi timestamptz := coalesce(p_before, 'infinity');
    -- Whole UTC days [day_lo, day_hi); the edges before and after them.
    day_lo date;
    day_hi date;
    a_lo timestamptz; a_hi timestamptz;  -- edge before the whole days
    b_lo timestamptz; b_hi timestamptz;  -- edge after them
    -- Whole quarter hours inside each edge; the rest of an edge is read row by row.
    qa_lo timestamptz; qa_hi timestamptz;
    qb_lo timestamptz; qb_hi timestamptz;
begin
    if lo >= hi then
        return query select 0::bigint, 0::bigint, 0::bigint, 0::numeric, 0::numeric,
                            0::numeric, 0::numeric;
        return;
    end if;
    day_lo := case when isfinite(lo)
                   then ((lo at time zone 'UTC') + interval '1 day' - interval '1 microsecond')::date
                   else '-infinity' end;
    day_hi := case when isfinite(hi) then (hi at time zone 'UTC')::date else 'infinity' end;
    if day_lo < day_hi then
        a_lo := lo; a_hi := day_lo::timestamp at time zone 'UTC';
        b_lo := day_hi::timestamp at time zone 'UTC'; b_hi := hi;
    else
        day_lo := 'infinity'; day_hi := 'infinity';  -- no whole day
        a_lo := lo; a_hi := hi;
        b_lo := hi; b_hi := hi;
    end if;
    qa_lo := greatest(cashout_feed.quarter_ceil(a_lo), a_lo);
    qa_hi := least(cashout_feed.quarter_floor(a_hi), a_hi);
    if qa_lo >= qa_hi then qa_lo := a_hi; qa_hi := a_hi; end if;
    qb_lo := greatest(cashout_feed.quarter_ceil(b_lo), b_lo);
    qb_hi := least(cashout_feed.quarter_floor(b_hi), b_hi);
    if qb_lo >= qb_hi then qb_lo := b_hi; qb_hi := b_hi; end if;
    return query
    select coalesce(sum(p.n), 0)::bigint, coalesce(sum(p.auto), 0)::bigint,
           coalesce(sum(p.rc), 0)::bigint, coalesce(sum(p.st), 0), coalesce(sum(p.amt), 0),
           coalesce(sum(p.pl), 0), coalesce(sum(p.rs), 0)
    from (
        select d.cash_outs as n, d.auto_cash_outs as auto, d.ratio_count as rc, d.stake as st,
               d.cash_out_amount as amt, d.profit_loss as pl, d.ratio_sum as rs
        from cashout_feed.daily_totals d
        where d.agent_id = p_agent_id and d.day >= day_lo and d.day < day_hi
        union all
        select q.cash_outs, q.auto_cash_outs, q.ratio_count, q.stake, q.cash_out_amount,
               q.profit_loss, q.ratio_sum
        from (values (qa_lo, qa_hi), (qb_lo, qb_hi)) r (lo, hi)
        cross join lateral (
            select * from cashout_feed.quarter_totals q
            where q.agent_id = p_agent_id and q.quarter >= r.lo and q.quarter < r.hi
        ) q
        union all
        -- The minutes at the four edges, each its own index range.
        select 1, f.is_auto_cash_out::int, (f.ratio is not null)::int, f.stake,
               f.cash_out_amount, f.cash_out_amount - f.stake, f.ratio
        from (values (a_lo, qa_lo), (qa_hi, a_hi), (b_lo, qb_lo), (qb_hi, b_hi)) r (lo, hi)
        cross join lateral (
            select * from cashout_feed.cash_outs f
            where f.agent_id = p_agent_id and f.settled_at >= r.lo and f.settled_at < r.hi
        ) f
    ) p;
end
$$;

-- The same sums for one customer of the agent: a customer's cash-outs are few,
-- read row by row from the customer index.
create or replace function cashout_feed.customer_range_totals(
    p_agent_id bigint, p_customer_id bigint, p_from timestamptz, p_before timestamptz
) returns table (
    cash_outs bigint, auto_cash_outs bigint, ratio_count bigint, stake numeric,
    cash_out_amount numeric, profit_loss numeric, ratio_sum numeric
)
language sql stable as $$
    select count(*), count(*) filter (where f.is_auto_cash_out), count(f.ratio),
           coalesce(sum(f.stake), 0), coalesce(sum(f.cash_out_amount), 0),
           coalesce(sum(f.cash_out_amount - f.stake), 0), coalesce(sum(f.ratio), 0)
    from cashout_feed.cash_outs f
    where f.customer_id = p_customer_id and f.agent_id = p_agent_id
      and f.settled_at >= coalesce(p_from, '-infinity')
      and f.settled_at < coalesce(p_before, 'infinity')
$$;
