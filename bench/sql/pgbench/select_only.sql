-- The same transaction without the NOTIFY (pgbench script).
\set agent random(1, 100000)
begin;
select :agent;
commit;
