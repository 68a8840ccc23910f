package io.m2mtrust.security;

/** A certificate of the tenant CA revoked (RFC 5280 reason code): peers relying on it forget what they cached. */
public record CertificateRevoked(String tenantId, String serial, String subjectId, int reasonCode)
        implements Revocation {}
