package io.m2mtrust.esdata;

import io.m2mtrust.common.SecretBytes;
import io.m2mtrust.enrolment.DeviceFqdns;
import io.m2mtrust.keys.KeySealer;
import io.m2mtrust.registration.KeyRegistration;
import io.m2mtrust.registration.Registrar;
import io.m2mtrust.registration.RegistrationProcedures;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.persistence.EntityManager;

import java.time.Instant;
import java.util.Arrays;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Symmetric ESData keys of a tenant end-point, by key identifier ({@code RelativeKeyID@MAF-FQDN} or
 * {@code @MEF-FQDN}): a registered key the caller is the source or a target of, not expired, registered
 * for the usage asked (SUID 34/24 encryption, 35/25 MAC — a key registered for another SUID is refused).
 * The Key Value is opened in the HSM only for the operation and, per the interop profile, its first half
 * is the JOSE key. Callers run inside a transaction.
 */
@ApplicationScoped
public class EsDataKeys {

    public enum Usage {
        ENCRYPT(34, 24), MAC(35, 25);

        final int mafSuid;
        final int mefSuid;

        Usage(int mafSuid, int mefSuid) {
            this.mafSuid = mafSuid;
            this.mefSuid = mefSuid;
        }
    }

    /** A usable key, or why not (for answers and the dry-run; never key material). */
    public record Resolution(String kid, SecretBytes key, int suid, Instant expiresAt, String problem) {
        public static Resolution refused(String kid, String problem) {
            return new Resolution(kid, null, 0, null, problem);
        }

        public boolean usable() {
            return problem == null;
        }
    }

    private static final Pattern KEY_ID = Pattern.compile("([0-9a-f]{32})@([a-z0-9.-]{1,253})");

    private final EntityManager em;
    private final KeySealer sealer;
    private final DeviceFqdns fqdns;

    EsDataKeys(EntityManager em, KeySealer sealer, DeviceFqdns fqdns) {
        this.em = em;
        this.sealer = sealer;
        this.fqdns = fqdns;
    }

    /** Resolves {@code kid} for {@code caller}; with {@code open=false} only checks (dry-run). */
    public Resolution resolve(String tenantId, String caller, String kid, Usage usage, boolean open) {
        Matcher m = kid == null ? null : KEY_ID.matcher(kid);
        if (m == null || !m.matches()) {
            return Resolution.refused(kid, "not a key identifier (RelativeKeyID@FQDN)");
        }
        Registrar registrar;
        if (m.group(2).equals(fqdns.maf(tenantId))) {
            registrar = Registrar.MAF;
        } else if (m.group(2).equals(fqdns.mef(tenantId))) {
            registrar = Registrar.MEF;
        } else {
            return Resolution.refused(kid, "unknown key (not this tenant's MAF or MEF)");
        }
        KeyRegistration k = em.find(KeyRegistration.class, new KeyRegistration.Key(tenantId, registrar, m.group(1)));
        if (k == null || !k.expiresAt.isAfter(Instant.now())) {
            return Resolution.refused(kid, "unknown or expired key");
        }
        if (!k.sourceClientId.equals(caller) && !Arrays.asList(k.targetIds).contains(caller)) {
            return Resolution.refused(kid, "unknown key"); // not this end-point's: indistinguishable from absent
        }
        int wanted = registrar == Registrar.MAF ? usage.mafSuid : usage.mefSuid;
        if (k.suid != wanted) {
            return Resolution.refused(kid, "the key is registered for SUID " + k.suid + ", not " + wanted + " (" + usage.name().toLowerCase() + ")");
        }
        if (!open) {
            return new Resolution(kid, null, k.suid, k.expiresAt, null);
        }
        try (SecretBytes value = sealer.open(RegistrationProcedures.sealContext(tenantId, kid, k.suid), k.sealedKey)) {
            // a protocol that needs one key takes the first half of a distributed key (interop profile)
            SecretBytes half = value.reveal(b -> SecretBytes.copyOf(Arrays.copyOf(b, b.length / 2)));
            return new Resolution(kid, half, k.suid, k.expiresAt, null);
        }
    }

    public Optional<SecretBytes> open(String tenantId, String caller, String kid, Usage usage) {
        Resolution r = resolve(tenantId, caller, kid, usage, true);
        return r.usable() ? Optional.of(r.key()) : Optional.empty();
    }
}
