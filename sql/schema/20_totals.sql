-- Counts and sums of an agent's cash-outs over a range of time, read from the
-- hourly rollup for whole hours and from the copy only for the minutes at the
-- two edges: at most 24 rows a day instead of every cash-out (75,000 for the
-- bench's large agent). The current definitions; `migrate` applies this file
-- whenever it changed.
--
-- Each function reads with plain range predicates (no "(p is null or ...)"):
-- a cached generic plan is then as good as a custom one, on every version.

-- The first hour boundary at or after t (t itself if infinite).
create or replace function cashout_feed.hour_ceil(t timestamptz) returns timestamptz
language sql immutable parallel safe as $$
    select case when isfinite(t)
                then cashout_feed.hour_of(t - interval '1 microsecond') + interval '1 hour'
                else t end
$$;

-- The last hour boundary at or before t (t itself if infinite).
create or replace function cashout_feed.hour_floor(t timestamptz) returns timestamptz
language sql immutable parallel safe as $$
    select case when isfinite(t) then cashout_feed.hour_of(t) else t end
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
    -- Whole hours [h_lo, h_hi); the minutes before and after them row by row.
    h_lo timestamptz := cashout_feed.hour_ceil(lo);
    h_hi timestamptz := cashout_feed.hour_floor(hi);
begin
    if h_lo >= h_hi then
        h_lo := hi;  -- no whole hour: every row of [lo, hi) is an edge row
        h_hi := hi;
    end if;
    return query
    select coalesce(sum(p.n), 0)::bigint, coalesce(sum(p.auto), 0)::bigint,
           coalesce(sum(p.rc), 0)::bigint, coalesce(sum(p.st), 0), coalesce(sum(p.amt), 0),
           coalesce(sum(p.pl), 0), coalesce(sum(p.rs), 0)
    from (
        select h.cash_outs as n, h.auto_cash_outs as auto, h.ratio_count as rc,
               h.stake as st, h.cash_out_amount as amt, h.profit_loss as pl,
               h.ratio_sum as rs
        from cashout_feed.hourly_totals h
        where h.agent_id = p_agent_id and h.hour >= h_lo and h.hour < h_hi
        union all
        select 1, f.is_auto_cash_out::int, (f.ratio is not null)::int, f.stake,
               f.cash_out_amount, f.cash_out_amount - f.stake, f.ratio
        from (values (lo, least(h_lo, hi)), (h_hi, hi)) r (lo, hi)
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

-- An agent's top customers over [p_from, p_to] (both ends included), ranked
-- as SPEC §4 says (cash-outs, then amount, both descending, then customer
-- id), and how many customers the window has (ranked_customers). The same
-- ranking as the view agent_cash_out_top_customers, for its first p_top
-- rows, without adding up money for every customer: the window's cash-outs
-- are counted per customer (integers), and the amounts are summed only for
-- the customers whose count could place them in the top p_top. For the
-- bench's large agent's 30 days that is a dozen customers of 5,000 (summing
-- numeric amounts over all 30,000 rows was most of the summary's time).
create or replace function cashout_feed.top_customers(
    p_agent_id bigint, p_from timestamptz, p_to timestamptz, p_top integer
) returns table (
    customer_id bigint, cash_out_count bigint, cash_out_amount numeric, profit_loss numeric,
    rank bigint, ranked_customers bigint
)
language plpgsql stable as $$
begin
    return query
    with per_customer as (
        select f.customer_id, count(*) as n
        from cashout_feed.cash_outs f
        where f.agent_id = p_agent_id and f.settled_at between p_from and p_to
        group by f.customer_id
    ),
    cutoff as (
        -- The p_top-th highest count: nobody below it can place.
        select pc.n from per_customer pc order by pc.n desc offset p_top - 1 limit 1
    ),
    candidates as (
        select pc.customer_id, pc.n from per_customer pc
        where pc.n >= coalesce((select c.n from cutoff c), 0)
    ),
    summed as (
        select c.customer_id, c.n, s.amount, s.pl
        from candidates c
        cross join lateral (
            select sum(f.cash_out_amount) as amount,
                   coalesce(sum(f.cash_out_amount - f.stake), 0) as pl
            from cashout_feed.cash_outs f
            where f.customer_id = c.customer_id and f.agent_id = p_agent_id
              and f.settled_at between p_from and p_to
        ) s
    ),
    ranked as (
        select s.*, row_number() over (order by s.n desc, s.amount desc, s.customer_id) as r
        from summed s
    )
    select r.customer_id, r.n, r.amount, r.pl, r.r,
           (select count(*) from per_customer)
    from ranked r
    where r.r <= p_top
    order by r.r;
end
$$;
