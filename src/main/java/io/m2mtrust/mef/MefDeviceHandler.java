package io.m2mtrust.mef;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.m2mtrust.common.SecretBytes;
import io.m2mtrust.enrolment.DeviceFqdns;
import io.m2mtrust.hsm.HsmUnavailableException;
import io.m2mtrust.tls.DeviceHttp;
import io.m2mtrust.tls.DevicePeer;
import io.m2mtrust.tls.DeviceRequestHandler;
import jakarta.enterprise.context.ApplicationScoped;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The MEF's requests inside the RSPF TLS session. {@code POST /enrolment} is the Enrolment Exchange of
 * TS-0003 §8.3.2.1: the Enrolee's indications in, the MEF's instructions and the KeID out.
 */
@ApplicationScoped
public class MefDeviceHandler implements DeviceRequestHandler {

    /** Enrolee → MEF indications (§8.3.2.1 b); absent means false. */
    public record EnrolmentIndications(Boolean certificateEnrolmentIndication, Boolean mafEnrolmentIndication,
                                       Boolean remoteManagementIndication) {
    }

    private final EnrolmentService enrolments;
    private final io.m2mtrust.ca.EstService est;
    private final CredentialFetchService fetches;
    private final MefProcedures procedures;
    private final DeviceFqdns fqdns;
    private final ObjectMapper json;

    MefDeviceHandler(EnrolmentService enrolments, io.m2mtrust.ca.EstService est, CredentialFetchService fetches, MefProcedures procedures,
                     DeviceFqdns fqdns, ObjectMapper mapper) {
        this.procedures = procedures;
        this.enrolments = enrolments;
        this.est = est;
        this.fetches = fetches;
        this.fqdns = fqdns;
        this.json = mapper.copy().enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES);
    }

    @Override
    public DeviceFqdns.Function function() {
        return DeviceFqdns.Function.MEF;
    }

    @Override
    public DeviceHttp.Response handle(DevicePeer peer, DeviceHttp.Request request) {
        if (request.path().startsWith(io.m2mtrust.ca.EstService.PREFIX)) {
            return est.handle(peer, request);
        }
        if (request.path().startsWith("/fetchCredentials/")) {
            return fetchCredentials(peer, request);
        }
        if (request.path().startsWith("/clientRegistration") || request.path().startsWith("/keyRegistration")
                || request.path().startsWith("/keyRetrieval/")) {
            return procedure(peer, request);
        }
        if (!request.path().equals("/enrolment")) {
            return error(404, "no such MEF resource");
        }
        if (!request.method().equals("POST")) {
            return error(405, "use POST");
        }
        String ct = request.header("content-type");
        if (ct == null || !ct.toLowerCase().startsWith("application/json")) {
            return error(415, "send application/json");
        }
        EnrolmentIndications ind;
        try {
            ind = request.body().length == 0 ? new EnrolmentIndications(null, null, null)
                    : json.readValue(request.body(), EnrolmentIndications.class);
        } catch (JsonProcessingException e) {
            return error(400, "malformed enrolment indications");
        } catch (java.io.IOException e) {
            return error(400, "malformed enrolment indications");
        }
        EnrolmentService.Enrolled done;
        try (SecretBytes export = peer.export(EnrolmentService.BOOTSTRAP_LABEL)) {
            done = enrolments.enrol(peer.tenantId(), peer.identity(), peer.credential(), export);
        } catch (EnrolmentService.ConcurrentEnrolmentException e) {
            return error(409, e.getMessage());
        } catch (HsmUnavailableException e) {
            return error(503, "the HSM is not available; retry later");
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("keId", done.keId());
        out.put("expirationTime", done.expiresAt().toString());
        Map<String, Object> instructions = new LinkedHashMap<>();
        String mef = "https://" + fqdns.mef(peer.tenantId());
        if (Boolean.TRUE.equals(ind.certificateEnrolmentIndication())) {
            instructions.put("certificateEnrolment", Map.of("instructionType", "EST", "uri", mef + "/.well-known/est"));
        }
        if (Boolean.TRUE.equals(ind.mafEnrolmentIndication())) {
            String maf = "https://" + fqdns.maf(peer.tenantId());
            instructions.put("mafEnrolment", Map.of("credentialType", "symmetric",
                    "mafClientRegistrationUri", maf + "/clientRegistration",
                    "mafKeyRegistrationUri", maf + "/keyRegistration",
                    "mafKeyRetrievalUri", maf + "/keyRetrieval",
                    "lifetime", done.expiresAt().toString()));
        }
        if (Boolean.TRUE.equals(ind.remoteManagementIndication())) {
            instructions.put("remoteManagement", Map.of("instructionType", "none", "reason", "no remote management server is configured"));
        }
        out.put("instructions", instructions);
        try {
            return DeviceHttp.Response.json(201, json.writeValueAsString(out));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * {@code GET /fetchCredentials/<KeID>/<SUID>} (§8.3.2.1 f): Status, Credential (base64), EnroleeID,
     * Lifetime on success; Status=False and ErrorString otherwise.
     */
    private DeviceHttp.Response fetchCredentials(DevicePeer peer, DeviceHttp.Request request) {
        if (!request.method().equals("GET")) {
            return error(405, "use GET");
        }
        String[] parts = request.path().substring("/fetchCredentials/".length()).split("/");
        if (parts.length != 2 || !parts[1].matches("[0-9]{2}")) {
            return fetchRefused(400, "expected /fetchCredentials/<KeID>/<SUID>");
        }
        String keId = java.net.URLDecoder.decode(parts[0], java.nio.charset.StandardCharsets.UTF_8);
        if (keId.length() > 300 || !keId.matches("[0-9a-f]{32}@[a-z0-9.-]+")) {
            return fetchRefused(400, "malformed KeID");
        }
        CredentialFetchService.Outcome outcome;
        try {
            outcome = fetches.fetch(peer.tenantId(), peer.identity(), keId, Integer.parseInt(parts[1]));
        } catch (HsmUnavailableException e) {
            return fetchRefused(503, "the HSM is not available; retry later");
        }
        if (outcome instanceof CredentialFetchService.Refused r) {
            return fetchRefused(r.status(), r.errorString());
        }
        CredentialFetchService.Fetched f = (CredentialFetchService.Fetched) outcome;
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("status", true);
        try (SecretBytes k = f.credential()) {
            out.put("credential", k.reveal(b -> java.util.Base64.getEncoder().encodeToString(b)));
        }
        out.put("enroleeId", f.enroleeId());
        out.put("lifetime", f.lifetime().toString());
        try {
            return DeviceHttp.Response.json(200, json.writeValueAsString(out));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * The generic MEF procedures (§8.3.5.2) and client commands (§8.3.9) as JSON resources:
     * {@code /clientRegistration[/<MEFClientRegID>[/command]]}, {@code /keyRegistration[/<RelativeKeyID>]},
     * {@code /keyRetrieval/<RelativeKeyID>[?suid=NN]}. Field names follow TS-0003's tables (docs/interop-profile.md).
     */
    private DeviceHttp.Response procedure(DevicePeer peer, DeviceHttp.Request request) {
        String full = request.path();
        int q = full.indexOf('?');
        String path = q < 0 ? full : full.substring(0, q);
        String query = q < 0 ? "" : full.substring(q + 1);
        String[] seg = path.substring(1).split("/", -1);
        String method = request.method();
        String tenant = peer.tenantId();
        String mef = fqdns.mef(tenant);
        String client = peer.identity();
        try {
            switch (seg[0]) {
                case "clientRegistration" -> {
                    if (seg.length == 1 && method.equals("POST")) {
                        return ok(201, procedures.register(tenant, mef, client, body(request, MefProcedures.ClientRegistration.class)));
                    }
                    if (seg.length == 2 && method.equals("GET")) {
                        return ok(200, procedures.configuration(tenant, mef, client, seg[1]));
                    }
                    if (seg.length == 2 && method.equals("PUT")) {
                        return ok(200, procedures.updateRegistration(tenant, client, seg[1], body(request, MefProcedures.ClientRegistrationUpdate.class)));
                    }
                    if (seg.length == 2 && method.equals("DELETE")) {
                        procedures.deregister(tenant, client, seg[1]);
                        return new DeviceHttp.Response(204, "application/json", new byte[0]);
                    }
                    if (seg.length == 3 && seg[2].equals("command") && method.equals("GET")) {
                        return ok(200, procedures.retrieveCommand(tenant, client, seg[1]));
                    }
                    if (seg.length == 3 && seg[2].equals("command") && method.equals("PUT")) {
                        return ok(200, procedures.updateCommand(tenant, client, seg[1], body(request, MefProcedures.CommandUpdate.class)));
                    }
                }
                case "keyRegistration" -> {
                    if (seg.length == 1 && method.equals("POST")) {
                        MefProcedures.KeyRegistration req = body(request, MefProcedures.KeyRegistration.class);
                        return ok(201, procedures.registerKey(tenant, mef, client, req, () -> peer.export(MefProcedures.CONNECTION_LABEL)));
                    }
                    if (seg.length == 2 && method.equals("PUT")) {
                        return ok(200, procedures.updateKey(tenant, mef, client, seg[1], body(request, MefProcedures.KeyRegistrationUpdate.class)));
                    }
                    if (seg.length == 2 && method.equals("DELETE")) {
                        procedures.deregisterKey(tenant, mef, client, seg[1]);
                        return new DeviceHttp.Response(204, "application/json", new byte[0]);
                    }
                }
                case "keyRetrieval" -> {
                    if (seg.length == 2 && method.equals("GET")) {
                        Integer suid = null;
                        if (!query.isEmpty()) {
                            if (!query.matches("suid=[0-9]{2}")) {
                                return error(400, "the only query parameter is suid=NN");
                            }
                            suid = Integer.parseInt(query.substring(5));
                        }
                        return ok(200, procedures.retrieveKey(tenant, mef, client, seg[1], suid));
                    }
                }
                default -> {
                    return error(404, "no such MEF resource");
                }
            }
            return error(405, "method not allowed on " + seg[0]);
        } catch (MefProcedures.Problem p) {
            return error(p.status, p.getMessage());
        } catch (BadBody b) {
            return error(b.status, b.getMessage());
        } catch (HsmUnavailableException e) {
            return error(503, "the HSM is not available; retry later");
        }
    }

    private static final class BadBody extends RuntimeException {
        final int status;

        BadBody(int status, String message) {
            super(message, null, false, false);
            this.status = status;
        }
    }

    private <T> T body(DeviceHttp.Request request, Class<T> type) {
        String ct = request.header("content-type");
        if (ct == null || !ct.toLowerCase().startsWith("application/json")) {
            throw new BadBody(415, "send application/json");
        }
        try {
            T v = json.readValue(request.body(), type);
            if (v == null) {
                throw new BadBody(400, "malformed JSON");
            }
            return v;
        } catch (java.io.IOException e) {
            throw new BadBody(400, "malformed JSON or unknown fields");
        }
    }

    private DeviceHttp.Response ok(int status, Object body) {
        try {
            return DeviceHttp.Response.json(status, json.writeValueAsString(body));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static DeviceHttp.Response fetchRefused(int status, String why) {
        return DeviceHttp.Response.json(status, "{\"status\":false,\"errorString\":\"" + why.replace("\"", "'") + "\"}");
    }

    private static DeviceHttp.Response error(int status, String message) {
        return DeviceHttp.Response.json(status, "{\"error\":\"" + message.replace("\"", "'") + "\"}");
    }
}
