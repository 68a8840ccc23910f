package io.m2mtrust.esprim;

import io.m2mtrust.cluster.ReplicaCaches;
import io.m2mtrust.common.SecretBytes;
import io.m2mtrust.common.Sql;
import io.m2mtrust.keysource.KeyResolution;
import io.m2mtrust.keysource.KeySources;
import io.m2mtrust.keysource.KeyUsage;
import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.enterprise.context.ApplicationScoped;

import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HashSet;
import java.util.List;
import java.util.Map;

/**
 * The Receiver of ESPrim (TS-0003 §8.4.2 B–C; TS-0001 §11.4.2) for an entity the service protects: it
 * issues receiver rand objects (shared, or per originator on a type-3 request), and opens ESPrim objects
 * with every receiver check — known key ({@code kid}, 4112), known unexpired receiver rand ({@code rri},
 * 4114) and originator rand ({@code ori}/{@code oro}, 4113; expiry not after the receiver's, key-generation
 * algorithm and AEAD ids within the receiver's, {@code enc} within the originator's: 4111), the tag (4115),
 * the inner {@code From} equal to the identity bound to the pairwise key (4116), no nested securityInfo, and
 * replay protection kept in PostgreSQL (the same key and IV, or the same originator and request id, are
 * refused while the rand objects live — also after a restart). Session keys are derived again when needed
 * and never stored.
 */
@ApplicationScoped
public class EsprimReceiver {

    /**
     * What an opened ESPrim object carried, and what answering it needs. Only the receiver makes one, after every
     * check of TS-0003 §8.4.2 passed: holding an {@code Opened} means the inner request was authenticated.
     */
    public static final class Opened implements AutoCloseable {
        private final RequestPrimitive inner;
        private final String from;
        private final String kid;
        private final String ori;
        private final String rri;
        private final String enc;
        private final SecretBytes sessionKey;

        Opened(RequestPrimitive inner, String from, String kid, String ori, String rri, String enc, SecretBytes key) {
            this.inner = inner;
            this.from = from;
            this.kid = kid;
            this.ori = ori;
            this.rri = rri;
            this.enc = enc;
            this.sessionKey = key;
        }

        /** The authenticated inner request. */
        public RequestPrimitive inner() {
            return inner;
        }

        /** The inner From, bound to the pairwise key (TS-0003 §7.2.2). */
        public String from() {
            return from;
        }

        public String kid() {
            return kid;
        }

        String ori() {
            return ori;
        }

        String rri() {
            return rri;
        }

        String enc() {
            return enc;
        }

        SecretBytes sessionKey() {
            return sessionKey;
        }

        @Override
        public void close() {
            sessionKey.close();
        }

        @Override
        public String toString() {
            return "Opened[" + kid + ", from " + from + "]";
        }
    }

    private static final SecureRandom RANDOM = new SecureRandom();
    static final String REQUEST_TYPE = "application/vnd.onem2m-preq+json";
    static final String RESPONSE_TYPE = "application/vnd.onem2m-prsp+json";

    private final RandStore store;
    private final ReplayLedger replays;
    private final KeySources keys;

    EsprimReceiver(RandStore store, KeySources keys, ReplayLedger replays, ReplicaCaches caches) {
        this.store = store;
        this.keys = keys;
        this.replays = replays;
        // a revocation (EsprimRevocations) or a lost cluster link ends the sessions in memory
        caches.register(SESSIONS_TOPIC, new ReplicaCaches.Forgetter() {
            @Override
            public void forgetTenant(String tenantId) {
                sessions.keySet().removeIf(k -> k.startsWith(tenantId + "|"));
            }

            @Override
            public void forgetAll() {
                sessions.clear();
            }
        });
    }

    /** The cluster topic of ESPrim sessions held in memory (receiving here, originating in the proxy). */
    public static final String SESSIONS_TOPIC = "esprim-sessions";

    /** Live per-originator receiver rand objects one entity keeps at most: type-3 requests are unauthenticated. */
    static final long MAX_LIVE_PER_ENTITY = 10_000;

    /**
     * The receiver rand object for a type-3 request of {@code originator}: its live one while more than half of
     * the lifetime is left (repeated requests make no new rows), else a new one — refused (5000) once the entity
     * holds {@value #MAX_LIVE_PER_ENTITY} live ones.
     */
    public RandObject issueFor(String tenantId, String entityId, String originator, Duration lifetime)
            throws EsprimError {
        Instant now = Instant.now();
        java.util.Optional<RandObject> live = QuarkusTransaction.requiringNew()
                .call(() -> store.newest(
                                tenantId,
                                entityId,
                                EsprimRand.Role.RECEIVER,
                                originator,
                                now.plus(lifetime.dividedBy(2)),
                                null)
                        .map(EsprimRand::toRandObject));
        if (live.isPresent()) {
            return live.get();
        }
        long count = QuarkusTransaction.requiringNew().call(() -> store.liveUnsharedReceivers(tenantId, entityId, now));
        if (count >= MAX_LIVE_PER_ENTITY) {
            throw new EsprimError(
                    5000, "too many live receiver rand objects for " + entityId + "; use the shared one (esi.esro)");
        }
        return issue(tenantId, entityId, originator, lifetime);
    }

    /** A new receiver rand object for {@code entity}: for one originator (type-3 request) or shared ({@code originator} null). */
    public RandObject issue(String tenantId, String entityId, String originator, Duration lifetime) {
        byte[] value = new byte[16];
        RANDOM.nextBytes(value);
        byte[] idBytes = new byte[12];
        RANDOM.nextBytes(idBytes);
        // the id says whether the object is shared (TS-0003 §8.4.2 B): "s" shared, "r" for one originator
        String id = (originator == null ? "s" : "r") + java.util.HexFormat.of().formatHex(idBytes);
        Instant now = Instant.now().truncatedTo(ChronoUnit.SECONDS);
        EsprimRand r = new EsprimRand();
        r.tenantId = tenantId;
        r.entityId = entityId;
        r.role = EsprimRand.Role.RECEIVER;
        r.randId = id;
        r.peer = originator;
        r.shared = originator == null;
        r.randValue = value;
        r.keyGenAlgs = new Integer[] {EsprimKdf.KEY_GEN_HMAC_SHA256};
        r.protocolAlgs = RandObject.ALL_PROTOCOL_ALGS.toArray(Integer[]::new);
        r.expiresAt = now.plus(lifetime);
        r.createdAt = now;
        QuarkusTransaction.requiringNew().run(() -> store.insert(r));
        return r.toRandObject();
    }

    /** The entity's current shared receiver rand object, if one lives at least {@code margin} longer. */
    public java.util.Optional<RandObject> currentShared(String tenantId, String entityId, Duration margin) {
        return QuarkusTransaction.requiringNew()
                .call(() -> store.newestShared(tenantId, entityId, Instant.now().plus(margin))
                        .map(EsprimRand::toRandObject));
    }

    /**
     * A session the receiver has opened before, kept in memory only (architecture: session keys live in memory
     * with an expiry): the session key, who the pairwise key is bound to, for whom the receiver rand object was
     * made, and until when it may be used — the earlier of the rand objects' expiry and {@link #SESSION_TTL} after
     * it was derived, so a revoked pairwise key or a changed policy takes effect within that time.
     */
    private record Session(byte[] key, List<String> peers, String receiverPeer, Instant until, byte[] originatorValue) {
        /** An {@code oro} sent again with a known session must be the same rand object. */
        boolean sameOriginatorRand(Map<String, Object> oro) {
            if (oro == null) {
                return true;
            }
            try {
                return java.util.Arrays.equals(RandObject.fromJson(oro, false).value(), originatorValue);
            } catch (IllegalArgumentException e) {
                return false;
            }
        }
    }

    static final Duration SESSION_TTL = Duration.ofSeconds(30);
    private static final int MAX_SESSIONS = 20_000;
    private final java.util.concurrent.ConcurrentHashMap<String, Session> sessions =
            new java.util.concurrent.ConcurrentHashMap<>();

    /** Opens an ESPrim object sent to {@code entityId}; every refusal carries its oneM2M status code. */
    public Opened open(String tenantId, String entityId, String compact) throws EsprimError {
        EsprimObject.Parsed p = EsprimObject.parse(compact); // shape and options, before any lookup
        Instant now = Instant.now();
        String sessionId = tenantId + "|" + entityId + "|" + p.kid() + "|" + p.ori() + "|" + p.rri() + "|" + p.enc();
        Session known = sessions.get(sessionId);
        if (known != null && known.until().isAfter(now) && known.sameOriginatorRand(p.oro())) {
            return openWith(
                    tenantId,
                    entityId,
                    p,
                    SecretBytes.copyOf(known.key()),
                    known.peers(),
                    known.receiverPeer(),
                    known.until(),
                    null);
        }
        EsprimRand receiver = QuarkusTransaction.requiringNew()
                .call(() -> store.find(tenantId, entityId, EsprimRand.Role.RECEIVER, p.rri()));
        if (receiver == null || !receiver.expiresAt.isAfter(now)) {
            throw new EsprimError(EsprimError.UNKNOWN_RECV_RAND_ID, "unknown or expired receiver rand id " + p.rri());
        }
        RandObject rr = receiver.toRandObject();
        RandObject or;
        boolean newOriginatorRand = false;
        if (p.oro() != null) {
            try {
                or = RandObject.fromJson(p.oro(), false);
            } catch (IllegalArgumentException e) {
                throw new EsprimError(EsprimError.BAD_REQUEST, "oro: " + e.getMessage());
            }
            if (!or.id().equals(p.ori())) {
                throw new EsprimError(EsprimError.BAD_REQUEST, "oro's esri is not the ori of the header");
            }
            newOriginatorRand = true;
        } else {
            EsprimRand stored = QuarkusTransaction.requiringNew()
                    .call(() -> store.find(tenantId, entityId, EsprimRand.Role.ORIGINATOR, p.ori()));
            if (stored == null) {
                throw new EsprimError(
                        EsprimError.UNKNOWN_ORIG_RAND_ID,
                        "unknown originator rand id " + p.ori() + " (send oro with it first)");
            }
            or = stored.toRandObject();
        }
        if (!or.expiry().isAfter(now)) {
            throw new EsprimError(
                    EsprimError.UNKNOWN_ORIG_RAND_ID, "the originator rand object " + p.ori() + " has expired");
        }
        checkAgreement(rr, or, p.enc());

        KeyResolution key = QuarkusTransaction.requiringNew()
                .call(() -> keys.resolve(tenantId, entityId, p.kid(), KeyUsage.ESPRIM, true));
        if (!key.usable()) {
            throw new EsprimError(EsprimError.UNKNOWN_KEY_ID, "unknown key id " + p.kid() + ": " + key.problem());
        }
        SecretBytes session;
        try (SecretBytes pairwise = key.key()) {
            session = EsprimKdf.sessionKey(pairwise, rr.value(), or.value());
        }
        Instant until = rr.expiry().isBefore(or.expiry()) ? rr.expiry() : or.expiry();
        Opened opened = openWith(
                tenantId, entityId, p, session, key.peers(), receiver.peer, until, newOriginatorRand ? or : null);
        if (sessions.size() >= MAX_SESSIONS) {
            sessions.entrySet().removeIf(e -> !e.getValue().until().isAfter(now));
        }
        if (sessions.size() < MAX_SESSIONS) {
            Instant cap = now.plus(SESSION_TTL);
            sessions.put(
                    sessionId,
                    new Session(
                            opened.sessionKey().copy(),
                            key.peers(),
                            receiver.peer,
                            until.isBefore(cap) ? until : cap,
                            or.value()));
        }
        return opened;
    }

    /** Decrypts with the session key and runs the checks that need the plaintext; takes ownership of {@code session}. */
    private Opened openWith(
            String tenantId,
            String entityId,
            EsprimObject.Parsed p,
            SecretBytes session,
            List<String> peers,
            String receiverPeer,
            Instant until,
            RandObject newOriginatorRand)
            throws EsprimError {
        boolean handedOver = false;
        try {
            byte[] plain = EsprimObject.decrypt(p, session);
            RequestPrimitive inner = PrimitiveCodec.readRequest(plain);
            String from = inner.from();
            // TS-0003 §7.2.2: the inner From must be the identity the pairwise key is bound to
            if (from == null || !peers.contains(from)) {
                throw new EsprimError(
                        EsprimError.IMPERSONATION, "the inner From is not the identity bound to key " + p.kid());
            }
            if (receiverPeer != null && !receiverPeer.equals(from)) {
                throw new EsprimError(
                        EsprimError.IMPERSONATION,
                        "the receiver rand object " + p.rri() + " was issued to another originator");
            }
            remember(
                    tenantId,
                    entityId,
                    List.of("iv:" + p.kid() + ":" + EsprimObject.iv(p), "rqi:" + from + ":" + inner.requestId()),
                    until);
            if (newOriginatorRand != null) {
                keepOriginatorRand(tenantId, entityId, from, newOriginatorRand);
            }
            handedOver = true;
            return new Opened(inner, from, p.kid(), p.ori(), p.rri(), p.enc(), session);
        } finally {
            if (!handedOver) {
                session.close();
            }
        }
    }

    /** Protects the inner response with the session key of the request, header kid, ori and rri (§8.4.2 C). */
    public String protectResponse(Opened o, byte[] innerResponse) throws EsprimError {
        return EsprimObject.protect(
                innerResponse, o.sessionKey(), o.enc(), o.kid(), o.ori(), o.rri(), RESPONSE_TYPE, null, null);
    }

    /** The originator's choices must fit the receiver's offer (TS-0003 §8.4.2 B–C). */
    static void checkAgreement(RandObject receiver, RandObject originator, String enc) throws EsprimError {
        if (originator.expiry().isAfter(receiver.expiry())) {
            throw new EsprimError(EsprimError.UNSUPPORTED_OPTION, "the originator rand object outlives the receiver's");
        }
        if (originator.keyGenAlgs().size() != 1
                || !receiver.keyGenAlgs().contains(originator.keyGenAlgs().get(0))) {
            throw new EsprimError(
                    EsprimError.UNSUPPORTED_OPTION, "esk must be one of the receiver's esks " + receiver.keyGenAlgs());
        }
        if (!new HashSet<>(receiver.protocolAlgs()).containsAll(originator.protocolAlgs())) {
            throw new EsprimError(
                    EsprimError.UNSUPPORTED_OPTION,
                    "espa must be a subset of the receiver's " + receiver.protocolAlgs());
        }
        if (!originator.protocolAlgs().contains(RandObject.protocolAlg(enc))) {
            throw new EsprimError(
                    EsprimError.UNSUPPORTED_OPTION,
                    "enc " + enc + " is not among the originator's espa " + originator.protocolAlgs());
        }
    }

    /**
     * Records the object's replay fingerprints (durably, before the request is answered) in the group-writing
     * {@link ReplayLedger}; a fingerprint seen before — stored, or claimed earlier in the same group — is a replay.
     */
    private void remember(String tenantId, String entityId, List<String> fingerprints, Instant until)
            throws EsprimError {
        boolean fresh = replays.claim(fingerprints.stream()
                .map(f -> new ReplayLedger.Fingerprint(
                        tenantId, entityId, f.length() > 400 ? f.substring(0, 400) : f, until))
                .toList());
        if (!fresh) {
            throw new EsprimError(
                    EsprimError.BAD_REQUEST, "replayed: this ESPrim object or inner request id was seen before");
        }
    }

    private void keepOriginatorRand(String tenantId, String entityId, String from, RandObject or) throws EsprimError {
        EsprimRand existing = QuarkusTransaction.requiringNew()
                .call(() -> store.find(tenantId, entityId, EsprimRand.Role.ORIGINATOR, or.id()));
        if (existing != null) {
            if (!java.util.Arrays.equals(existing.randValue, or.value()) || !from.equals(existing.peer)) {
                throw new EsprimError(
                        EsprimError.UNKNOWN_ORIG_RAND_ID,
                        "originator rand id " + or.id() + " is taken by another rand object");
            }
            return;
        }
        EsprimRand r = new EsprimRand();
        r.tenantId = tenantId;
        r.entityId = entityId;
        r.role = EsprimRand.Role.ORIGINATOR;
        r.randId = or.id();
        r.peer = from;
        r.shared = false;
        r.randValue = or.value();
        r.keyGenAlgs = or.keyGenAlgs().toArray(Integer[]::new);
        r.protocolAlgs = or.protocolAlgs().toArray(Integer[]::new);
        r.expiresAt = or.expiry();
        r.createdAt = Instant.now().truncatedTo(ChronoUnit.MICROS);
        try {
            QuarkusTransaction.requiringNew().run(() -> store.insert(r));
        } catch (RuntimeException e) {
            if (!Sql.isUniqueViolation(e)) {
                throw e;
            }
        }
    }

    /** Removes expired rand objects and replay fingerprints (scheduled by the proxy). */
    public int purgeExpired() {
        return QuarkusTransaction.requiringNew().call(() -> store.purgeExpired(Instant.now()));
    }
}
