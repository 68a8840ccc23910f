-- Per-tenant quotas (issue 21, ADR 0026). The policy's request quota now has a burst, and the tenant's HSM-bound
-- operations have a rate and a burst of their own. Existing tenants get a burst of twice their rate and an HSM quota
-- equal to their request quota (what a document without these fields means).
alter table tenant_policy add column request_burst integer;
alter table tenant_policy add column hsm_quota_per_second integer;
alter table tenant_policy add column hsm_burst integer;
update tenant_policy set request_burst = 2 * request_quota_per_second,
                         hsm_quota_per_second = request_quota_per_second,
                         hsm_burst = 2 * request_quota_per_second;
alter table tenant_policy alter column request_burst set not null;
alter table tenant_policy alter column hsm_quota_per_second set not null;
alter table tenant_policy alter column hsm_burst set not null;

-- The token buckets every replica shares: one per tenant and bucket (a device-facing function, the ESData API, the
-- proxy, or the HSM). `tokens` is the level at `refilled_at`; a replica takes a lease of tokens in one statement
-- (refill by elapsed time at the policy's rate, cap at the burst, settle what it spent beyond its last lease, grant
-- up to what it asks) and spends the lease locally. The level may go below zero: HSM operations are charged after
-- they ran, and a debt holds the tenant's next requests back until the rate has paid it.
create table quota_bucket (
    -- no foreign key: its check would take a KEY SHARE lock on the tenant row, and a request holding that row FOR
    -- UPDATE (key rotation, status changes) whose HSM operation needs a lease would wait for itself (found by
    -- schemathesis: a lease timed out). A deleted tenant's buckets are inert; the tenant id is never reused.
    tenant_id    varchar(40)       not null,
    bucket       varchar(16)       not null,
    tokens       double precision  not null,
    refilled_at  timestamptz       not null,
    -- what the last lease granted (returned by the leasing statement; no other meaning)
    granted      integer           not null,
    primary key (tenant_id, bucket)
);
