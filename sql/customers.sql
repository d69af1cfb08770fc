-- name: agent_customers
-- Case-insensitive, as a person scanning the filter's list expects.
select id, username, display_name
from users
where agent_id = %(agent_id)s
order by lower(username), username, id;
