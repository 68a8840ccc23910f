-- Enrolment Targets (TS-0003 §8.3.2.1 f): who may fetch usage-constrained keys of enrolees, for which
-- SUIDs, and the FQDN that enters the §10.3.7 derivation as Enrolment-Target-ID.
create table enrolment_target (
    tenant_id      varchar(40)  not null references tenant (id),
    identity       varchar(300) not null,
    target_fqdn    varchar(253) not null,
    allowed_suids  integer[]    not null,
    created_at     timestamptz  not null,
    updated_at     timestamptz  not null,
    primary key (tenant_id, identity)
);
