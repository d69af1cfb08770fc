-- The platform's data before the install: agents without passwords, customers
-- with and without display names, bets in every state, some cashed out (a
-- history the install must copy), some with no odds or selection.
insert into agents (username, display_name)
select 'platform_agent_' || g, case when g % 3 = 0 then null else 'Agent ' || g end
from generate_series(1, 4) g;

insert into users (agent_id, username, display_name)
select 1 + g % 4, 'platform_customer_' || g, case when g % 5 = 0 then null else 'Customer ' || g end
from generate_series(1, 40) g;

insert into bets (user_id, market_id, stake, odds, selection, status, cash_out_amount,
                  is_auto_cash_out, cash_out_trigger_reason, placed_at, settled_at)
select 1 + g % 40, g % 17,
       (1 + g % 9) * 2.5,
       case when g % 11 = 0 then null else 1.5 + (g % 7) / 4.0 end,
       case when g % 13 = 0 then null else 'Market ' || (g % 17) || ' — pick ' || g end,
       s.status,
       case when s.status = 'cashed_out' then round((1 + g % 9) * 2.5 * (0.2 + (g % 10) / 6.0), 4) end,
       s.status = 'cashed_out' and g % 3 = 0,
       case when s.status = 'cashed_out' then (array['manual', 'profit_target', 'stop_loss'])[1 + g % 3] end,
       now() - (g % 40) * interval '1 day' - interval '2 hours',
       case when s.status <> 'open' then now() - (g % 40) * interval '1 day' - interval '1 hour' end
from generate_series(1, 600) g
cross join lateral (
    select (array['open', 'won', 'lost', 'void', 'cashed_out', 'cashed_out'])[1 + g % 6] as status
) s;
