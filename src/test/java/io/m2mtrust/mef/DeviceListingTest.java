package io.m2mtrust.mef;

import static io.m2mtrust.testsupport.Api.as;
import static org.assertj.core.api.Assertions.assertThat;

import io.m2mtrust.testsupport.Api;
import io.m2mtrust.testsupport.Tokens;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Listing a group's devices a page at a time (keyset), by id prefix (a literal '_' is not a wildcard) and status. */
@QuarkusTest
class DeviceListingTest {

    static final String T = "devlist-co";
    static final String G = "/api/v1/tenants/" + T + "/enrolment-groups/g";

    @Test
    void devices_are_paged_by_key_and_filtered_by_prefix_and_status() {
        Api.createTenant(T);
        as(Tokens.tenantAdmin(T))
                .body(Map.of("id", "g", "name", "g"))
                .post("/api/v1/tenants/" + T + "/enrolment-groups")
                .then()
                .statusCode(201);
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 25; i++) {
            ids.add(String.format("d-%02d", i));
        }
        ids.add("dx01");
        ids.add("d_x1");
        as(Tokens.tenantAdmin(T))
                .body(Map.of("deviceIds", ids))
                .post(G + "/devices")
                .then()
                .statusCode(200);

        List<String> seen = new ArrayList<>();
        String after = null;
        int pages = 0;
        do {
            var req = as(Tokens.auditor(T)).queryParam("limit", 10);
            if (after != null) {
                req = req.queryParam("after", after);
            }
            JsonPath p =
                    req.get(G + "/devices").then().statusCode(200).extract().jsonPath();
            seen.addAll(p.getList("devices.deviceId"));
            after = p.getString("next");
            pages++;
        } while (after != null);
        assertThat(pages).isEqualTo(3);
        assertThat(seen).hasSize(27).doesNotHaveDuplicates().isSorted();

        // '_' in a prefix is literal: d_ matches d_x1 only, not d-00 … nor dx01
        assertThat(as(Tokens.auditor(T))
                        .queryParam("prefix", "d_")
                        .get(G + "/devices")
                        .jsonPath()
                        .getList("devices.deviceId"))
                .containsExactly("d_x1");
        assertThat(as(Tokens.auditor(T))
                        .queryParam("prefix", "d-1")
                        .get(G + "/devices")
                        .jsonPath()
                        .getList("devices.deviceId"))
                .hasSize(10);

        as(Tokens.tenantAdmin(T)).post(G + "/devices/d-07/deny").then().statusCode(204);
        assertThat(as(Tokens.auditor(T))
                        .queryParam("status", "DENIED")
                        .get(G + "/devices")
                        .jsonPath()
                        .getList("devices.deviceId"))
                .containsExactly("d-07");

        as(Tokens.auditor(T))
                .queryParam("status", "LOST")
                .get(G + "/devices")
                .then()
                .statusCode(400);
        as(Tokens.auditor(T))
                .queryParam("limit", 5000)
                .get(G + "/devices")
                .then()
                .statusCode(400);
        as(Tokens.auditor(T))
                .get("/api/v1/tenants/" + T + "/enrolment-groups/nope/devices")
                .then()
                .statusCode(404);
        as(Tokens.tenantAdmin("someone-else")).get(G + "/devices").then().statusCode(404);
    }

    /**
     * Paging is built for groups of a million rows: a page deep inside 300,000 devices is one index range scan on
     * the primary key (the plan is checked, not the time), and the page is right.
     */
    @Test
    void a_deep_page_of_a_large_group_is_an_index_range_scan() throws Exception {
        String t = "devlist-big";
        Api.createTenant(t);
        as(Tokens.tenantAdmin(t))
                .body(Map.of("id", "big", "name", "big"))
                .post("/api/v1/tenants/" + t + "/enrolment-groups")
                .then()
                .statusCode(201);
        try (java.sql.Connection c = io.m2mtrust.testsupport.PostgresResource.postgres()
                        .getDatabase("postgres", "m2mtrust")
                        .getConnection();
                java.sql.Statement st = c.createStatement()) {
            st.execute(
                    "insert into enrolment_device (tenant_id, group_id, device_id, status, created_at, updated_at) select '"
                            + t
                            + "', 'big', 'dev-' || lpad(i::text, 7, '0'), case when i % 1000 = 0 then 'DENIED' else 'ALLOWED' end, now(), now() "
                            + "from generate_series(1, 300000) i");
            st.execute("analyze enrolment_device");
            StringBuilder plan = new StringBuilder();
            try (java.sql.ResultSet r = st.executeQuery("explain select * from enrolment_device where tenant_id = '" + t
                    + "' and group_id = 'big' " + "and device_id > 'dev-0250000' order by device_id limit 101")) {
                while (r.next()) {
                    plan.append(r.getString(1)).append('\n');
                }
            }
            assertThat(plan.toString())
                    .contains("Index Scan using enrolment_device_pkey")
                    .doesNotContain("Seq Scan")
                    .doesNotContain("Sort");
        }
        JsonPath page = as(Tokens.auditor(t))
                .queryParam("after", "dev-0250000")
                .queryParam("limit", 100)
                .get("/api/v1/tenants/" + t + "/enrolment-groups/big/devices")
                .then()
                .statusCode(200)
                .extract()
                .jsonPath();
        assertThat(page.getList("devices.deviceId", String.class))
                .hasSize(100)
                .first()
                .isEqualTo("dev-0250001");
        assertThat(page.getString("next")).isEqualTo("dev-0250100");
        JsonPath denied = as(Tokens.auditor(t))
                .queryParam("status", "DENIED")
                .queryParam("after", "dev-0250000")
                .queryParam("limit", 3)
                .get("/api/v1/tenants/" + t + "/enrolment-groups/big/devices")
                .then()
                .statusCode(200)
                .extract()
                .jsonPath();
        assertThat(denied.getList("devices.deviceId", String.class))
                .containsExactly("dev-0251000", "dev-0252000", "dev-0253000");
    }
}
