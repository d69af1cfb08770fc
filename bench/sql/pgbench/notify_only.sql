-- A transaction that only NOTIFYs an agent's channel (pgbench script). It writes no
-- WAL but its commit record, so its commit does not wait for a flush.
\set agent random(1, 100000)
begin;
select pg_notify('cash_out_' || :agent, '1');
commit;
