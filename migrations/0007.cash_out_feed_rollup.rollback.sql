-- Back to the views and trigger function of 0003/0002; drop the copy and its triggers.
-- depends: 0003.cash_out_views
create or replace view agent_cash_out_summary as
select
    a.id                                                     as agent_id,
    a.username                                               as agent_username,
    w.period,
    w.window_start,
    w.window_end,
    count(c.bet_id)                                          as total_cash_outs,
    count(distinct c.customer_id)                            as unique_customers,
    coalesce(sum(c.stake), 0.00)                             as total_stake,
    coalesce(sum(c.cash_out_amount), 0.00)                   as total_cash_out_amount,
    coalesce(sum(c.profit_loss), 0.00)                       as net_profit_loss,
    count(c.bet_id) filter (where c.is_auto_cash_out)        as auto_cash_out_count,
    round(100.0 * count(c.bet_id) filter (where c.is_auto_cash_out)
          / nullif(count(c.bet_id), 0), 2)                   as auto_cash_out_percentage,
    round(avg(c.cash_out_amount / c.stake), 4)               as avg_return_ratio
from agents a
cross join cash_out_summary_periods w
left join cash_out_activity c
       on c.agent_id = a.id
      and c.settled_at between w.window_start and w.window_end
group by a.id, a.username, w.period, w.window_start, w.window_end;

create or replace view cash_out_activity as
select
    u.agent_id,
    (select max(e.seq) from cash_out_events e
      where e.bet_id = b.id and e.agent_id = u.agent_id)::text as event_id,
    b.id                                   as bet_id,
    u.id                                   as customer_id,
    u.username                             as customer_username,
    b.selection,
    b.stake,
    b.cash_out_amount,
    b.cash_out_amount - b.stake            as profit_loss,
    round(b.cash_out_amount / b.stake, 4)  as return_ratio,
    b.is_auto_cash_out,
    b.cash_out_trigger_reason,
    b.placed_at,
    b.settled_at
from bets b
join users u on u.id = b.user_id
where b.status = 'cashed_out';

create or replace view agent_cash_out_top_customers as
select *
from (
    select
        c.agent_id,
        w.period,
        c.customer_id,
        c.customer_username,
        count(*)                 as cash_out_count,
        sum(c.cash_out_amount)   as total_cash_out_amount,
        sum(c.profit_loss)       as net_profit_loss,
        row_number() over (
            partition by c.agent_id, w.period
            order by count(*) desc, sum(c.cash_out_amount) desc, c.customer_id
        )                        as rank
    from cash_out_activity c
    join cash_out_summary_periods w
      on c.settled_at between w.window_start and w.window_end
    group by c.agent_id, w.period, c.customer_id, c.customer_username
) ranked;

create or replace function cash_out_events_record() returns trigger
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

drop trigger if exists users_cash_out_feed_owner on users;
drop trigger if exists bets_cash_out_feed_truncate on bets;
drop trigger if exists bets_cash_out_feed_delete on bets;
drop trigger if exists bets_cash_out_feed_insert on bets;
drop function if exists cash_out_feed_owner();
drop function if exists cash_out_feed_truncate();
drop function if exists cash_out_feed_delete();
drop function if exists cash_out_feed_insert();
drop function if exists cash_out_totals(bigint, bigint, timestamptz, timestamptz);
drop trigger if exists cash_out_feed_daily_insert on cash_out_feed;
drop trigger if exists cash_out_feed_daily_update on cash_out_feed;
drop trigger if exists cash_out_feed_daily_delete on cash_out_feed;
drop function if exists cash_out_feed_daily_apply();
drop table if exists cash_out_feed_daily;
drop table if exists cash_out_feed;
