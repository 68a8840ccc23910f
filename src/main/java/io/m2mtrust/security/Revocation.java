package io.m2mtrust.security;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;

/**
 * Something that stops being trusted: an identity, a key family's keys, a client registration, a certificate. The
 * feature that decides publishes it through {@link Revocations}; every feature that holds credentials bound to it
 * observes it ({@link RevocationListener}), revokes its own rows and drops its own caches. The payload is small and
 * made of names only (never key material), and its JSON form ({@code type} plus the fields) is stable: the same
 * events travel between replicas.
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "type")
@JsonSubTypes({
    @JsonSubTypes.Type(value = IdentityRevoked.class, name = "IdentityRevoked"),
    @JsonSubTypes.Type(value = KeyRevoked.class, name = "KeyRevoked"),
    @JsonSubTypes.Type(value = ClientRevoked.class, name = "ClientRevoked"),
    @JsonSubTypes.Type(value = CertificateRevoked.class, name = "CertificateRevoked")
})
public sealed interface Revocation permits IdentityRevoked, KeyRevoked, ClientRevoked, CertificateRevoked {

    String tenantId();
}
