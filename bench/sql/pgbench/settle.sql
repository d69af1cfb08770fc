-- One settlement (won) per transaction, of the next queued open bet (pgbench script).
update bets set status = 'won', settled_at = now()
where id = (select id from bench_write_queue where n = (select nextval('bench_write_seq')));
