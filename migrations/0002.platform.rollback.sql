-- Only the tables this migration created go: a platform's own tables, data
-- and indexes are never touched.
do $$
begin
    perform set_config('search_path', current_setting('cashout_feed.platform_schema'), true);
    if (select created_platform_tables from cashout_feed.install) then
        drop table bets;
        drop table users;
        drop table agents;
        update cashout_feed.install set created_platform_tables = false;
    end if;
end
$$;
