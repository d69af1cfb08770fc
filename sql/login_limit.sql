-- name: login_attempt_count
-- Count this attempt against its scopes before the password is checked, so
-- parallel guesses cannot slip past the limit: a stranger's against the
-- username and the address, in that order, so that concurrent logins lock
-- their rows in one order and cannot deadlock; an attempt with a valid device
-- cookie against that device alone (app/login_limit.py). A window that has
-- ended starts again at this attempt.
insert into cashout_feed.login_attempts as a (scope, key, window_start, attempts)
select t.scope, t.key, now(), 1
from unnest(%(scopes)s::text[], %(keys)s::text[]) with ordinality as t (scope, key, n)
order by t.n
on conflict (scope, key) do update
set window_start = case when a.window_start <= now() - %(window)s::interval
                        then now() else a.window_start end,
    attempts = case when a.window_start <= now() - %(window)s::interval
                    then 1 else least(a.attempts + 1, 1000000) end
returning scope, attempts,
          greatest(1, ceil(extract(epoch from window_start + %(window)s::interval - now())))::int
              as retry_after;

-- name: login_device_succeeded
delete from cashout_feed.login_attempts where scope = 'device' and key = %(device)s;

-- name: device_cookie_key
-- The key device cookies are signed with: made once (by the first instance
-- that needs it), then shared by every instance.
with created as (
    insert into cashout_feed.keys (name, key) values ('device_cookie', %(candidate)s)
    on conflict (name) do nothing
    returning key
)
select key from created
union all
select key from cashout_feed.keys where name = 'device_cookie'
limit 1;

-- name: login_attempt_succeeded
-- A success clears the username's count and takes this attempt back off the
-- address's, so colleagues behind one address are not locked out by sign-ins.
with cleared as (
    delete from cashout_feed.login_attempts where scope = 'username' and key = %(username)s
)
update cashout_feed.login_attempts
set attempts = greatest(attempts - 1, 0)
where scope = 'address' and key = %(address)s;

-- name: login_attempts_prune
-- Windows that have ended hold nothing; a bounded batch per call keeps each
-- call cheap however many rows have piled up.
delete from cashout_feed.login_attempts
where ctid in (select ctid from cashout_feed.login_attempts
               where window_start <= now() - %(window)s::interval
               limit 500);
