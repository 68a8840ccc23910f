package io.m2mtrust.testsupport;

import static io.m2mtrust.testsupport.Api.as;

import io.restassured.response.Response;

import java.util.Map;
import java.util.function.Consumer;

/** Changes a tenant's policy through the admin API, as its tenant admin (GET, change, PUT with If-Match). */
public final class Policies {

    private Policies() {}

    public static void change(String tenant, Consumer<Map<String, Object>> changes) {
        String path = "/api/v1/tenants/" + tenant + "/policy";
        Response policy = as(Tokens.tenantAdmin(tenant)).get(path);
        Map<String, Object> doc = policy.jsonPath().getMap("");
        doc.keySet().retainAll(AdminClient.WRITABLE_POLICY);
        changes.accept(doc);
        as(Tokens.tenantAdmin(tenant))
                .header("If-Match", policy.header("ETag"))
                .body(doc)
                .put(path)
                .then()
                .statusCode(200);
    }

    /** Request buckets at {@code rate}/s with {@code burst}, the HSM at {@code hsmRate}/s with {@code hsmBurst}. */
    public static void quotas(String tenant, int rate, int burst, int hsmRate, int hsmBurst) {
        change(tenant, d -> {
            d.put("requestQuotaPerSecond", rate);
            d.put("requestBurst", burst);
            d.put("hsmQuotaPerSecond", hsmRate);
            d.put("hsmBurst", hsmBurst);
        });
    }
}
