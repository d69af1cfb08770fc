-- name: daily_series
-- One row per calendar day from date_from to date_from + days - 1, oldest first,
-- days without cash-outs as zeros. Output contract (column aliases = the
-- fields of app.schemas.DailyItem): day, cash_outs, auto_cash_outs,
-- total_stake, total_cash_out_amount, net_profit_loss (money rounded to 2).
-- day_starts: the instant each day starts in the caller's zone, plus the
-- end of the last day (app.filters.DayRange: 23- or 25-hour days across DST,
-- by the same rules as the list's date filter, so a day here equals the list's
-- totals for it; the zone's rules are Python's, not the server's, which may
-- be older). width_bucket(x, starts) is the i with starts[i] <= x <
-- starts[i + 1]: day number i, counted from 1.
-- Whole UTC hours inside one day come from the hourly rollup (24 rows a day
-- at most); an hour that a day's start cuts (a zone whose offset is not whole
-- hours, e.g. +05:30) is read row by row.
with bounds as (
    select %(day_starts)s::timestamptz[] as starts
),
cut as (
    -- The hours a day starts inside of, and the part of each that is in range.
    select distinct greatest(cashout_feed.hour_of(s), %(settled_from)s::timestamptz) as lo,
           least(cashout_feed.hour_of(s) + interval '1 hour',
                 %(settled_before)s::timestamptz) as hi
    from bounds, unnest(bounds.starts) s
    where s <> cashout_feed.hour_of(s)
),
parts as (
    select width_bucket(h.hour, b.starts) as n, h.cash_outs, h.auto_cash_outs, h.stake,
           h.cash_out_amount, h.profit_loss
    from bounds b, cashout_feed.hourly_totals h
    where h.agent_id = %(agent_id)s
      and h.hour >= %(settled_from)s and h.hour < %(settled_before)s
      and width_bucket(h.hour, b.starts)
          = width_bucket(h.hour + interval '1 hour' - interval '1 microsecond', b.starts)
    union all
    select width_bucket(f.settled_at, b.starts), 1, f.is_auto_cash_out::int, f.stake,
           f.cash_out_amount, f.cash_out_amount - f.stake
    from bounds b, cut c
    cross join lateral (
        select * from cashout_feed.cash_outs f
        where f.agent_id = %(agent_id)s and f.settled_at >= c.lo and f.settled_at < c.hi
    ) f
),
per_day as (
    select n, sum(cash_outs) as cash_outs, sum(auto_cash_outs) as auto_cash_outs,
           sum(stake) as stake, sum(cash_out_amount) as cash_out_amount,
           sum(profit_loss) as profit_loss
    from parts
    group by n
)
select %(date_from)s::date + (d.n - 1)                     as day,
       coalesce(p.cash_outs, 0)::bigint                    as cash_outs,
       coalesce(p.auto_cash_outs, 0)::bigint               as auto_cash_outs,
       round(coalesce(p.stake, 0), 2)                      as total_stake,
       round(coalesce(p.cash_out_amount, 0), 2)            as total_cash_out_amount,
       round(coalesce(p.profit_loss, 0), 2)                as net_profit_loss
from per_day p
right join generate_series(1, %(days)s) as d (n) on d.n = p.n
order by d.n;

-- name: daily_series_customer
-- The same for one customer of the agent, from the customer index: a
-- customer's cash-outs are few.
with per_day as (
    select width_bucket(f.settled_at, %(day_starts)s::timestamptz[]) as n,
           count(*)                                                  as cash_outs,
           count(*) filter (where f.is_auto_cash_out)                as auto_cash_outs,
           sum(f.stake)                                              as stake,
           sum(f.cash_out_amount)                                    as cash_out_amount,
           sum(f.cash_out_amount - f.stake)                          as profit_loss
    from cashout_feed.cash_outs f
    where f.customer_id = %(customer_id)s and f.agent_id = %(agent_id)s
      and f.settled_at >= %(settled_from)s and f.settled_at < %(settled_before)s
    group by 1
)
select %(date_from)s::date + (d.n - 1)                     as day,
       coalesce(p.cash_outs, 0)                            as cash_outs,
       coalesce(p.auto_cash_outs, 0)                       as auto_cash_outs,
       round(coalesce(p.stake, 0), 2)                      as total_stake,
       round(coalesce(p.cash_out_amount, 0), 2)            as total_cash_out_amount,
       round(coalesce(p.profit_loss, 0), 2)                as net_profit_loss
from per_day p
right join generate_series(1, %(days)s) as d (n) on d.n = p.n
order by d.n;
