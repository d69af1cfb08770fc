-- A transaction that only NOTIFYs an agent's channel, as the cash-out trigger does
-- (pgbench script; agent ids over 100,000 agents).
\set agent random(1, 100000)
begin;
select pg_notify('cash_out_' || :agent, '1');
commit;
