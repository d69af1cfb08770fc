-- The same transaction with neither NOTIFY nor transaction id: nothing to flush at
-- commit (pgbench script).
\set agent random(1, 100000)
begin;
select :agent;
commit;
