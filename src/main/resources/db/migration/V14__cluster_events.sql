-- What one replica changed that others cache (ADR 0023). A row is written in the transaction of the change, and
-- `pg_notify('m2m_cluster', …)` from the same transaction wakes every listening replica at its commit (PostgreSQL
-- delivers notifications only for committed transactions, in commit order). The sequence is the cluster's version
-- counter: a replica that lost its link has dropped its caches, and reads the events it missed by number when the
-- payload was too large to travel in the notification. Rows are pruned after an hour by the job leader.
create table cluster_event (
    seq         bigserial    primary key,
    origin      varchar(64)  not null,
    kind        varchar(32)  not null,
    payload     text         not null,
    created_at  timestamptz  not null default now()
);

create index cluster_event_created on cluster_event (created_at);

-- The replicas that listen, with their heartbeat (every second through their link). A replica that publishes an
-- event waits, after its commit and for at most a second, until every replica with a fresh heartbeat has acknowledged
-- applying it (a notification on `m2m_cluster_ack`): the change is in force on every live replica when its caller gets
-- the answer (ADR 0023).
create table cluster_member (
    replica_id    varchar(64)  primary key,
    heartbeat_at  timestamptz  not null,
    started_at    timestamptz  not null default now()
);
