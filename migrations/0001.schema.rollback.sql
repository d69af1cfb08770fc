drop table if exists agent_sessions;
drop table if exists bets;
drop table if exists users;
drop table if exists agents;
