package io.m2mtrust.testsupport;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * Two operators' tenants on packaged services for ESCertKE (as EscertkeTwoProxiesTest does in process): operator A's
 * proxy initiates ESCertKE for its legacy AE {@code Clegacy} towards operator B's CSE, each trusting the other's
 * tenant CA. Made through the admin API of {@code adminBase}; the CA certificates and CRLs are fetched from
 * {@code pkiBase} (another replica, where there are several).
 */
public final class EscertkeOperators {

    public static final String A = "esc-a";
    public static final String B = "esc-b";
    public static final String SP_A = "a.escertke.example";
    public static final String SP_B = "b.escertke.example";

    private final AdminClient admin;
    private final String adminBase;
    private final String pkiBase;

    public EscertkeOperators(AdminClient admin, String adminBase, String pkiBase) {
        this.admin = admin;
        this.adminBase = adminBase;
        this.pkiBase = pkiBase;
    }

    /** Both tenants with their CA, proxy (A in front of {@code cseA}, B of {@code cseB}), end-points and trust. */
    public void setUp(MiniCse cseA, MiniCse cseB) throws Exception {
        String base = adminBase + "/api/v1/tenants/";
        for (String[] t : List.of(
                new String[] {A, SP_A, "/id-a", "cse-a", cseA.url()},
                new String[] {B, SP_B, "/id-b", "cse-b", cseB.url()})) {
            assertThat(admin.call("POST", adminBase + "/api/v1/tenants", Map.of("id", t[0], "name", t[0]))
                            .statusCode())
                    .isEqualTo(201);
            assertThat(admin.call("POST", base + t[0] + "/ca", null).statusCode())
                    .isEqualTo(201);
            assertThat(admin.call(
                                    "PUT",
                                    base + t[0] + "/proxy",
                                    Map.of("cseUrl", t[4], "cseId", t[2], "cseBase", t[3], "spId", "//" + t[1]))
                            .statusCode())
                    .isEqualTo(200);
        }
        assertThat(admin.call(
                                "PUT",
                                base + B + "/proxy/entities",
                                Map.of("entityId", "/id-b", "resourcePath", "cse-b", "esprimRequired", true))
                        .statusCode())
                .isEqualTo(200);
        assertThat(admin.call(
                                "POST",
                                base + B + "/endpoints",
                                Map.of("id", "cse-b", "subjectType", "CSE_ID", "subjectId", "id-b." + SP_B))
                        .statusCode())
                .isEqualTo(201);
        assertThat(admin.call(
                                "POST",
                                base + A + "/endpoints",
                                Map.of(
                                        "id",
                                        "legacy",
                                        "subjectType",
                                        "AE_ID",
                                        "subjectId",
                                        "https://" + SP_A + "/id-a/Clegacy"))
                        .statusCode())
                .isEqualTo(201);
        trust(A, B);
        trust(B, A);
    }

    /** {@code truster} trusts {@code issuer}'s tenant CA, as published at /pki (its first certificate and CRL). */
    public void trust(String truster, String issuer) throws Exception {
        String pem = AdminClient.HTTP
                .send(
                        HttpRequest.newBuilder(URI.create(pkiBase + "/pki/" + issuer + "/ca.pem"))
                                .build(),
                        HttpResponse.BodyHandlers.ofString())
                .body();
        String first =
                pem.substring(0, pem.indexOf("-----END CERTIFICATE-----") + "-----END CERTIFICATE-----".length());
        byte[] crl = AdminClient.HTTP
                .send(
                        HttpRequest.newBuilder(URI.create(pkiBase + "/pki/" + issuer + "/crl/1"))
                                .build(),
                        HttpResponse.BodyHandlers.ofByteArray())
                .body();
        HttpResponse<String> r = admin.call(
                "PUT",
                adminBase + "/api/v1/tenants/" + truster + "/escertke/trust-anchors",
                Map.of(
                        "id",
                        issuer,
                        "certificate",
                        first,
                        "crl",
                        Base64.getEncoder().encodeToString(crl)));
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    }

    /** A's remote receiver {@code b-cse}: B's CSE through the proxy at {@code url}. */
    public void remoteAt(String url) throws Exception {
        HttpResponse<String> r = admin.call(
                "PUT",
                adminBase + "/api/v1/tenants/" + A + "/proxy/remotes",
                Map.of("name", "b-cse", "receiverId", "//" + SP_B + "/id-b", "url", url + "/onem2m/" + B + "/cse-b"));
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    }

    /** A primitive of the legacy AE through A's proxy at {@code via} (the proxy originates ESPrim, after ESCertKE). */
    public static HttpResponse<String> legacy(String via, String method, String path, String ri) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(via + "/onem2m-out/" + A + "/b-cse/" + path))
                .timeout(Duration.ofSeconds(30))
                .header("X-M2M-Origin", "Clegacy")
                .header("X-M2M-RI", ri)
                .header("X-M2M-RVI", "3");
        if ("POST".equals(method)) {
            b.header("Content-Type", "application/json;ty=2")
                    .POST(HttpRequest.BodyPublishers.ofString(AdminClient.JSON.writeValueAsString(Map.of(
                            "m2m:ae", Map.of("rn", "Clegacy", "api", "Nlegacy", "rr", false, "srv", List.of("3"))))));
        } else {
            b.GET();
        }
        return AdminClient.HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }
}
