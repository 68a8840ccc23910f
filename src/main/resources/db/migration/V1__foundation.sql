-- Tenants, per-tenant policy, HSM key versions and the per-tenant audit hash chain.
-- No column holds key material: keys live in the HSM, sealed blobs (later migrations) under a tenant KEK.

create table tenant (
    id          varchar(40)  primary key,
    name        varchar(200) not null,
    status      varchar(16)  not null check (status in ('CREATING', 'ACTIVE', 'SUSPENDED', 'DELETED')),
    created_at  timestamptz  not null,
    updated_at  timestamptz  not null,
    deleted_at  timestamptz,
    version     bigint       not null
);

create table tenant_policy (
    tenant_id                     varchar(40) primary key references tenant (id),
    allowed_suids                 integer[]   not null,
    jose_algs                     text[]      not null,
    jose_encs                     text[]      not null,
    tls_cipher_suites             text[]      not null,
    default_key_lifetime_seconds  bigint      not null,
    max_key_lifetime_seconds      bigint      not null,
    max_esdata_targets            integer     not null,
    request_quota_per_second      integer     not null,
    allow_host_memory_keys        boolean     not null,
    updated_at                    timestamptz not null,
    version                       bigint      not null
);

create table tenant_key_version (
    tenant_id   varchar(40)  not null references tenant (id),
    purpose     varchar(16)  not null check (purpose in ('KEK', 'DERIVE', 'SIGN')),
    version     integer      not null check (version > 0),
    state       varchar(16)  not null check (state in ('PRIMARY', 'ACTIVE', 'RETIRED', 'DESTROYED')),
    hsm_label   varchar(100) not null unique,
    -- SubjectPublicKeyInfo of SIGN keys: public, kept so signatures stay verifiable after shredding
    public_key  bytea,
    created_at  timestamptz  not null,
    retired_at  timestamptz,
    primary key (tenant_id, purpose, version)
);
-- at most one primary version per tenant and purpose
create unique index tenant_key_one_primary on tenant_key_version (tenant_id, purpose) where state = 'PRIMARY';

create table audit_event (
    id           bigserial     primary key,
    chain        varchar(40)   not null,
    seq          bigint        not null,
    occurred_at  timestamptz   not null,
    actor        varchar(200)  not null,
    action       varchar(80)   not null,
    target       varchar(300)  not null,
    outcome      varchar(16)   not null,
    detail       varchar(1000),
    request_id   varchar(64),
    prev_hash    bytea         not null,
    hash         bytea         not null,
    unique (chain, seq)
);

create table audit_head_signature (
    chain      varchar(40)  not null,
    seq        bigint       not null,
    hash       bytea        not null,
    signature  bytea        not null,
    key_label  varchar(100) not null,
    signed_at  timestamptz  not null,
    primary key (chain, seq)
);
