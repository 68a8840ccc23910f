-- Generic MEF and MAF procedures (TS-0003 §8.3.5.2, §8.8.2): client registrations and key registrations
-- (Key Value sealed under the tenant KEK), one table each for both functions; MEF Client Commands (§8.3.9).

create table client_registration (
    tenant_id    varchar(40)   not null references tenant (id),
    reg_id       varchar(40)   not null,
    registrar    varchar(8)    not null check (registrar in ('MEF', 'MAF')),
    -- MEF/MAF Client ID: the identity the client authenticated with (KpmID, KeID, KmID or certificate identity)
    client_id    varchar(300)  not null,
    admin_fqdn   varchar(253)  not null,
    labels       text[]        not null,
    expires_at   timestamptz   not null,
    created_at   timestamptz   not null,
    updated_at   timestamptz   not null,
    next_cmd_no  integer       not null default 1,
    -- MAF, remotely provisioned Km (§8.8.2.3): the KeID it came from, the MAF-assigned KmID and Km sealed
    ke_id        varchar(300),
    km_id        varchar(300),
    sealed_km    bytea,
    km_expires_at timestamptz,
    primary key (tenant_id, reg_id),
    check ((km_id is null) = (sealed_km is null))
);
-- one registration per client and function: registering again replaces the previous record
create unique index client_registration_one_per_client on client_registration (tenant_id, registrar, client_id);
create unique index client_registration_km_id on client_registration (tenant_id, km_id) where km_id is not null;

create table key_registration (
    tenant_id          varchar(40)   not null references tenant (id),
    registrar          varchar(8)    not null check (registrar in ('MEF', 'MAF')),
    relative_key_id    varchar(32)   not null,
    source_client_id   varchar(300)  not null,
    source_reg_id      varchar(40)   not null,
    admin_fqdn         varchar(253)  not null,
    labels             text[]        not null,
    suid               integer       not null check (suid in (22, 23, 24, 25, 32, 33, 34, 35)),
    target_ids         text[]        not null,
    key_source         varchar(16)   not null check (key_source in ('EXPORTER', 'SUPPLIED')),
    sealed_key         bytea         not null,
    expires_at         timestamptz   not null,
    created_at         timestamptz   not null,
    updated_at         timestamptz   not null,
    primary key (tenant_id, registrar, relative_key_id),
    foreign key (tenant_id, source_reg_id) references client_registration (tenant_id, reg_id) on delete cascade
);
create index key_registration_expiry on key_registration (expires_at);

create table mef_client_command (
    tenant_id       varchar(40)   not null,
    reg_id          varchar(40)   not null,
    cmd_id          varchar(40)   not null,
    cmd_class       integer       not null check (cmd_class in (1, 2, 3)),
    cmd_args        text          not null,
    -- PENDING until the client reports; DONE (MEF_CLIENT_CMD_OK) or FAILED (any other reported code)
    state           varchar(16)   not null check (state in ('PENDING', 'DONE', 'FAILED', 'CANCELLED')),
    delivered_count integer       not null default 0,
    reported_code   integer,
    created_at      timestamptz   not null,
    updated_at      timestamptz   not null,
    primary key (tenant_id, reg_id, cmd_id),
    foreign key (tenant_id, reg_id) references client_registration (tenant_id, reg_id) on delete cascade
);
