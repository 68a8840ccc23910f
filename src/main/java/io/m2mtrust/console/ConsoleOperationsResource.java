package io.m2mtrust.console;

import io.m2mtrust.ca.CertificateResource;
import io.m2mtrust.ca.Certificates;
import io.m2mtrust.ca.TenantCa;
import io.m2mtrust.ca.TenantCrls;
import io.m2mtrust.escertke.PeerCertificates;
import io.m2mtrust.hsm.HsmKeyLabel;
import io.m2mtrust.hsm.Pkcs11Token;
import io.m2mtrust.keys.KeyVersionInfo;
import io.m2mtrust.keys.KeyVersionRepository;
import io.m2mtrust.security.AdminAccess;
import io.m2mtrust.security.TenantDoor;
import io.m2mtrust.tenant.Tenant;
import io.m2mtrust.tenant.TenantStore;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.qute.Location;
import io.quarkus.qute.Template;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.CookieParam;
import jakarta.ws.rs.FormParam;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509CRL;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Certificates (issued by the tenant CA: filter, revoke with a reason, each CA version's CRL status) and the
 * HSM and service health page (token status, objects per owner, key versions per tenant, and the last hour of
 * HSM operations as small charts — server-drawn SVG, no script).
 */
@Path("/console")
@Produces(MediaType.TEXT_HTML)
public class ConsoleOperationsResource {

    @Location("console/certificates.html")
    Template certificatesPage;

    @Location("console/hsm.html")
    Template hsmPage;

    private final TenantDoor door;
    private final TenantCa ca;
    private final AdminAccess access;
    private final ConsoleSupport support;
    private final Pkcs11Token token;
    private final KeyVersionRepository versions;
    private final HsmActivity activity;

    @jakarta.inject.Inject
    CertificateResource certificateApi;

    private final TenantCrls tenantCrls;
    private final TenantStore tenantRows;

    ConsoleOperationsResource(
            TenantDoor door,
            TenantCa ca,
            AdminAccess access,
            ConsoleSupport support,
            Pkcs11Token token,
            KeyVersionRepository versions,
            HsmActivity activity,
            TenantCrls tenantCrls,
            TenantStore tenantRows) {
        this.tenantRows = tenantRows;
        this.tenantCrls = tenantCrls;
        this.door = door;
        this.ca = ca;
        this.access = access;
        this.support = support;
        this.token = token;
        this.versions = versions;
        this.activity = activity;
    }

    public record CrlStatus(
            int caVersion, String subject, Instant notAfter, Instant thisUpdate, Instant nextUpdate, int revoked) {}

    @GET
    @Path("t/{tenant}/certificates")
    public Response certificates(
            @PathParam("tenant") String tenant,
            @QueryParam("status") String status,
            @QueryParam("subject") String subject,
            @QueryParam("page") Integer page,
            @QueryParam("notice") String notice) {
        return support.page(() -> {
            Tenant t = door.enter(tenant, AdminAccess.Need.READ);
            String subj = subject == null || subject.isBlank() ? null : subject.trim();
            int p = page == null || page < 0 ? 0 : page;
            // the admin API's listing (same filters and validation); one row more than a page says whether there is
            // another
            List<CertificateResource.CertificateView> rows =
                    certificateApi.list(tenant, status == null || status.isEmpty() ? null : status, subj, 51, p * 50);
            List<CrlStatus> crls = new ArrayList<>();
            for (TenantCa.Ca c : ca.cas(tenant)) {
                X509CRL crl = PeerCertificates.crl(tenantCrls.crl(tenant, c.version()));
                crls.add(new CrlStatus(
                        c.version(),
                        c.certificate().getSubjectX500Principal().getName(),
                        c.certificate().getNotAfter().toInstant(),
                        crl.getThisUpdate().toInstant(),
                        crl.getNextUpdate() == null ? null : crl.getNextUpdate().toInstant(),
                        crl.getRevokedCertificates() == null
                                ? 0
                                : crl.getRevokedCertificates().size()));
            }
            return support.render(
                    certificatesPage
                            .data("certificates", rows.size() > 50 ? rows.subList(0, 50) : rows)
                            .data("more", rows.size() > 50)
                            .data("page", p)
                            .data("status", status == null ? "" : status)
                            .data("subject", subj == null ? "" : subj)
                            .data("crls", crls)
                            .data("notice", notice),
                    t);
        });
    }

    @POST
    @Path("t/{tenant}/certificates/{serial}/revoke")
    @Consumes(MediaType.APPLICATION_FORM_URLENCODED)
    public Response revoke(
            @PathParam("tenant") String tenant,
            @PathParam("serial") String serial,
            @CookieParam(ConsoleCsrf.COOKIE) String cookie,
            @FormParam("csrf") String csrf,
            @FormParam("reason") String reason) {
        return support.post(cookie, csrf, () -> {
            door.enter(tenant, AdminAccess.Need.WRITE);
            if (!serial.matches("[0-9a-f]{1,40}")
                    || !List.of("unspecified", "keyCompromise", "superseded", "cessationOfOperation")
                            .contains(reason)) {
                return support.error(400, "Unknown certificate or revocation reason.");
            }
            ca.revoke(tenant, serial, Certificates.reasonCode(reason), access.actor());
            return Response.seeOther(URI.create("/console/t/" + tenant + "/certificates?notice="
                            + URLEncoder.encode(
                                    "Certificate " + serial + " revoked (" + reason
                                            + "): refused at once, on the next CRL.",
                                    StandardCharsets.UTF_8)))
                    .build();
        });
    }

    public record TenantKeys(String tenant, List<KeyVersionInfo> versions) {}

    @GET
    @Path("hsm")
    public Response hsm() {
        if (!access.isPlatformAdmin()) {
            return support.error(403, "Your role does not allow this: the HSM page is for platform administrators.");
        }
        boolean up = token.probe();
        Map<String, Integer> perOwner = new TreeMap<>();
        if (up) {
            for (HsmKeyLabel l : token.labels(null)) {
                perOwner.merge(l.owner(), 1, Integer::sum);
            }
        }
        List<TenantKeys> keys = QuarkusTransaction.requiringNew()
                .call(() -> tenantRows.list(null).stream()
                        .filter(t -> t.status != Tenant.Status.DELETED)
                        .map(t -> new TenantKeys(t.id, versions.infos(t.id)))
                        .toList());
        return Response.ok(hsmPage.data("viewer", support.viewer())
                        .data("tenant", null)
                        .data("up", up)
                        .data("reason", token.downReason().orElse(null))
                        .data("provider", up ? token.provider().getName() : null)
                        .data("reopens", token.reopenCount())
                        .data("perOwner", perOwner)
                        .data(
                                "objects",
                                perOwner.values().stream()
                                        .mapToInt(Integer::intValue)
                                        .sum())
                        .data("keys", keys)
                        .data("charts", activity.charts()))
                .build();
    }
}
