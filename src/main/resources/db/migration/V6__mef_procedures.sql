-- Generic MEF procedures (TS-0003 §8.3.5.2) and MEF Client Commands (§8.3.9): client registrations,
-- key registrations (Key Value sealed under the tenant KEK) and commands queued by administrators.

create table mef_client_registration (
    tenant_id    varchar(40)   not null references tenant (id),
    reg_id       varchar(40)   not null,
    -- MEF Client ID: the identity the client authenticated with (KpmID or certificate identity)
    client_id    varchar(300)  not null,
    admin_fqdn   varchar(253)  not null,
    labels       text[]        not null,
    expires_at   timestamptz   not null,
    created_at   timestamptz   not null,
    updated_at   timestamptz   not null,
    next_cmd_no  integer       not null default 1,
    primary key (tenant_id, reg_id)
);
-- one registration per client: registering again replaces the previous record
create unique index mef_client_one_registration on mef_client_registration (tenant_id, client_id);

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
    foreign key (tenant_id, reg_id) references mef_client_registration (tenant_id, reg_id) on delete cascade
);

create table mef_key_registration (
    tenant_id          varchar(40)   not null references tenant (id),
    relative_key_id    varchar(32)   not null,
    source_client_id   varchar(300)  not null,
    source_reg_id      varchar(40)   not null,
    admin_fqdn         varchar(253)  not null,
    labels             text[]        not null,
    suid               integer       not null check (suid in (22, 23, 24, 25)),
    target_ids         text[]        not null,
    key_source         varchar(16)   not null check (key_source in ('EXPORTER', 'SUPPLIED')),
    sealed_key         bytea         not null,
    expires_at         timestamptz   not null,
    created_at         timestamptz   not null,
    updated_at         timestamptz   not null,
    primary key (tenant_id, relative_key_id),
    foreign key (tenant_id, source_reg_id) references mef_client_registration (tenant_id, reg_id) on delete cascade
);
create index mef_key_registration_expiry on mef_key_registration (expires_at);
