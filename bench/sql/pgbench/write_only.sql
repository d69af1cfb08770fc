-- The same write without the NOTIFY (pgbench script).
\set agent random(1, 100000)
begin;
insert into bench_notify_rows (agent_id) values (:agent);
commit;
