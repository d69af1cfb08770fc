drop table if exists login_attempts;
