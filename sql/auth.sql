-- name: agent_credentials
select id, username, display_name, password_hash
from agents
where username = %(username)s;

-- name: session_create
insert into agent_sessions (token_hash, agent_id, expires_at)
values (%(token_hash)s, %(agent_id)s, now() + %(ttl)s)
returning expires_at;

-- name: session_agent
select a.id, a.username, a.display_name
from agent_sessions s
join agents a on a.id = s.agent_id
where s.token_hash = %(token_hash)s
  and s.revoked_at is null
  and s.expires_at > now();

-- name: session_revoke
update agent_sessions
set revoked_at = now()
where token_hash = %(token_hash)s and revoked_at is null;

-- name: agent_create
insert into agents (username, display_name, password_hash)
values (%(username)s, %(display_name)s, %(password_hash)s)
returning id;
