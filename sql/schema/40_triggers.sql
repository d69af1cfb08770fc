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

create or replace trigger cashout_feed_stage_update
    after update on bets
    for each row when (
        (old.status = 'cashed_out' or new.status = 'cashed_out')
        and (old.status, old.user_id, old.stake, old.cash_out_amount, old.is_auto_cash_out,
             old.settled_at)
            is distinct from
            (new.status, new.user_id, new.stake, new.cash_out_amount, new.is_auto_cash_out,
             new.settled_at)
    )
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

-- The commit-time work: deferred constraint triggers on the same rows as the
-- staging ones. The first to fire at COMMIT does the transaction's work; the
-- others find nothing staged. Constraint triggers cannot be replaced in
-- place: drop and create, in the one transaction this file is applied in.
drop trigger if exists cashout_feed_flush_insert on bets;
create constraint trigger cashout_feed_flush_insert
    after insert on bets
    deferrable initially deferred
    for each row when (new.status = 'cashed_out')
    execute function cashout_feed.flush();

drop trigger if exists cashout_feed_flush_update on bets;
create constraint trigger cashout_feed_flush_update
    after update on bets
    deferrable initially deferred
    for each row when (
        (old.status = 'cashed_out' or new.status = 'cashed_out')
        and (old.status, old.user_id, old.stake, old.cash_out_amount, old.is_auto_cash_out,
             old.settled_at)
            is distinct from
            (new.status, new.user_id, new.stake, new.cash_out_amount, new.is_auto_cash_out,
             new.settled_at)
    )
    execute function cashout_feed.flush();

drop trigger if exists cashout_feed_flush_delete on bets;
create constraint trigger cashout_feed_flush_delete
    after delete on bets
    deferrable initially deferred
    for each row when (old.status = 'cashed_out')
    execute function cashout_feed.flush();
