package io.m2mtrust.tls;

import io.m2mtrust.hsm.HsmKeyLabel;

import java.util.List;
import java.util.Optional;

/**
 * What the device listener needs for ECDHE_ECDSA (TS-0003 §10.2.3, certificate RSPF §8.3.2.2): the
 * tenant's FQDN certificate chain with its HSM key, the issuers it asks clients for, and the verdict on
 * a client chain. Implemented by the tenant CA.
 */
public interface CertificateAuthentication {

    /** Leaf (DER) first, then the issuing CA; the leaf's private key is {@code key}, inside the HSM. */
    record ServerIdentity(List<byte[]> chainDer, HsmKeyLabel key) {}

    /** The identity a valid client certificate carries (its subjectAltName) and its serial (hex). */
    record AuthenticatedCertificate(String identity, String serial) {}

    /** A client chain refused, with the TLS alert (RFC 5246 §7.2.2) that says why. */
    final class RejectedCertificate extends Exception {
        private final short alert;

        public RejectedCertificate(short alert, String why) {
            super(why, null, false, false);
            this.alert = alert;
        }

        public short alert() {
            return alert;
        }
    }

    /**
     * The tenant's server identity, if the tenant has a CA (certificate suites are offered only then);
     * the FQDN certificate is issued on first use and renewed before it expires.
     */
    Optional<ServerIdentity> serverIdentity(String tenantId);

    /** Cheap check (no key or certificate is made): whether {@link #serverIdentity} can answer. */
    boolean serverIdentityAvailable(String tenantId);

    /** DER-encoded subject names of the CAs whose certificates the tenant accepts (CertificateRequest). */
    List<byte[]> acceptedIssuers(String tenantId);

    /** Validates a client chain (leaf first) against the tenant's CAs, validity and revocation. */
    AuthenticatedCertificate authenticateClient(String tenantId, List<byte[]> chainDer) throws RejectedCertificate;
}
