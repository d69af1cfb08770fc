drop trigger if exists bets_cash_out_events on bets;
drop function if exists cash_out_events_record();
drop table if exists cash_out_events;
drop table if exists cash_out_event_counters;
