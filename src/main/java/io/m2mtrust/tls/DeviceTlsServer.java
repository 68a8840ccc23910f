package io.m2mtrust.tls;

import io.m2mtrust.common.SecretBytes;
import io.m2mtrust.enrolment.DeviceFqdns;
import org.bouncycastle.tls.AbstractTlsServer;
import org.bouncycastle.tls.AlertDescription;
import org.bouncycastle.tls.CipherSuite;
import org.bouncycastle.tls.NameType;
import org.bouncycastle.tls.ProtocolVersion;
import org.bouncycastle.tls.ServerName;
import org.bouncycastle.tls.TlsCredentials;
import org.bouncycastle.tls.TlsExtensionsUtils;
import org.bouncycastle.tls.TlsFatalAlert;
import org.bouncycastle.tls.TlsPSKIdentityManager;
import org.bouncycastle.tls.crypto.TlsCrypto;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Hashtable;
import java.util.Map;
import java.util.Optional;
import java.util.Vector;
import java.util.function.Function;

/**
 * The server side of one device TLS session (TLS 1.2 only, extended master secret required).
 * SNI selects tenant and function before anything else; the cipher suites are the tenant policy's;
 * the PSK comes from the function's {@link PskResolver} (TS-0003 §10.2.2: psk_identity = KpmID/KmID).
 */
final class DeviceTlsServer extends AbstractTlsServer {

    private static final Logger LOG = Logger.getLogger(DeviceTlsServer.class);

    /** Suite names of tenant policy → IANA codes this listener implements (TS-0003 §10.2). */
    static final Map<String, Integer> PSK_SUITES = Map.of(
            "TLS_PSK_WITH_AES_128_CBC_SHA256", CipherSuite.TLS_PSK_WITH_AES_128_CBC_SHA256,
            "TLS_PSK_WITH_AES_128_GCM_SHA256", CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256);

    interface TenantDirectory {
        /** The tenant's TLS suite names if it exists and is ACTIVE. */
        Optional<java.util.List<String>> activeTenantSuites(String tenantId);
    }

    private final DeviceFqdns fqdns;
    private final TenantDirectory tenants;
    private final Function<DeviceFqdns.Function, PskResolver> pskResolvers;

    private DeviceFqdns.Host host;
    private String sniHost;
    private String pskIdentity;
    private boolean handshakeComplete;

    DeviceTlsServer(TlsCrypto crypto, DeviceFqdns fqdns, TenantDirectory tenants, Function<DeviceFqdns.Function, PskResolver> pskResolvers) {
        super(crypto);
        this.fqdns = fqdns;
        this.tenants = tenants;
        this.pskResolvers = pskResolvers;
    }

    @Override
    protected ProtocolVersion[] getSupportedVersions() {
        return ProtocolVersion.TLSv12.only();
    }

    @Override
    protected int[] getSupportedCipherSuites() {
        return PSK_SUITES.values().stream().mapToInt(Integer::intValue).toArray();
    }

    @Override
    public boolean requiresExtendedMasterSecret() {
        return true; // RFC 5705 exporters without EMS are refused by BC, and weaker anyway
    }

    @Override
    public void processClientExtensions(Hashtable clientExtensions) throws IOException {
        super.processClientExtensions(clientExtensions);
        Vector<?> names = TlsExtensionsUtils.getServerNameExtensionClient(clientExtensions);
        if (names == null || names.isEmpty()) {
            throw new TlsFatalAlert(AlertDescription.unrecognized_name, "SNI is required (TS-0003 §10.2)");
        }
        ServerName name = (ServerName) names.get(0);
        if (name.getNameType() != NameType.host_name) {
            throw new TlsFatalAlert(AlertDescription.unrecognized_name);
        }
        sniHost = new String(name.getNameData(), StandardCharsets.US_ASCII);
        host = fqdns.parse(sniHost).orElseThrow(() -> new TlsFatalAlert(AlertDescription.unrecognized_name, "unknown host"));
        if (pskResolvers.apply(host.function()) == null) {
            throw new TlsFatalAlert(AlertDescription.unrecognized_name, "function not served");
        }
        java.util.List<String> allowed = tenants.activeTenantSuites(host.tenantId())
                .orElseThrow(() -> new TlsFatalAlert(AlertDescription.unrecognized_name, "no such active tenant"));
        int[] suites = allowed.stream().filter(PSK_SUITES::containsKey).mapToInt(PSK_SUITES::get).toArray();
        if (suites.length == 0) {
            throw new TlsFatalAlert(AlertDescription.handshake_failure, "tenant policy allows no PSK suite");
        }
        // the negotiable suites are the tenant's, in the policy's order of preference
        this.cipherSuites = suites;
    }

    @Override
    protected boolean preferLocalCipherSuites() {
        return true;
    }

    @Override
    public TlsPSKIdentityManager getPSKIdentityManager() {
        return new TlsPSKIdentityManager() {
            @Override
            public byte[] getHint() {
                return null;
            }

            @Override
            public byte[] getPSK(byte[] identity) {
                String id = new String(identity, StandardCharsets.UTF_8);
                if (host == null || identity.length == 0 || identity.length > 300 || !Arrays.equals(identity, id.getBytes(StandardCharsets.UTF_8))) {
                    return null;
                }
                Optional<SecretBytes> psk;
                try {
                    psk = pskResolvers.apply(host.function()).resolve(host.tenantId(), id);
                } catch (RuntimeException e) {
                    LOG.warnf("PSK lookup failed for tenant %s: %s", host.tenantId(), e.getMessage());
                    return null;
                }
                if (psk.isEmpty()) {
                    return null; // BC answers unknown_psk_identity
                }
                pskIdentity = id;
                try (SecretBytes k = psk.get()) {
                    return k.copy(); // BC needs the raw PSK; the copy lives as long as the handshake
                }
            }
        };
    }

    @Override
    public TlsCredentials getCredentials() {
        return null; // plain PSK key exchange: no server certificate
    }

    /** RFC 5705 labels each function needs; BC exports only inside notifyHandshakeComplete. */
    static final Map<DeviceFqdns.Function, java.util.List<String>> EXPORT_LABELS = Map.of(
            DeviceFqdns.Function.MEF, java.util.List.of("EXPORTER-oneM2M-Bootstrap"),
            DeviceFqdns.Function.MAF, java.util.List.of("EXPORTER-oneM2M-Connection"));

    private final Map<String, SecretBytes> exports = new java.util.HashMap<>();

    @Override
    public void notifyHandshakeComplete() throws IOException {
        super.notifyHandshakeComplete();
        for (String label : EXPORT_LABELS.get(host.function())) {
            // 48 bytes, no context (interop profile): first 16 identifier, last 32 key
            exports.put(label, SecretBytes.adopt(context.exportKeyingMaterial(label, null, 48)));
        }
        handshakeComplete = true;
    }

    boolean handshakeComplete() {
        return handshakeComplete;
    }

    DeviceFqdns.Host host() {
        return host;
    }

    String sniHost() {
        return sniHost;
    }

    String pskIdentity() {
        return pskIdentity;
    }

    /** A copy of an export made at handshake completion (the caller closes it). */
    SecretBytes export(String label) {
        SecretBytes s = exports.get(label);
        if (s == null) {
            throw new IllegalStateException("label " + label + " is not exported for " + host.function());
        }
        return SecretBytes.adopt(s.copy());
    }

    /** Zeroises the exports when the connection ends. */
    void destroySecrets() {
        exports.values().forEach(SecretBytes::close);
        exports.clear();
    }
}
