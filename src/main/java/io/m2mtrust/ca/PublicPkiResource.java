package io.m2mtrust.ca;

import io.m2mtrust.common.ApiProblem;
import io.m2mtrust.tenant.Tenant;
import io.m2mtrust.tenant.TenantIds;
import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.persistence.EntityManager;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.core.Response;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/**
 * Unauthenticated PKI publication (RFC 5280 §4.2.1.13 distribution points): CA certificates and CRLs
 * are public by design, so relying parties without an account can validate device certificates.
 */
@Path("/pki/{tenant}")
@Tag(name = "Public PKI")
public class PublicPkiResource {

    private final TenantCa ca;
    private final EntityManager em;
    private final TenantCrls crls;

    PublicPkiResource(TenantCa ca, EntityManager em, TenantCrls crls) {
        this.crls = crls;
        this.ca = ca;
        this.em = em;
    }

    @GET
    @Path("ca.pem")
    @jakarta.ws.rs.Produces("application/pem-certificate-chain")
    @Operation(summary = "The tenant's CA certificates (PEM, newest first)")
    public Response caCertificates(@PathParam("tenant") String tenant) {
        requireTenant(tenant);
        StringBuilder out = new StringBuilder();
        for (TenantCa.Ca c : ca.cas(tenant)) {
            try {
                out.append(
                        CertificateResource.pem("CERTIFICATE", c.certificate().getEncoded()));
            } catch (java.security.cert.CertificateEncodingException e) {
                throw new IllegalStateException(e);
            }
        }
        if (out.isEmpty()) {
            throw ApiProblem.notFound("certificate authority of " + tenant);
        }
        return Response.ok(out.toString(), "application/pem-certificate-chain")
                .header("Cache-Control", "max-age=300")
                .build();
    }

    @GET
    @Path("crl/{version}")
    @jakarta.ws.rs.Produces("application/pkix-crl")
    @Operation(summary = "The current CRL (DER) of a CA version")
    public Response crl(@PathParam("tenant") String tenant, @PathParam("version") int version) {
        requireTenant(tenant);
        return Response.ok(crls.crl(tenant, version), "application/pkix-crl")
                .header("Cache-Control", "max-age=60")
                .build();
    }

    private void requireTenant(String tenant) {
        boolean live = TenantIds.valid(tenant)
                && QuarkusTransaction.requiringNew().call(() -> {
                    Tenant t = em.find(Tenant.class, tenant);
                    return t != null && (t.status == Tenant.Status.ACTIVE || t.status == Tenant.Status.SUSPENDED);
                });
        if (!live) {
            throw ApiProblem.notFound("tenant " + tenant);
        }
    }
}
