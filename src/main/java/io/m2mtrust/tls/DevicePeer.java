package io.m2mtrust.tls;

import io.m2mtrust.common.SecretBytes;
import io.m2mtrust.tenant.DeviceFqdns;

import java.util.function.Function;

/**
 * The authenticated end of a device-facing TLS session, handed to request handlers: which tenant and
 * function the SNI named, how the peer authenticated, and access to the session's RFC 5705 exporter
 * (no context, as the interop profile fixes). On certificate suites {@code identity} is the subjectAltName
 * identity of the client's certificate and {@code certificateSerial} its serial (hex); null for PSK. Handlers run on the connection's own worker, so they may
 * call {@link #export} directly.
 */
public final class DevicePeer {
    private final String tenantId;
    private final DeviceFqdns.Function function;
    private final String sniHost;
    private final Credential credential;
    private final String identity;
    private final String certificateSerial;
    private final Function<String, SecretBytes> exporter;
    private final Transport transport;

    /** Only a device listener makes one, for a session whose handshake authenticated the peer. */
    DevicePeer(
            Transport transport,
            String tenantId,
            DeviceFqdns.Function function,
            String sniHost,
            Credential credential,
            String identity,
            String certificateSerial,
            Function<String, SecretBytes> exporter) {
        this.tenantId = tenantId;
        this.function = function;
        this.sniHost = sniHost;
        this.credential = credential;
        this.identity = identity;
        this.certificateSerial = certificateSerial;
        this.exporter = exporter;
        this.transport = transport;
    }

    /** Which listener the peer came through: HTTP over TLS, or CoAP over DTLS. */
    public enum Transport {
        TLS("https"),
        DTLS("coaps");

        private final String scheme;

        Transport(String scheme) {
            this.scheme = scheme;
        }

        /** The URI scheme of this transport, for the addresses handlers give back to the device. */
        public String scheme() {
            return scheme;
        }
    }

    public Transport transport() {
        return transport;
    }

    public String tenantId() {
        return tenantId;
    }

    public DeviceFqdns.Function function() {
        return function;
    }

    public String sniHost() {
        return sniHost;
    }

    public Credential credential() {
        return credential;
    }

    public String identity() {
        return identity;
    }

    public String certificateSerial() {
        return certificateSerial;
    }

    public enum Credential {
        PSK,
        CERTIFICATE
    }

    /**
     * 32-byte export that binds an EST CSR to the session (its base64 is the challengePassword; RFC 9266's
     * tls-exporter label, without context like every export here).
     */
    public static final String CHANNEL_BINDING_LABEL = "EXPORTER-Channel-Binding";

    /** The session's export of {@code label}: 48 bytes for the oneM2M labels (first 16 = identifier, last 32 = key). */
    public SecretBytes export(String label) {
        return exporter.apply(label);
    }

    /**
     * The same authenticated session, its peer named by {@code identity} instead: what the MAF does once it has
     * resolved a KeID or KmID to the client's registered identity (TS-0003 §8.8.2.2).
     */
    public DevicePeer namedAs(String identity) {
        return new DevicePeer(
                transport, tenantId, function, sniHost, credential, identity, certificateSerial, exporter);
    }

    @Override
    public String toString() {
        return "DevicePeer[" + tenantId + ", " + function + ", " + credential + " " + identity + "]";
    }
}
