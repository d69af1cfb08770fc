-- One new open bet per transaction, for a random customer (pgbench script).
\set customer random(1, :customers)
insert into bets (user_id, stake, odds, selection, status, placed_at)
values (:customer, 10, 2.5, 'Arsenal v Chelsea — Arsenal', 'open', now());
