-- Sign-in attempts per username and per client address, for the login rate limit.
-- depends: 0003.cash_out_views

-- In the database, not in process memory, so that the limit holds across
-- uvicorn workers and restarts. One row per (scope, key): a window that starts
-- at the first attempt and the number of attempts in it. Rows whose window has
-- ended are pruned by the app as it goes, so the table stays small.
create table login_attempts (
    scope        text        not null check (scope in ('username', 'address')),
    key          text        not null check (length(key) <= 200),
    window_start timestamptz not null,
    attempts     integer     not null check (attempts >= 0),
    primary key (scope, key)
);
create index login_attempts_window_start_idx on login_attempts (window_start);
