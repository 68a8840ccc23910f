package io.m2mtrust.escertke;

import io.m2mtrust.audit.AdminChanges;
import io.m2mtrust.audit.Audited;
import io.m2mtrust.ca.Certificates;
import io.m2mtrust.common.ApiProblem;
import io.m2mtrust.security.AdminAccess;
import io.m2mtrust.security.KeyRevoked;
import io.m2mtrust.security.Revocations;
import io.m2mtrust.security.TenantDoor;
import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.persistence.EntityManager;
import jakarta.validation.Valid;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Size;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.security.SecurityRequirement;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * ESCertKE administration: trust anchors beside the tenant CA (another operator's CA, with its CRL) and the
 * keys ESCertKE established (listed without material; revocable at once). A handshake toward a configured
 * remote receiver is started at {@code POST /proxy/remotes/{name}/escertke}.
 */
@Path("/api/v1/tenants/{tenant}/escertke")
@Produces(MediaType.APPLICATION_JSON)
@Consumes(MediaType.APPLICATION_JSON)
@Tag(name = "ESCertKE")
@SecurityRequirement(name = "oidc")
public class EscertkeResource {

    /** {@code certificate} and {@code crl}: PEM or base64 DER. */
    public record AnchorBody(
            @NotBlank @Size(max = 64) String id,
            @NotBlank @Size(max = 20_000) String certificate,
            @Size(max = 200_000) String crl) {}

    public record AnchorView(
            String id,
            String subject,
            Instant notAfter,
            String sha256,
            boolean revocationChecked,
            Instant crlNextUpdate,
            Instant updatedAt) {
        static AnchorView of(TrustAnchor a) {
            X509Certificate c = Certificates.parse(a.certificate);
            X509CRL crl = a.crl == null ? null : PeerCertificates.crl(a.crl);
            return new AnchorView(
                    a.id,
                    c.getSubjectX500Principal().getName(),
                    c.getNotAfter().toInstant(),
                    PeerCertificates.sha256(a.certificate),
                    crl != null,
                    crl == null || crl.getNextUpdate() == null
                            ? null
                            : crl.getNextUpdate().toInstant(),
                    a.updatedAt);
        }
    }

    public record KeyView(
            String keyId,
            String role,
            String localIdentity,
            String peerIdentity,
            String peerCertificateSerial,
            Instant createdAt,
            Instant expiresAt,
            Instant revokedAt,
            String status) {
        static KeyView of(EscertkeKey k) {
            String status = k.revokedAt != null ? "REVOKED" : k.expiresAt.isAfter(Instant.now()) ? "ACTIVE" : "EXPIRED";
            return new KeyView(
                    k.keyId,
                    k.role.name(),
                    k.localIdentity,
                    k.peerIdentity,
                    k.peerCertificateSerial,
                    k.createdAt,
                    k.expiresAt,
                    k.revokedAt,
                    status);
        }
    }

    private final EntityManager em;
    private final TenantDoor tenants;
    private final EscertkeService escertke;
    private final EscertkeStore store;
    private final Revocations revocations;
    private final AdminChanges changes;

    EscertkeResource(
            EntityManager em,
            TenantDoor tenants,
            EscertkeService escertke,
            EscertkeStore store,
            AdminChanges changes,
            Revocations revocations) {
        this.revocations = revocations;
        this.changes = changes;
        this.store = store;
        this.escertke = escertke;
        this.em = em;
        this.tenants = tenants;
    }

    @GET
    @Path("trust-anchors")
    @Operation(summary = "Trust anchors for ESCertKE peers besides the tenant CA")
    public List<AnchorView> anchors(@PathParam("tenant") String tenant) {
        tenants.enter(tenant, AdminAccess.Need.READ);
        return QuarkusTransaction.requiringNew()
                .call(() ->
                        store.trustAnchors(tenant).stream().map(AnchorView::of).toList());
    }

    @PUT
    @Path("trust-anchors")
    @Operation(
            summary =
                    "Add or replace a trust anchor (a CA certificate) and its CRL; without a CRL its certificates' revocation is not checked")
    public AnchorView putAnchor(@PathParam("tenant") String tenant, @Valid @NotNull AnchorBody body) {
        tenants.enter(tenant, AdminAccess.Need.WRITE);
        List<Map<String, String>> errors = new ArrayList<>();
        if (!body.id().matches("[a-z0-9][a-z0-9-]{0,63}")) {
            errors.add(ApiProblem.fieldError("id", "1-64 of a-z, 0-9 and hyphens"));
        }
        byte[] cert = null;
        byte[] crl = null;
        try {
            cert = der(body.certificate(), "CERTIFICATE");
            X509Certificate c = Certificates.parse(cert);
            if (c.getBasicConstraints() < 0) {
                errors.add(ApiProblem.fieldError("certificate", "not a CA certificate (basicConstraints cA)"));
            }
            c.checkValidity();
            if (body.crl() != null) {
                crl = der(body.crl(), "X509 CRL");
                X509CRL parsed = PeerCertificates.crl(crl);
                try {
                    parsed.verify(c.getPublicKey());
                } catch (java.security.GeneralSecurityException e) {
                    errors.add(ApiProblem.fieldError("crl", "not signed by this certificate's key"));
                }
            }
        } catch (java.security.cert.CertificateException e) {
            errors.add(ApiProblem.fieldError("certificate", "outside its validity"));
        } catch (IllegalArgumentException e) {
            errors.add(ApiProblem.fieldError(cert == null ? "certificate" : "crl", e.getMessage()));
        }
        if (!errors.isEmpty()) {
            throw ApiProblem.invalid(errors);
        }
        byte[] certDer = cert;
        byte[] crlDer = crl;
        AnchorView view = changes.make(tenant, "escertke.anchor.put", "trust-anchor/" + body.id(), () -> {
            TrustAnchor a = em.find(TrustAnchor.class, new TrustAnchor.Key(tenant, body.id()));
            Instant now = Instant.now().truncatedTo(ChronoUnit.MICROS);
            boolean created = a == null;
            if (created) {
                a = new TrustAnchor();
                a.tenantId = tenant;
                a.id = body.id();
                a.createdAt = now;
            }
            a.certificate = certDer;
            a.crl = crlDer;
            a.updatedAt = now;
            if (created) {
                em.persist(a);
            }
            escertke.invalidate(tenant); // every replica forgets the tenant's trust lists when this commits
            return Audited.of(
                    AnchorView.of(a),
                    Certificates.parse(certDer).getSubjectX500Principal().getName()
                            + (crlDer == null ? ", no CRL" : ", with CRL"));
        });
        return view;
    }

    @DELETE
    @Path("trust-anchors/{id}")
    @Operation(summary = "Remove a trust anchor: its certificates are refused from the next handshake on")
    public Response deleteAnchor(@PathParam("tenant") String tenant, @PathParam("id") String id) {
        tenants.enter(tenant, AdminAccess.Need.WRITE);
        changes.remove(
                tenant,
                "escertke.anchor.delete",
                "trust-anchor/" + id,
                () -> {
                    boolean gone = store.deleteTrustAnchor(tenant, id);
                    if (gone) {
                        escertke.invalidate(tenant);
                    }
                    return gone;
                },
                "trust anchor " + id);
        return Response.noContent().build();
    }

    @GET
    @Path("keys")
    @Operation(summary = "Keys established by ESCertKE (never their material), newest first")
    public List<KeyView> keys(@PathParam("tenant") String tenant) {
        tenants.enter(tenant, AdminAccess.Need.READ);
        return QuarkusTransaction.requiringNew()
                .call(() -> store.newest(tenant, 1000).stream().map(KeyView::of).toList());
    }

    @DELETE
    @Path("keys/{keyId}")
    @Operation(
            summary =
                    "Revoke an ESCertKE key: refused for ESPrim and ESData at once; the originator role establishes a new one")
    public Response revoke(@PathParam("tenant") String tenant, @PathParam("keyId") String keyId) {
        tenants.enter(tenant, AdminAccess.Need.WRITE);
        changes.remove(
                tenant,
                "escertke.key.revoke",
                "escertke-key/" + keyId,
                () -> {
                    boolean revoked = store.revokeKey(tenant, keyId);
                    if (revoked) { // every replica drops the key and the ESPrim sessions made under it at the commit
                        revocations.publish(new KeyRevoked(
                                tenant, KeyRevoked.Kind.ESCERTKE, List.of(keyId), "escertke.key.revoke"));
                    }
                    return revoked;
                },
                "active ESCertKE key " + keyId);
        return Response.noContent().build();
    }

    /** PEM (one block of {@code type}) or base64 DER. */
    static byte[] der(String text, String type) {
        String t = text.trim();
        if (t.startsWith("-----BEGIN " + type + "-----")) {
            int end = t.indexOf("-----END " + type + "-----");
            if (end < 0) {
                throw new IllegalArgumentException("unterminated PEM block");
            }
            t = t.substring(("-----BEGIN " + type + "-----").length(), end);
        }
        try {
            return Base64.getMimeDecoder().decode(t.replaceAll("\\s", ""));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("neither PEM " + type + " nor base64 DER");
        }
    }
}
