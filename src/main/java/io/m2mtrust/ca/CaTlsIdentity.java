package io.m2mtrust.ca;

import io.m2mtrust.audit.AuditLog;
import io.m2mtrust.cluster.ReplicaCaches;
import io.m2mtrust.common.SubjectType;
import io.m2mtrust.hsm.HsmCrypto;
import io.m2mtrust.hsm.HsmKeyLabel;
import io.m2mtrust.hsm.KeyPurpose;
import io.m2mtrust.keys.KeyVersionRepository;
import io.m2mtrust.keys.TenantKeyService;
import io.m2mtrust.security.CertificateRevoked;
import io.m2mtrust.security.Revocation;
import io.m2mtrust.security.RevocationEffects;
import io.m2mtrust.security.RevocationListener;
import io.m2mtrust.tenant.DeviceFqdns;
import io.m2mtrust.tenant.TenantStore;
import io.m2mtrust.tls.CertificateAuthentication;
import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.persistence.EntityManager;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.tls.AlertDescription;

import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The tenant CA as the device listener sees it (TS-0003 §10.2.3, certificate RSPF §8.3.2.2): the tenant's FQDN
 * server certificate with its HSM key (issued on first use, renewed before it expires, cached per replica), the
 * issuers it asks clients for, and the verdict on a client chain.
 */
@ApplicationScoped
public class CaTlsIdentity implements CertificateAuthentication, RevocationListener {

    private final CaConfig config;
    private final EntityManager em;
    private final HsmCrypto hsm;
    private final TenantKeyService keys;
    private final AuditLog audit;
    private final DeviceFqdns fqdns;
    private final TenantStore tenantRows;
    private final TenantCa ca;
    private final CertificateStore store;

    CaTlsIdentity(
            CaConfig config,
            EntityManager em,
            HsmCrypto hsm,
            TenantKeyService keys,
            AuditLog audit,
            DeviceFqdns fqdns,
            TenantStore tenantRows,
            TenantCa ca,
            CertificateStore store,
            ReplicaCaches caches) {
        this.store = store;
        this.config = config;
        this.em = em;
        this.hsm = hsm;
        this.keys = keys;
        this.audit = audit;
        this.fqdns = fqdns;
        this.tenantRows = tenantRows;
        this.ca = ca;
        // a TLS or CA key rotation on any replica, or a lost cluster link: the next handshake reloads
        caches.register(KeyVersionRepository.TOPIC, new ReplicaCaches.Forgetter() {
            @Override
            public void forgetTenant(String tenantId) {
                servers.remove(tenantId);
            }

            @Override
            public void forgetAll() {
                servers.clear();
            }
        });
    }

    @Override
    public List<byte[]> acceptedIssuers(String tenantId) {
        return ca.acceptedIssuers(tenantId);
    }

    @Override
    public RevocationEffects revoke(Revocation event) {
        return RevocationEffects.NONE;
    }

    /** A revoked certificate may be the tenant's server certificate: the next handshake reloads it. */
    @Override
    public void forget(Revocation event) {
        if (event instanceof CertificateRevoked) {
            servers.remove(event.tenantId());
        }
    }

    private record Server(ServerIdentity identity, Instant renewAfter, String fqdns) {}

    private final Map<String, Server> servers = new ConcurrentHashMap<>();

    // ---------------------------------------------------------------- the listener's side

    @Override
    public boolean serverIdentityAvailable(String tenantId) {
        return ca.exists(tenantId);
    }

    @Override
    public Optional<ServerIdentity> serverIdentity(String tenantId) {
        if (!ca.exists(tenantId)) {
            return Optional.empty();
        }
        String names = fqdns.mef(tenantId) + " " + fqdns.maf(tenantId) + " " + fqdns.cse(tenantId);
        Server s = servers.get(tenantId);
        if (s != null && s.renewAfter().isAfter(Instant.now()) && s.fqdns().equals(names)) {
            return Optional.of(s.identity());
        }
        Server fresh = loadOrIssueServer(tenantId, names);
        servers.put(tenantId, fresh);
        return Optional.of(fresh.identity());
    }

    private Server loadOrIssueServer(String tenantId, String names) {
        TenantCa.Ca current = ca.cas(tenantId).get(0);
        HsmKeyLabel tlsKey = keys.ensurePrimary(tenantId, KeyPurpose.TLS, "system");
        return QuarkusTransaction.requiringNew().call(() -> {
            tenantRows.lockForUpdate(tenantId); // one replica issues; the others find its certificate
            Instant now = Instant.now();
            for (IssuedCertificate c : store.validServerCertificates(tenantId)) {
                Instant renewAfter = c.notAfter.minus(
                        Duration.between(c.notBefore, c.notAfter).dividedBy(3));
                if (c.subjectId.equals(names)
                        && c.caVersion == current.version()
                        && c.tlsKeyVersion != null
                        && c.tlsKeyVersion == tlsKey.version()
                        && renewAfter.isAfter(now)) {
                    return new Server(
                            new ServerIdentity(
                                    List.of(c.der, current.certificate().getEncoded()), tlsKey),
                            renewAfter,
                            names);
                }
                c.status = IssuedCertificate.Status.SUPERSEDED;
                c.revokedAt = now.truncatedTo(ChronoUnit.SECONDS);
                c.revocationReason = Certificates.REASON_SUPERSEDED;
                ca.markCrlStale(tenantId, c.caVersion);
            }
            em.flush();
            Instant start = now.truncatedTo(ChronoUnit.SECONDS);
            Instant notAfter = Certificates.min(
                    start.plus(config.serverCertificateLifetime()),
                    current.certificate().getNotAfter().toInstant());
            X509CertificateHolder h = ca.build(
                    current,
                    SubjectType.FQDN,
                    List.of(fqdns.mef(tenantId), fqdns.maf(tenantId), fqdns.cse(tenantId)),
                    hsm.token().publicKey(tlsKey),
                    start,
                    notAfter,
                    true);
            IssuedCertificate c =
                    ca.record(tenantId, IssuedCertificate.Kind.SERVER, SubjectType.FQDN, names, null, current, h);
            c.tlsKeyVersion = tlsKey.version();
            em.persist(c);
            em.flush();
            audit.append(
                    tenantId,
                    "system",
                    "certificate.issue",
                    "certificate/" + c.serial,
                    AuditLog.Outcome.SUCCESS,
                    "service FQDN certificate for " + names + " until " + c.notAfter);
            Instant renewAfter =
                    c.notAfter.minus(Duration.between(c.notBefore, c.notAfter).dividedBy(3));
            return new Server(
                    new ServerIdentity(List.of(c.der, current.certificate().getEncoded()), tlsKey), renewAfter, names);
        });
    }

    @Override
    public AuthenticatedCertificate authenticateClient(String tenantId, List<byte[]> chainDer)
            throws RejectedCertificate {
        if (chainDer.isEmpty()) {
            throw new RejectedCertificate(AlertDescription.handshake_failure, "a client certificate is required");
        }
        X509Certificate leaf;
        try {
            leaf = Certificates.parse(chainDer.get(0));
        } catch (IllegalArgumentException e) {
            throw new RejectedCertificate(AlertDescription.bad_certificate, "unparseable client certificate");
        }
        TenantCa.Ca issuer = null;
        for (TenantCa.Ca candidate : ca.cas(tenantId)) {
            if (candidate.certificate().getSubjectX500Principal().equals(leaf.getIssuerX500Principal())) {
                try {
                    leaf.verify(candidate.certificate().getPublicKey());
                    issuer = candidate;
                    break;
                } catch (java.security.GeneralSecurityException e) {
                    // another CA version may carry the same name: keep looking
                }
            }
        }
        if (issuer == null) {
            throw new RejectedCertificate(AlertDescription.unknown_ca, "not issued by this tenant's CA");
        }
        try {
            leaf.checkValidity();
        } catch (CertificateException e) {
            throw new RejectedCertificate(
                    AlertDescription.certificate_expired, "client certificate is outside its validity");
        }
        if (!Certificates.isP256(leaf.getPublicKey())) {
            throw new RejectedCertificate(
                    AlertDescription.unsupported_certificate, "client key is not EC P-256 (TS-0003 §10.1.1.1)");
        }
        String serial = leaf.getSerialNumber().toString(16);
        IssuedCertificate row = QuarkusTransaction.requiringNew()
                .call(() -> em.find(IssuedCertificate.class, new IssuedCertificate.Key(tenantId, serial)));
        if (row == null || row.kind != IssuedCertificate.Kind.CLIENT) {
            throw new RejectedCertificate(
                    AlertDescription.bad_certificate, "certificate is not a recorded client certificate");
        }
        if (row.status != IssuedCertificate.Status.VALID) {
            throw new RejectedCertificate(
                    AlertDescription.certificate_revoked,
                    "certificate " + serial + " is " + row.status.name().toLowerCase());
        }
        return new AuthenticatedCertificate(row.subjectId, serial);
    }
}
