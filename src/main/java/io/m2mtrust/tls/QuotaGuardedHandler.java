package io.m2mtrust.tls;

import io.m2mtrust.common.QuotaExceededException;
import io.m2mtrust.quota.QuotaBucket;
import io.m2mtrust.quota.TenantQuotas;
import io.m2mtrust.tenant.DeviceFqdns;

/**
 * A device function behind its tenant's quota (issue 21, ADR 0026): each request takes a token of the function's
 * bucket before the function sees it, and a refusal — there, or of the tenant's HSM bucket during the request — is
 * 429 with {@code Retry-After} over TLS, 4.29 with Max-Age over DTLS. Both listeners wrap every handler in one.
 */
final class QuotaGuardedHandler implements DeviceRequestHandler {

    private final DeviceRequestHandler function;
    private final TenantQuotas quotas;
    private final QuotaBucket bucket;

    QuotaGuardedHandler(DeviceRequestHandler function, TenantQuotas quotas) {
        this.function = function;
        this.quotas = quotas;
        this.bucket = QuotaBucket.of(function.function());
    }

    @Override
    public DeviceFqdns.Function function() {
        return function.function();
    }

    @Override
    public DeviceHttp.Response handle(DevicePeer peer, DeviceHttp.Request request) {
        try {
            quotas.admit(peer.tenantId(), bucket);
            return function.handle(peer, request);
        } catch (QuotaExceededException e) {
            return DeviceHttp.Response.tooManyRequests(
                    "the tenant is over its " + e.quota() + " quota; retry later", e.retryAfterSeconds());
        }
    }
}
