package io.m2mtrust.esdata;

import io.m2mtrust.keysource.KeyResolution;
import io.m2mtrust.keysource.KeySources;
import io.m2mtrust.keysource.KeyUsage;
import io.m2mtrust.policy.PolicyService;
import io.m2mtrust.policy.TenantPolicy;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import jakarta.enterprise.context.ApplicationScoped;

import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * ESData protect / unprotect for a tenant end-point (the caller's identity decides which keys it may
 * use), and the dry-run that says which option, keys and algorithms a protect call would use, or why it
 * would fail, without touching a key. Symmetric options: encryption with MAF/MEF keys (SUID 34/24), MAC
 * with MAF/MEF keys (35/25).
 */
@ApplicationScoped
public class EsDataService {

    @ConfigMapping(prefix = "m2m.esdata")
    public interface Config {
        /** Largest plaintext protected or returned. */
        @WithDefault("65536")
        int maxPayloadBytes();

        /** Largest envelope accepted. */
        @WithDefault("200000")
        int maxEnvelopeBytes();

        /** Items in one batch call. */
        @WithDefault("50")
        int maxBatch();
    }

    /** What to protect: encrypt for {@code encryptFor} key ids and/or MAC with {@code macWith}; base64 payload and AAD. */
    public record ProtectRequest(
            String payload,
            String aad,
            List<String> encryptFor,

            @com.fasterxml.jackson.annotation.JsonFormat(
                    with = com.fasterxml.jackson.annotation.JsonFormat.Feature.ACCEPT_SINGLE_VALUE_AS_ARRAY)
            List<String> macWith,

            String alg,
            String enc,
            Integer contentSecurity) {}

    public record UnprotectRequest(String envelope, Integer contentSecurity, String expect) {}

    /** An answer or a refusal; {@code status} is the HTTP status for the item. */
    public record Outcome(int status, Map<String, Object> body) {}

    private final KeySources keys;
    private final PolicyService policies;
    private final Config config;

    EsDataService(KeySources keys, PolicyService policies, Config config) {
        this.keys = keys;
        this.policies = policies;
        this.config = config;
    }

    public Outcome protect(String tenantId, String caller, ProtectRequest req) {
        return reading(() -> protectTx(tenantId, caller, req, false));
    }

    /**
     * A batch call: every item as {@link #protect} answers it, all in one (read-only) transaction, so the per-call
     * costs — connection, begin, commit — are paid once per batch and not once per envelope. Callers check the batch
     * size first ({@link #maxBatch}).
     */
    public List<Outcome> protectAll(String tenantId, String caller, List<ProtectRequest> items) {
        return QuarkusTransaction.requiringNew()
                .call(() -> items.stream()
                        .map(i -> protectTx(tenantId, caller, i, false))
                        .toList());
    }

    /** The batch form of {@link #unprotect}, in one transaction as {@link #protectAll}. */
    public List<Outcome> unprotectAll(String tenantId, String caller, List<UnprotectRequest> items) {
        return QuarkusTransaction.requiringNew()
                .call(() -> items.stream()
                        .map(i -> unprotectTx(tenantId, caller, i))
                        .toList());
    }

    /**
     * Runs read-only ESData work (key resolution, certificate lookups) in the caller's transaction when there is one
     * — a batch shares one — or in its own. An exception in one item does not mark the shared transaction
     * rollback-only (nothing is written, and the other items of the batch still need it).
     */
    static <T> T reading(java.util.concurrent.Callable<T> work) {
        return QuarkusTransaction.joiningExisting()
                .exceptionHandler(x -> io.quarkus.narayana.jta.TransactionExceptionResult.COMMIT)
                .call(work);
    }

    /** The dry-run (what the crypto-policy simulator builds on): every check of {@link #protect}, no key opened, nothing produced. */
    public Outcome dryRun(String tenantId, String caller, ProtectRequest req) {
        return reading(() -> protectTx(tenantId, caller, req, true));
    }

    public Outcome unprotect(String tenantId, String caller, UnprotectRequest req) {
        return reading(() -> unprotectTx(tenantId, caller, req));
    }

    private Outcome unprotectTx(String tenantId, String caller, UnprotectRequest req) {
        JoseEnvelopes.Policy policy = policy(tenantId);
        JoseEnvelopes.Serialization s = serialization(req.contentSecurity());
        if (s == null || req.envelope() == null) {
            return refused(400, "give envelope and contentSecurity 1, 2 or 3");
        }
        boolean mac = "mac".equals(req.expect());
        if (req.expect() != null && !mac && !"encryption".equals(req.expect())) {
            return refused(400, "expect is encryption or mac");
        }
        if (!mac && req.expect() == null) {
            mac = looksLikeJws(req.envelope(), s);
        }
        List<String> used = new ArrayList<>();
        KeyUsage usage = mac ? KeyUsage.MAC : KeyUsage.ENCRYPT;
        JoseEnvelopes.KeyLookup opener = KeyOpener.of(keys, tenantId, caller, usage);
        JoseEnvelopes.KeyLookup lookup = kid -> {
            var k = opener.find(kid);
            k.ifPresent(x -> used.add(kid));
            return k;
        };
        try {
            byte[] plain;
            List<String> keyIds;
            if (mac) {
                JoseEnvelopes.Verified v = SignatureVerification.verifyAll(
                        req.envelope(),
                        s,
                        SignatureVerification.symmetricKeys(lookup),
                        policy,
                        JoseEnvelopes.Accept.MAC);
                plain = v.payload();
                keyIds = v.keyIds();
            } else {
                plain = SymmetricEnvelopes.decrypt(req.envelope(), s, lookup, policy);
                keyIds = List.copyOf(used);
            }
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("payload", Base64.getEncoder().encodeToString(plain));
            out.put("class", mac ? "signature" : "encryption");
            out.put("keyId", keyIds.isEmpty() ? null : keyIds.get(0));
            out.put("keyIds", keyIds);
            return new Outcome(200, out);
        } catch (JoseEnvelopes.Refused r) {
            return refused(statusOf(r), r.getMessage());
        }
    }

    /**
     * Protect and its dry-run are one path: the same checks, the same key resolution (the dry-run does not open
     * keys, it reads their lengths), the same algorithm choice ({@link SymmetricEnvelopes#planEncryption},
     * {@link Signatures#planMacs}); only the last step — opening the keys and producing the envelope — is skipped.
     * The dry-run answers what protect would: {@code wouldSucceed}, and on a refusal its status and problems.
     */
    private Outcome protectTx(String tenantId, String caller, ProtectRequest req, boolean dry) {
        JoseEnvelopes.Policy policy = policy(tenantId);
        JoseEnvelopes.Serialization s = serialization(req.contentSecurity());
        List<String> problems = new ArrayList<>();
        if (s == null) {
            problems.add("contentSecurity must be 1 (compact), 2 (JSON) or 3 (base64 JSON)");
        }
        byte[] payload = decode(req.payload(), "payload", problems);
        byte[] aad = req.aad() == null ? null : decode(req.aad(), "aad", problems);
        boolean encrypt = req.encryptFor() != null && !req.encryptFor().isEmpty();
        boolean mac = req.macWith() != null && !req.macWith().isEmpty();
        if (encrypt == mac) {
            problems.add(
                    "give either encryptFor (encryption) or macWith (MAC); nested sign-then-encrypt needs a certificate signature");
        }
        if (mac && aad != null) {
            problems.add("aad goes with encryption (a JWS has no AAD)");
        }
        int status = 400;
        if (problems.isEmpty() && payload.length > policy.maxPayloadBytes()) {
            problems.add("payload larger than " + policy.maxPayloadBytes() + " bytes");
        }
        List<String> kids = encrypt ? req.encryptFor() : mac ? req.macWith() : List.of();
        if (problems.isEmpty()) { // allow-lists first: no key is looked up for a refused request
            String problem = allowListProblem(policy, req.alg(), encrypt ? req.enc() : null, kids.size());
            if (problem != null) {
                problems.add(problem);
                status = 403;
            }
        }
        List<Map<String, Object>> keyViews = new ArrayList<>();
        List<JoseEnvelopes.KeySize> sizes = new ArrayList<>();
        List<KeyResolution> resolved = new ArrayList<>();
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("class", encrypt ? "encryption" : "signature");
        try {
            if (problems.isEmpty()) {
                status = 0; // the key refusals decide: 404 unknown before 403 forbidden before 400 malformed
                for (String kid : kids) {
                    KeyResolution r =
                            keys.resolve(tenantId, caller, kid, encrypt ? KeyUsage.ENCRYPT : KeyUsage.MAC, !dry);
                    Map<String, Object> v = new LinkedHashMap<>();
                    v.put("keyId", kid);
                    v.put("usable", r.usable());
                    if (r.usable()) {
                        v.put("suid", r.suid());
                        v.put("keyLength", r.keyLength());
                        v.put("expirationTime", r.expiresAt().toString());
                        resolved.add(r);
                        sizes.add(new JoseEnvelopes.KeySize(kid, r.keyLength()));
                    } else {
                        v.put("problem", r.problem());
                        problems.add(kid + ": " + r.problem());
                        status = Math.max(status, r.status());
                    }
                    keyViews.add(v);
                }
            }
            String alg = req.alg();
            String enc = encrypt ? req.enc() : null;
            if (problems.isEmpty()) {
                try {
                    if (encrypt) {
                        JoseEnvelopes.EncryptionPlan plan = SymmetricEnvelopes.planEncryption(
                                sizes, req.alg(), req.enc(), s, aad != null && aad.length > 0, payload.length, policy);
                        for (int i = 0; i < keyViews.size(); i++) {
                            keyViews.get(i).put("alg", plan.algs().get(i));
                        }
                        alg = plan.alg();
                        enc = plan.enc();
                    } else {
                        alg = Signatures.planMacs(sizes, req.alg(), s, payload.length, policy);
                    }
                } catch (JoseEnvelopes.Refused r) {
                    problems.add(r.getMessage());
                    status = statusOf(r);
                }
            }
            if (alg != null) {
                out.put(
                        "option",
                        encrypt
                                ? (alg.equals("dir")
                                        ? "direct symmetric key"
                                        : "symmetric key wrap (random CEK per envelope)")
                                : "MAC with a symmetric key");
                out.put("alg", alg);
            }
            if (enc != null) {
                out.put("enc", enc);
            }
            out.put("contentSecurity", s == null ? null : s.contentSecurity);
            out.put("keys", keyViews);
            if (!problems.isEmpty()) {
                out.put("problems", problems);
                if (dry) {
                    out.put("protectStatus", status);
                }
                return new Outcome(dry ? 200 : status, withVerdict(out, false, dry));
            }
            if (dry) {
                return new Outcome(200, withVerdict(out, true, true));
            }
            List<JoseEnvelopes.Recipient> recipients = resolved.stream()
                    .map(r -> new JoseEnvelopes.Recipient(r.kid(), r.key()))
                    .toList();
            String envelope;
            if (encrypt) {
                envelope = SymmetricEnvelopes.encrypt(
                        payload, aad, recipients, req.alg(), req.enc(), s, policy, null, null);
            } else {
                List<JoseEnvelopes.SigningKey> signers = new ArrayList<>();
                for (JoseEnvelopes.Recipient r : recipients) {
                    signers.add(Signatures.macKey(r, alg, policy));
                }
                envelope = Signatures.signAll(payload, signers, s, policy);
            }
            out.put("envelope", envelope);
            return new Outcome(200, out);
        } catch (JoseEnvelopes.Refused r) {
            out.put("problems", List.of(r.getMessage()));
            return new Outcome(statusOf(r), withVerdict(out, false, false));
        } finally {
            resolved.forEach(r -> {
                if (r.key() != null) {
                    r.key().close();
                }
            });
        }
    }

    /** The tenant policy's allow-lists for what the request names itself (checked before any key lookup). */
    static String allowListProblem(JoseEnvelopes.Policy policy, String alg, String enc, int keys) {
        if (alg != null && (!policy.algs().contains(alg) || "none".equalsIgnoreCase(alg))) {
            return "alg " + EnvelopeChecks.printable(alg) + " is not allowed by the tenant policy";
        }
        if (enc != null && !policy.encs().contains(enc)) {
            return "enc " + EnvelopeChecks.printable(enc) + " is not allowed by the tenant policy";
        }
        if (keys > policy.maxRecipients()) {
            return "at most " + policy.maxRecipients() + " recipients or signatures (tenant policy maxEsdataTargets)";
        }
        return null;
    }

    private static Map<String, Object> withVerdict(Map<String, Object> out, boolean ok, boolean dry) {
        if (dry) {
            out.put("wouldSucceed", ok);
        }
        return out;
    }

    /** The HTTP status of an ESData refusal: 403 policy, 404 unknown key, 422 integrity, 400 otherwise. */
    static int statusOf(JoseEnvelopes.Refused r) {
        return switch (r.reason) {
            case POLICY -> 403;
            case MALFORMED, KEY_UNSUITABLE -> 400;
            case UNKNOWN_KEY -> 404;
            case INTEGRITY -> 422;
        };
    }

    static Outcome refused(int status, String why) {
        return new Outcome(status, Map.of("problems", List.of(why)));
    }

    JoseEnvelopes.Policy policy(String tenantId) {
        TenantPolicy p = policies.current(tenantId);
        return new JoseEnvelopes.Policy(
                Set.of(p.joseAlgs),
                Set.of(p.joseEncs),
                p.maxEsdataTargets,
                config.maxPayloadBytes(),
                config.maxEnvelopeBytes());
    }

    static JoseEnvelopes.Serialization serialization(Integer contentSecurity) {
        if (contentSecurity == null) {
            return null;
        }
        for (JoseEnvelopes.Serialization s : JoseEnvelopes.Serialization.values()) {
            if (s.contentSecurity == contentSecurity) {
                return s;
            }
        }
        return null;
    }

    private static byte[] decode(String b64, String field, List<String> problems) {
        if (b64 == null) {
            problems.add(field + " is required (base64)");
            return null;
        }
        try {
            return Base64.getDecoder().decode(b64);
        } catch (IllegalArgumentException e) {
            problems.add(field + " is not base64");
            return null;
        }
    }

    static boolean looksLikeJws(String envelope, JoseEnvelopes.Serialization s) {
        if (s == JoseEnvelopes.Serialization.COMPACT) {
            return envelope.chars().filter(c -> c == '.').count() == 2;
        }
        String json = envelope;
        if (s == JoseEnvelopes.Serialization.JSON_BASE64) {
            try {
                json = new String(Base64.getMimeDecoder().decode(envelope), java.nio.charset.StandardCharsets.UTF_8);
            } catch (IllegalArgumentException e) {
                return false;
            }
        }
        return json.contains("\"signatures\"") || json.contains("\"signature\"");
    }

    int maxBatch() {
        return config.maxBatch();
    }
}
