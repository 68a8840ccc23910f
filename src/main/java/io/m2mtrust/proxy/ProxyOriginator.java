package io.m2mtrust.proxy;

import io.m2mtrust.cluster.ReplicaCaches;
import io.m2mtrust.common.ResponseStatusCode;
import io.m2mtrust.common.SecretBytes;
import io.m2mtrust.escertke.EscertkeService;
import io.m2mtrust.escertke.PeerIdentity;
import io.m2mtrust.esprim.EsprimError;
import io.m2mtrust.esprim.EsprimKdf;
import io.m2mtrust.esprim.EsprimObject;
import io.m2mtrust.esprim.EsprimReceiver;
import io.m2mtrust.esprim.Operation;
import io.m2mtrust.esprim.OriginatorRands;
import io.m2mtrust.esprim.PrimitiveCodec;
import io.m2mtrust.esprim.RandObject;
import io.m2mtrust.esprim.RequestPrimitive;
import io.m2mtrust.esprim.ResponsePrimitive;
import io.m2mtrust.keysource.KeyResolution;
import io.m2mtrust.keysource.KeySources;
import io.m2mtrust.keysource.KeyUsage;
import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.persistence.EntityManager;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The Originator role (TS-0003 §8.4.2 B–C) for a legacy entity behind the proxy: its plain primitive to a
 * configured remote receiver is sent as an ESPrim object. The proxy obtains the receiver's rand object (the
 * shared one from its {@code esi}, or a type-3 Notify), makes its own originator rand object, derives the
 * sessionESPrimKey from the pairwise key both sides hold, sends the protected Notify, and answers with the
 * decrypted inner response — accepted only with the request's own {@code rqi} and the same kid/ori/rri.
 * Rand objects are kept in PostgreSQL until shortly before they expire; a refusal that says they are unknown
 * gets one retry with fresh ones.
 */
@ApplicationScoped
public class ProxyOriginator {

    private static final SecureRandom RANDOM = new SecureRandom();
    private static final Duration MARGIN = Duration.ofSeconds(30);

    private final EntityManager em;
    private final KeySources keys;
    private final EscertkeService escertke;
    private final OriginatorRands rands;
    private final CseClient http;

    ProxyOriginator(
            EntityManager em,
            KeySources keys,
            EscertkeService escertke,
            OriginatorRands rands,
            CseClient http,
            ReplicaCaches caches) {
        this.http = http;
        this.rands = rands;
        this.em = em;
        this.keys = keys;
        this.escertke = escertke;
        // a revocation or a lost cluster link ends the sessions in memory
        caches.register(EsprimReceiver.SESSIONS_TOPIC, new ReplicaCaches.Forgetter() {
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

    public Optional<ProxyRemote> remote(String tenantId, String name) {
        return Optional.ofNullable(QuarkusTransaction.requiringNew()
                .call(() -> em.find(ProxyRemote.class, new ProxyRemote.Key(tenantId, name))));
    }

    /** Sends {@code in} (a plain primitive of {@code in}'s X-M2M-Origin) to the remote receiver through ESPrim. */
    public ProxyService.Outgoing send(String tenantId, ProxyConfig cfg, ProxyRemote remote, ProxyService.Incoming in) {
        String origin = in.header("X-M2M-Origin");
        String ri = in.header("X-M2M-RI");
        if (origin == null
                || origin.isBlank()
                || origin.length() > 200
                || ri == null
                || ri.isBlank()
                || ri.length() > 200) {
            return ProxyService.answer(4000, "X-M2M-Origin and X-M2M-RI are required", ri);
        }
        if (remote.keyId == null) {
            // no configured key: ESCertKE with the receiver; the originator then speaks with its absolute ID, the
            // identity its certificate and the established key are bound to
            try {
                EscertkeService.Established k = establish(tenantId, cfg, origin, remote);
                origin = k.localIdentity();
                remote = withKey(remote, k.keyId());
            } catch (EscertkeService.Failure f) {
                return ProxyService.answer(
                        f.rsc, "ESCertKE with " + remote.receiverId + " failed: " + f.getMessage(), ri);
            }
        }
        RequestPrimitive inner;
        try {
            inner = innerRequest(in, origin, ri);
        } catch (IllegalArgumentException e) {
            return ProxyService.answer(4000, e.getMessage(), ri);
        }
        for (int attempt = 0; attempt < 2; attempt++) {
            try {
                return exchange(tenantId, cfg, remote, origin, inner, ri, attempt > 0);
            } catch (StaleRand stale) {
                sessions.remove(sessionId(tenantId, origin, remote));
                forget(tenantId, origin, remote.receiverId);
            } catch (EsprimError e) {
                return ProxyService.answer(e.rsc, e.getMessage(), ri);
            }
        }
        return ProxyService.answer(
                EsprimError.UNKNOWN_RECV_RAND_ID, "the remote receiver refused fresh rand objects too", ri);
    }

    /** The usable ESCertKE key between {@code origin} and the remote receiver, established now when there is none. */
    EscertkeService.Established establish(String tenantId, ProxyConfig cfg, String origin, ProxyRemote remote)
            throws EscertkeService.Failure {
        String from = PeerIdentity.of(origin, cfg.spId, cfg.cseId)
                .map(PeerIdentity::absolute)
                .orElseThrow(() -> new EscertkeService.Failure(
                        cfg.spId == null ? 5207 : 4000,
                        cfg.spId == null
                                ? "ESCertKE needs the tenant's M2M-SP-ID in the proxy configuration"
                                : origin + " is not a CSE-ID or AE-ID a certificate can name"));
        Optional<EscertkeService.Established> known = escertke.currentKey(tenantId, from, remote.receiverId);
        if (known.isPresent()) {
            return known.get();
        }
        return establishNew(tenantId, cfg, origin, remote, "escertke");
    }

    /** A new ESCertKE key between {@code origin} and the remote receiver (admin request), whatever keys exist already. */
    EscertkeService.Established establishNew(
            String tenantId, ProxyConfig cfg, String origin, ProxyRemote remote, String actor)
            throws EscertkeService.Failure {
        Duration timeout = Duration.ofMillis(cfg.timeoutMs);
        return escertke.initiate(
                tenantId,
                cfg.spId,
                cfg.cseId,
                origin,
                remote.receiverId,
                actor,
                (f, records) -> escertkeNotify(remote.url, f, records, timeout));
    }

    /** One ESCertKE Notify (securityInfo type 6) to the Terminating end-point; the records of its answer. */
    byte[] escertkeNotify(String url, String from, byte[] records, Duration timeout) throws EscertkeService.Failure {
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("X-M2M-Origin", from);
        headers.put("X-M2M-RI", "escertke-" + HexFormat.of().formatHex(bytes(8)));
        headers.put("X-M2M-RVI", "3");
        headers.put("Content-Type", "application/json");
        headers.put("Accept", "application/json");
        byte[] body;
        try {
            body = ProxyService.JSON.writeValueAsBytes(Map.of(
                    "m2m:seci",
                    Map.of("sit", 6, "eckm", java.util.Base64.getEncoder().encodeToString(records))));
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
        CseClient.Answer a = http.send(url, "POST", "", headers, body, timeout);
        if (a.rsc() != 2000) {
            throw new EscertkeService.Failure(
                    a.rsc(),
                    "the Terminating end-point answered " + a.rsc() + ": "
                            + new String(a.body(), StandardCharsets.UTF_8));
        }
        Map<String, Object> seci = ProxyService.securityInfo(a.body());
        if (seci == null
                || !(seci.get("sit") instanceof Number sit)
                || sit.intValue() != 6
                || !(seci.get("eckm") instanceof String eckm)) {
            throw new EscertkeService.Failure(4000, "the answer carries no ESCertKE message");
        }
        try {
            return java.util.Base64.getDecoder().decode(eckm);
        } catch (IllegalArgumentException e) {
            throw new EscertkeService.Failure(4000, "the answer's ESCertKE message is not base64");
        }
    }

    private static ProxyRemote withKey(ProxyRemote r, String keyId) {
        ProxyRemote c = new ProxyRemote();
        c.tenantId = r.tenantId;
        c.name = r.name;
        c.receiverId = r.receiverId;
        c.url = r.url;
        c.keyId = keyId;
        c.createdAt = r.createdAt;
        return c;
    }

    private static final class StaleRand extends Exception {
        StaleRand() {
            super(null, null, false, false);
        }
    }

    @SuppressWarnings("unchecked")
    private ProxyService.Outgoing exchange(
            String tenantId,
            ProxyConfig cfg,
            ProxyRemote remote,
            String origin,
            RequestPrimitive inner,
            String ri,
            boolean fresh)
            throws EsprimError, StaleRand {
        Duration timeout = Duration.ofMillis(cfg.timeoutMs);
        Session sess = session(tenantId, origin, remote, timeout, fresh);
        RandObject rr = sess.rr();
        RandObject or = sess.or();
        String enc = "A256GCM";
        try (SecretBytes session = SecretBytes.copyOf(sess.key())) {
            String epo = EsprimObject.protect(
                    ProxyService.JSON.writeValueAsBytes(PrimitiveCodec.write(inner)),
                    session,
                    enc,
                    remote.keyId,
                    or.id(),
                    rr.id(),
                    "application/vnd.onem2m-preq+json",
                    or.toJson(false),
                    null);
            Map<String, String> headers = new LinkedHashMap<>();
            headers.put("X-M2M-Origin", origin);
            headers.put("X-M2M-RI", "esprim-" + ri);
            headers.put("X-M2M-RVI", "3");
            headers.put("Content-Type", "application/json");
            headers.put("Accept", "application/json");
            byte[] body = ProxyService.JSON.writeValueAsBytes(Map.of("m2m:seci", Map.of("sit", 5, "epo", epo)));
            CseClient.Answer a = http.send(remote.url, "POST", "", headers, body, timeout);
            if (a.rsc() == EsprimError.UNKNOWN_RECV_RAND_ID || a.rsc() == EsprimError.UNKNOWN_ORIG_RAND_ID) {
                throw new StaleRand();
            }
            if (a.rsc() != 2000) {
                // an unsecured answer (transport or ESPrim error): passed on as it came
                return new ProxyService.Outgoing(
                        a.httpStatus(), a.rsc(), a.contentType(), a.body(), Map.of("X-M2M-RI", ri));
            }
            Map<String, Object> seci = (Map<String, Object>) ProxyService.securityInfo(a.body());
            if (seci == null
                    || !(seci.get("sit") instanceof Number sit)
                    || sit.intValue() != 5
                    || !(seci.get("epo") instanceof String respEpo)) {
                throw new EsprimError(EsprimError.DECRYPTION_ERROR, "the receiver's answer is not an ESPrim object");
            }
            EsprimObject.Parsed p = EsprimObject.parse(respEpo);
            if (!p.kid().equals(remote.keyId)
                    || !p.ori().equals(or.id())
                    || !p.rri().equals(rr.id())) {
                throw new EsprimError(
                        EsprimError.DECRYPTION_ERROR, "the receiver's answer names another key or other rand objects");
            }
            ResponsePrimitive response;
            try {
                response = PrimitiveCodec.readResponse(
                        ProxyService.JSON.readValue(EsprimObject.decrypt(p, session), Map.class));
            } catch (EsprimError e) {
                throw new EsprimError(
                        EsprimError.DECRYPTION_ERROR, "the receiver's answer does not decrypt with the session key");
            }
            if (!ri.equals(response.requestId())) {
                // an originator accepts only a response to its own request (no reflection with the shared session key)
                throw new EsprimError(EsprimError.DECRYPTION_ERROR, "the protected answer is for another request");
            }
            int rsc = response.rsc();
            byte[] pc =
                    response.content() == null ? new byte[0] : ProxyService.JSON.writeValueAsBytes(response.content());
            Map<String, String> h = new LinkedHashMap<>();
            h.put("X-M2M-RI", ri);
            return new ProxyService.Outgoing(ResponseStatusCode.httpStatusOf(rsc), rsc, "application/json", pc, h);
        } catch (java.io.IOException e) {
            throw new EsprimError(EsprimError.ENCRYPTION_ERROR, "the primitive could not be serialised");
        }
    }

    /**
     * The session toward {@code remote} for {@code origin}: kept in memory (architecture: session keys live in
     * memory with an expiry) for at most {@link #SESSION_TTL} and never closer than {@link #MARGIN} to the rand
     * objects' expiry, so the pairwise key is unsealed in the HSM once per session, not per message; a revoked
     * key stops being used within the TTL.
     */
    private record Session(byte[] key, RandObject rr, RandObject or, Instant until) {}

    static final Duration SESSION_TTL = Duration.ofSeconds(30);
    private final java.util.concurrent.ConcurrentHashMap<String, Session> sessions =
            new java.util.concurrent.ConcurrentHashMap<>();

    private static String sessionId(String tenantId, String origin, ProxyRemote remote) {
        return tenantId + "|" + origin + "|" + remote.name + "|" + remote.receiverId + "|" + remote.keyId + "|"
                + remote.url;
    }

    private Session session(String tenantId, String origin, ProxyRemote remote, Duration timeout, boolean fresh)
            throws EsprimError {
        Instant now = Instant.now();
        String id = sessionId(tenantId, origin, remote);
        Session known = sessions.get(id);
        if (!fresh && known != null && known.until().isAfter(now)) {
            return known;
        }
        KeyResolution key = QuarkusTransaction.requiringNew()
                .call(() -> keys.resolve(tenantId, origin, remote.keyId, KeyUsage.ESPRIM, true));
        if (!key.usable()) {
            throw new EsprimError(
                    EsprimError.UNKNOWN_KEY_ID,
                    "no usable pairwise key " + remote.keyId + " for " + origin + ": " + key.problem());
        }
        try (SecretBytes pairwise = key.key()) {
            if (!key.peers().contains(remote.receiverId)) {
                throw new EsprimError(
                        EsprimError.UNKNOWN_KEY_ID, "key " + remote.keyId + " is not shared with " + remote.receiverId);
            }
            RandObject rr = peerReceiverRand(tenantId, origin, remote, timeout, fresh);
            RandObject or = ownOriginatorRand(tenantId, origin, remote, rr);
            Instant cap = now.plus(SESSION_TTL);
            Instant randLimit = or.expiry().minus(MARGIN);
            try (SecretBytes derived = EsprimKdf.sessionKey(pairwise, rr.value(), or.value())) {
                Session s = new Session(derived.copy(), rr, or, randLimit.isBefore(cap) ? randLimit : cap);
                if (sessions.size() > 20_000) {
                    sessions.entrySet().removeIf(e -> !e.getValue().until().isAfter(now));
                }
                sessions.put(id, s);
                return s;
            }
        }
    }

    /** The inner request primitive from a plain HTTP-binding request (TS-0009 → TS-0004 JSON with short names). */
    static RequestPrimitive innerRequest(ProxyService.Incoming in, String origin, String ri) {
        Operation op = switch (in.method()) {
            case "GET" -> Operation.RETRIEVE;
            case "PUT" -> Operation.UPDATE;
            case "DELETE" -> Operation.DELETE;
            default -> ProxyService.hasResourceType(in.header("Content-Type")) ? Operation.CREATE : Operation.NOTIFY;
        };
        Integer ty = null;
        if (op == Operation.CREATE) {
            String t = in.header("Content-Type").replace(" ", "");
            ty = Integer.parseInt(t.substring(t.indexOf(";ty=") + 4).replaceAll("[^0-9].*", ""));
        }
        Object pc = null;
        if (in.body() != null && in.body().length > 0) {
            try {
                pc = ProxyService.JSON.readValue(in.body(), Object.class);
            } catch (IOException e) {
                throw new IllegalArgumentException("the content is not JSON");
            }
        }
        return new RequestPrimitive(op, in.path(), origin, ri, in.header("X-M2M-RVI"), ty, pc);
    }

    private RandObject peerReceiverRand(
            String tenantId, String origin, ProxyRemote remote, Duration timeout, boolean fresh) throws EsprimError {
        Instant now = Instant.now();
        if (!fresh) {
            Optional<RandObject> cached = rands.peerReceiver(tenantId, origin, remote.receiverId, now.plus(MARGIN));
            if (cached.isPresent()) {
                return cached.get();
            }
        }
        // a type-3 Notify (TS-0004 §7.5.1.2.11): a receiver rand object for this originator
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("X-M2M-Origin", origin);
        headers.put("X-M2M-RI", "rand-" + HexFormat.of().formatHex(bytes(8)));
        headers.put("X-M2M-RVI", "3");
        headers.put("Content-Type", "application/json");
        CseClient.Answer a = http.send(
                remote.url,
                "POST",
                "",
                headers,
                "{\"m2m:seci\":{\"sit\":3}}".getBytes(StandardCharsets.UTF_8),
                timeout);
        if (a.rsc() != 2000) {
            throw new EsprimError(
                    a.rsc() == 4008 || a.rsc() == 5103 ? a.rsc() : EsprimError.UNKNOWN_RECV_RAND_ID,
                    "the remote receiver gave no rand object (" + a.rsc() + ")");
        }
        RandObject rr;
        try {
            Map<String, Object> seci = ProxyService.securityInfo(a.body());
            if (seci == null || !(seci.get("sit") instanceof Number sit) || sit.intValue() != 4) {
                throw new IllegalArgumentException("not a receiverESPrimRandObject response");
            }
            rr = RandObject.fromJson(seci.get("ero"), true);
        } catch (IllegalArgumentException e) {
            throw new EsprimError(
                    EsprimError.UNKNOWN_RECV_RAND_ID,
                    "the remote receiver's rand object is unusable: " + e.getMessage());
        }
        if (!rr.keyGenAlgs().contains(EsprimKdf.KEY_GEN_HMAC_SHA256)
                || !rr.protocolAlgs().contains(12)
                || !rr.expiry().isAfter(now.plus(MARGIN))) {
            throw new EsprimError(
                    EsprimError.UNSUPPORTED_OPTION,
                    "the remote receiver offers no HMAC-SHA256 / A256GCM or an expiring rand object");
        }
        rands.storePeerReceiver(tenantId, origin, remote.receiverId, rr);
        return rr;
    }

    private RandObject ownOriginatorRand(String tenantId, String origin, ProxyRemote remote, RandObject rr) {
        Optional<RandObject> mine = rands.ownOriginator(
                tenantId, origin, remote.receiverId, Instant.now().plus(MARGIN), rr.expiry());
        if (mine.isPresent()) {
            return mine.get();
        }
        byte[] id = bytes(8);
        // expiry no later than the receiver's; one key-generation algorithm; AEAD ids within the receiver's
        RandObject or = new RandObject(
                "o" + HexFormat.of().formatHex(id),
                bytes(16),
                rr.expiry().truncatedTo(ChronoUnit.SECONDS),
                List.of(EsprimKdf.KEY_GEN_HMAC_SHA256),
                List.of(12));
        rands.storeOwnOriginator(tenantId, origin, remote.receiverId, or);
        return or;
    }

    private void forget(String tenantId, String origin, String receiverId) {
        rands.forget(tenantId, origin, receiverId);
    }

    private static byte[] bytes(int n) {
        byte[] b = new byte[n];
        RANDOM.nextBytes(b);
        return b;
    }
}
