-- The triggers: on the platform's bets and users (the only objects the app
-- adds to its tables besides the story's indexes), and the commit-time one on
-- our own staging table. The current definitions; `migrate` applies this file
-- whenever it changed, under a short lock_timeout with retries, so that a
-- platform writer never queues long behind it. The functions are in
-- 10_write_path.sql.

-- A row trigger whose WHEN is false costs the platform's ordinary writes one
-- comparison: only changes that matter to a cash-out are staged.
create or replace trigger cashout_feed_stage_insert
    after insert on bets
    for each row when (new.status = 'cashed_out')
    execute function cashout_feed.stage_bet();

-- Only when a column a cash-out shows is set (an odds edit does not even
-- evaluate the WHEN), and only for a bet that is or was cashed out; whether
-- a value really changed is the function's check, kept out of the WHEN that
-- every settlement evaluates.
create or replace trigger cashout_feed_stage_update
    after update of status, user_id, stake, cash_out_amount, is_auto_cash_out, settled_at
    on bets
    for each row when (old.status = 'cashed_out' or new.status = 'cashed_out')
    execute function cashout_feed.stage_bet();

create or replace trigger cashout_feed_stage_delete
    after delete on bets
    for each row when (old.status = 'cashed_out')
    execute function cashout_feed.stage_bet();

create or replace trigger cashout_feed_truncate
    after truncate on bets
    for each statement execute function cashout_feed.bets_truncated();

create or replace trigger cashout_feed_customer_moved
    after update of agent_id on users
    for each row when (old.agent_id is distinct from new.agent_id)
    execute function cashout_feed.customer_moved();

-- The commit-time work: a deferred constraint trigger on the transaction's
-- first staged row (PostgreSQL's only way to run code at commit; it rejects
-- nothing). On our own table: dropping and creating it locks nothing of the
-- platform's (constraint triggers cannot be replaced in place).
drop trigger if exists flush on cashout_feed.pending;
create constraint trigger flush
    after insert on cashout_feed.pending
    deferrable initially deferred
    for each row when (new.first)
    execute function cashout_feed.flush();
