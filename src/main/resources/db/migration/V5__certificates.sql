-- Certificate RSPF (TS-0003 §8.3.2.2, §8.3.6, §10.1): per-tenant CA and service TLS keys (in the HSM,
-- made on first use), CA certificates, every issued certificate, the CRL and per-group subject binding.

alter table tenant_key_version drop constraint tenant_key_version_purpose_check;
alter table tenant_key_version add constraint tenant_key_version_purpose_check
    check (purpose in ('KEK', 'DERIVE', 'SIGN', 'CA', 'TLS'));

-- the self-signed CA certificate of each CA key version (public data)
create table ca_certificate (
    tenant_id    varchar(40)  not null references tenant (id),
    key_version  integer      not null check (key_version > 0),
    der          bytea        not null,
    not_before   timestamptz  not null,
    not_after    timestamptz  not null,
    created_at   timestamptz  not null,
    primary key (tenant_id, key_version)
);

-- every certificate the tenant CA issued: end-entity certificates (EST) and the service's own FQDN
-- certificate. Serial: 16 random bytes as lowercase hex (RFC 5280 allows up to 20 octets).
create table issued_certificate (
    tenant_id          varchar(40)   not null references tenant (id),
    serial             varchar(40)   not null,
    kind               varchar(16)   not null check (kind in ('CLIENT', 'SERVER')),
    subject_type       varchar(16)   not null check (subject_type in ('NODE_ID', 'CSE_ID', 'AE_ID', 'FQDN')),
    subject_id         varchar(300)  not null,
    enrolee_id         varchar(300),
    ca_version         integer       not null,
    tls_key_version    integer,
    der                bytea         not null,
    -- x5t#S256 (base64url SHA-256 of der): how JOSE headers name the certificate (ESData)
    thumbprint         varchar(43)   not null,
    status             varchar(16)   not null check (status in ('VALID', 'REVOKED', 'SUPERSEDED')),
    not_before         timestamptz   not null,
    not_after          timestamptz   not null,
    issued_at          timestamptz   not null,
    revoked_at         timestamptz,
    -- RFC 5280 §5.3.1 CRLReason code
    revocation_reason  integer,
    replaced_by        varchar(40),
    primary key (tenant_id, serial)
);
-- one valid end-entity certificate per subject: a re-enrolment supersedes the previous one
create unique index issued_certificate_one_valid on issued_certificate (tenant_id, kind, subject_id) where status = 'VALID';
create index issued_certificate_listing on issued_certificate (tenant_id, issued_at desc);
create index issued_certificate_thumbprint on issued_certificate (tenant_id, thumbprint);

-- the latest CRL per tenant CA version; crl_number only grows (RFC 5280 §5.2.3)
create table tenant_crl (
    tenant_id    varchar(40)  not null references tenant (id),
    ca_version   integer      not null,
    crl_number   bigint       not null,
    der          bytea,
    this_update  timestamptz,
    next_update  timestamptz,
    primary key (tenant_id, ca_version)
);

-- which certificate identity a device of a group may request (TS-0003 §8.3.6.2.2: the MEF validates the
-- CSR's identity against the identity it associates with the authenticated client)
alter table enrolment_group add column cert_subject_type varchar(16)
    check (cert_subject_type in ('NODE_ID', 'CSE_ID', 'AE_ID', 'FQDN'));
alter table enrolment_group add column cert_subject_template varchar(300);
alter table enrolment_group add constraint enrolment_group_cert_profile_complete
    check ((cert_subject_type is null) = (cert_subject_template is null));
