-- name: agent_credentials
-- An agent without a password of ours (never given one) cannot sign in.
select a.id, a.username, a.display_name, c.password_hash
from agents a
join cashout_feed.credentials c on c.agent_id = a.id
where a.username = %(username)s;

-- name: session_create
insert into cashout_feed.sessions (token_hash, agent_id, expires_at)
values (%(token_hash)s, %(agent_id)s, now() + %(ttl)s)
returning expires_at;

-- name: session_agent
select a.id, a.username, a.display_name
from cashout_feed.sessions s
join agents a on a.id = s.agent_id
where s.token_hash = %(token_hash)s
  and s.revoked_at is null
  and s.expires_at > now();

-- name: session_revoke
update cashout_feed.sessions
set revoked_at = now()
where token_hash = %(token_hash)s and revoked_at is null;

-- name: agent_create
-- For demos and tests, where the app created the platform's tables: a
-- platform's agents are its own (give them a password with set-password).
with agent as (
    insert into agents (username, display_name)
    values (%(username)s, %(display_name)s)
    returning id
)
insert into cashout_feed.credentials (agent_id, password_hash)
select id, %(password_hash)s from agent
returning agent_id;

-- name: agent_ids_by_username
select username, id from agents where username = any(%(usernames)s::text[]);

-- name: agent_set_password
insert into cashout_feed.credentials (agent_id, password_hash)
select unnest(%(agent_ids)s::bigint[]), %(password_hash)s
on conflict (agent_id) do update
set password_hash = excluded.password_hash, updated_at = now();
