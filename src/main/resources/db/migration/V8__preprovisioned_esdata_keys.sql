-- Pre-provisioned symmetric ESData keys (m2m:suid 14 authenticated encryption, 15 signature-only; TS-0004
-- §6.3.4.2.39): installed in the end-points out of band and imported here by an admin, sealed under the
-- tenant KEK with AAD (tenant, key id, "ESDataPre"). holders = the end-point identities that may use the key.
-- Key ids are never reused: a revoked key keeps its row.
create table preprovisioned_key (
    tenant_id    varchar(40)   not null references tenant (id),
    key_id       varchar(320)  not null,
    suid         integer       not null check (suid in (14, 15)),
    holders      varchar(300)[] not null,
    sealed_key   bytea         not null,
    key_length   integer       not null,
    expires_at   timestamptz   not null,
    created_at   timestamptz   not null,
    revoked_at   timestamptz,
    primary key (tenant_id, key_id)
);
