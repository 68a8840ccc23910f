-- Enrolment groups (pre-provisioned Kpm derived in the HSM from a group key), devices, ranges and
-- enrolments (Ke sealed under the tenant KEK). No per-device HSM object exists.

create table enrolment_group (
    tenant_id   varchar(40)  not null references tenant (id),
    id          varchar(40)  not null,
    name        varchar(200) not null,
    epoch       integer      not null check (epoch > 0),
    status      varchar(16)  not null check (status in ('ACTIVE', 'DELETED')),
    created_at  timestamptz  not null,
    updated_at  timestamptz  not null,
    version     bigint       not null,
    primary key (tenant_id, id)
);

-- one row per group key version (the rotation epoch in the KpmID)
create table enrolment_group_key (
    tenant_id   varchar(40)  not null,
    group_id    varchar(40)  not null,
    epoch       integer      not null check (epoch > 0),
    state       varchar(16)  not null check (state in ('PRIMARY', 'ACTIVE', 'RETIRED', 'DESTROYED')),
    hsm_label   varchar(120) not null unique,
    created_at  timestamptz  not null,
    retired_at  timestamptz,
    primary key (tenant_id, group_id, epoch),
    foreign key (tenant_id, group_id) references enrolment_group (tenant_id, id)
);

-- explicit devices and per-device state of devices from ranges (deny-list, one-time export)
create table enrolment_device (
    tenant_id        varchar(40)  not null,
    group_id         varchar(40)  not null,
    device_id        varchar(64)  not null,
    status           varchar(16)  not null check (status in ('ALLOWED', 'DENIED')),
    kpm_exported_at  timestamptz,
    -- the group-key epoch whose Kpm was exported (once per device and epoch)
    kpm_exported_epoch integer,
    created_at       timestamptz  not null,
    updated_at       timestamptz  not null,
    primary key (tenant_id, group_id, device_id),
    foreign key (tenant_id, group_id) references enrolment_group (tenant_id, id)
);

-- device ranges: prefix || zero-padded number (width digits), first..last, without a row per device
create table enrolment_range (
    tenant_id   varchar(40) not null,
    group_id    varchar(40) not null,
    prefix      varchar(48) not null,
    width       integer     not null check (width between 1 and 16),
    first_no    bigint      not null check (first_no >= 0),
    last_no     bigint      not null,
    created_at  timestamptz not null,
    primary key (tenant_id, group_id, prefix, first_no),
    foreign key (tenant_id, group_id) references enrolment_group (tenant_id, id),
    check (last_no >= first_no)
);

create table enrolment (
    tenant_id       varchar(40)  not null references tenant (id),
    ke_id           varchar(300) not null,
    enrolee_id      varchar(300) not null,
    credential      varchar(16)  not null check (credential in ('PSK', 'CERTIFICATE')),
    sealed_ke       bytea        not null,
    status          varchar(16)  not null check (status in ('ACTIVE', 'REPLACED', 'REVOKED')),
    created_at      timestamptz  not null,
    expires_at      timestamptz  not null,
    primary key (tenant_id, ke_id)
);
-- one live enrolment per enrolee: a concurrent second enrolment loses on this index
create unique index enrolment_one_active on enrolment (tenant_id, enrolee_id) where status = 'ACTIVE';
