-- The same transaction without the NOTIFY: it still takes a transaction id, so its
-- commit record is written and flushed like a notifying one's (pgbench script).
\set agent random(1, 100000)
begin;
select txid_current(), :agent;
commit;
