-- One odds edit per transaction, of a random bet in any state (pgbench script).
\set bet random(1, :bets)
update bets set odds = coalesce(odds, 2) + 0.01 where id = :bet;
