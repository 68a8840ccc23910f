package io.m2mtrust.tls;

import io.m2mtrust.common.ApiProblem;
import io.m2mtrust.common.SecretBytes;
import io.m2mtrust.hsm.HsmCrypto;
import io.m2mtrust.policy.PolicyService;
import io.m2mtrust.quota.QuotaBucket;
import io.m2mtrust.quota.TenantQuotas;
import io.m2mtrust.security.CertificateRevoked;
import io.m2mtrust.security.Revocation;
import io.m2mtrust.security.RevocationEffects;
import io.m2mtrust.security.RevocationListener;
import io.m2mtrust.tenant.DeviceFqdns;
import io.m2mtrust.tenant.TenantStore;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Instance;
import org.eclipse.californium.core.CoapServer;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.config.CoapConfig;
import org.eclipse.californium.core.network.CoapEndpoint;
import org.eclipse.californium.core.network.Exchange;
import org.eclipse.californium.core.server.MessageDeliverer;
import org.eclipse.californium.elements.DtlsEndpointContext;
import org.eclipse.californium.elements.EndpointContext;
import org.eclipse.californium.elements.auth.ExtensiblePrincipal;
import org.eclipse.californium.elements.config.CertificateAuthenticationMode;
import org.eclipse.californium.elements.config.Configuration;
import org.eclipse.californium.elements.config.UdpConfig;
import org.eclipse.californium.elements.util.Bytes;
import org.eclipse.californium.scandium.DTLSConnector;
import org.eclipse.californium.scandium.config.DtlsConfig;
import org.eclipse.californium.scandium.config.DtlsConnectorConfig;
import org.eclipse.californium.scandium.dtls.CertificateType;
import org.eclipse.californium.scandium.dtls.ConnectionId;
import org.eclipse.californium.scandium.dtls.DTLSContext;
import org.eclipse.californium.scandium.dtls.ExtendedMasterSecretMode;
import org.eclipse.californium.scandium.dtls.Handshaker;
import org.eclipse.californium.scandium.dtls.SessionListener;
import org.eclipse.californium.scandium.dtls.SignatureAndHashAlgorithm;
import org.eclipse.californium.scandium.dtls.cipher.CipherSuite;
import org.eclipse.californium.scandium.dtls.cipher.CipherSuiteParameters;
import org.eclipse.californium.scandium.dtls.cipher.DefaultCipherSuiteSelector;
import org.eclipse.californium.scandium.dtls.cipher.XECDHECryptography;
import org.jboss.logging.Logger;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.Principal;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * The device-facing DTLS 1.2 listener (ADR 0025): Scandium does DTLS (PSK suites of tenant policy, the extended
 * master secret required, HelloVerifyRequest cookies before any state, the replay window, Connection ID), Californium
 * does CoAP (RFC 7252, block-wise RFC 7959), and each request goes to the same {@link DeviceRequestHandler} the TLS
 * listener serves, through the {@link CoapDeviceBridge}. The same functions, the same resolvers, the same policies.
 */
@ApplicationScoped
public class DeviceDtlsListener implements RevocationListener {

    private static final Logger LOG = Logger.getLogger(DeviceDtlsListener.class);

    /**
     * Policy suite names → the DTLS suites this listener implements: TS-0003 §10.2.2 makes CCM_8 DTLS's mandatory PSK
     * suite; GCM beside it. The CBC suites stay TCP-only (Scandium counts them as not recommended, RFC 9325 §4.2).
     */
    static final Map<String, CipherSuite> PSK_SUITES =
            orderedSuites(CipherSuite.TLS_PSK_WITH_AES_128_CCM_8, CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256);

    /**
     * The certificate suites (TS-0003 §10.2.3: ECDHE_ECDSA on P-256, mutual authentication), CCM_8 first for
     * constrained devices; offered only to a tenant with a CA, whose key signs inside the HSM.
     */
    static final Map<String, CipherSuite> CERTIFICATE_SUITES = orderedSuites(
            CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8, CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256);

    /** Every suite of this listener in the server's order of preference: PSK, then certificates. */
    static final Map<String, CipherSuite> DTLS_SUITES = concat(PSK_SUITES, CERTIFICATE_SUITES);

    private static Map<String, CipherSuite> concat(Map<String, CipherSuite> a, Map<String, CipherSuite> b) {
        Map<String, CipherSuite> m = new java.util.LinkedHashMap<>(a);
        m.putAll(b);
        return java.util.Collections.unmodifiableMap(m);
    }

    /**
     * In this order of preference: Scandium picks the suite at the ClientHello, before the PSK identity names the
     * tenant, so a tenant's own order cannot apply; the mandatory CCM_8 first, which the default policy allows.
     */
    private static Map<String, CipherSuite> orderedSuites(CipherSuite... suites) {
        Map<String, CipherSuite> m = new java.util.LinkedHashMap<>();
        for (CipherSuite s : suites) {
            m.put(s.name(), s);
        }
        return java.util.Collections.unmodifiableMap(m);
    }

    /** Handshakes in progress by connection id, so the PSK lookup can see the suite the ClientHello settled on. */
    private final Map<ConnectionId, Handshaker> handshakes = new java.util.concurrent.ConcurrentHashMap<>();

    private final DeviceDtlsConfig config;
    private final DeviceFqdns fqdns;
    private final TenantStore tenants;
    private final PolicyService policies;
    private final Map<DeviceFqdns.Function, PskResolver> pskResolvers = new EnumMap<>(DeviceFqdns.Function.class);
    private final Map<DeviceFqdns.Function, DeviceRequestHandler> handlers = new EnumMap<>(DeviceFqdns.Function.class);
    private final CertificateAuthentication certificates;
    private final HsmCrypto hsm;
    private final Counter refusedSuite;
    private final Counter busy;
    private final TenantQuotas quotas;
    private ExecutorService workers;
    private ExecutorService scandiumThreads;
    private DTLSConnector connector;
    private CoapServer coap;
    private volatile int port = -1;

    DeviceDtlsListener(
            DeviceDtlsConfig config,
            DeviceFqdns fqdns,
            TenantStore tenants,
            PolicyService policies,
            Instance<PskResolver> resolvers,
            Instance<DeviceRequestHandler> requestHandlers,
            Instance<CertificateAuthentication> certificates,
            HsmCrypto hsm,
            TenantQuotas quotas,
            MeterRegistry registry) {
        this.config = config;
        this.fqdns = fqdns;
        this.tenants = tenants;
        this.policies = policies;
        resolvers.forEach(r -> pskResolvers.put(r.function(), r));
        // every function behind its tenant's quota (issue 21)
        requestHandlers.forEach(h -> handlers.put(h.function(), new GuardedHandler(h, quotas)));
        this.quotas = quotas;
        this.certificates = certificates.isResolvable() ? certificates.get() : null;
        this.hsm = hsm;
        this.refusedSuite = Counter.builder("m2m.device_dtls.refused")
                .tag("reason", "suite-or-tenant")
                .description("CoAP requests refused because the session's suite or tenant is no longer allowed")
                .register(registry);
        this.busy = Counter.builder("m2m.device_dtls.refused")
                .tag("reason", "busy")
                .description("CoAP requests answered 5.03 because the workers were saturated")
                .register(registry);
    }

    void start(@Observes StartupEvent ev) throws Exception {
        if (!config.enabled()) {
            return;
        }
        workers = DeviceWorkers.bounded("device-dtls-", config.workerThreads());
        Configuration c = configuration(config);
        if (certificates != null) {
            withCertificateSuites(c);
        }
        DtlsConnectorConfig.Builder dtls = DtlsConnectorConfig.builder(c)
                .setAddress(new InetSocketAddress(config.host(), config.port()))
                .setLoggingTag("device-dtls")
                .setAdvancedPskStore(new DtlsPskStore(
                        fqdns,
                        pskResolvers::get,
                        tenants::isActive,
                        this::negotiatedSuite,
                        this::suiteAllowed,
                        host -> quotas.knownEmptyFor(host.tenantId(), QuotaBucket.of(host.function())) > 0,
                        workers))
                .setSessionListener(new HandshakeTracker())
                .setCipherSuiteSelector(new ServerPreference())
                // the tenant and function the PSK lookup settled on travel with the session's principal
                .setApplicationLevelInfoSupplier((principal, argument) -> argument instanceof DtlsPeer p
                        ? org.eclipse.californium.elements.auth.AdditionalInfo.from(Map.of(DtlsPeer.KEY, p))
                        : org.eclipse.californium.elements.auth.AdditionalInfo.empty());
        if (certificates != null) {
            DtlsCertificates certificateSuites = new DtlsCertificates(
                    fqdns,
                    certificates,
                    hsm,
                    handlers::containsKey,
                    tenants::isActive,
                    this::negotiatedSuite,
                    this::suiteAllowed,
                    this::anyCertificateSuiteAllowed,
                    workers);
            dtls.setCertificateIdentityProvider(certificateSuites).setAdvancedCertificateVerifier(certificateSuites);
        }
        connector = new NoEmptyDatagrams(dtls.build());
        // Scandium signs the certificate suites' ServerKeyExchange on these threads, each bound to the HSM's provider
        scandiumThreads = java.util.concurrent.Executors.newFixedThreadPool(
                c.get(DtlsConfig.DTLS_CONNECTOR_THREAD_COUNT),
                ScandiumHsmSignature.bindingThreads("device-dtls-scandium-"));
        connector.setExecutor(scandiumThreads);
        CoapEndpoint endpoint = new CoapEndpoint.Builder()
                .setConfiguration(c)
                .setConnector(connector)
                .setDataSerializerAndParser(
                        new org.eclipse.californium.core.network.serialization.UdpDataSerializer(),
                        new CoapDatagramParser(
                                org.eclipse.californium.core.coap.option.StandardOptionRegistry
                                        .getDefaultOptionRegistry()))
                .build();
        coap = new CoapServer(c);
        coap.addEndpoint(endpoint);
        coap.setMessageDeliverer(new Deliverer());
        coap.start();
        port = connector.getAddress().getPort();
        LOG.infof(
                "device DTLS listener (DTLS 1.2, PSK%s, CoAP) on %s:%d for %s",
                certificates != null ? " and certificates" : "", config.host(), port, handlers.keySet());
    }

    /**
     * Californium's settings for this listener: DTLS as the interop profile fixes it, CoAP limits from config. Public
     * for the memory benchmark's bare Scandium server, which must run the same DTLS settings.
     */
    public static Configuration configuration(DeviceDtlsConfig config) {
        DtlsConfig.register();
        CoapConfig.register();
        UdpConfig.register();
        Configuration c = Configuration.createStandardWithoutFile();
        c.set(DtlsConfig.DTLS_ROLE, DtlsConfig.DtlsRole.SERVER_ONLY);
        c.setAsList(DtlsConfig.DTLS_CIPHER_SUITES, PSK_SUITES.values().toArray(new CipherSuite[0]));
        // RFC 7627; Scandium then also refuses exporters without it
        c.set(DtlsConfig.DTLS_EXTENDED_MASTER_SECRET_MODE, ExtendedMasterSecretMode.REQUIRED);
        c.set(DtlsConfig.DTLS_SUPPORT_KEY_MATERIAL_EXPORT, true);
        // RFC 6347 §4.2.1: a cookie round trip before any state, also for PSK (no amplification, no spoofed sessions)
        c.set(DtlsConfig.DTLS_USE_HELLO_VERIFY_REQUEST, true);
        c.set(DtlsConfig.DTLS_USE_HELLO_VERIFY_REQUEST_FOR_PSK, true);
        c.set(DtlsConfig.DTLS_USE_ANTI_REPLAY_FILTER, true); // RFC 6347 §4.1.2.6
        c.set(
                DtlsConfig.DTLS_CONNECTION_ID_LENGTH,
                config.connectionIdLength() > 0 ? config.connectionIdLength() : null);
        // RFC 9146 §6: move a CID connection to a new address only on a newer, authenticated record
        c.set(DtlsConfig.DTLS_UPDATE_ADDRESS_USING_CID_ON_NEWER_RECORDS, true);
        c.set(DtlsConfig.DTLS_MAX_CONNECTIONS, config.maxConnections());
        c.set(
                DtlsConfig.DTLS_STALE_CONNECTION_THRESHOLD,
                config.staleConnectionThreshold().toSeconds(),
                TimeUnit.SECONDS);
        c.set(DtlsConfig.DTLS_USE_SERVER_NAME_INDICATION, true); // the SNI reaches the PSK lookup
        c.set(DtlsConfig.DTLS_MAX_FRAGMENTED_HANDSHAKE_MESSAGE_LENGTH, 8192);
        c.set(DtlsConfig.DTLS_SECURE_RENEGOTIATION, DtlsConfig.DtlsSecureRenegotiation.NEEDED);
        c.set(DtlsConfig.DTLS_RECEIVER_THREAD_COUNT, 1);
        c.set(DtlsConfig.DTLS_CONNECTOR_THREAD_COUNT, 2);
        c.set(CoapConfig.MAX_RESOURCE_BODY_SIZE, config.maxBodyBytes());
        c.set(CoapConfig.MAX_MESSAGE_SIZE, config.maxMessageBytes());
        c.set(CoapConfig.PREFERRED_BLOCK_SIZE, config.preferredBlockBytes());
        c.set(CoapConfig.BLOCKWISE_STATUS_LIFETIME, config.blockwiseLifetime().toMillis(), TimeUnit.MILLISECONDS);
        c.set(CoapConfig.BLOCKWISE_STRICT_BLOCK1_OPTION, true);
        c.set(CoapConfig.BLOCKWISE_STRICT_BLOCK2_OPTION, true);
        c.set(CoapConfig.MAX_ACTIVE_PEERS, config.maxConnections());
        c.set(CoapConfig.PROTOCOL_STAGE_THREAD_COUNT, 2);
        return c;
    }

    /**
     * The certificate suites on top of {@link #configuration}: ECDHE on secp256r1 and ecdsa_secp256r1_sha256 only (the
     * certificate profile, TS-0003 §10.1.1.1), a client certificate required (TS-0003 §8.3.2.2).
     */
    public static void withCertificateSuites(Configuration c) {
        c.setAsList(DtlsConfig.DTLS_CIPHER_SUITES, DTLS_SUITES.values().toArray(new CipherSuite[0]));
        c.set(DtlsConfig.DTLS_CLIENT_AUTHENTICATION_MODE, CertificateAuthenticationMode.NEEDED);
        c.setAsList(DtlsConfig.DTLS_SIGNATURE_AND_HASH_ALGORITHMS, SignatureAndHashAlgorithm.SHA256_WITH_ECDSA);
        c.setAsList(DtlsConfig.DTLS_CURVES, XECDHECryptography.SupportedGroup.secp256r1);
        c.setAsList(DtlsConfig.DTLS_CERTIFICATE_TYPES, CertificateType.X_509);
    }

    void stop(@Observes ShutdownEvent ev) {
        if (coap != null) {
            coap.destroy(); // DTLS state is in memory: devices handshake again with another replica
        }
        if (scandiumThreads != null) {
            scandiumThreads.shutdownNow();
        }
        if (workers != null) {
            workers.shutdownNow();
        }
    }

    /**
     * Scandium sends an empty flight — a 0-byte datagram — while a handshake waits for the asynchronous certificate
     * identity; OpenSSL reads a 0-byte datagram as the end of the connection and aborts the handshake. An empty UDP
     * datagram carries no record, so it is not sent.
     */
    static final class NoEmptyDatagrams extends DTLSConnector {
        NoEmptyDatagrams(DtlsConnectorConfig config) {
            super(config);
        }

        @Override
        protected void sendNextDatagramOverNetwork(java.net.DatagramPacket datagram) throws java.io.IOException {
            if (datagram.getLength() > 0) {
                super.sendNextDatagramOverNetwork(datagram);
            }
        }
    }

    /** Nothing in the database: DTLS sessions live in this replica's memory, ended in {@link #forget}. */
    @Override
    public RevocationEffects revoke(Revocation event) {
        return RevocationEffects.NONE;
    }

    /**
     * A revoked client certificate ends every DTLS session it authenticated, on every replica (a DTLS session can
     * outlive a TCP connection by days, so it must not wait for the device to handshake again).
     */
    @Override
    public void forget(Revocation event) {
        if (connector == null || !(event instanceof CertificateRevoked revoked)) {
            return;
        }
        // each connection is visited on its own serial executor; close() sends close_notify, so the device knows
        connector.startForEach((org.eclipse.californium.elements.util.Filter<
                        org.eclipse.californium.scandium.dtls.Connection>)
                connection -> {
                    org.eclipse.californium.scandium.dtls.DTLSSession session = connection.getSession();
                    DtlsPeer peer = session == null ? null : peerOf(session.getPeerIdentity());
                    if (peer != null
                            && peer.credential() == DevicePeer.Credential.CERTIFICATE
                            && peer.host().tenantId().equals(revoked.tenantId())
                            && revoked.serial().equalsIgnoreCase(peer.certificateSerial())) {
                        LOG.debugf(
                                "DTLS session of %s ended: certificate %s revoked", peer.identity(), revoked.serial());
                        connector.close(connection.getPeerAddress());
                    }
                    return false; // visit every connection
                });
    }

    /** The bound UDP port (useful when configured as 0). */
    public int port() {
        return port;
    }

    /** Every CoAP request of an authenticated DTLS session, handed to a worker. */
    private final class Deliverer implements MessageDeliverer {
        @Override
        public void deliverRequest(Exchange exchange) {
            EndpointContext context = exchange.getRequest().getSourceContext();
            DtlsPeer peer = peerOf(context.getPeerIdentity());
            if (peer == null) {
                exchange.sendResponse(CoapDeviceBridge.diagnostic(ResponseCode.UNAUTHORIZED, "no DTLS session"));
                return;
            }
            try {
                workers.execute(() -> serve(exchange, context, peer));
            } catch (RejectedExecutionException e) {
                busy.increment();
                Response r = CoapDeviceBridge.diagnostic(ResponseCode.SERVICE_UNAVAILABLE, "busy; retry later");
                r.getOptions().setMaxAge(5);
                exchange.sendResponse(r);
            }
        }

        @Override
        public void deliverResponse(Exchange exchange, Response response) {
            exchange.getRequest().setResponse(response); // this endpoint sends no requests of its own
        }
    }

    private void serve(Exchange exchange, EndpointContext context, DtlsPeer peer) {
        Response response;
        try {
            response = answer(exchange, context, peer);
        } catch (RuntimeException e) {
            LOG.warnf("CoAP request of tenant %s failed: %s", peer.host().tenantId(), e.toString());
            response = CoapDeviceBridge.diagnostic(ResponseCode.INTERNAL_SERVER_ERROR, "internal error");
        }
        exchange.sendResponse(response);
    }

    private Response answer(Exchange exchange, EndpointContext context, DtlsPeer peer) {
        String tenant = peer.host().tenantId();
        String suite = context.get(DtlsEndpointContext.KEY_CIPHER);
        if (!sessionStillAllowed(tenant, suite)) {
            // the tenant was suspended or its policy dropped this suite since the handshake: end the session
            refusedSuite.increment();
            LOG.debugf("DTLS session of tenant %s with %s no longer allowed: closing it", tenant, suite);
            connector.close(context.getPeerAddress());
            return CoapDeviceBridge.diagnostic(
                    ResponseCode.FORBIDDEN,
                    "this session's tenant or cipher suite is no longer allowed; handshake again");
        }
        CoapDeviceBridge.Mapped mapped;
        try {
            mapped = CoapDeviceBridge.toDeviceRequest(exchange.getRequest());
        } catch (CoapDeviceBridge.Refused r) {
            return CoapDeviceBridge.diagnostic(r.code, r.getMessage());
        }
        DeviceRequestHandler handler = handlers.get(peer.host().function());
        if (handler == null) {
            return CoapDeviceBridge.diagnostic(ResponseCode.NOT_FOUND, "function not served");
        }
        Bytes sessionId = context.get(DtlsEndpointContext.KEY_SESSION_ID);
        InetSocketAddress address = context.getPeerAddress();
        DevicePeer devicePeer = new DevicePeer(
                DevicePeer.Transport.DTLS,
                tenant,
                peer.host().function(),
                peer.sniHost(),
                peer.credential(),
                peer.identity(),
                peer.certificateSerial(),
                label -> export(address, sessionId, peer.host().function(), label));
        return CoapDeviceBridge.toCoapResponse(mapped, handler.handle(devicePeer, mapped.request()));
    }

    /** Whether the tenant is still ACTIVE and its policy still allows the session's suite (checked per request). */
    private boolean sessionStillAllowed(String tenantId, String suite) {
        return suite != null && tenants.isActive(tenantId) && suiteAllowed(tenantId, suite);
    }

    /** Whether the tenant's policy lists {@code suite} and this listener implements it. */
    private boolean suiteAllowed(String tenantId, String suite) {
        try {
            List<String> allowed = Arrays.asList(policies.current(tenantId).tlsCipherSuites);
            return allowed.contains(suite) && DTLS_SUITES.containsKey(suite);
        } catch (ApiProblem noPolicy) {
            return false;
        }
    }

    /** Whether the tenant's policy lists any certificate suite this listener implements. */
    private boolean anyCertificateSuiteAllowed(String tenantId) {
        try {
            return Arrays.stream(policies.current(tenantId).tlsCipherSuites).anyMatch(CERTIFICATE_SUITES::containsKey);
        } catch (ApiProblem noPolicy) {
            return false;
        }
    }

    /**
     * The first suite of {@link #DTLS_SUITES} the client offers and this handshake can serve (a certificate suite needs
     * the tenant's certificate): Scandium's default selector follows the client's order, which would let a device
     * that prefers GCM miss a tenant that allows only the mandatory CCM_8. Scandium's own checks of a certificate
     * suite (key type, signature algorithm, curve) still apply.
     */
    static final class ServerPreference extends DefaultCipherSuiteSelector {
        @Override
        public boolean select(CipherSuiteParameters parameters) {
            for (CipherSuite suite : DTLS_SUITES.values()) {
                if (parameters.getCipherSuites().contains(suite) && select(suite, parameters)) {
                    return true;
                }
            }
            if (parameters.getGeneralMismatch() == null && parameters.getCertificateMismatch() == null) {
                parameters.setGeneralMismatch(CipherSuiteParameters.GeneralMismatch.CIPHER_SUITE);
            }
            return false;
        }
    }

    /** The suite the handshake on connection {@code cid} negotiated, or null. */
    private String negotiatedSuite(ConnectionId cid) {
        Handshaker h = cid == null ? null : handshakes.get(cid);
        CipherSuite suite = h == null ? null : h.getSession().getCipherSuite();
        return suite == null ? null : suite.name();
    }

    private final class HandshakeTracker implements SessionListener {
        @Override
        public void handshakeStarted(Handshaker handshaker) {
            handshakes.put(handshaker.getConnection().getConnectionId(), handshaker);
        }

        @Override
        public void contextEstablished(Handshaker handshaker, DTLSContext context) {}

        @Override
        public void handshakeCompleted(Handshaker handshaker) {
            handshakes.remove(handshaker.getConnection().getConnectionId(), handshaker);
        }

        @Override
        public void handshakeFailed(Handshaker handshaker, Throwable cause) {
            handshakes.remove(handshaker.getConnection().getConnectionId(), handshaker);
        }

        @Override
        public void handshakeFlightRetransmitted(Handshaker handshaker, int flight) {}
    }

    /**
     * RFC 5705 export of the session that carried the request: the connection at the peer's address must still hold
     * that session (same session id), else the device handshook again meanwhile and the export would be another key.
     */
    private SecretBytes export(
            InetSocketAddress address, Bytes sessionId, DeviceFqdns.Function function, String label) {
        Integer length = DeviceTlsServer.EXPORT_LABELS.get(function).get(label);
        if (length == null) {
            throw new IllegalStateException("label " + label + " is not exported for " + function);
        }
        DTLSContext context = connector.getDtlsContextByAddress(address);
        if (context == null
                || sessionId == null
                || !Arrays.equals(context.getSession().getSessionIdentifier().getBytes(), sessionId.getBytes())) {
            throw new IllegalStateException("the DTLS session of this request is gone");
        }
        return SecretBytes.adopt(context.exportKeyMaterial(label.getBytes(StandardCharsets.US_ASCII), null, length));
    }

    private static DtlsPeer peerOf(Principal principal) {
        if (principal instanceof ExtensiblePrincipal<?> p && p.getExtendedInfo() != null) {
            return p.getExtendedInfo().get(DtlsPeer.KEY, DtlsPeer.class);
        }
        return null;
    }
}
