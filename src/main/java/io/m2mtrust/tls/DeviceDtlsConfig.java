package io.m2mtrust.tls;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

import java.time.Duration;

/**
 * {@code m2m.device-dtls.*}: the DTLS 1.2 listener (UDP) on which constrained devices reach the MEF, the MAF and the
 * SAEF over CoAP (ADR 0025, interop profile "CoAP and DTLS").
 */
@ConfigMapping(prefix = "m2m.device-dtls")
public interface DeviceDtlsConfig {

    @WithDefault("true")
    boolean enabled();

    @WithDefault("0.0.0.0")
    String host();

    /** UDP port; 0 picks a free one (tests). 5684 is CoAP over DTLS (RFC 7252 §12.7). */
    @WithDefault("5684")
    int port();

    /** Worker threads for PSK lookups (DB and HSM) and request handling; never the datagram threads. */
    @WithDefault("4")
    int workerThreads();

    /** DTLS connections (sessions) kept; the least recently used stale one gives way to a new handshake. */
    @WithDefault("100000")
    int maxConnections();

    /** A connection idle this long may be evicted for a new one once the store is full. */
    @WithDefault("30m")
    Duration staleConnectionThreshold();

    /**
     * Length of the Connection ID (RFC 9146) this server asks the device to put in its records, so a device whose NAT
     * rebinds keeps its session; 0 turns CID off.
     */
    @WithDefault("6")
    int connectionIdLength();

    /** Largest CoAP request body, also assembled from blocks (RFC 7959). */
    @WithDefault("65536")
    int maxBodyBytes();

    /** Largest CoAP message (one datagram's payload); larger bodies go block-wise. */
    @WithDefault("1152")
    int maxMessageBytes();

    /** Block size this server prefers for block-wise transfers (16..1024, a power of two). */
    @WithDefault("512")
    int preferredBlockBytes();

    /** An unfinished block-wise transfer is forgotten after this. */
    @WithDefault("60s")
    Duration blockwiseLifetime();
}
