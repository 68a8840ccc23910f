package io.m2mtrust.ca;

import io.m2mtrust.common.ApiProblem;
import io.m2mtrust.security.AdminAccess;
import io.m2mtrust.security.TenantDoor;
import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.persistence.EntityManager;
import jakarta.validation.constraints.Pattern;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DefaultValue;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.security.SecurityRequirement;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

import java.time.Instant;
import java.util.Base64;
import java.util.List;

/**
 * The tenant CA and the certificates it issued: create the CA (its key is generated in the HSM), list
 * and read certificates, revoke, and fetch the CRL. Certificates and CRLs are public data; private keys
 * never appear anywhere.
 */
@Path("/api/v1/tenants/{tenant}")
@Produces(MediaType.APPLICATION_JSON)
@Consumes(MediaType.APPLICATION_JSON)
@Tag(name = "Certificates")
@SecurityRequirement(name = "oidc")
public class CertificateResource {

    public record CaView(
            int version, String subject, Instant notBefore, Instant notAfter, String sha256Fingerprint, String pem) {
        static CaView of(TenantCa.Ca c) {
            try {
                byte[] der = c.certificate().getEncoded();
                return new CaView(
                        c.version(),
                        c.certificate().getSubjectX500Principal().getName(),
                        c.certificate().getNotBefore().toInstant(),
                        c.certificate().getNotAfter().toInstant(),
                        Certificates.sha256Hex(der),
                        CertificateResource.pem("CERTIFICATE", der));
            } catch (java.security.cert.CertificateEncodingException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    public record CertificateView(
            String serial,
            String kind,
            String subjectType,
            String subjectId,
            String enroleeId,
            String status,
            int caVersion,
            Instant notBefore,
            Instant notAfter,
            Instant issuedAt,
            Instant revokedAt,
            Integer revocationReason,
            String replacedBy,
            String sha256Fingerprint,
            String pem) {
        static CertificateView of(IssuedCertificate c, boolean withPem) {
            return new CertificateView(
                    c.serial,
                    c.kind.name(),
                    c.subjectType.name(),
                    c.subjectId,
                    c.enroleeId,
                    c.status.name(),
                    c.caVersion,
                    c.notBefore,
                    c.notAfter,
                    c.issuedAt,
                    c.revokedAt,
                    c.revocationReason,
                    c.replacedBy,
                    Certificates.sha256Hex(c.der),
                    withPem ? CertificateResource.pem("CERTIFICATE", c.der) : null);
        }
    }

    public record RevokeRequest(
            @Pattern(
                    regexp = "unspecified|keyCompromise|superseded|cessationOfOperation",
                    message = "unspecified, keyCompromise, superseded or cessationOfOperation")
            String reason) {}

    private static final java.util.regex.Pattern SERIAL = java.util.regex.Pattern.compile("[0-9a-f]{1,40}");

    private final TenantCa ca;
    private final TenantDoor door;
    private final AdminAccess access;
    private final EntityManager em;
    private final TenantCrls crls;
    private final CertificateStore store;

    CertificateResource(
            TenantCa ca,
            TenantDoor door,
            AdminAccess access,
            EntityManager em,
            TenantCrls crls,
            CertificateStore store) {
        this.store = store;
        this.crls = crls;
        this.ca = ca;
        this.door = door;
        this.access = access;
        this.em = em;
    }

    @GET
    @Path("ca")
    @Operation(summary = "The tenant CA's certificates (newest first); empty until the CA is created")
    public List<CaView> cas(@PathParam("tenant") String tenant) {
        door.enter(tenant, AdminAccess.Need.READ);
        return ca.cas(tenant).stream().map(CaView::of).toList();
    }

    @POST
    @Path("ca")
    @Operation(
            summary = "Create the tenant CA: an EC P-256 key generated in the HSM and its self-signed certificate. "
                    + "Idempotent: 201 when made, 200 when it exists. Rotate it with POST /keys/ca/rotate.")
    public Response createCa(@PathParam("tenant") String tenant) {
        door.enter(tenant, AdminAccess.Need.WRITE);
        boolean existed = ca.exists(tenant);
        TenantCa.Ca c = ca.current(tenant, access.actor());
        return Response.status(existed ? 200 : 201).entity(CaView.of(c)).build();
    }

    @GET
    @Path("ca/{version}/crl")
    @Produces("application/pkix-crl")
    @Operation(summary = "The current CRL (DER) of a CA version, signed in the HSM")
    public Response crl(@PathParam("tenant") String tenant, @PathParam("version") int version) {
        door.enter(tenant, AdminAccess.Need.READ);
        return Response.ok(crls.crl(tenant, version), "application/pkix-crl").build();
    }

    @GET
    @Path("certificates")
    @Operation(summary = "Issued certificates, newest first; filter by status (VALID, REVOKED, SUPERSEDED) and subject")
    public List<CertificateView> list(
            @PathParam("tenant") String tenant,
            @QueryParam("status") String status,
            @QueryParam("subject") String subject,
            @QueryParam("limit") @DefaultValue("100") int limit,
            @QueryParam("offset") @DefaultValue("0") int offset) {
        door.enter(tenant, AdminAccess.Need.READ);
        if (limit < 1 || limit > 1000 || offset < 0) {
            throw ApiProblem.badRequest("validation", "limit must be 1-1000 and offset >= 0");
        }
        IssuedCertificate.Status st;
        try {
            st = status == null ? null : IssuedCertificate.Status.valueOf(status);
        } catch (IllegalArgumentException e) {
            throw ApiProblem.badRequest("validation", "status must be VALID, REVOKED or SUPERSEDED");
        }
        return QuarkusTransaction.requiringNew()
                .call(() -> store.page(tenant, st, subject, offset, limit).stream()
                        .map(c -> CertificateView.of(c, false))
                        .toList());
    }

    @GET
    @Path("certificates/{serial}")
    public CertificateView get(@PathParam("tenant") String tenant, @PathParam("serial") String serial) {
        door.enter(tenant, AdminAccess.Need.READ);
        checkSerial(serial);
        IssuedCertificate c = QuarkusTransaction.requiringNew()
                .call(() -> em.find(IssuedCertificate.class, new IssuedCertificate.Key(tenant, serial)));
        if (c == null) {
            throw ApiProblem.notFound("certificate " + serial);
        }
        return CertificateView.of(c, true);
    }

    @POST
    @Path("certificates/{serial}/revoke")
    @Operation(summary = "Revoke: the certificate fails TLS handshakes at once and is on the next CRL")
    public CertificateView revoke(
            @PathParam("tenant") String tenant,
            @PathParam("serial") String serial,
            @jakarta.validation.Valid RevokeRequest req) {
        door.enter(tenant, AdminAccess.Need.WRITE);
        checkSerial(serial);
        int reason = Certificates.reasonCode(req == null ? null : req.reason());
        return CertificateView.of(ca.revoke(tenant, serial, reason, access.actor()), false);
    }

    private static void checkSerial(String serial) {
        if (!SERIAL.matcher(serial).matches()) {
            throw ApiProblem.badRequest("validation", "serial is lowercase hex");
        }
    }

    static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(der) + "\n-----END " + type + "-----\n";
    }
}
