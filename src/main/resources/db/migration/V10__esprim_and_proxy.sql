-- ESPrim (TS-0003 §8.4) and the end-to-end security proxy.

-- Pre-provisioned pairwiseESPrimKeys (SUID 13) join the ESData ones.
alter table preprovisioned_key drop constraint preprovisioned_key_suid_check;
alter table preprovisioned_key add constraint preprovisioned_key_suid_check check (suid in (13, 14, 15));

-- The CSE a tenant's proxy stands in front of (oneM2M HTTP binding, TS-0009).
create table proxy_config (
    tenant_id           varchar(40)   primary key references tenant (id),
    cse_url             varchar(500)  not null,
    cse_id              varchar(200)  not null,
    cse_base            varchar(100)  not null,
    rand_lifetime_s     integer       not null check (rand_lifetime_s between 60 and 604800),
    timeout_ms          integer       not null check (timeout_ms between 100 and 120000),
    updated_at          timestamptz   not null
);

-- Entities behind the proxy that terminate ESPrim: the <CSEBase> (path = the CSE base name) or an <AE>.
create table protected_entity (
    tenant_id        varchar(40)   not null references tenant (id),
    entity_id        varchar(200)  not null,
    resource_path    varchar(300)  not null,
    esprim_required  boolean       not null,
    created_at       timestamptz   not null,
    primary key (tenant_id, entity_id),
    unique (tenant_id, resource_path)
);

-- Rand objects. As receiver: ours (RECEIVER, shared or for one originator) and the originators' (ORIGINATOR).
-- As originator for a legacy entity: the remote receiver's (PEER_RECEIVER) and ours (OWN_ORIGINATOR), with
-- entity_id = the local originator and peer = the remote receiver. Not secret:
-- they travel in JWE headers; the session key also needs the pairwise key. Other replicas and a restarted
-- process find them here.
create table esprim_rand (
    tenant_id      varchar(40)   not null references tenant (id),
    entity_id      varchar(200)  not null,
    rand_id        varchar(64)   not null,
    role           varchar(16)   not null check (role in ('RECEIVER', 'ORIGINATOR', 'PEER_RECEIVER', 'OWN_ORIGINATOR')),
    peer           varchar(200),
    shared         boolean       not null,
    rand_value     bytea         not null check (length(rand_value) = 16),
    key_gen_algs   integer[]     not null,
    protocol_algs  integer[]     not null,
    expires_at     timestamptz   not null,
    created_at     timestamptz   not null,
    primary key (tenant_id, entity_id, role, rand_id)
);
create index esprim_rand_expiry on esprim_rand (expires_at);

-- Replay protection that survives restarts: one row per ESPrim object (key id + IV) and per inner request
-- (originator + request identifier), kept until the session's rand objects expire.
create table esprim_seen (
    tenant_id    varchar(40)   not null,
    entity_id    varchar(200)  not null,
    fingerprint  varchar(400)  not null,
    expires_at   timestamptz   not null,
    primary key (tenant_id, entity_id, fingerprint)
);
create index esprim_seen_expiry on esprim_seen (expires_at);

-- Remote receivers a legacy entity behind the proxy may reach through ESPrim (the proxy is the originator).
create table proxy_remote (
    tenant_id     varchar(40)   not null references tenant (id),
    name          varchar(40)   not null,
    receiver_id   varchar(200)  not null,
    url           varchar(500)  not null,
    key_id        varchar(330)  not null,
    created_at    timestamptz   not null,
    primary key (tenant_id, name)
);

-- ESData by policy: content instances created through the proxy in a container get their content protected
-- as a service-held end-point; listed readers get it verified/decrypted on retrieval.
create table proxy_esdata_rule (
    tenant_id       varchar(40)   not null references tenant (id),
    id              varchar(40)   not null,
    container_path  varchar(300)  not null,
    rule            text          not null,
    created_at      timestamptz   not null,
    primary key (tenant_id, id),
    unique (tenant_id, container_path)
);
