-- The app's own tables, all in the schema cashout_feed (created by `migrate`
-- before yoyo runs, as yoyo keeps its bookkeeping there too). Functions,
-- views and triggers are not here: their one current definition is in
-- sql/schema/, which `migrate` applies after the migrations.
-- depends:

-- What the install did to the database, so that `migrate --rollback` undoes
-- exactly that: whether it created the platform's tables (a fresh database),
-- which indexes it added to them, and which definitions are applied.
create table install (
    singleton               boolean primary key default true check (singleton),
    created_platform_tables boolean not null default false,
    -- Cash-outs made before the install are copied in batches of bet ids:
    -- the highest id done, null when the copy is complete.
    backfill_after          bigint,
    backfill_done           boolean not null default false,
    installed_at            timestamptz not null default now()
);
insert into install default values;

-- The files of sql/schema/ as last applied (their SHA-256).
create table definitions (
    file       text primary key,
    checksum   text not null,
    applied_at timestamptz not null default now()
);

create table added_indexes (
    name       text primary key,
    created_at timestamptz not null default now()
);

-- Agents' passwords are the app's own: the platform's agents table needs no
-- column for them. No foreign key to the platform's tables anywhere in this
-- schema: it would lock their rows when ours change and make their deletes
-- fail or cascade into us. An orphaned row is harmless (joins drop it).
create table credentials (
    agent_id      bigint primary key,
    -- Argon2id hash in PHC string form; never a plain password.
    password_hash text not null check (password_hash like '$argon2id$%'),
    updated_at    timestamptz not null default now()
);

-- Sign-in sessions: only a SHA-256 of the bearer token is stored, so a copy
-- of this table does not let anyone sign in.
create table sessions (
    token_hash bytea primary key,
    agent_id   bigint not null,
    created_at timestamptz not null default now(),
    expires_at timestamptz not null,
    revoked_at timestamptz
);
create index sessions_agent_id_idx on sessions (agent_id);
create index sessions_expires_at_idx on sessions (expires_at);

-- Sign-in attempts per username and per client address (strangers), and per
-- device cookie (a browser that signed in as that agent before), for the
-- login rate limit: in the database so that it holds across workers, hosts
-- and restarts.
create table login_attempts (
    scope        text        not null check (scope in ('username', 'address', 'device')),
    key          text        not null check (length(key) <= 200),
    window_start timestamptz not null,
    attempts     integer     not null check (attempts >= 0),
    primary key (scope, key)
);
create index login_attempts_window_start_idx on login_attempts (window_start);

-- Keys the app generates once and every instance shares (e.g. for signing).
create table keys (
    name       text primary key,
    key        bytea not null,
    created_at timestamptz not null default now()
);

-- One row per cash-out event of an agent's stream. seq comes from one
-- sequence for all agents, taken at commit time under the agent's commit lock
-- (see sql/schema/10_write_path.sql): per agent, seq order is commit order.
-- A bet's event id is kept on its copy row too (cash_outs.event_seq), so that
-- no index by bet is needed here.
create sequence event_seq;
create table events (
    agent_id   bigint not null,
    seq        bigint not null,
    bet_id     bigint not null,
    created_at timestamptz not null default now(),
    primary key (agent_id, seq)
);

-- The cashed-out bets, keyed by the customer's current agent: an agent's list
-- is a short scan of the first index, newest first, instead of a probe per
-- customer into bets and a sort. Amounts keep the platform's numeric
-- precision; ratio is cash_out_amount / stake as numeric division gives it,
-- null when there is no positive stake.
create table cash_outs (
    bet_id           bigint primary key,
    agent_id         bigint not null,
    customer_id      bigint not null,
    settled_at       timestamptz not null,
    stake            numeric,
    cash_out_amount  numeric not null,
    ratio            numeric,
    is_auto_cash_out boolean not null,
    -- The bet's newest event, and the agent whose stream it is in (a customer
    -- who changed agent leaves it behind; none for a bet inserted already
    -- cashed out or copied at the install).
    event_seq        bigint,
    event_agent_id   bigint
);
create index cash_outs_agent_idx on cash_outs
    (agent_id, settled_at desc, bet_id desc)
    include (customer_id, stake, cash_out_amount, ratio, is_auto_cash_out);
create index cash_outs_customer_idx on cash_outs
    (customer_id, settled_at desc, bet_id desc)
    include (agent_id, stake, cash_out_amount, ratio, is_auto_cash_out);

-- Count and sums of an agent's cash-outs per hour, so that totals, summaries
-- and daily series read at most a few thousand rollup rows (and the minutes
-- at the edges of a range) instead of every cash-out: 75,000 for the bench's
-- large agent, in 2,160 hours. Insert-only: the platform's transactions add a
-- row of deltas each and never update one, so they never wait on each other
-- here and never meet a serialization failure under REPEATABLE READ; the app
-- merges a bucket's rows in the background (merged = true). One rollup, not a
-- daily one beside it: each index a cash-out writes to costs the platform WAL.
create table hourly_totals (
    agent_id        bigint not null,
    hour            timestamptz not null,
    cash_outs       bigint not null,
    auto_cash_outs  bigint not null,
    ratio_count     bigint not null,
    stake           numeric not null,
    cash_out_amount numeric not null,
    profit_loss     numeric not null,
    ratio_sum       numeric not null,
    merged          boolean not null default false
);
create index hourly_totals_idx on hourly_totals (agent_id, hour)
    include (cash_outs, auto_cash_outs, ratio_count, stake, cash_out_amount, profit_loss,
             ratio_sum);
-- New delta rows are of recent hours: their entries land on the same few pages.
create index hourly_totals_unmerged_idx on hourly_totals (hour) where not merged;

-- The bets a transaction changed that matter to us, until it commits: its
-- first (whose deferred trigger does the work at commit), and a bulk
-- statement's beyond the few hundred staged in a setting
-- (sql/schema/10_write_path.sql). Unlogged: a row lives only inside its own
-- transaction, which a crash aborts anyway.
create unlogged table pending (
    xid      xid8 not null,
    bet_id   bigint not null,
    -- This change made the bet cashed out: a live event.
    is_event boolean not null,
    -- The transaction's first staged bet: its insert queues the flush.
    first    boolean not null
);
create index pending_xid_idx on pending (xid);
