package io.m2mtrust.tls;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

import java.time.Duration;

/** {@code m2m.device-tls.*}: the TLS 1.2 listener that devices, CSEs and AEs reach the MEF/MAF on. */
@ConfigMapping(prefix = "m2m.device-tls")
public interface DeviceTlsConfig {

    @WithDefault("true")
    boolean enabled();

    @WithDefault("0.0.0.0")
    String host();

    /** TCP port; 0 picks a free one (tests). */
    @WithDefault("8443")
    int port();

    /** Worker threads for handshakes (PSK lookup runs DB and HSM calls) and request handling. */
    @WithDefault("4")
    int workerThreads();

    /** A connection still handshaking after this is closed. */
    @WithDefault("10s")
    Duration handshakeTimeout();

    /** Largest request body inside the TLS session. */
    @WithDefault("65536")
    int maxBodyBytes();

    /** Open connections beyond this are closed at once (each holds TLS state and a queue). */
    @WithDefault("10000")
    int maxConnections();

    /** Largest request head (request line and headers). */
    @WithDefault("8192")
    int maxHeadBytes();

    /**
     * On SIGTERM, how long open connections may finish their requests: new ones are refused, each answer carries
     * {@code Connection: close}, idle connections are closed between requests; what is still open then is cut.
     */
    @WithDefault("10s")
    Duration drainTimeout();
}
