-- Everything of the app's: `migrate --rollback` then drops the (empty) schema
-- with yoyo's bookkeeping.
drop table pending;
drop table hourly_totals;
drop table cash_outs;
drop table events;
drop sequence event_seq;
drop table keys;
drop table login_attempts;
drop table sessions;
drop table credentials;
drop table added_indexes;
drop table definitions;
drop table install;
