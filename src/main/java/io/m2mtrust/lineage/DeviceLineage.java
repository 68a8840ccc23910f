package io.m2mtrust.lineage;

import io.m2mtrust.audit.AuditLog;
import io.m2mtrust.ca.CertificateStore;
import io.m2mtrust.ca.CertificateStore.CertificateSummary;
import io.m2mtrust.ca.Certificates;
import io.m2mtrust.ca.TenantCa;
import io.m2mtrust.enrolment.EnrolmentGroupService;
import io.m2mtrust.escertke.EscertkeStore;
import io.m2mtrust.mef.EnrolmentStore;
import io.m2mtrust.registration.RegistrationStore;
import io.m2mtrust.registration.RegistrationStore.RegistrationSummary;
import io.m2mtrust.security.IdentityRevoked;
import io.m2mtrust.security.RevocationEffects;
import io.m2mtrust.security.Revocations;
import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.enterprise.context.ApplicationScoped;

import java.time.Instant;
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

    public record EnrolmentNode(
            String kpmId,
            String keId,
            String status,
            Instant createdAt,
            Instant expiresAt,
            List<RegistrationSummary> registrations) {}

    public record CertificateNode(String serial, String subject, String status, Instant notAfter) {}

    public record EscertkeNode(String keyId, String peer, Instant expiresAt, Instant revokedAt) {}

    public record Lineage(
            String groupId,
            String deviceId,
            String status,
            List<String> kpmIds,
            List<EnrolmentNode> enrolments,
            List<RegistrationSummary> mefRegistrations,
            List<CertificateNode> certificates,
            List<EscertkeNode> escertkeKeys) {}

    private final EnrolmentGroupService groups;
    private final EnrolmentStore enrolments;
    private final RegistrationStore registrations;
    private final CertificateStore certificates;
    private final EscertkeStore escertkeKeys;
    private final TenantCa ca;
    private final Revocations revocations;
    private final AuditLog audit;

    DeviceLineage(
            EnrolmentGroupService groups,
            EnrolmentStore enrolments,
            RegistrationStore registrations,
            CertificateStore certificates,
            EscertkeStore escertkeKeys,
            TenantCa ca,
            Revocations revocations,
            AuditLog audit) {
        this.groups = groups;
        this.enrolments = enrolments;
        this.registrations = registrations;
        this.certificates = certificates;
        this.escertkeKeys = escertkeKeys;
        this.ca = ca;
        this.revocations = revocations;
        this.audit = audit;
    }

    public Lineage of(String tenantId, String groupId, String deviceId) {
        return QuarkusTransaction.requiringNew().call(() -> {
            String status = groups.requireDeviceStatus(tenantId, groupId, deviceId);
            List<String> ids = groups.kpmIds(tenantId, groupId, deviceId);
            List<EnrolmentNode> enrolmentNodes = enrolments.of(tenantId, ids, 100).stream()
                    .map(e -> new EnrolmentNode(
                            e.enroleeId(),
                            e.keId(),
                            e.status(),
                            e.createdAt(),
                            e.expiresAt(),
                            registrations.underEnrolment(tenantId, e.keId())))
                    .toList();
            List<RegistrationSummary> mef = registrations.ofClients(tenantId, ids);
            List<CertificateSummary> certs = certificates.issuedTo(tenantId, ids, 100);
            List<String> identities = identities(ids, certs);
            List<EscertkeNode> escertke = escertkeKeys.summariesBoundTo(tenantId, identities, 100).stream()
                    .map(k -> new EscertkeNode(
                            k.keyId(),
                            identities.contains(k.peerIdentity()) || identities.contains(k.peerSubject())
                                    ? k.localIdentity()
                                    : k.peerIdentity(),
                            k.expiresAt(),
                            k.revokedAt()))
                    .toList();
            return new Lineage(
                    groupId,
                    deviceId,
                    status,
                    ids,
                    enrolmentNodes,
                    mef,
                    certs.stream()
                            .map(c -> new CertificateNode(
                                    c.serial(), c.subjectType() + ": " + c.subjectId(), c.status(), c.notAfter()))
                            .toList(),
                    escertke);
        });
    }

    /** The device's identities: its KpmIDs and the subjects of the certificates issued to it. */
    private static List<String> identities(List<String> kpmIds, List<CertificateSummary> certs) {
        List<String> identities = new ArrayList<>(kpmIds);
        certs.forEach(c -> identities.add(c.subjectId()));
        return identities;
    }

    /** What a cascading revoke did. */
    public record Revoked(int enrolments, int registrations, int certificates, int escertkeKeys) {}

    /**
     * Deny the device first (so nothing new enrols meanwhile; the deny already revokes what its KpmIDs hold), revoke its
     * valid certificates (each audited by the CA), then revoke its identities, the certificate subjects among them, in
     * one transaction: every feature holding credentials bound to them revokes its own ({@link IdentityRevoked}); one
     * summary audit event says what went, the deny's share included.
     */
    public Revoked revokeAll(String tenantId, String groupId, String deviceId, String actor) {
        List<String> ids = QuarkusTransaction.requiringNew().call(() -> {
            groups.requireDeviceStatus(tenantId, groupId, deviceId); // 404 before anything changes
            return groups.kpmIds(tenantId, groupId, deviceId);
        });
        // the deny ends what was derived from the device's enrolments (its KpmIDs); then the certificates' subjects
        RevocationEffects denied = groups.deny(tenantId, groupId, deviceId, actor);
        List<CertificateSummary> certs =
                QuarkusTransaction.requiringNew().call(() -> certificates.issuedTo(tenantId, ids, 100));
        int revokedCertificates = 0;
        for (CertificateSummary c : certs) {
            if (c.valid()) {
                ca.revoke(tenantId, c.serial(), Certificates.reasonCode("cessationOfOperation"), actor);
                revokedCertificates++;
            }
        }
        int certificatesRevoked = revokedCertificates;
        List<String> identities = identities(ids, certs);
        return QuarkusTransaction.requiringNew().call(() -> {
            RevocationEffects e =
                    denied.plus(revocations.publish(new IdentityRevoked(tenantId, identities, "device.revoke-all")));
            int enrolmentsRevoked = e.count(RevocationEffects.ENROLMENTS);
            int registrationsDeleted = e.count(RevocationEffects.REGISTRATIONS);
            int escertkeRevoked = e.count(RevocationEffects.ESCERTKE_KEYS);
            audit.append(
                    tenantId,
                    actor,
                    "device.revoke-all",
                    "group/" + groupId + "/device/" + deviceId,
                    AuditLog.Outcome.SUCCESS,
                    "denied; " + enrolmentsRevoked + " enrolments revoked, " + registrationsDeleted
                            + " client registrations (with Km and keys) deleted, " + certificatesRevoked
                            + " certificates revoked, " + escertkeRevoked + " ESCertKE keys revoked");
            return new Revoked(enrolmentsRevoked, registrationsDeleted, certificatesRevoked, escertkeRevoked);
        });
    }
}
