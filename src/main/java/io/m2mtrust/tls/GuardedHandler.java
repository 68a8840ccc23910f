package io.m2mtrust.tls;

import io.m2mtrust.common.DatabaseOutage;
import io.m2mtrust.common.QuotaExceededException;
import io.m2mtrust.hsm.HsmUnavailableException;
import io.m2mtrust.quota.QuotaBucket;
import io.m2mtrust.quota.TenantQuotas;
import io.m2mtrust.tenant.DeviceFqdns;
import org.jboss.logging.Logger;

/**
 * A device function behind its tenant's quota and the service's outage answers (issue 21). Each request takes a
 * token of the function's bucket before the function sees it (ADR 0026); a refusal — there, or of the tenant's HSM
 * bucket during the request — is 429 with {@code Retry-After} over TLS, 4.29 with Max-Age over DTLS. An HSM or
 * database outage during the request is 503 with {@code Retry-After} (5.03 with Max-Age): the function's transaction
 * was rolled back, so the device repeats the request. Both listeners wrap every handler in one.
 */
final class GuardedHandler implements DeviceRequestHandler {

    private static final Logger LOG = Logger.getLogger(GuardedHandler.class);

    private final DeviceRequestHandler function;
    private final TenantQuotas quotas;
    private final QuotaBucket bucket;

    GuardedHandler(DeviceRequestHandler function, TenantQuotas quotas) {
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
        } catch (HsmUnavailableException e) {
            return DeviceHttp.Response.unavailable(
                    "the HSM is not available; retry later", HsmUnavailableException.RETRY_AFTER_SECONDS);
        } catch (RuntimeException e) {
            if (!DatabaseOutage.causedBy(e)) {
                throw e; // the listener logs it with an instance id and answers 500
            }
            LOG.warnf("%s request of tenant %s: the database is not reachable (%s)", bucket, peer.tenantId(), e);
            return DeviceHttp.Response.unavailable(
                    "the database is not reachable; retry later", DatabaseOutage.RETRY_AFTER_SECONDS);
        }
    }
}
