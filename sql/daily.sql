-- name: daily_series
-- One row per calendar day from date_from to date_from + days - 1, oldest first,
-- days without cash-outs as zeros. Output contract (column aliases = the
-- fields of app.schemas.DailyItem): day, cash_outs, auto_cash_outs,
-- total_stake, total_cash_out_amount, net_profit_loss (money: numeric with 2
-- decimals).
-- day_starts: the instant each day starts in the caller's zone, plus the
-- end of the last day (app.filters.DayRange: 23- or 25-hour days across DST,
-- by the same rules as the list's date filter, so a day here equals the list's
-- totals for it). width_bucket(x, starts) is the i with starts[i] <= x <
-- starts[i + 1]: day number i, counted from 1.
-- The data source (the copy, read through its (agent_id, settled_at) index)
-- is the part to replace with a finer rollup; the output stays as it is.
with per_day as (
    select width_bucket(f.settled_at, %(day_starts)s::timestamptz[]) as n,
           count(*)                                                 as cash_outs,
           count(*) filter (where f.is_auto_cash_out)               as auto_cash_outs,
           sum(f.stake_cents)                                       as stake_cents,
           sum(f.cash_out_cents)                                    as cash_out_cents
    from cash_out_feed f
    where f.agent_id = %(agent_id)s
      and (%(customer_id)s::bigint is null or f.customer_id = %(customer_id)s)
      and f.settled_at >= %(settled_from)s
      and f.settled_at < %(settled_before)s
    group by 1
)
select %(date_from)s::date + (d.n - 1)                              as day,
       coalesce(p.cash_outs, 0)                                     as cash_outs,
       coalesce(p.auto_cash_outs, 0)                                as auto_cash_outs,
       coalesce(p.stake_cents, 0) * 0.01                            as total_stake,
       coalesce(p.cash_out_cents, 0) * 0.01                         as total_cash_out_amount,
       (coalesce(p.cash_out_cents, 0) - coalesce(p.stake_cents, 0)) * 0.01
                                                                    as net_profit_loss
from per_day p
right join generate_series(1, %(days)s) as d (n) on d.n = p.n
order by d.n;
