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
public record DevicePeer(
        String tenantId,
        DeviceFqdns.Function function,
        String sniHost,
        Credential credential,
        String identity,
        String certificateSerial,
        Function<String, SecretBytes> exporter) {

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

    @Override
    public String toString() {
        return "DevicePeer[" + tenantId + ", " + function + ", " + credential + " " + identity + "]";
    }
}
