package io.m2mtrust.common;

/**
 * A tenant is over one of its quotas (issue 21, ADR 0026). Edges answer it as 429 with {@code Retry-After} on the API
 * and the device listener's HTTP, 4.29 with Max-Age over CoAP, HTTP 429 / CoAP 4.29 with oneM2M 5000 on the proxy, and
 * a fatal TLS alert during a handshake. Nothing was written when it is thrown: request quotas are taken before any
 * work, HSM quotas before each operation (a refusal mid-request rolls back like an HSM outage).
 */
public final class QuotaExceededException extends RuntimeException {

    private final String tenantId;
    private final String quota;
    private final long retryAfterSeconds;

    public QuotaExceededException(String tenantId, String quota, long retryAfterSeconds) {
        super(
                "tenant " + tenantId + " is over its " + quota + " quota; retry after " + retryAfterSeconds + " s",
                null,
                false,
                false);
        this.tenantId = tenantId;
        this.quota = quota;
        this.retryAfterSeconds = retryAfterSeconds;
    }

    public String tenantId() {
        return tenantId;
    }

    /** Which quota: {@code mef}, {@code maf}, {@code cse}, {@code esdata}, {@code proxy} or {@code hsm}. */
    public String quota() {
        return quota;
    }

    /** Whole seconds, at least 1: when the tenant's bucket holds a token again at its rate. */
    public long retryAfterSeconds() {
        return retryAfterSeconds;
    }
}
