package io.m2mtrust.mef;

import io.m2mtrust.audit.AuditLog;
import io.m2mtrust.common.SecretBytes;
import io.m2mtrust.keys.KeySealer;
import io.m2mtrust.policy.PolicyService;
import io.m2mtrust.tenant.DeviceFqdns;
import io.m2mtrust.tls.DevicePeer;
import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.persistence.EntityManager;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Optional;

/**
 * Records an enrolment after the RSPF handshake: Ke and RelativeKeID from the exporter
 * {@code EXPORTER-oneM2M-Bootstrap} (48 bytes, no context; first 16 = RelativeKeID, last 32 = Ke,
 * TS-0003 §10.3.1 and the interop profile), {@code KeID = hex(RelativeKeID)@MEF-FQDN} (§10.3.4).
 */
@ApplicationScoped
public class EnrolmentService {

    public static final String BOOTSTRAP_LABEL = "EXPORTER-oneM2M-Bootstrap";
    static final String SEAL_PURPOSE = "Ke";

    /** Another enrolment of the same enrolee holds the lock right now. */
    public static final class ConcurrentEnrolmentException extends RuntimeException {
        ConcurrentEnrolmentException(String enrolee) {
            super("another enrolment of " + enrolee + " is in progress", null, false, false);
        }
    }

    /**
     * The session's Bootstrap export is already a KeID: this (D)TLS session enrolled before. One session gives one Ke
     * (TS-0003 §8.3.5.2.1); a new enrolment needs a new handshake.
     */
    public static final class SessionAlreadyEnrolledException extends RuntimeException {
        SessionAlreadyEnrolledException() {
            super("this session has already enrolled; enrol again in a new (D)TLS session", null, false, false);
        }
    }

    public record Enrolled(String keId, Instant expiresAt) {}

    private final EntityManager em;
    private final KeySealer sealer;
    private final PolicyService policies;
    private final DeviceFqdns fqdns;
    private final AuditLog audit;
    private final EnrolmentStore enrolments;

    EnrolmentService(
            EntityManager em,
            KeySealer sealer,
            PolicyService policies,
            DeviceFqdns fqdns,
            AuditLog audit,
            EnrolmentStore enrolments) {
        this.enrolments = enrolments;
        this.em = em;
        this.sealer = sealer;
        this.policies = policies;
        this.fqdns = fqdns;
        this.audit = audit;
    }

    /** Stores the session's Ke for {@code enroleeId}, replacing an earlier enrolment of the same enrolee. */
    public Enrolled enrol(
            String tenantId, String enroleeId, DevicePeer.Credential credential, SecretBytes bootstrapExport) {
        if (bootstrapExport.length() != 48) {
            throw new IllegalArgumentException("the Bootstrap exporter gives 48 bytes");
        }
        byte[] all = bootstrapExport.copy();
        try (SecretBytes ke = SecretBytes.copyOf(Arrays.copyOfRange(all, 16, 48))) {
            String keId = HexFormat.of().formatHex(all, 0, 16) + "@" + fqdns.mef(tenantId);
            return QuarkusTransaction.requiringNew().call(() -> {
                if (em.find(Enrolment.class, new Enrolment.Key(tenantId, keId)) != null) {
                    throw new SessionAlreadyEnrolledException();
                }
                Instant now = Instant.now().truncatedTo(ChronoUnit.MICROS);
                Enrolment e = new Enrolment();
                e.tenantId = tenantId;
                e.keId = keId;
                e.enroleeId = enroleeId;
                e.credential = credential;
                e.sealedKe = sealer.seal(new KeySealer.SealContext(tenantId, keId, SEAL_PURPOSE), ke);
                e.status = Enrolment.Status.ACTIVE;
                e.createdAt = now;
                e.expiresAt = now.plusSeconds(policies.current(tenantId).defaultKeyLifetimeSeconds);
                int replaced = enrolments.replaceActiveWith(e);
                if (replaced < 0) {
                    throw new ConcurrentEnrolmentException(enroleeId);
                }
                audit.append(
                        tenantId,
                        "enrolee " + enroleeId,
                        "enrolment.create",
                        keId,
                        AuditLog.Outcome.SUCCESS,
                        credential + " enrolment, Ke sealed, expires " + e.expiresAt
                                + (replaced > 0 ? ", replaced the previous Ke" : ""));
                return new Enrolled(keId, e.expiresAt);
            });
        } finally {
            Arrays.fill(all, (byte) 0);
        }
    }

    /** The Ke of a live (ACTIVE, unexpired) enrolment, unsealed in the HSM. */
    public Optional<SecretBytes> liveKe(String tenantId, String keId) {
        return QuarkusTransaction.requiringNew().call(() -> {
            Enrolment e = em.find(Enrolment.class, new Enrolment.Key(tenantId, keId));
            if (e == null || e.status != Enrolment.Status.ACTIVE || !e.expiresAt.isAfter(Instant.now())) {
                return Optional.empty();
            }
            return Optional.of(sealer.open(new KeySealer.SealContext(tenantId, keId, SEAL_PURPOSE), e.sealedKe));
        });
    }
}
