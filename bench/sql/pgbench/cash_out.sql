-- One cash-out per transaction, of the next queued open bet (pgbench script).
update bets
set status = 'cashed_out', cash_out_amount = round(stake * 0.8, 2), is_auto_cash_out = false,
    cash_out_trigger_reason = 'manual', settled_at = now()
where id = (select id from bench_write_queue where n = (select nextval('bench_write_seq')));
