-- The soak's queries (bench/soak.py).

-- name: soak_place_open_bets
-- Fresh open bets for the soak's agents, `per_agent` each on random customers
-- of theirs, as the platform keeps placing them (earlier runs use them up).
insert into bets (user_id, stake, odds, selection, status, placed_at)
select c.ids[1 + floor(random() * cardinality(c.ids))::int],
       (array[5, 10, 20, 25, 50, 100])[1 + floor(random() * 6)::int],
       round((1.3 + random() * 3.7)::numeric, 2),
       'Arsenal v Chelsea — Arsenal', 'open', now() - random() * interval '2 hours'
from (select agent_id, array_agg(id) as ids from users
      where agent_id = any(%(agent_ids)s) group by agent_id) c
cross join generate_series(1, %(per_agent)s);

-- name: soak_app_connections
-- The app's own connections: its request pool's and its listener's.
select count(*) filter (where application_name = 'cashout-feed') as pool,
       count(*) filter (where application_name = 'cashout-feed-listener') as listener
from pg_stat_activity
where datname = current_database()
  and application_name in ('cashout-feed', 'cashout-feed-listener');
