-- name: agent_customers
select id, username, display_name
from users
where agent_id = %(agent_id)s
order by username, id;
