package io.m2mtrust.tls;

import io.m2mtrust.common.SecretBytes;
import io.m2mtrust.enrolment.DeviceFqdns;

import java.util.function.Function;

/**
 * The authenticated end of a device-facing TLS session, handed to request handlers: which tenant and
 * function the SNI named, how the peer authenticated, and access to the session's RFC 5705 exporter
 * (no context, as the interop profile fixes). Handlers run on the connection's own worker, so they may
 * call {@link #export} directly.
 */
public record DevicePeer(String tenantId, DeviceFqdns.Function function, String sniHost, Credential credential,
                         String identity, Function<String, SecretBytes> exporter) {

    public enum Credential { PSK, CERTIFICATE }

    /** 48 bytes of {@code label} from the session's exporter (first 16 = identifier, last 32 = key). */
    public SecretBytes export(String label) {
        return exporter.apply(label);
    }

    @Override
    public String toString() {
        return "DevicePeer[" + tenantId + ", " + function + ", " + credential + " " + identity + "]";
    }
}
