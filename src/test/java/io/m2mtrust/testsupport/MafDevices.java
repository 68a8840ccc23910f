package io.m2mtrust.testsupport;

import static io.m2mtrust.testsupport.Api.as;

import io.restassured.path.json.JsonPath;
import io.restassured.response.Response;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Devices of one tenant that enrol at the MEF with OpenSSL and register at the MAF: a tenant with an
 * enrolment group and exported Kpm, then per device its KeID, Km (derived here with plain HMAC, TS-0003
 * §10.3.7 with SUID 21 and the MAF's FQDN) and the KmID the MAF assigned.
 */
public final class MafDevices {

    /** What a device holds after enrolling and registering at the MAF. */
    public record Device(String kpmId, String keId, byte[] km, String kmId) {}

    public final String tenant;
    public final String mef;
    public final String maf;
    public final String admin;
    private final int port;
    public final Map<String, String> kpmIds = new HashMap<>();
    public final Map<String, byte[]> kpms = new HashMap<>();

    private MafDevices(String tenant, int port) {
        this.tenant = tenant;
        this.port = port;
        this.mef = "mef." + tenant + ".m2m-trust.local";
        this.maf = "maf." + tenant + ".m2m-trust.local";
        this.admin = "admin." + tenant + ".example";
    }

    /**
     * Devices of a tenant made elsewhere (another process's admin API): the caller puts each device's KpmID and Kpm
     * into {@link #kpmIds} and {@link #kpms}; {@code port} is the device listener (or a balancer in front of it).
     */
    public static MafDevices existing(String tenant, int port) {
        return new MafDevices(tenant, port);
    }

    /** Creates the tenant (policy: keys may be exported, plus {@code policyChanges}), group "dev" and the devices. */
    public static MafDevices create(
            String tenant, int port, List<String> devices, Consumer<Map<String, Object>> policyChanges) {
        MafDevices d = new MafDevices(tenant, port);
        Api.createTenant(tenant);
        Response policy = as(Tokens.tenantAdmin(tenant)).get("/api/v1/tenants/" + tenant + "/policy");
        Map<String, Object> doc = policy.jsonPath().getMap("");
        doc.put("allowHostMemoryKeys", true);
        policyChanges.accept(doc);
        as(Tokens.tenantAdmin(tenant))
                .header("If-Match", policy.header("ETag"))
                .body(doc)
                .put("/api/v1/tenants/" + tenant + "/policy")
                .then()
                .statusCode(200);
        as(Tokens.tenantAdmin(tenant))
                .body(Map.of("id", "dev", "name", "devices"))
                .post("/api/v1/tenants/" + tenant + "/enrolment-groups")
                .then()
                .statusCode(201);
        as(Tokens.tenantAdmin(tenant))
                .body(Map.of("deviceIds", devices))
                .post("/api/v1/tenants/" + tenant + "/enrolment-groups/dev/devices")
                .then()
                .statusCode(200);
        for (String id : devices) {
            JsonPath e = as(Tokens.tenantAdmin(tenant))
                    .post("/api/v1/tenants/" + tenant + "/enrolment-groups/dev/devices/" + id + "/kpm-export")
                    .then()
                    .statusCode(200)
                    .extract()
                    .jsonPath();
            d.kpmIds.put(id, e.getString("kpmId"));
            d.kpms.put(id, Base64.getDecoder().decode(e.getString("kpm")));
        }
        return d;
    }

    /** §10.3.7 with plain javax.crypto: HMAC-SHA256(Ke, label ‖ "21" ‖ MAF-FQDN). */
    public byte[] km(byte[] ke) throws Exception {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(ke, "HmacSHA256"));
        ByteArrayOutputStream in = new ByteArrayOutputStream();
        in.writeBytes("oneM2M Enrolment Key to Usage-Constrained Symmetric Key derivation"
                .getBytes(StandardCharsets.US_ASCII));
        in.writeBytes("21".getBytes(StandardCharsets.US_ASCII));
        in.writeBytes(maf.getBytes(StandardCharsets.UTF_8));
        return mac.doFinal(in.toByteArray());
    }

    /** A device's enrolment and MAF registration as answered, for tests that check the answers themselves. */
    public record Registered(Device device, OpenSsl.Answer enrolment, OpenSsl.Answer registration) {}

    /** Enrols at the MEF with OpenSSL, derives Km, registers at the MAF with the KeID. */
    public Device enrolAndRegister(String device) throws Exception {
        Registered r = enrolAndRegisterAnswered(device);
        if (r.enrolment().status() != 201 || r.registration().status() != 201) {
            throw new AssertionError("enrolment or MAF registration failed: "
                    + r.enrolment().output() + r.registration().output());
        }
        return r.device();
    }

    /** {@link #enrolAndRegister} without judging the answers. */
    public Registered enrolAndRegisterAnswered(String device) throws Exception {
        byte[] exported;
        OpenSsl.Answer enrolled;
        try (OpenSsl.Session s = OpenSsl.start(OpenSsl.withExport(
                OpenSsl.withPsk(OpenSsl.sClient(port, mef), kpmIds.get(device), kpms.get(device)),
                "EXPORTER-oneM2M-Bootstrap",
                48))) {
            exported = s.keyingMaterial();
            enrolled = OpenSsl.answer(s.send(OpenSslClient.post(mef, "/enrolment", "{\"mafEnrolmentIndication\":true}")
                    .getBytes(StandardCharsets.UTF_8)));
        }
        String keId = HexFormat.of().formatHex(exported, 0, 16) + "@" + mef;
        byte[] km = km(Arrays.copyOfRange(exported, 16, 48));
        OpenSsl.Answer reg = OpenSsl.pskCall(
                port,
                maf,
                keId,
                km,
                "POST",
                "/clientRegistration",
                "{\"mafFqdn\":\"" + maf + "\",\"expirationTime\":\""
                        + Instant.now().plusSeconds(7 * 86400) + "\",\"adminFqdn\":\"" + admin + "\"}");
        String kmId = reg.status() == 201 ? reg.json().getString("assignedSymmKeyId") : null;
        return new Registered(new Device(kpmIds.get(device), keId, km, kmId), enrolled, reg);
    }

    /** One JSON request of {@code device} on the MAF (KmID/Km). */
    public OpenSsl.Answer maf(Device device, String method, String path, String json) throws Exception {
        return OpenSsl.pskCall(port, maf, device.kmId(), device.km(), method, path, json);
    }
}
