package io.m2mtrust.ca;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

import java.time.Duration;
import java.util.Optional;

/** The tenant CA's settings ({@code m2m.ca.*}): lifetimes of CA, end-entity and server certificates, CRL validity. */
@ConfigMapping(prefix = "m2m.ca")
public interface CaConfig {
    /** Lifetime of end-entity certificates (capped by the CA certificate's own expiry). */
    @WithDefault("P365D")
    Duration certificateLifetime();

    /** Lifetime of a CA certificate (one per CA key version). */
    @WithDefault("P3650D")
    Duration caLifetime();

    /** Lifetime of the service's MEF/MAF FQDN certificate; renewed when a third is left. */
    @WithDefault("P90D")
    Duration serverCertificateLifetime();

    /** nextUpdate − thisUpdate of CRLs; a CRL is re-signed when half of it has passed or on revocation. */
    @WithDefault("P1D")
    Duration crlValidity();

    /** Public base URL of the PKI endpoints (e.g. https://pki.example.com); when set, certificates carry a CRL distribution point. */
    Optional<String> publicBaseUrl();
}
