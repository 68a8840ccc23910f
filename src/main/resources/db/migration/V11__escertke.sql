-- ESCertKE (TS-0003 §8.7): certificate-based key establishment over Notify, both roles.

-- The tenant's M2M-SP-ID (//<FQDN>): turns a From into the identity a certificate must carry (interop profile).
alter table proxy_config add column sp_id varchar(260);

-- A remote without a key id gets its pairwise key by ESCertKE (the proxy initiates on first use).
alter table proxy_remote alter column key_id drop not null;

-- Established keys: EXPORTER-oneM2M-ESCertKE, first 16 bytes the id, last 32 the key (sealed under the tenant
-- KEK, never in the clear). key_id = hex(pairwiseE2EKeyID)@<initiator's FQDN>. Usable as pairwiseESPrimKey and
-- ESData key between local_identity and peer_identity (the From each side used, bound to its certificate); the
-- *_subject columns are the subjectAltNames those certificates carry (an ESData end-point names itself by it).
create table escertke_key (
    tenant_id                varchar(40)   not null references tenant (id),
    key_id                   varchar(330)  not null,
    role                     varchar(16)   not null check (role in ('INITIATOR', 'TERMINATOR')),
    local_identity           varchar(300)  not null,
    peer_identity            varchar(300)  not null,
    local_subject            varchar(300)  not null,
    peer_subject             varchar(300)  not null,
    peer_certificate_serial  varchar(64)   not null,
    peer_certificate_sha256  varchar(64)   not null,
    sealed_key               bytea         not null,
    created_at               timestamptz   not null,
    expires_at               timestamptz   not null,
    revoked_at               timestamptz,
    primary key (tenant_id, key_id)
);
create index escertke_key_pair on escertke_key (tenant_id, local_identity, peer_identity, expires_at);

-- Trust anchors beside the tenant's own CA (e.g. another operator's CA), each with an optional CRL.
create table escertke_trust_anchor (
    tenant_id    varchar(40)   not null references tenant (id),
    id           varchar(64)   not null,
    certificate  bytea         not null,
    crl          bytea,
    created_at   timestamptz   not null,
    updated_at   timestamptz   not null,
    primary key (tenant_id, id)
);
