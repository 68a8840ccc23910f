-- Tenant onboarding in Keycloak (issue 9, ADR 0014). The tenant row stays the authority on a tenant's status;
-- identity_status is the status last applied to the tenant's users in Keycloak (null: provisioning off, or never
-- applied). Where they differ the identity reconciler applies the difference.
alter table tenant add column identity_group_id text;
alter table tenant add column identity_status text;

-- Users disabled in Keycloak because their tenant was suspended or deleted (not by a tenant admin): exactly these are
-- enabled again when the tenant is re-activated.
create table tenant_user_hold (
    tenant_id  text        not null references tenant (id),
    user_id    text        not null,
    held_at    timestamptz not null,
    primary key (tenant_id, user_id)
);
