package io.m2mtrust.testsupport;

import static io.m2mtrust.testsupport.Api.as;

import io.restassured.RestAssured;

import java.time.Instant;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** The admin calls the proxy tests repeat: a tenant's proxy, its remotes, pairwise ESPrim keys, ESCertKE trust. */
public final class ProxyFixtures {

    private ProxyFixtures() {}

    /** The CSE {@code tenant}'s proxy fronts; {@code spId} (for ESCertKE) and {@code timeoutMs} may be null. */
    public static void proxy(
            String tenant, String cseUrl, String cseId, String cseBase, String spId, Integer timeoutMs) {
        Map<String, Object> body = new HashMap<>(Map.of("cseUrl", cseUrl, "cseId", cseId, "cseBase", cseBase));
        if (spId != null) {
            body.put("spId", spId);
        }
        if (timeoutMs != null) {
            body.put("timeoutMs", timeoutMs);
        }
        as(Tokens.tenantAdmin(tenant))
                .body(body)
                .put("/api/v1/tenants/" + tenant + "/proxy")
                .then()
                .statusCode(200);
    }

    /** A remote receiver of the originator role; without {@code keyId} its key comes by ESCertKE. */
    public static void remote(String tenant, String name, String receiverId, String url, String keyId) {
        Map<String, Object> body = new HashMap<>(Map.of("name", name, "receiverId", receiverId, "url", url));
        if (keyId != null) {
            body.put("keyId", keyId);
        }
        as(Tokens.tenantAdmin(tenant))
                .body(body)
                .put("/api/v1/tenants/" + tenant + "/proxy/remotes")
                .then()
                .statusCode(200);
    }

    /** A pre-provisioned pairwise ESPrim key (SUID 13) between {@code holders}, valid for an hour. */
    public static void pairwiseKey(String tenant, String kid, List<String> holders, byte[] value) {
        as(Tokens.tenantAdmin(tenant))
                .body(Map.of(
                        "keyId",
                        kid,
                        "suid",
                        13,
                        "holders",
                        holders,
                        "keyValue",
                        Base64.getEncoder().encodeToString(value),
                        "expiresAt",
                        Instant.now().plusSeconds(3600).toString()))
                .post("/api/v1/tenants/" + tenant + "/preprovisioned-keys")
                .then()
                .statusCode(201);
    }

    /** {@code truster} trusts {@code issuer}'s tenant CA for ESCertKE, as published (PEM and CRL at /pki). */
    public static void trustCaOf(String truster, String issuer) {
        String pem = RestAssured.get("/pki/" + issuer + "/ca.pem").asString();
        String first =
                pem.substring(0, pem.indexOf("-----END CERTIFICATE-----") + "-----END CERTIFICATE-----".length());
        byte[] crl = RestAssured.get("/pki/" + issuer + "/crl/1").asByteArray();
        as(Tokens.tenantAdmin(truster))
                .body(Map.of(
                        "id",
                        issuer,
                        "certificate",
                        first,
                        "crl",
                        Base64.getEncoder().encodeToString(crl)))
                .put("/api/v1/tenants/" + truster + "/escertke/trust-anchors")
                .then()
                .statusCode(200);
    }
}
