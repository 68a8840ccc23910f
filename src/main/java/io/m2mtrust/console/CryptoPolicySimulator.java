package io.m2mtrust.console;

import io.m2mtrust.ca.CertificateStore;
import io.m2mtrust.ca.CertificateStore.CertificateSummary;
import io.m2mtrust.hsm.HsmKeyLabel;
import io.m2mtrust.hsm.KeyPurpose;
import io.m2mtrust.keys.KeyVersionRepository;
import io.m2mtrust.keysource.KeyResolution;
import io.m2mtrust.keysource.KeySources;
import io.m2mtrust.keysource.KeyUsage;
import io.m2mtrust.keysource.SymmetricKeySource;
import io.m2mtrust.policy.PolicyService;
import io.m2mtrust.policy.TenantPolicy;
import io.m2mtrust.proxy.ProxyService;
import io.m2mtrust.registration.RegistrationStore;
import io.m2mtrust.registration.RegistrationStore.RegisteredKeySummary;
import io.m2mtrust.tenant.DeviceFqdns;
import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.enterprise.context.ApplicationScoped;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The crypto-policy simulator: for an originator, a target and an operation, which key (source, SUID, id), which
 * algorithm and which tenant key version would be used — or where it would fail and why — using the same key
 * resolution as the real paths in dry-run mode (no key is opened, nothing is written).
 */
@ApplicationScoped
public class CryptoPolicySimulator {

    public enum Operation {
        ESPRIM_REQUEST,
        ESDATA_PROTECT,
        KEY_RETRIEVAL
    }

    /** One key that could serve, and why it would not (null: it would). */
    public record Candidate(String source, String keyId, Integer suid, Instant expiresAt, String problem) {}

    public record Simulation(
            Operation operation,
            String originator,
            String target,
            boolean wouldSucceed,
            String keyId,
            Integer suid,
            String algorithm,
            String sealedUnder,
            List<Candidate> candidates,
            List<String> notes) {}

    private final KeySources keys;
    private final PolicyService policies;
    private final KeyVersionRepository versions;
    private final DeviceFqdns fqdns;
    private final CertificateStore certificates;
    private final ProxyService proxy;
    private final RegistrationStore registrations;

    CryptoPolicySimulator(
            KeySources keys,
            PolicyService policies,
            KeyVersionRepository versions,
            DeviceFqdns fqdns,
            CertificateStore certificates,
            ProxyService proxy,
            RegistrationStore registrations) {
        this.registrations = registrations;
        this.proxy = proxy;
        this.certificates = certificates;
        this.keys = keys;
        this.policies = policies;
        this.versions = versions;
        this.fqdns = fqdns;
    }

    public Simulation simulate(String tenantId, Operation op, String originator, String target) {
        return QuarkusTransaction.requiringNew().call(() -> run(tenantId, op, originator, target));
    }

    private Simulation run(String tenantId, Operation op, String originator, String target) {
        TenantPolicy policy = policies.get(tenantId);
        List<String> algs = Arrays.asList(policy.joseAlgs);
        List<String> encs = Arrays.asList(policy.joseEncs);
        List<String> notes = new ArrayList<>();
        List<Candidate> candidates = new ArrayList<>();
        String kek = versions.primary(tenantId, KeyPurpose.KEK)
                .map(HsmKeyLabel::value)
                .orElse("no primary KEK");
        switch (op) {
            case ESPRIM_REQUEST -> {
                Boolean esprimRequired =
                        proxy.esprimRequiredFor(tenantId, target).orElse(null);
                if (esprimRequired == null) {
                    notes.add(
                            target
                                    + " is not an entity this tenant's proxy protects: an ESPrim request to it is not terminated here");
                } else if (esprimRequired) {
                    notes.add(target + " requires ESPrim: plain primitives to it are refused (4107)");
                }
                // the receiver resolves the kid as itself (caller = target) and binds the inner From to the key (4116)
                for (String kid : kidsBetween(tenantId, originator, target)) {
                    KeyResolution r = keys.resolve(tenantId, target, kid, KeyUsage.ESPRIM, false);
                    String problem = r.usable() && !r.peers().contains(originator)
                            ? "the key is not bound to " + originator + " (4116)"
                            : r.problem();
                    candidates.add(new Candidate(
                            source(tenantId, kid), kid, r.usable() ? r.suid() : null, r.expiresAt(), problem));
                }
                String alg = algs.contains("dir") && encs.contains("A256GCM")
                        ? "dir + A256GCM, sessionESPrimKey = HMAC-SHA256 (TS-0003 §10.3.8)"
                        : null;
                if (alg == null) {
                    notes.add("the policy does not allow dir with A256GCM, which ESPrim objects use here (4111)");
                }
                return result(op, originator, target, candidates, alg, kek, notes, esprimRequired != null);
            }
            case ESDATA_PROTECT -> {
                for (String kid : kidsBetween(tenantId, originator, target)) {
                    KeyResolution r = keys.resolve(tenantId, originator, kid, KeyUsage.ENCRYPT, false);
                    String problem = r.usable() && !r.peers().contains(target)
                            ? "the key is not shared with " + target
                            : r.problem();
                    candidates.add(new Candidate(
                            source(tenantId, kid), kid, r.usable() ? r.suid() : null, r.expiresAt(), problem));
                }
                String alg = algs.contains("dir")
                        ? "dir + " + (encs.contains("A256GCM") ? "A256GCM" : encs.get(0))
                        : algs.contains("A256KW") ? "A256KW + A256GCM" : null;
                // or the target's certificate (ECDH-ES / RSA-OAEP-256), when no symmetric key serves
                CertificateSummary cert =
                        certificates.newestValidFor(tenantId, target).orElse(null);
                if (cert != null) {
                    boolean ecdh = algs.contains("ECDH-ES+A256KW");
                    candidates.add(new Candidate(
                            "certificate of " + target,
                            "x5t#S256 " + cert.thumbprint(),
                            44,
                            cert.notAfter(),
                            ecdh ? null : "the policy does not allow ECDH-ES+A256KW"));
                    if (candidates.stream()
                                    .noneMatch(c ->
                                            c.problem() == null && !c.source().startsWith("certificate"))
                            && ecdh) {
                        alg = "ECDH-ES+A256KW + A256GCM to the certificate";
                    }
                } else {
                    notes.add("no valid certificate names " + target
                            + " in this tenant (certificate recipients are not possible)");
                }
                return result(op, originator, target, candidates, alg, kek, notes, true);
            }
            default -> {
                // the target retrieves what the originator registered (TS-0003 §8.8.2.7)
                List<RegisteredKeySummary> regs = registrations.registeredBy(tenantId, originator, 100);
                for (RegisteredKeySummary k : regs) {
                    String problem = !k.targets().contains(target)
                            ? "not a target of this key (403)"
                            : !k.expiresAt().isAfter(Instant.now())
                                    ? "expired"
                                    : !Arrays.asList(policy.allowedSuids).contains(k.suid())
                                            ? "SUID " + k.suid() + " is not allowed by the policy"
                                            : null;
                    candidates.add(new Candidate(
                            k.registrar() + " registration", k.keyIdentifier(), k.suid(), k.expiresAt(), problem));
                }
                if (regs.isEmpty()) {
                    notes.add(originator + " has registered no keys");
                }
                return result(
                        op, originator, target, candidates, "Key Value over the MAF/MEF TLS session", kek, notes, true);
            }
        }
    }

    private static Simulation result(
            Operation op,
            String originator,
            String target,
            List<Candidate> candidates,
            String alg,
            String kek,
            List<String> notes,
            boolean reachable) {
        Candidate chosen =
                candidates.stream().filter(c -> c.problem() == null).findFirst().orElse(null);
        if (chosen == null) {
            notes.add(
                    candidates.isEmpty()
                            ? "no key is shared between " + originator + " and " + target
                            : "no candidate key is usable (see why above)");
        }
        boolean ok = chosen != null && alg != null && reachable;
        return new Simulation(
                op,
                originator,
                target,
                ok,
                chosen == null ? null : chosen.keyId(),
                chosen == null ? null : chosen.suid(),
                alg,
                chosen != null && chosen.source().startsWith("certificate")
                        ? "the target's certificate (no stored key)"
                        : kek,
                candidates,
                notes);
    }

    /** Ids of keys both identities hold: pre-provisioned, registered (either way round) and ESCertKE, newest first. */
    private List<String> kidsBetween(String tenantId, String a, String b) {
        return keys.idsSharedBy(tenantId, a, b);
    }

    private String source(String tenantId, String kid) {
        String fqdn = kid.substring(kid.indexOf('@') + 1);
        if (fqdn.equals(fqdns.maf(tenantId))) {
            return "MAF registration";
        }
        if (fqdn.equals(fqdns.mef(tenantId))) {
            return "MEF registration";
        }
        return keys.familyOf(tenantId, kid).orElse(null) == SymmetricKeySource.Family.ESCERTKE
                ? "ESCertKE"
                : "pre-provisioned";
    }
}
