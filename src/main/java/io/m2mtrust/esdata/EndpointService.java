package io.m2mtrust.esdata;

import io.m2mtrust.audit.AuditLog;
import io.m2mtrust.ca.CertificateStore;
import io.m2mtrust.ca.CertificateStore.CertificateSummary;
import io.m2mtrust.ca.Certificates;
import io.m2mtrust.ca.TenantCa;
import io.m2mtrust.common.ApiProblem;
import io.m2mtrust.common.SubjectType;
import io.m2mtrust.hsm.AsymmetricKeyType;
import io.m2mtrust.hsm.EcdhInToken;
import io.m2mtrust.hsm.HsmCrypto;
import io.m2mtrust.hsm.HsmKeyLabel;
import io.m2mtrust.hsm.KeyPurpose;
import io.m2mtrust.hsm.Pkcs11Token;
import io.m2mtrust.hsm.SelfSignedCertificates;
import io.m2mtrust.keysource.KeyResolution;
import io.m2mtrust.keysource.KeySources;
import io.m2mtrust.keysource.KeyUsage;
import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.persistence.EntityManager;

import java.security.cert.X509Certificate;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * End-points the service acts for (TS-0003 §8.5 "its private key in the HSM"): an EC P-256 key made in
 * the HSM and a certificate from the tenant CA for the end-point's identity; ESData protect/unprotect as
 * that end-point — ES256 signatures in the HSM, encryption for target end-points' certificates, nested
 * sign-then-encrypt, and the symmetric options with the keys registered for its identity.
 */
@ApplicationScoped
public class EndpointService {

    static final String SLUG = "[a-z0-9][a-z0-9-]{0,38}[a-z0-9]|[a-z0-9]";

    /** A protect request of a service-held end-point: the symmetric fields plus certificate options. */
    public record EndpointProtect(
            String payload,
            String aad,
            List<String> encryptFor,
            List<String> encryptForCertificatesOf,

            @com.fasterxml.jackson.annotation.JsonFormat(
                    with = com.fasterxml.jackson.annotation.JsonFormat.Feature.ACCEPT_SINGLE_VALUE_AS_ARRAY)
            List<String> macWith,

            Boolean sign,
            String signAlg,
            String alg,
            String enc,
            String macAlg,
            Integer contentSecurity) {}

    private final EntityManager em;
    private final Pkcs11Token token;
    private final HsmCrypto hsm;
    private final TenantCa ca;
    private final EsDataService esdata;
    private final KeySources keys;
    private final AuditLog audit;
    private final EcdhInToken ecdh;
    private final CertificateStore issued;
    private final EsdataStore store;

    EndpointService(
            EntityManager em,
            Pkcs11Token token,
            HsmCrypto hsm,
            TenantCa ca,
            EsDataService esdata,
            KeySources keys,
            AuditLog audit,
            CertificateStore issued,
            EsdataStore store) {
        this.store = store;
        this.issued = issued;
        this.em = em;
        this.token = token;
        this.hsm = hsm;
        this.ca = ca;
        this.esdata = esdata;
        this.keys = keys;
        this.audit = audit;
        this.ecdh = new EcdhInToken(hsm);
    }

    public Endpoint create(String tenantId, String id, SubjectType type, String subjectId, String actor) {
        return create(tenantId, id, type, subjectId, AsymmetricKeyType.EC_P256, actor);
    }

    public Endpoint create(
            String tenantId, String id, SubjectType type, String subjectId, AsymmetricKeyType keyType, String actor) {
        if (id == null || !id.matches(SLUG)) {
            throw ApiProblem.invalid(List.of(ApiProblem.fieldError("id", "1-40 of a-z, 0-9 and inner hyphens")));
        }
        String problem = type.problemWith(subjectId);
        if (problem != null) {
            throw ApiProblem.invalid(List.of(ApiProblem.fieldError("subjectId", problem)));
        }
        if (!ca.exists(tenantId)) {
            throw ApiProblem.conflict("the tenant has no CA yet: create it first (POST /ca)");
        }
        boolean taken = QuarkusTransaction.requiringNew()
                .call(() -> em.find(Endpoint.class, new Endpoint.Key(tenantId, id)) != null
                        || store.identityInUse(tenantId, subjectId));
        if (taken) {
            throw ApiProblem.conflict("end-point " + id + " or identity " + subjectId
                    + " exists or existed; end-point ids are never reused");
        }
        HsmKeyLabel label = HsmKeyLabel.named(tenantId, KeyPurpose.ENDPOINT, id, 1);
        token.generateReplacingOrphan(label, new SelfSignedCertificates(), keyType);
        try {
            if (keyType.isEc()) {
                ecdh.allowDerive(label); // ECDH-ES envelopes for this end-point are unwrapped in the HSM
            }
            CertificateSummary cert = ca.issue(
                    tenantId,
                    new TenantCa.IssueRequest(type, subjectId, token.publicKey(label), "endpoint " + id),
                    actor,
                    true);
            return QuarkusTransaction.requiringNew().call(() -> {
                Endpoint e = new Endpoint();
                e.tenantId = tenantId;
                e.id = id;
                e.subjectType = type;
                e.subjectId = subjectId;
                e.hsmLabel = label.value();
                e.keyType = keyType;
                e.certSerial = cert.serial();
                e.status = Endpoint.Status.ACTIVE;
                e.createdAt = Instant.now().truncatedTo(ChronoUnit.MICROS);
                em.persist(e);
                em.flush();
                audit.append(
                        tenantId,
                        actor,
                        "endpoint.create",
                        "endpoint/" + id,
                        AuditLog.Outcome.SUCCESS,
                        type + " " + subjectId + ", " + keyType + " key " + label + " in the HSM, certificate "
                                + cert.serial());
                return e;
            });
        } catch (RuntimeException e) {
            token.destroyQuietly(label);
            throw e;
        }
    }

    public void delete(String tenantId, String id, String actor) {
        Endpoint e = QuarkusTransaction.requiringNew().call(() -> {
            Endpoint x = live(tenantId, id);
            x.status = Endpoint.Status.DELETED;
            x.deletedAt = Instant.now().truncatedTo(ChronoUnit.MICROS);
            audit.append(
                    tenantId,
                    actor,
                    "endpoint.delete",
                    "endpoint/" + id,
                    AuditLog.Outcome.SUCCESS,
                    "key destroyed, certificate revoked");
            return x;
        });
        try {
            ca.revoke(tenantId, e.certSerial, Certificates.REASON_CESSATION, actor);
        } catch (ApiProblem already) {
            // superseded or revoked before: nothing more to do
        }
        token.destroyQuietly(HsmKeyLabel.parse(e.hsmLabel));
    }

    public List<Endpoint> list(String tenantId) {
        return QuarkusTransaction.requiringNew().call(() -> store.endpoints(tenantId));
    }

    /** Whether {@code id} names an active end-point of the tenant (ids are slugs; an identity never matches one by accident of syntax). */
    public boolean isActive(String tenantId, String id) {
        return id != null
                && id.matches(SLUG)
                && QuarkusTransaction.requiringNew().call(() -> {
                    Endpoint e = em.find(Endpoint.class, new Endpoint.Key(tenantId, id));
                    return e != null && e.status == Endpoint.Status.ACTIVE;
                });
    }

    /** An end-point's TLS credentials as ESCertKE uses them: its certificate chain's leaf and its HSM key. */
    public record TlsCredentials(byte[] certificateDer, HsmKeyLabel key) {}

    /**
     * The newest active EC P-256 end-point whose certificate names {@code subjectId} as {@code type}: ESCertKE's
     * local credentials for that identity (TS-0003 §8.4.3).
     */
    public Optional<TlsCredentials> ecCredentialsFor(String tenantId, SubjectType type, String subjectId) {
        return QuarkusTransaction.requiringNew()
                .call(() -> store.newestActive(tenantId, type, subjectId, AsymmetricKeyType.EC_P256)
                        .map(e -> new TlsCredentials(
                                issued.find(tenantId, e.certSerial)
                                        .orElseThrow()
                                        .der(),
                                HsmKeyLabel.parse(e.hsmLabel))));
    }

    public Endpoint get(String tenantId, String id) {
        return QuarkusTransaction.requiringNew().call(() -> live(tenantId, id));
    }

    /** Parsed end-point certificates by tenant and serial: a certificate's content never changes, so each is read and parsed once. */
    private final java.util.concurrent.ConcurrentHashMap<String, X509Certificate> certificates =
            new java.util.concurrent.ConcurrentHashMap<>();

    /** The end-point's own certificate (for signing and as decryption recipient; its status is the CA's business). */
    public X509Certificate certificate(Endpoint e) {
        if (certificates.size() > 10_000) {
            certificates.clear();
        }
        return certificates.computeIfAbsent(
                e.tenantId + "|" + e.certSerial,
                k -> Certificates.parse(QuarkusTransaction.requiringNew()
                        .call(() -> issued.find(e.tenantId, e.certSerial).orElseThrow())
                        .der()));
    }

    private Endpoint live(String tenantId, String id) {
        Endpoint e = em.find(Endpoint.class, new Endpoint.Key(tenantId, id));
        if (e == null || e.status != Endpoint.Status.ACTIVE) {
            throw ApiProblem.notFound("end-point " + id);
        }
        return e;
    }

    // ---------------------------------------------------------------- ESData as the end-point

    public EsDataService.Outcome protect(String tenantId, String id, EndpointProtect req) {
        return protect(tenantId, id, req, false);
    }

    /**
     * What {@link #protect} would answer, from the same code: every check, the same key resolution (keys are not
     * opened) and algorithm choice; signatures are stood in for by {@link Signatures#sizeOnlySigner} so that
     * envelope sizes (and with them the size limits of a nested envelope) are exactly protect's. No HSM operation
     * and no envelope: {@code wouldSucceed}, and for a refusal the {@code protectStatus} and problems protect would give.
     */
    public EsDataService.Outcome dryRun(String tenantId, String id, EndpointProtect req) {
        return protect(tenantId, id, req, true);
    }

    /**
     * A batch call as the end-point: the end-point is looked up once and every item runs in one shared read-only
     * transaction (the per-item key and certificate lookups join it), answered item by item as {@link #protect}.
     */
    public List<EsDataService.Outcome> protectAll(String tenantId, String id, List<EndpointProtect> items) {
        Endpoint e = get(tenantId, id);
        return QuarkusTransaction.requiringNew()
                .call(() -> items.stream().map(i -> protect(e, i, false)).toList());
    }

    /** The batch form of {@link #unprotect}, shaped as {@link #protectAll}. */
    public List<EsDataService.Outcome> unprotectAll(
            String tenantId, String id, List<EsDataService.UnprotectRequest> items) {
        Endpoint e = get(tenantId, id);
        return QuarkusTransaction.requiringNew()
                .call(() -> items.stream().map(i -> unprotect(e, i)).toList());
    }

    private EsDataService.Outcome protect(String tenantId, String id, EndpointProtect req, boolean dry) {
        return protect(get(tenantId, id), req, dry);
    }

    private EsDataService.Outcome protect(Endpoint e, EndpointProtect req, boolean dry) {
        String tenantId = e.tenantId;
        boolean sign = Boolean.TRUE.equals(req.sign());
        boolean toCerts = req.encryptForCertificatesOf() != null
                && !req.encryptForCertificatesOf().isEmpty();
        boolean toKeys = req.encryptFor() != null && !req.encryptFor().isEmpty();
        if (!sign && !toCerts) {
            // the symmetric options, with the keys registered for this end-point's identity
            EsDataService.ProtectRequest symmetric = new EsDataService.ProtectRequest(
                    req.payload(),
                    req.aad(),
                    req.encryptFor(),
                    req.macWith(),
                    req.alg(),
                    req.enc(),
                    req.contentSecurity());
            return dry
                    ? esdata.dryRun(tenantId, e.subjectId, symmetric)
                    : esdata.protect(tenantId, e.subjectId, symmetric);
        }
        Map<String, Object> out = new LinkedHashMap<>();
        if (toCerts && toKeys) {
            return refused(
                    out, dry, 400, "encrypt either for certificates or for symmetric keys, not both in one call");
        }
        boolean macs = req.macWith() != null && !req.macWith().isEmpty();
        if (macs && !sign) {
            return refused(
                    out,
                    dry,
                    400,
                    "MACs go with a certificate signature (sign) or alone, not with encryption for certificates");
        }
        JoseEnvelopes.Serialization s = serialization(req.contentSecurity());
        if (s == null) {
            return refused(out, dry, 400, "contentSecurity must be 1, 2 or 3");
        }
        byte[] payload;
        byte[] aad;
        try {
            payload = Base64.getDecoder().decode(req.payload() == null ? "" : req.payload());
            aad = req.aad() == null ? null : Base64.getDecoder().decode(req.aad());
        } catch (IllegalArgumentException x) {
            return refused(out, dry, 400, "payload and aad are base64");
        }
        JoseEnvelopes.Policy policy = esdata.policy(tenantId);
        try {
            String content = null;
            JoseEnvelopes.Serialization inner = JoseEnvelopes.Serialization.COMPACT;
            if (sign) {
                // the certificate signature made in the HSM, plus a MAC per macWith key (JWS JSON when several)
                List<JoseEnvelopes.SigningKey> signers = new ArrayList<>();
                String signAlg = req.signAlg() != null
                        ? req.signAlg()
                        : e.keyType.jwsAlgorithms().get(0);
                if (!e.keyType.jwsAlgorithms().contains(signAlg)) {
                    return refused(
                            out,
                            dry,
                            400,
                            "an " + e.keyType + " key signs " + e.keyType.jwsAlgorithms() + ", not "
                                    + EnvelopeChecks.printable(signAlg));
                }
                com.nimbusds.jose.JWSSigner certificateSigner = dry
                        ? Signatures.sizeOnlySigner(signAlg, e.keyType.jwsSignatureBytes())
                        : new HsmJwsSigner(hsm, HsmKeyLabel.parse(e.hsmLabel), e.keyType, signAlg);
                signers.add(Signatures.certificateKey(certificateSigner, certificate(e), false, policy));
                out.put("signAlg", signAlg);
                List<JoseEnvelopes.Recipient> macKeys = new ArrayList<>();
                try {
                    List<JoseEnvelopes.KeySize> sizes = new ArrayList<>();
                    for (String kid : macs ? req.macWith() : List.<String>of()) {
                        KeyResolution r = EsDataService.reading(
                                () -> keys.resolve(tenantId, e.subjectId, kid, KeyUsage.MAC, !dry));
                        if (!r.usable()) {
                            return refused(out, dry, r.status(), kid + ": " + r.problem());
                        }
                        sizes.add(new JoseEnvelopes.KeySize(kid, r.keyLength()));
                        if (r.key() != null) {
                            macKeys.add(new JoseEnvelopes.Recipient(kid, r.key()));
                        }
                    }
                    String macAlg = req.macAlg() != null ? req.macAlg() : "HS256";
                    if (!sizes.isEmpty()) {
                        Signatures.planMacs(sizes, macAlg, JoseEnvelopes.Serialization.JSON, payload.length, policy);
                        out.put("macAlg", macAlg);
                    }
                    for (int i = 0; i < sizes.size(); i++) {
                        signers.add(
                                dry
                                        ? Signatures.sizeOnlyMacKey(sizes.get(i).kid(), macAlg)
                                        : Signatures.macKey(macKeys.get(i), macAlg, policy));
                    }
                    if (signers.size() > 1) {
                        inner = JoseEnvelopes.Serialization.JSON;
                    }
                    content = Signatures.signAll(payload, signers, toCerts || toKeys ? inner : s, policy);
                } finally {
                    macKeys.forEach(k -> k.key().close());
                }
                out.put("class", toCerts || toKeys ? "nested" : "signature");
            }
            if (toCerts) {
                List<JoseEnvelopes.CertificateRecipient> recipients = new ArrayList<>();
                for (String subject : req.encryptForCertificatesOf()) {
                    Optional<X509Certificate> c = validCertificateOf(tenantId, subject);
                    if (c.isEmpty()) {
                        return refused(out, dry, 404, "no valid certificate for " + subject);
                    }
                    recipients.add(new JoseEnvelopes.CertificateRecipient(c.get()));
                }
                String alg = req.alg() != null ? req.alg() : "ECDH-ES+A256KW";
                String enc = req.enc() != null ? req.enc() : "A256GCM";
                byte[] plain = content != null ? content.getBytes(java.nio.charset.StandardCharsets.US_ASCII) : payload;
                // public-key work only (the targets' certificates): the dry-run runs it whole and drops the result
                content = CertificateEnvelopes.encryptForCertificates(
                        plain,
                        aad,
                        recipients,
                        alg,
                        enc,
                        s,
                        policy,
                        !sign ? null : inner == JoseEnvelopes.Serialization.COMPACT ? "JOSE" : "JOSE+JSON");
                out.put(
                        "alg",
                        CertificateEnvelopes.planCertificateEncryption(
                                        recipients, alg, enc, s, aad != null && aad.length > 0, plain.length, policy)
                                .alg());
                out.put("enc", enc);
                out.putIfAbsent("class", "encryption");
            } else if (toKeys) {
                List<JoseEnvelopes.Recipient> recipients = new ArrayList<>();
                try {
                    List<JoseEnvelopes.KeySize> sizes = new ArrayList<>();
                    for (String kid : req.encryptFor()) {
                        KeyResolution r = EsDataService.reading(
                                () -> keys.resolve(tenantId, e.subjectId, kid, KeyUsage.ENCRYPT, !dry));
                        if (!r.usable()) {
                            return refused(out, dry, r.status(), kid + ": " + r.problem());
                        }
                        sizes.add(new JoseEnvelopes.KeySize(kid, r.keyLength()));
                        if (r.key() != null) {
                            recipients.add(new JoseEnvelopes.Recipient(kid, r.key()));
                        }
                    }
                    byte[] plain = content.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
                    JoseEnvelopes.EncryptionPlan plan = SymmetricEnvelopes.planEncryption(
                            sizes, req.alg(), req.enc(), s, aad != null && aad.length > 0, plain.length, policy);
                    out.put("alg", plan.alg());
                    out.put("enc", plan.enc());
                    if (!dry) {
                        content = SymmetricEnvelopes.encryptNested(
                                content, inner, recipients, req.alg(), req.enc(), s, policy);
                    }
                } finally {
                    recipients.forEach(r -> r.key().close());
                }
            }
            out.put("contentSecurity", s.contentSecurity);
            if (dry) {
                out.put("wouldSucceed", true);
                return new EsDataService.Outcome(200, out);
            }
            out.put("envelope", content);
            return new EsDataService.Outcome(200, out);
        } catch (JoseEnvelopes.Refused r) {
            return refused(out, dry, EsDataService.statusOf(r), r.getMessage());
        }
    }

    /** A refusal as protect answers it, or as its dry-run reports it (200, wouldSucceed false, the status protect would answer). */
    private static EsDataService.Outcome refused(Map<String, Object> out, boolean dry, int status, String why) {
        if (!dry) {
            return EsDataService.refused(status, why);
        }
        out.remove("envelope");
        out.put("wouldSucceed", false);
        out.put("protectStatus", status);
        out.put("problems", List.of(why));
        return new EsDataService.Outcome(200, out);
    }

    /**
     * Unprotects as the end-point: symmetric envelopes with its keys, signatures (certificate signatures by
     * {@code x5t#S256} from the tenant's valid certificates, MACs with its keys, several on one payload), and
     * nested envelopes (decrypt, then every known signature of the inner JWS must verify).
     */
    public EsDataService.Outcome unprotect(String tenantId, String id, EsDataService.UnprotectRequest req) {
        return unprotect(get(tenantId, id), req);
    }

    private EsDataService.Outcome unprotect(Endpoint e, EsDataService.UnprotectRequest req) {
        String tenantId = e.tenantId;
        JoseEnvelopes.Serialization s = serialization(req.contentSecurity());
        if (s == null || req.envelope() == null) {
            return refused(400, "give envelope and contentSecurity 1, 2 or 3");
        }
        JoseEnvelopes.Policy policy = esdata.policy(tenantId);
        JoseEnvelopes.VerificationKeys signers = signerKeys(tenantId, e.subjectId);
        try {
            if (looksLikeCertificateEnvelope(req.envelope(), s)) {
                X509Certificate mine = certificate(e);
                HsmKeyLabel label = HsmKeyLabel.parse(e.hsmLabel);
                com.nimbusds.jose.JWEDecrypter inHsm = e.keyType.isEc()
                        ? new HsmEcdhDecrypter(
                                ecdh,
                                label,
                                com.nimbusds.jose.jwk.Curve.forECParameterSpec(
                                        ((java.security.interfaces.ECPublicKey) mine.getPublicKey()).getParams()),
                                JoseAlgorithms.softwareProvider())
                        : new HsmRsaOaepDecrypter(
                                hsm,
                                label,
                                (java.security.interfaces.RSAPublicKey) mine.getPublicKey(),
                                JoseAlgorithms.softwareProvider());
                byte[] plain = CertificateEnvelopes.decryptForCertificate(
                        req.envelope(), s, new JoseEnvelopes.CertificateRecipient(mine).thumbprint(), inHsm, policy);
                Map<String, Object> out = new LinkedHashMap<>();
                out.put("payload", Base64.getEncoder().encodeToString(plain));
                out.put("class", "encryption");
                return nested(out, plain, signers, policy);
            }
            if (EsDataService.looksLikeJws(req.envelope(), s)) {
                JoseEnvelopes.Accept accept = "signature".equals(req.expect())
                        ? JoseEnvelopes.Accept.CERTIFICATE
                        : "mac".equals(req.expect()) ? JoseEnvelopes.Accept.MAC : JoseEnvelopes.Accept.ANY;
                JoseEnvelopes.Verified v = SignatureVerification.verifyAll(req.envelope(), s, signers, policy, accept);
                Map<String, Object> out = new LinkedHashMap<>();
                out.put("payload", Base64.getEncoder().encodeToString(v.payload()));
                out.put("class", "signature");
                out.put("keyIds", v.keyIds());
                return new EsDataService.Outcome(200, out);
            }
        } catch (JoseEnvelopes.Refused r) {
            return refused(EsDataService.statusOf(r), r.getMessage());
        }
        EsDataService.Outcome first = esdata.unprotect(
                tenantId,
                e.subjectId,
                new EsDataService.UnprotectRequest(req.envelope(), req.contentSecurity(), "encryption"));
        if (first.status() != 200) {
            return first;
        }
        try {
            return nested(
                    new LinkedHashMap<>(first.body()),
                    Base64.getDecoder().decode((String) first.body().get("payload")),
                    signers,
                    policy);
        } catch (JoseEnvelopes.Refused r) {
            return refused(EsDataService.statusOf(r), "inner signature: " + r.getMessage());
        }
    }

    /** A decrypted plaintext that is itself a JWS (nested sign-then-encrypt, §8.5): its signatures must verify too. */
    private static EsDataService.Outcome nested(
            Map<String, Object> out, byte[] plain, JoseEnvelopes.VerificationKeys signers, JoseEnvelopes.Policy policy)
            throws JoseEnvelopes.Refused {
        String text = new String(plain, java.nio.charset.StandardCharsets.UTF_8);
        JoseEnvelopes.Serialization inner = text.matches("[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]*\\.[A-Za-z0-9_-]+")
                ? JoseEnvelopes.Serialization.COMPACT
                : text.startsWith("{") && text.contains("\"payload\"") && text.contains("\"signature")
                        ? JoseEnvelopes.Serialization.JSON
                        : null;
        if (inner == null) {
            return new EsDataService.Outcome(200, out);
        }
        JoseEnvelopes.Verified v = SignatureVerification.verifyAll(text, inner, signers, policy);
        out.put("payload", Base64.getEncoder().encodeToString(v.payload()));
        out.put("class", "nested");
        out.put("signedBy", v.keyIds());
        return new EsDataService.Outcome(200, out);
    }

    /** Who may have signed for this end-point: the tenant's valid certificates by x5t#S256, and its MAC keys by kid. */
    private JoseEnvelopes.VerificationKeys signerKeys(String tenantId, String subjectId) {
        JoseEnvelopes.VerificationKeys certs = SignatureVerification.certificateKeys(
                x5t -> EsDataService.reading(() -> validCertificateByThumbprint(tenantId, x5t)));
        return h -> {
            if (h.getX509CertSHA256Thumbprint() != null) {
                return certs.find(h);
            }
            if (h.getKeyID() == null) {
                return Optional.empty();
            }
            try {
                return EsDataService.reading(() -> KeyOpener.of(keys, tenantId, subjectId, KeyUsage.MAC)
                                .find(h.getKeyID()))
                        .map(k -> new JoseEnvelopes.VerificationKey.Symmetric(h.getKeyID(), k));
            } catch (io.quarkus.narayana.jta.QuarkusTransactionException x) {
                if (x.getCause() instanceof JoseEnvelopes.Refused r) {
                    throw r; // held for another usage: 403, not "unknown"
                }
                throw x;
            }
        };
    }

    /** Whether the envelope's key management is ECDH-ES or RSA-OAEP-256 (encrypted for a certificate), by its (protected or per-recipient) header. */
    private static boolean looksLikeCertificateEnvelope(String envelope, JoseEnvelopes.Serialization s) {
        try {
            String text = envelope;
            if (s == JoseEnvelopes.Serialization.COMPACT) {
                int dot = envelope.indexOf('.');
                text = dot < 0
                        ? ""
                        : new String(
                                Base64.getUrlDecoder().decode(envelope.substring(0, dot)),
                                java.nio.charset.StandardCharsets.UTF_8);
            } else if (s == JoseEnvelopes.Serialization.JSON_BASE64) {
                text = new String(Base64.getMimeDecoder().decode(envelope), java.nio.charset.StandardCharsets.UTF_8);
            }
            if (text.contains("\"ECDH-ES") || text.contains("\"RSA-OAEP-256\"")) {
                return true; // compact header, or per-recipient headers of a JSON envelope
            }
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"protected\"\\s*:\\s*\"([A-Za-z0-9_-]+)\"")
                    .matcher(text);
            String header = m.find()
                    ? new String(Base64.getUrlDecoder().decode(m.group(1)), java.nio.charset.StandardCharsets.UTF_8)
                    : "";
            return header.contains("\"ECDH-ES") || header.contains("\"RSA-OAEP-256\"");
        } catch (IllegalArgumentException x) {
            return false;
        }
    }

    private Optional<X509Certificate> validCertificateOf(String tenantId, String subjectId) {
        return EsDataService.reading(
                () -> issued.newestValidClient(tenantId, subjectId).map(c -> Certificates.parse(c.der())));
    }

    /** The tenant's valid end-entity certificate that {@code x5t#S256} names. */
    private Optional<X509Certificate> validCertificateByThumbprint(String tenantId, String x5t) {
        return issued.validClientByThumbprint(tenantId, x5t).map(c -> Certificates.parse(c.der()));
    }

    private static EsDataService.Outcome refused(int status, String why) {
        return EsDataService.refused(status, why);
    }

    private static JoseEnvelopes.Serialization serialization(Integer cs) {
        return EsDataService.serialization(cs);
    }
}
