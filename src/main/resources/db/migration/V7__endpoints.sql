-- End-points the service acts for in ESData (and later the proxy): a certificate from the tenant CA whose
-- EC P-256 private key is an HSM object m2m/<tenant>/endpoint/<id>/v1.
create table endpoint (
    tenant_id     varchar(40)   not null references tenant (id),
    id            varchar(40)   not null,
    subject_type  varchar(16)   not null check (subject_type in ('NODE_ID', 'CSE_ID', 'AE_ID', 'FQDN')),
    subject_id    varchar(300)  not null,
    hsm_label     varchar(120)  not null unique,
    cert_serial   varchar(40)   not null,
    status        varchar(16)   not null check (status in ('ACTIVE', 'DELETED')),
    created_at    timestamptz   not null,
    deleted_at    timestamptz,
    primary key (tenant_id, id)
);
create unique index endpoint_one_active_subject on endpoint (tenant_id, subject_id) where status = 'ACTIVE';
