package io.m2mtrust.registration;

import io.m2mtrust.audit.AuditLog;
import io.m2mtrust.common.SecretBytes;
import io.m2mtrust.keys.KeySealer;
import io.m2mtrust.tenant.DeviceFqdns;
import io.m2mtrust.tls.PskResolver;
import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.persistence.EntityManager;

import java.time.Instant;
import java.util.Arrays;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * MAF-based SAEF, Entity B side (TS-0003 §8.2.2.3): Entity A connects to {@code cse.<tenant>.<base>}
 * with psk_identity = a MAF Key Identifier ({@code RelativeKeyID@MAF-FQDN}); the listener, acting for the
 * tenant's CSE, retrieves that key from the MAF as its target — SUID 32, this CSE named in targetIDs, not
 * expired — and uses its first half as the PSK (interop profile: a protocol that needs one key takes the
 * first half of a distributed key). Handshakes after the key's lifetime fail with unknown_psk_identity.
 */
@ApplicationScoped
public class SaefKeys implements PskResolver {

    static final int SAEF_SUID = 32;
    private static final Pattern KEY_IDENTIFIER = Pattern.compile("([0-9a-f]{32})@([a-z0-9.-]{1,253})");

    /** The association Entity B holds after a handshake. */
    public record Association(String keyIdentifier, String entityA, Instant expiresAt) {}

    private final EntityManager em;
    private final KeySealer sealer;
    private final DeviceFqdns fqdns;
    private final AuditLog audit;

    SaefKeys(EntityManager em, KeySealer sealer, DeviceFqdns fqdns, AuditLog audit) {
        this.em = em;
        this.sealer = sealer;
        this.fqdns = fqdns;
        this.audit = audit;
    }

    @Override
    public DeviceFqdns.Function function() {
        return DeviceFqdns.Function.SAEF;
    }

    @Override
    public Optional<SecretBytes> resolve(String tenantId, String identity) {
        Matcher m = KEY_IDENTIFIER.matcher(identity);
        if (!m.matches() || !m.group(2).equals(fqdns.maf(tenantId))) {
            return Optional.empty();
        }
        String entityB = fqdns.cse(tenantId);
        return QuarkusTransaction.requiringNew().call(() -> {
            KeyRegistration k = live(tenantId, m.group(1), entityB);
            if (k == null) {
                return Optional.<SecretBytes>empty();
            }
            try (SecretBytes value =
                    sealer.open(KeyRegistrationProcedures.sealContext(tenantId, identity, k.suid), k.sealedKey)) {
                audit.append(
                        tenantId,
                        "saef " + entityB,
                        "maf.key.retrieve",
                        identity,
                        AuditLog.Outcome.SUCCESS,
                        "SAEF PSK for Entity A " + k.sourceClientId + " until " + k.expiresAt);
                return Optional.of(value.reveal(b -> SecretBytes.copyOf(Arrays.copyOf(b, b.length / 2))));
            }
        });
    }

    /** What the session's key names (for the Entity B endpoint), if it is still live. */
    public Optional<Association> association(String tenantId, String identity) {
        Matcher m = KEY_IDENTIFIER.matcher(identity);
        if (!m.matches()) {
            return Optional.empty();
        }
        return QuarkusTransaction.requiringNew()
                .call(() -> Optional.ofNullable(live(tenantId, m.group(1), fqdns.cse(tenantId)))
                        .map(k -> new Association(identity, k.sourceClientId, k.expiresAt)));
    }

    private KeyRegistration live(String tenantId, String relativeKeyId, String entityB) {
        KeyRegistration k =
                em.find(KeyRegistration.class, new KeyRegistration.Key(tenantId, Registrar.MAF, relativeKeyId));
        boolean ok = k != null
                && k.suid == SAEF_SUID
                && k.expiresAt.isAfter(Instant.now())
                && Arrays.asList(k.targetIds).contains(entityB);
        return ok ? k : null;
    }
}
