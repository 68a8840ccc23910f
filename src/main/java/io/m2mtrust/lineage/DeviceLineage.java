package io.m2mtrust.lineage;

import io.m2mtrust.audit.AuditLog;
import io.m2mtrust.ca.IssuedCertificate;
import io.m2mtrust.ca.TenantCa;
import io.m2mtrust.common.ApiProblem;
import io.m2mtrust.enrolment.DeviceFqdns;
import io.m2mtrust.enrolment.EnrolmentDevice;
import io.m2mtrust.enrolment.EnrolmentGroupService;
import io.m2mtrust.enrolment.GroupKey;
import io.m2mtrust.enrolment.KpmId;
import io.m2mtrust.mef.Enrolment;
import io.m2mtrust.registration.ClientRegistration;
import io.m2mtrust.registration.KeyRegistration;
import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.persistence.EntityManager;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;

/**
 * The key lineage of one enrolment device, across everything derived from it: its KpmID per group epoch →
 * enrolments (KeID, status, expiry) → client registrations with the MEF (by KpmID) and the MAF (by KeID, with
 * the Km) → their registered keys → certificates issued to it → ESCertKE keys bound to those identities. And the
 * cascading revoke: deny the device first (so nothing new enrols meanwhile), revoke its certificates (each audited by
 * the CA), then revoke its enrolments, delete its client registrations (and so their Km and registered keys) and
 * revoke its ESCertKE keys in one transaction with one summary audit event.
 */
@ApplicationScoped
public class DeviceLineage {

    public record KeyNode(String keyIdentifier, int suid, List<String> targets, Instant expiresAt) {}

    public record RegistrationNode(
            String registrar,
            String regId,
            String clientId,
            String kmId,
            Instant kmExpiresAt,
            Instant expiresAt,
            List<KeyNode> keys) {}

    public record EnrolmentNode(
            String kpmId,
            String keId,
            String status,
            Instant createdAt,
            Instant expiresAt,
            List<RegistrationNode> registrations) {}

    public record CertificateNode(String serial, String subject, String status, Instant notAfter) {}

    public record EscertkeNode(String keyId, String peer, Instant expiresAt, Instant revokedAt) {}

    public record Lineage(
            String groupId,
            String deviceId,
            String status,
            List<String> kpmIds,
            List<EnrolmentNode> enrolments,
            List<RegistrationNode> mefRegistrations,
            List<CertificateNode> certificates,
            List<EscertkeNode> escertkeKeys) {}

    private final EntityManager em;
    private final EnrolmentGroupService groups;
    private final DeviceFqdns fqdns;
    private final TenantCa ca;
    private final AuditLog audit;
    private final io.m2mtrust.escertke.EscertkeService escertke;

    DeviceLineage(
            EntityManager em,
            EnrolmentGroupService groups,
            DeviceFqdns fqdns,
            TenantCa ca,
            AuditLog audit,
            io.m2mtrust.escertke.EscertkeService escertke) {
        this.escertke = escertke;
        this.em = em;
        this.groups = groups;
        this.fqdns = fqdns;
        this.ca = ca;
        this.audit = audit;
    }

    private List<String> kpmIds(String tenantId, String groupId, String deviceId) {
        List<String> out = new ArrayList<>();
        for (GroupKey k : groups.keys(tenantId, groupId)) {
            out.add(new KpmId(deviceId, k.epoch, groupId, fqdns.mef(tenantId)).value());
        }
        return out;
    }

    public Lineage of(String tenantId, String groupId, String deviceId) {
        return QuarkusTransaction.requiringNew().call(() -> {
            groups.get(tenantId, groupId);
            EnrolmentDevice d = em.find(EnrolmentDevice.class, new EnrolmentDevice.Key(tenantId, groupId, deviceId));
            if (d == null && !groups.isMember(tenantId, groupId, deviceId)) {
                throw ApiProblem.notFound("device " + deviceId);
            }
            List<String> ids = kpmIds(tenantId, groupId, deviceId);
            List<EnrolmentNode> enrolments = new ArrayList<>();
            for (Enrolment e : em.createQuery(
                            "from Enrolment where tenantId = ?1 and enroleeId in ?2 order by createdAt desc",
                            Enrolment.class)
                    .setParameter(1, tenantId)
                    .setParameter(2, ids)
                    .setMaxResults(100)
                    .getResultList()) {
                List<RegistrationNode> regs = em.createQuery(
                                "from ClientRegistration where tenantId = ?1 and keId = ?2", ClientRegistration.class)
                        .setParameter(1, tenantId)
                        .setParameter(2, e.keId)
                        .getResultStream()
                        .map(this::node)
                        .toList();
                enrolments.add(new EnrolmentNode(e.enroleeId, e.keId, e.status.name(), e.createdAt, e.expiresAt, regs));
            }
            List<RegistrationNode> mef = em.createQuery(
                            "from ClientRegistration where tenantId = ?1 and clientId in ?2", ClientRegistration.class)
                    .setParameter(1, tenantId)
                    .setParameter(2, ids)
                    .getResultStream()
                    .map(this::node)
                    .toList();
            List<IssuedCertificate> certs = em.createQuery(
                            "from IssuedCertificate where tenantId = ?1 and enroleeId in ?2 order by issuedAt desc",
                            IssuedCertificate.class)
                    .setParameter(1, tenantId)
                    .setParameter(2, ids)
                    .setMaxResults(100)
                    .getResultList();
            List<String> identities = new ArrayList<>(ids);
            certs.forEach(c -> identities.add(c.subjectId));
            List<EscertkeNode> escertke = em.createQuery(
                            "from EscertkeKey where tenantId = ?1 and (peerIdentity in ?2 or peerSubject in ?2 or "
                                    + "localIdentity in ?2 or localSubject in ?2) order by createdAt desc",
                            io.m2mtrust.escertke.EscertkeKey.class)
                    .setParameter(1, tenantId)
                    .setParameter(2, identities)
                    .setMaxResults(100)
                    .getResultStream()
                    .map(k -> new EscertkeNode(
                            k.keyId,
                            identities.contains(k.peerIdentity) || identities.contains(k.peerSubject)
                                    ? k.localIdentity
                                    : k.peerIdentity,
                            k.expiresAt,
                            k.revokedAt))
                    .toList();
            return new Lineage(
                    groupId,
                    deviceId,
                    d == null ? EnrolmentDevice.Status.ALLOWED.name() : d.status.name(),
                    ids,
                    enrolments,
                    mef,
                    certs.stream()
                            .map(c -> new CertificateNode(
                                    c.serial, c.subjectType + ": " + c.subjectId, c.status.name(), c.notAfter))
                            .toList(),
                    escertke);
        });
    }

    private RegistrationNode node(ClientRegistration r) {
        List<KeyNode> keys = em.createQuery(
                        "from KeyRegistration where tenantId = ?1 and sourceRegId = ?2 order by createdAt desc",
                        KeyRegistration.class)
                .setParameter(1, r.tenantId)
                .setParameter(2, r.regId)
                .getResultStream()
                .map(k -> new KeyNode(
                        k.relativeKeyId + "@" + k.registrar.fqdn(fqdns, r.tenantId),
                        k.suid,
                        List.of(k.targetIds),
                        k.expiresAt))
                .toList();
        return new RegistrationNode(r.registrar.name(), r.regId, r.clientId, r.kmId, r.kmExpiresAt, r.expiresAt, keys);
    }

    /** What a cascading revoke did. */
    public record Revoked(int enrolments, int registrations, int certificates, int escertkeKeys) {}

    public Revoked revokeAll(String tenantId, String groupId, String deviceId, String actor) {
        Lineage l = of(tenantId, groupId, deviceId);
        groups.setStatus(tenantId, groupId, deviceId, EnrolmentDevice.Status.DENIED, actor);
        int certs = 0;
        for (CertificateNode c : l.certificates()) {
            if (c.status().equals(IssuedCertificate.Status.VALID.name())) {
                ca.revoke(tenantId, c.serial(), TenantCa.reasonCode("cessationOfOperation"), actor);
                certs++;
            }
        }
        int certificates = certs;
        Revoked done = QuarkusTransaction.requiringNew().call(() -> {
            Instant now = Instant.now().truncatedTo(ChronoUnit.MICROS);
            int enrolments = em.createQuery(
                            "update Enrolment set status = ?1 where tenantId = ?2 and enroleeId in ?3 and status <> ?1")
                    .setParameter(1, Enrolment.Status.REVOKED)
                    .setParameter(2, tenantId)
                    .setParameter(3, l.kpmIds())
                    .executeUpdate();
            List<String> regIds = new ArrayList<>();
            l.enrolments().forEach(e -> e.registrations().forEach(r -> regIds.add(r.regId())));
            l.mefRegistrations().forEach(r -> regIds.add(r.regId()));
            int registrations = regIds.isEmpty()
                    ? 0
                    : em.createQuery("delete from ClientRegistration where tenantId = ?1 and regId in ?2")
                            .setParameter(1, tenantId)
                            .setParameter(2, regIds)
                            .executeUpdate();
            List<String> kids = l.escertkeKeys().stream()
                    .filter(k -> k.revokedAt() == null)
                    .map(EscertkeNode::keyId)
                    .toList();
            int escertkeRevoked = kids.isEmpty()
                    ? 0
                    : em.createQuery("update EscertkeKey set revokedAt = ?1 where tenantId = ?2 and keyId in ?3")
                            .setParameter(1, now)
                            .setParameter(2, tenantId)
                            .setParameter(3, kids)
                            .executeUpdate();
            audit.append(
                    tenantId,
                    actor,
                    "device.revoke-all",
                    "group/" + groupId + "/device/" + deviceId,
                    AuditLog.Outcome.SUCCESS,
                    "denied; " + enrolments + " enrolments revoked, " + registrations
                            + " client registrations (with Km and keys) deleted, " + certificates
                            + " certificates revoked, " + escertkeRevoked + " ESCertKE keys revoked");
            return new Revoked(enrolments, registrations, certificates, escertkeRevoked);
        });
        escertke.invalidate(tenantId);
        return done;
    }
}
