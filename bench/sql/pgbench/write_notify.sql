-- A one-row write and a NOTIFY of the agent's channel, the shape of a cash-out with the
-- app's trigger (pgbench script; agent ids over 100,000 agents).
\set agent random(1, 100000)
begin;
insert into bench_notify_rows (agent_id) values (:agent);
select pg_notify('cash_out_' || :agent, '1');
commit;
