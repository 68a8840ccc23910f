-- Individually pre-provisioned Kpm imported by an admin (TS-0003 §8.3.2.1), sealed under the tenant KEK
-- with AAD (tenant, KpmID, "Kpm"). Their KpmIDs never contain '~' (that shape belongs to group KpmIDs).
create table imported_kpm (
    tenant_id   varchar(40)  not null references tenant (id),
    kpm_id      varchar(300) not null,
    sealed_kpm  bytea        not null,
    created_at  timestamptz  not null,
    primary key (tenant_id, kpm_id)
);
