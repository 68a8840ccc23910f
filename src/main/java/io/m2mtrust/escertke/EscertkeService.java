package io.m2mtrust.escertke;

import io.m2mtrust.audit.AuditLog;
import io.m2mtrust.ca.Certificates;
import io.m2mtrust.ca.TenantCa;
import io.m2mtrust.cluster.ReplicaCache;
import io.m2mtrust.cluster.ReplicaCaches;
import io.m2mtrust.common.DatabaseOutage;
import io.m2mtrust.common.DatabaseUnavailableException;
import io.m2mtrust.common.ResponseStatusCode;
import io.m2mtrust.common.SecretBytes;
import io.m2mtrust.esdata.EndpointService;
import io.m2mtrust.hsm.HsmCrypto;
import io.m2mtrust.hsm.HsmUnavailableException;
import io.m2mtrust.keys.KeySealer;
import io.m2mtrust.policy.PolicyService;
import io.m2mtrust.policy.TenantPolicy;
import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.persistence.EntityManager;
import org.bouncycastle.tls.AlertDescription;
import org.bouncycastle.tls.CipherSuite;
import org.bouncycastle.tls.TlsClientProtocol;
import org.bouncycastle.tls.TlsFatalAlertReceived;
import org.bouncycastle.tls.TlsProtocol;
import org.bouncycastle.tls.TlsServerProtocol;
import org.bouncycastle.tls.crypto.impl.bc.BcTlsCrypto;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * End-to-End Security Certificate-based Key Establishment (TS-0003 §8.7, TS-0004 §7.5.1.2.12): a TLS 1.2 full
 * handshake whose records travel in Notify ({@code securityInfo} type 6): messages 1 and 3 in requests to the
 * Terminating end-point, 2 and 4 in its responses; message 3 is linked to message 1 by the originator's From.
 *
 * <p>A half-finished handshake lives in this replica's memory for at most the handshake TTL (architecture:
 * Bouncy Castle's state cannot move between processes), keyed by (tenant, entity, From): a new message 1
 * replaces it, a message 3 without it (another replica, too late, another originator, repeated) gets a clean
 * 4000 and the initiator starts again. After the handshake both ends hold {@code EXPORTER-oneM2M-ESCertKE}
 * (48 bytes): the first 16 name the key, the last 32 are the pairwise key, stored sealed and bound to both
 * identities, usable at once as pairwiseESPrimKey (SUID 43) and ESData key (44, 45).
 */
@ApplicationScoped
public class EscertkeService {

    private static final Logger LOG = Logger.getLogger(EscertkeService.class);

    /** How long a half-finished handshake is kept (architecture: about 30 s); {@code m2m.escertke.handshake-ttl}. */
    private final Duration handshakeTtl;
    /** One flight of the handshake: a few records of certificates and key exchange (~1–2 KiB in practice). */
    public static final int MAX_MESSAGE = 16 * 1024;

    static final int MAX_PENDING = 10_000;
    /** Seal purpose of stored keys (EstablishedKeySource opens them with the same context). */
    public static final String SEAL_PURPOSE = "escertke";

    /** oneM2M status codes of ESCertKE refusals (interop profile). */
    public static final int BAD_REQUEST = ResponseStatusCode.BAD_REQUEST.code();

    public static final int NOT_AUTHENTICATED = ResponseStatusCode.ORIGINATOR_NOT_AUTHENTICATED.code();
    public static final int NOT_ACCEPTABLE = ResponseStatusCode.NOT_ACCEPTABLE.code();
    public static final int BUSY = ResponseStatusCode.INTERNAL_SERVER_ERROR.code();

    /** ESCertKE suites (TS-0003 §10.2.3) by policy name. */
    static final Map<String, Integer> SUITES = Map.of(
            "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256,
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256);

    /** One step of the Terminating role: the oneM2M status, the records to return (message 2 or 4, or an alert), why not. */
    public record Step(int rsc, byte[] reply, String problem, String keyId) {
        public boolean ok() {
            return rsc == 2000;
        }
    }

    /** A failed initiation: the oneM2M status to report and why. */
    public static final class Failure extends Exception {
        public final int rsc;

        public Failure(int rsc, String why) {
            super(why, null, false, false);
            this.rsc = rsc;
        }
    }

    /** How the Initiating role reaches the Terminating end-point: one Notify, the records of its answer. */
    @FunctionalInterface
    public interface Exchange {
        byte[] notify(String from, byte[] records) throws Failure;
    }

    private record Pending(TlsServerProtocol protocol, EscertkeTls.Server server, long startedNanos) {}

    private final EntityManager em;
    private final HsmCrypto hsm;
    private final TenantCa ca;
    private final PeerCertificates certificates;
    private final KeySealer sealer;
    private final PolicyService policies;
    private final AuditLog audit;
    private final SecureRandom random = new SecureRandom();
    private final ConcurrentHashMap<String, Pending> pending = new ConcurrentHashMap<>();
    private final EndpointService endpoints;
    private final EscertkeStore rows;

    EscertkeService(
            EntityManager em,
            HsmCrypto hsm,
            TenantCa ca,
            PeerCertificates certificates,
            KeySealer sealer,
            PolicyService policies,
            AuditLog audit,
            @org.eclipse.microprofile.config.inject.ConfigProperty(
                            name = "m2m.escertke.handshake-ttl",
                            defaultValue = "30s")
                    Duration handshakeTtl,
            EndpointService endpoints,
            EscertkeStore rows,
            ReplicaCaches caches) {
        this.rows = rows;
        this.caches = caches;
        this.currentCache = caches.cache(TOPIC, CACHE_TTL, 10_000);
        this.credentialCache = caches.cache(TOPIC, CACHE_TTL, 10_000);
        this.issuerCache = caches.cache(TOPIC, CACHE_TTL, 10_000);
        this.endpoints = endpoints;
        this.handshakeTtl = handshakeTtl;
        this.em = em;
        this.hsm = hsm;
        this.ca = ca;
        this.certificates = certificates;
        this.sealer = sealer;
        this.policies = policies;
        this.audit = audit;
    }

    // ---------------------------------------------------------------- Terminating role

    /**
     * One ESCertKE message from {@code from} to the protected entity {@code entityId}: message 1 (a ClientHello)
     * starts a handshake and is answered with message 2; message 3 finishes it, stores the key and is answered
     * with message 4.
     */
    public Step terminate(String tenantId, String spId, String cseId, String entityId, String from, byte[] message) {
        if (message == null || message.length < 6 || message.length > MAX_MESSAGE) {
            return refused(BAD_REQUEST, "an ESCertKE message is 6 to " + MAX_MESSAGE + " bytes of TLS records", null);
        }
        Optional<PeerIdentity> own = PeerIdentity.of(entityId, spId, cseId);
        if (own.isEmpty()) {
            return refused(NOT_ACCEPTABLE, "ESCertKE needs the tenant's M2M-SP-ID in the proxy configuration", null);
        }
        Optional<EscertkeTls.Credentials> creds = credentials(tenantId, own.get());
        if (creds.isEmpty()) {
            return refused(
                    NOT_ACCEPTABLE,
                    entityId + " has no ESCertKE certificate (an EC P-256 end-point with subjectAltName "
                            + own.get().san() + ")",
                    null);
        }
        Optional<PeerIdentity> peer = PeerIdentity.of(from, spId, cseId);
        if (peer.isEmpty()) {
            return refused(
                    BAD_REQUEST, "From " + from + " is not a CSE-ID or AE-ID a certificate can be matched to", null);
        }
        int[] suites = suites(tenantId);
        if (suites.length == 0) {
            return refused(NOT_ACCEPTABLE, "the tenant policy allows no ECDHE_ECDSA cipher suite", null);
        }
        String key = tenantId + "|" + entityId + "|" + from;
        if (isClientHello(message)) {
            if (pending.size() >= MAX_PENDING) {
                purgeExpired();
                if (pending.size() >= MAX_PENDING) {
                    return refused(BUSY, "too many ESCertKE handshakes in progress; try again", null);
                }
            }
            EscertkeTls.Server server = new EscertkeTls.Server(
                    new BcTlsCrypto(random),
                    suites,
                    creds.get(),
                    hsm,
                    acceptedIssuers(tenantId),
                    chain -> certificates.verify(tenantId, chain, peer.get()));
            TlsServerProtocol protocol = new TlsServerProtocol();
            Step step = messageOne(protocol, server, message);
            if (step.ok()) {
                // a new message 1 replaces pending state
                pending.put(key, new Pending(protocol, server, System.nanoTime()));
            } else {
                pending.remove(key);
            }
            return step;
        }
        Pending p = pending.remove(key); // taken: a repeated message 3 finds nothing
        if (p == null || System.nanoTime() - p.startedNanos() > handshakeTtl.toNanos()) {
            return refused(
                    BAD_REQUEST,
                    "no ESCertKE handshake of " + from + " is in progress here (send message 1 first; it may have"
                            + " expired after " + handshakeTtl.toSeconds() + " s or reached another replica)",
                    null);
        }
        Step step = messageThree(p.protocol(), p.server(), message);
        if (!step.ok()) {
            return step;
        }
        byte[] out = step.reply();
        EscertkeTls.Outcome o = p.server().outcome;
        try (SecretBytes exported = o.exported) {
            String kid = store(
                            tenantId,
                            "escertke",
                            EscertkeKey.Role.TERMINATOR,
                            entityId,
                            own.get().san(),
                            from,
                            o.peer,
                            peer.get().fqdn(),
                            exported)
                    .keyId;
            return new Step(2000, out, null, kid);
        } catch (RuntimeException e) {
            LOG.warnf("ESCertKE key of %s could not be stored: %s", from, e.getMessage());
            return refused(BUSY, "the established key could not be stored", null);
        }
    }

    /**
     * Message 1 into a fresh Terminating end-point: 2000 with message 2 (the server's flight, its ServerKeyExchange
     * signed in the HSM), or the refusal with the alert TLS wrote. Everything a peer's bytes can cause here ends in a
     * {@link Step}; the caller keeps the protocol only when the step is ok.
     */
    static Step messageOne(TlsServerProtocol protocol, EscertkeTls.Server server, byte[] message) {
        try {
            protocol.accept(server);
            protocol.offerInput(message);
        } catch (IOException | RuntimeException e) {
            return failed(protocol, server.outcome, e);
        }
        byte[] out = drain(protocol);
        if (server.outcome.complete || out.length == 0) {
            return refused(BAD_REQUEST, "message 1 must be exactly a ClientHello flight", null);
        }
        return new Step(2000, out, null, null);
    }

    /**
     * Message 3 into the end-point message 1 started: 2000 with message 4 once the handshake is complete (the
     * client's certificate checked, {@code outcome.exported} set), or the refusal. The protocol is spent either way.
     */
    static Step messageThree(TlsServerProtocol protocol, EscertkeTls.Server server, byte[] message) {
        try {
            protocol.offerInput(message);
        } catch (IOException | RuntimeException e) {
            return failed(protocol, server.outcome, e);
        }
        byte[] out = drain(protocol);
        if (!server.outcome.complete) {
            try {
                protocol.close();
            } catch (IOException ignored) {
                // the state is dropped either way
            }
            return refused(BAD_REQUEST, "message 3 did not complete the handshake", null);
        }
        return new Step(2000, out, null, null);
    }

    private static Step failed(TlsProtocol protocol, EscertkeTls.Outcome outcome, Exception e) {
        byte[] alert = drain(protocol); // the fatal alert the engine wrote, for the peer's TLS
        if (outcome.refusal != null) {
            return refused(NOT_AUTHENTICATED, "certificate refused: " + outcome.refusal.getMessage(), alert);
        }
        return refused(
                BAD_REQUEST,
                "TLS handshake failed: "
                        + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()),
                alert);
    }

    private static Step refused(int rsc, String problem, byte[] alert) {
        return new Step(rsc, alert == null || alert.length == 0 ? null : alert, problem, null);
    }

    /** A TLS handshake record (22) whose first message is client_hello (1). */
    static boolean isClientHello(byte[] m) {
        return m.length >= 6 && m[0] == 22 && m[1] == 3 && m[5] == 1;
    }

    // ---------------------------------------------------------------- Initiating role

    /** The result of an initiation: the stored key's id. */
    public record Established(String keyId, String localIdentity, String peerIdentity, Instant expiresAt) {}

    /**
     * Runs a handshake as the Initiating end-point for {@code localFrom} (an entity behind the proxy) with the
     * Terminating end-point {@code receiverId}, through {@code exchange}; the key is stored bound to the
     * absolute form of {@code localFrom} (the From it used) and {@code receiverId}; {@code actor} is chained with it.
     */
    public Established initiate(
            String tenantId,
            String spId,
            String cseId,
            String localFrom,
            String receiverId,
            String actor,
            Exchange exchange)
            throws Failure {
        PeerIdentity own = PeerIdentity.of(localFrom, spId, cseId)
                .orElseThrow(() -> new Failure(
                        NOT_ACCEPTABLE,
                        spId == null
                                ? "ESCertKE needs the tenant's M2M-SP-ID in the proxy configuration"
                                : localFrom + " is not a CSE-ID or AE-ID a certificate can name"));
        EscertkeTls.Credentials creds = credentials(tenantId, own)
                .orElseThrow(() -> new Failure(
                        NOT_ACCEPTABLE,
                        localFrom + " has no ESCertKE certificate (an EC P-256 end-point with subjectAltName "
                                + own.san() + ")"));
        PeerIdentity peer = PeerIdentity.of(receiverId, spId, cseId)
                .orElseThrow(() -> new Failure(
                        BAD_REQUEST, receiverId + " is not a CSE-ID or AE-ID a certificate can be matched to"));
        int[] suites = suites(tenantId);
        if (suites.length == 0) {
            throw new Failure(NOT_ACCEPTABLE, "the tenant policy allows no ECDHE_ECDSA cipher suite");
        }
        EscertkeTls.Client client = new EscertkeTls.Client(
                new BcTlsCrypto(random), suites, creds, hsm, chain -> certificates.verify(tenantId, chain, peer));
        TlsClientProtocol protocol = new TlsClientProtocol();
        String from = own.absolute();
        long started = System.nanoTime();
        try {
            protocol.connect(client);
            byte[] message2 = exchange.notify(from, drain(protocol));
            offerAnswer(protocol, client, message2, 2);
            byte[] message3 = drain(protocol);
            if (System.nanoTime() - started > handshakeTtl.toNanos()) {
                throw new Failure(4008, "the handshake took longer than " + handshakeTtl.toSeconds() + " s");
            }
            byte[] message4 = exchange.notify(from, message3);
            offerAnswer(protocol, client, message4, 4);
        } catch (IOException e) {
            throw new Failure(BAD_REQUEST, "TLS handshake failed: " + e.getMessage());
        }
        if (!client.outcome.complete) {
            throw new Failure(BAD_REQUEST, "message 4 did not complete the handshake");
        }
        try (SecretBytes exported = client.outcome.exported) {
            EscertkeKey k = store(
                    tenantId,
                    actor,
                    EscertkeKey.Role.INITIATOR,
                    from,
                    own.san(),
                    receiverId,
                    client.outcome.peer,
                    own.fqdn(),
                    exported);
            return new Established(k.keyId, from, receiverId, k.expiresAt);
        }
    }

    private static void offerAnswer(TlsClientProtocol protocol, EscertkeTls.Client client, byte[] records, int n)
            throws Failure {
        if (records == null || records.length == 0 || records.length > MAX_MESSAGE) {
            throw new Failure(BAD_REQUEST, "message " + n + " is missing or larger than " + MAX_MESSAGE + " bytes");
        }
        try {
            protocol.offerInput(records);
        } catch (IOException | RuntimeException e) {
            if (client.outcome.refusal != null) {
                throw new Failure(
                        NOT_AUTHENTICATED,
                        "the Terminating end-point's certificate was refused: " + client.outcome.refusal.getMessage());
            }
            // this end's own outage while it judged the answer (the peer's certificate against trust anchors and
            // CRLs in the database, a signature in the HSM): the caller's 503, not a refusal of the peer
            for (Throwable c = e; c != null; c = c.getCause() == c ? null : c.getCause()) {
                if (c instanceof HsmUnavailableException outage) {
                    throw outage;
                }
            }
            if (DatabaseOutage.causedBy(e)) {
                throw new DatabaseUnavailableException("while judging ESCertKE message " + n, e);
            }
            if (e instanceof TlsFatalAlertReceived alert
                    && alert.getAlertDescription() == AlertDescription.internal_error) {
                // the Terminating end-point failed on its side (its HSM or database): not this request's fault
                throw new Failure(
                        BUSY, "message " + n + ": the Terminating end-point failed (internal_error); retry later");
            }
            throw new Failure(BAD_REQUEST, "message " + n + " was refused by TLS: " + e.getMessage());
        }
    }

    // ---------------------------------------------------------------- keys

    /**
     * The newest usable key between {@code localIdentity} and {@code peerIdentity}, if any. The originator role asks
     * for every primitive it protects, so the answer is remembered like a session (at most 10 s, never past the key's
     * expiry); revocations through this replica forget it at once ({@link #invalidate}), other replicas within 10 s.
     */
    /** The usable key from {@code localIdentity} to {@code peerIdentity}, newest first, as the originator uses it. */
    public Optional<Established> currentKey(String tenantId, String localIdentity, String peerIdentity) {
        return current(tenantId, localIdentity, peerIdentity)
                .map(k -> new Established(k.keyId, localIdentity, peerIdentity, k.expiresAt));
    }

    Optional<EscertkeKey> current(String tenantId, String localIdentity, String peerIdentity) {
        return currentCache.get(
                tenantId + "|" + localIdentity + "|" + peerIdentity,
                c -> c.map(k -> k.usable(Instant.now())).orElse(false),
                () -> loadCurrent(tenantId, localIdentity, peerIdentity),
                Optional::isPresent); // absence is not remembered: a key may be established any moment
    }

    private Optional<EscertkeKey> loadCurrent(String tenantId, String localIdentity, String peerIdentity) {
        return QuarkusTransaction.requiringNew()
                .call(() -> rows.current(tenantId, localIdentity, peerIdentity, Instant.now()));
    }

    public SecretBytes open(EscertkeKey k) {
        return sealer.open(seal(k.tenantId, k.keyId), k.sealedKey);
    }

    static KeySealer.SealContext seal(String tenantId, String kid) {
        return new KeySealer.SealContext(tenantId, kid, SEAL_PURPOSE);
    }

    private EscertkeKey store(
            String tenantId,
            String actor,
            EscertkeKey.Role role,
            String local,
            String localSubject,
            String peerFrom,
            PeerCertificates.Verified peer,
            String initiatorFqdn,
            SecretBytes exported) {
        String kid = exported.reveal(b -> HexFormat.of().formatHex(b, 0, 16)) + "@" + initiatorFqdn;
        Instant now = Instant.now().truncatedTo(ChronoUnit.MICROS);
        try (SecretBytes key = exported.reveal(b -> SecretBytes.copyOf(Arrays.copyOfRange(b, 16, 48)))) {
            byte[] sealed = sealer.seal(seal(tenantId, kid), key);
            return QuarkusTransaction.requiringNew().call(() -> {
                Instant until = now.plusSeconds(policies.current(tenantId).defaultKeyLifetimeSeconds);
                if (peer.notAfter().isBefore(until)) {
                    until = peer.notAfter(); // the key is worth no more than the certificate that authenticated it
                }
                EscertkeKey k = new EscertkeKey();
                k.tenantId = tenantId;
                k.keyId = kid;
                k.role = role;
                k.localIdentity = local;
                k.peerIdentity = peerFrom;
                k.localSubject = localSubject;
                k.peerSubject = peer.identity().san();
                k.peerCertificateSerial = peer.serial();
                k.peerCertificateSha256 = peer.sha256();
                k.sealedKey = sealed;
                k.createdAt = now;
                k.expiresAt = until;
                em.persist(k);
                audit.append(
                        tenantId,
                        actor,
                        "escertke.established",
                        "escertke-key/" + kid,
                        AuditLog.Outcome.SUCCESS,
                        role.name().toLowerCase() + " " + local + " <-> " + peerFrom + " (certificate " + peer.serial()
                                + ")");
                em.detach(k);
                return k;
            });
        }
    }

    // ---------------------------------------------------------------- credentials and trust

    /**
     * Looked-up keys, credentials and trust lists, cached per replica (every handshake and protected primitive needs
     * them). The cluster topic of every ESCertKE change: an admin change or a revocation on any replica drops a
     * tenant's entries everywhere (ADR 0023); the TTL is a backstop.
     */
    static final String TOPIC = "escertke";

    static final Duration CACHE_TTL = Duration.ofSeconds(30);
    private final ReplicaCaches caches;
    private final ReplicaCache<Optional<EscertkeKey>> currentCache;
    private final ReplicaCache<Optional<EscertkeTls.Credentials>> credentialCache;
    private final ReplicaCache<List<byte[]>> issuerCache;

    /**
     * In the transaction of an admin change to the tenant's trust anchors: every replica forgets what it cached of
     * the tenant, at the commit.
     */
    public void invalidate(String tenantId) {
        caches.changed(TOPIC, tenantId);
    }

    /** A revocation committed (here or on another replica): this replica forgets the tenant's entries. */
    void forgetHere(String tenantId) {
        caches.forgetHere(TOPIC, tenantId);
    }

    /**
     * The end-point whose certificate names {@code identity}: EC P-256, active, its chain and HSM key. Cached
     * for 10 s per replica: a deleted end-point stops being used within that time (its HSM key is destroyed at
     * once, so a handshake in that window fails to sign).
     */
    Optional<EscertkeTls.Credentials> credentials(String tenantId, PeerIdentity identity) {
        return credentialCache.get(
                tenantId + "|" + identity.type() + "|" + identity.san(), () -> loadCredentials(tenantId, identity));
    }

    private Optional<EscertkeTls.Credentials> loadCredentials(String tenantId, PeerIdentity identity) {
        Optional<EndpointService.TlsCredentials> own =
                endpoints.ecCredentialsFor(tenantId, identity.type(), identity.san());
        if (own.isEmpty()) {
            return Optional.empty();
        }
        byte[] der = own.get().certificateDer();
        X509Certificate leaf = Certificates.parse(der);
        List<byte[]> chain = new ArrayList<>();
        chain.add(der);
        for (TenantCa.Ca c : ca.cas(tenantId)) {
            if (PeerCertificates.signedBy(leaf, c.certificate())) {
                try {
                    chain.add(c.certificate().getEncoded());
                } catch (java.security.cert.CertificateEncodingException ex) {
                    throw new IllegalStateException(ex);
                }
                break;
            }
        }
        return Optional.of(new EscertkeTls.Credentials(chain, own.get().key()));
    }

    /** Whether {@code entityId} can terminate ESCertKE under {@code policy}: an M2M-SP-ID, a policy suite, an end-point certificate naming it. */
    public boolean supports(TenantPolicy policy, String spId, String cseId, String entityId) {
        Optional<PeerIdentity> own = PeerIdentity.of(entityId, spId, cseId);
        return own.isPresent()
                && suites(policy).length > 0
                && credentials(policy.tenantId, own.get()).isPresent();
    }

    /** Subjects of every CA whose certificates this tenant accepts (CertificateRequest.certificate_authorities). */
    List<byte[]> acceptedIssuers(String tenantId) {
        return issuerCache.get(tenantId, () -> loadAcceptedIssuers(tenantId));
    }

    private List<byte[]> loadAcceptedIssuers(String tenantId) {
        List<byte[]> out = new ArrayList<>(ca.acceptedIssuers(tenantId));
        List<TrustAnchor> anchors = QuarkusTransaction.requiringNew().call(() -> rows.trustAnchors(tenantId));
        for (TrustAnchor a : anchors) {
            out.add(Certificates.parse(a.certificate).getSubjectX500Principal().getEncoded());
        }
        return List.copyOf(out);
    }

    /** The policy's ECDHE_ECDSA suites in its order (empty: the policy allows no ESCertKE). */
    int[] suites(String tenantId) {
        return suites(policies.current(tenantId));
    }

    static int[] suites(TenantPolicy p) {
        return Arrays.stream(p.tlsCipherSuites)
                .filter(SUITES::containsKey)
                .mapToInt(SUITES::get)
                .toArray();
    }

    private static byte[] drain(TlsProtocol protocol) {
        int n = protocol.getAvailableOutputBytes();
        byte[] out = new byte[n];
        if (n > 0) {
            protocol.readOutput(out, 0, n);
        }
        return out;
    }

    /** Drops half-finished handshakes older than the handshake TTL; returns how many. */
    public int purgeExpired() {
        long now = System.nanoTime();
        int before = pending.size();
        pending.entrySet().removeIf(e -> now - e.getValue().startedNanos() > handshakeTtl.toNanos());
        return before - pending.size();
    }

    /** Handshakes in progress on this replica (metrics, tests). */
    public int pendingHandshakes() {
        return pending.size();
    }
}
