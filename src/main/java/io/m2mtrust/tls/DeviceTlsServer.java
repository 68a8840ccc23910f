package io.m2mtrust.tls;

import io.m2mtrust.common.QuotaExceededException;
import io.m2mtrust.common.SecretBytes;
import io.m2mtrust.hsm.HsmCrypto;
import io.m2mtrust.quota.QuotaBucket;
import io.m2mtrust.quota.TenantQuotas;
import io.m2mtrust.tenant.DeviceFqdns;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.tls.AbstractTlsServer;
import org.bouncycastle.tls.AlertDescription;
import org.bouncycastle.tls.Certificate;
import org.bouncycastle.tls.CertificateRequest;
import org.bouncycastle.tls.CipherSuite;
import org.bouncycastle.tls.ClientCertificateType;
import org.bouncycastle.tls.DefaultTlsCredentialedSigner;
import org.bouncycastle.tls.HashAlgorithm;
import org.bouncycastle.tls.KeyExchangeAlgorithm;
import org.bouncycastle.tls.NameType;
import org.bouncycastle.tls.NamedGroup;
import org.bouncycastle.tls.ProtocolVersion;
import org.bouncycastle.tls.ServerName;
import org.bouncycastle.tls.SignatureAlgorithm;
import org.bouncycastle.tls.SignatureAndHashAlgorithm;
import org.bouncycastle.tls.TlsCredentials;
import org.bouncycastle.tls.TlsExtensionsUtils;
import org.bouncycastle.tls.TlsFatalAlert;
import org.bouncycastle.tls.TlsPSKIdentityManager;
import org.bouncycastle.tls.TlsUtils;
import org.bouncycastle.tls.crypto.TlsCertificate;
import org.bouncycastle.tls.crypto.TlsCrypto;
import org.bouncycastle.tls.crypto.TlsCryptoParameters;
import org.bouncycastle.tls.crypto.TlsSigner;
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

    /** Certificate suites (TS-0003 §10.2.3): mutual authentication, P-256 keys, ECDHE on secp256r1. */
    static final Map<String, Integer> CERTIFICATE_SUITES = Map.of(
            "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256,
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256);

    private static final SignatureAndHashAlgorithm ECDSA_P256_SHA256 =
            SignatureAndHashAlgorithm.getInstance(HashAlgorithm.sha256, SignatureAlgorithm.ecdsa);

    interface TenantDirectory {
        /** The tenant's TLS suite names if it exists and is ACTIVE. */
        Optional<java.util.List<String>> activeTenantSuites(String tenantId);
    }

    private final DeviceFqdns fqdns;
    private final TenantDirectory tenants;
    private final Function<DeviceFqdns.Function, PskResolver> pskResolvers;
    private final CertificateAuthentication certificates;
    private final HsmCrypto hsm;
    private final TenantQuotas quotas;

    private DeviceFqdns.Host host;
    private String sniHost;
    private String pskIdentity;
    private CertificateAuthentication.AuthenticatedCertificate clientCertificate;
    private boolean handshakeComplete;

    /**
     * {@code certificates} may be null: then only PSK suites are offered. {@code quotas} may be null (no handshake
     * gate: fuzz targets).
     */
    DeviceTlsServer(
            TlsCrypto crypto,
            DeviceFqdns fqdns,
            TenantDirectory tenants,
            Function<DeviceFqdns.Function, PskResolver> pskResolvers,
            CertificateAuthentication certificates,
            HsmCrypto hsm,
            TenantQuotas quotas) {
        super(crypto);
        this.quotas = quotas;
        this.fqdns = fqdns;
        this.tenants = tenants;
        this.pskResolvers = pskResolvers;
        this.certificates = certificates;
        this.hsm = hsm;
    }

    @Override
    protected ProtocolVersion[] getSupportedVersions() {
        return ProtocolVersion.TLSv12.only();
    }

    @Override
    protected int[] getSupportedCipherSuites() {
        return java.util.stream.Stream.concat(PSK_SUITES.values().stream(), CERTIFICATE_SUITES.values().stream())
                .mapToInt(Integer::intValue)
                .toArray();
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
        host = fqdns.parse(sniHost)
                .orElseThrow(() -> new TlsFatalAlert(AlertDescription.unrecognized_name, "unknown host"));
        if (pskResolvers.apply(host.function()) == null) {
            throw new TlsFatalAlert(AlertDescription.unrecognized_name, "function not served");
        }
        java.util.List<String> allowed = tenants.activeTenantSuites(host.tenantId())
                .orElseThrow(() -> new TlsFatalAlert(AlertDescription.unrecognized_name, "no such active tenant"));
        if (quotas != null && quotas.knownEmptyFor(host.tenantId(), QuotaBucket.of(host.function())) > 0) {
            // over its quota, a tenant opens no new sessions either (no PSK lookup, no ECDHE, no HSM signature):
            // TLS has no "busy" alert; internal_error says the refusal is not about the peer's messages (ADR 0026)
            throw new TlsFatalAlert(AlertDescription.internal_error, "tenant over its quota");
        }
        // certificate suites only when the tenant has a CA (its FQDN certificate is issued by it)
        boolean withCertificates = certificates != null && certificates.serverIdentityAvailable(host.tenantId());
        int[] suites = allowed.stream()
                .filter(n -> PSK_SUITES.containsKey(n) || (withCertificates && CERTIFICATE_SUITES.containsKey(n)))
                .mapToInt(n -> PSK_SUITES.getOrDefault(n, CERTIFICATE_SUITES.get(n)))
                .toArray();
        if (suites.length == 0) {
            throw new TlsFatalAlert(
                    AlertDescription.handshake_failure, "tenant policy allows no suite this tenant can serve");
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
                if (host == null
                        || identity.length == 0
                        || identity.length > 300
                        || !Arrays.equals(identity, id.getBytes(StandardCharsets.UTF_8))) {
                    return null;
                }
                Optional<SecretBytes> psk;
                try {
                    psk = pskResolvers.apply(host.function()).resolve(host.tenantId(), id);
                } catch (QuotaExceededException e) {
                    throw e; // the tenant's HSM quota: Bouncy Castle ends the handshake with internal_error
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

    private boolean certificateSuiteSelected() {
        return TlsUtils.getKeyExchangeAlgorithm(selectedCipherSuite) == KeyExchangeAlgorithm.ECDHE_ECDSA;
    }

    @Override
    public TlsCredentials getCredentials() throws IOException {
        if (!certificateSuiteSelected()) {
            return null; // plain PSK key exchange: no server certificate
        }
        CertificateAuthentication.ServerIdentity id;
        try {
            id = certificates
                    .serverIdentity(host.tenantId())
                    .orElseThrow(() -> new TlsFatalAlert(AlertDescription.handshake_failure, "tenant has no CA"));
        } catch (RuntimeException e) {
            LOG.warnf("server certificate of tenant %s unavailable: %s", host.tenantId(), e.getMessage());
            throw new TlsFatalAlert(AlertDescription.internal_error, "server certificate unavailable");
        }
        TlsCertificate[] chain = new TlsCertificate[id.chainDer().size()];
        for (int i = 0; i < chain.length; i++) {
            chain[i] = getCrypto().createCertificate(id.chainDer().get(i));
        }
        TlsSigner signer = new HsmTlsSigner(hsm, id.key());
        return new DefaultTlsCredentialedSigner(
                new TlsCryptoParameters(context), signer, new Certificate(chain), ECDSA_P256_SHA256);
    }

    /** ECDHE on secp256r1 only (the certificate profile's curve, TS-0003 §10.1.1.1). */
    @Override
    protected int selectECDH(int minimumCurveBits) {
        int[] offered = context.getSecurityParametersHandshake().getClientSupportedGroups();
        if (offered == null) {
            return NamedGroup.secp256r1; // RFC 8422 §4: no extension means any curve
        }
        return Arrays.stream(offered).anyMatch(g -> g == NamedGroup.secp256r1) ? NamedGroup.secp256r1 : -1;
    }

    @Override
    public CertificateRequest getCertificateRequest() {
        if (!certificateSuiteSelected()) {
            return null;
        }
        Vector<SignatureAndHashAlgorithm> algs = new Vector<>();
        algs.add(ECDSA_P256_SHA256);
        Vector<X500Name> authorities = new Vector<>();
        for (byte[] der : certificates.acceptedIssuers(host.tenantId())) {
            authorities.add(X500Name.getInstance(der));
        }
        return new CertificateRequest(new short[] {ClientCertificateType.ecdsa_sign}, algs, authorities);
    }

    /** Mutual authentication is mandatory on certificate suites (TS-0003 §8.3.2.2); BC then checks CertificateVerify. */
    @Override
    public void notifyClientCertificate(Certificate clientCert) throws IOException {
        java.util.List<byte[]> chain = new java.util.ArrayList<>();
        for (int i = 0; i < clientCert.getLength(); i++) {
            chain.add(clientCert.getCertificateAt(i).getEncoded());
        }
        try {
            clientCertificate = certificates.authenticateClient(host.tenantId(), chain);
        } catch (CertificateAuthentication.RejectedCertificate e) {
            LOG.debugf("client certificate refused for tenant %s: %s", host.tenantId(), e.getMessage());
            throw new TlsFatalAlert(e.alert(), e.getMessage());
        } catch (RuntimeException e) {
            LOG.warnf("client certificate check failed for tenant %s: %s", host.tenantId(), e.getMessage());
            throw new TlsFatalAlert(AlertDescription.internal_error, "certificate check unavailable");
        }
    }

    /**
     * RFC 5705 labels (and lengths) each function needs; BC exports only inside notifyHandshakeComplete.
     * {@code EXPORTER-Channel-Binding} (32 bytes, RFC 9266's tls-exporter label, here without context like
     * the others) links an EST CSR to the TLS session (interop profile, "EST").
     */
    static final Map<DeviceFqdns.Function, Map<String, Integer>> EXPORT_LABELS = Map.of(
            DeviceFqdns.Function.MEF,
                    Map.of(
                            "EXPORTER-oneM2M-Bootstrap",
                            48,
                            "EXPORTER-oneM2M-Connection",
                            48,
                            DevicePeer.CHANNEL_BINDING_LABEL,
                            32),
            DeviceFqdns.Function.MAF, Map.of("EXPORTER-oneM2M-Connection", 48, DevicePeer.CHANNEL_BINDING_LABEL, 32),
            DeviceFqdns.Function.SAEF, Map.of(DevicePeer.CHANNEL_BINDING_LABEL, 32));

    private final Map<String, SecretBytes> exports = new java.util.HashMap<>();

    @Override
    public void notifyHandshakeComplete() throws IOException {
        super.notifyHandshakeComplete();
        for (Map.Entry<String, Integer> e : EXPORT_LABELS.get(host.function()).entrySet()) {
            // no context (interop profile); the oneM2M labels give 48 bytes: first 16 identifier, last 32 key
            exports.put(e.getKey(), SecretBytes.adopt(context.exportKeyingMaterial(e.getKey(), null, e.getValue())));
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

    /** The authenticated client certificate on certificate suites, else null. */
    CertificateAuthentication.AuthenticatedCertificate clientCertificate() {
        return clientCertificate;
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
