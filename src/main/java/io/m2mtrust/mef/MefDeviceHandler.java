package io.m2mtrust.mef;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.m2mtrust.ca.EstService;
import io.m2mtrust.common.QuotaExceededException;
import io.m2mtrust.common.SecretBytes;
import io.m2mtrust.hsm.HsmUnavailableException;
import io.m2mtrust.registration.Registrar;
import io.m2mtrust.registration.RegistrationProcedures;
import io.m2mtrust.registration.RegistrationRoutes;
import io.m2mtrust.tenant.DeviceFqdns;
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
    public record EnrolmentIndications(
            Boolean certificateEnrolmentIndication,
            Boolean mafEnrolmentIndication,
            Boolean remoteManagementIndication) {}

    private final EnrolmentService enrolments;
    private final EstService est;
    private final CredentialFetchService fetches;
    private static final java.util.regex.Pattern COMMAND =
            java.util.regex.Pattern.compile("/clientRegistration/([^/?]{1,40})/command");

    private final RegistrationRoutes routes;
    private final MefCommands commands;
    private final DeviceFqdns fqdns;
    private final ObjectMapper json;

    MefDeviceHandler(
            EnrolmentService enrolments,
            EstService est,
            CredentialFetchService fetches,
            RegistrationRoutes routes,
            MefCommands commands,
            DeviceFqdns fqdns,
            ObjectMapper mapper) {
        this.routes = routes;
        this.commands = commands;
        this.enrolments = enrolments;
        this.est = est;
        this.fetches = fetches;
        this.fqdns = fqdns;
        this.json = mapper.copy()
                .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES);
    }

    @Override
    public DeviceFqdns.Function function() {
        return DeviceFqdns.Function.MEF;
    }

    @Override
    public DeviceHttp.Response handle(DevicePeer peer, DeviceHttp.Request request) {
        if (request.path().startsWith(EstService.PREFIX)) {
            return est.handle(peer, request);
        }
        if (request.path().startsWith("/fetchCredentials/")) {
            return fetchCredentials(peer, request);
        }
        java.util.regex.Matcher cmd = COMMAND.matcher(request.path());
        if (cmd.matches()) {
            return command(peer, request, cmd.group(1));
        }
        if (RegistrationRoutes.matches(request.path())) {
            return routes.handle(Registrar.MEF, peer, request, java.util.Optional::empty);
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
            ind = request.body().length == 0
                    ? new EnrolmentIndications(null, null, null)
                    : json.readValue(request.body(), EnrolmentIndications.class);
        } catch (JsonProcessingException e) {
            return error(400, "malformed enrolment indications");
        } catch (java.io.IOException e) {
            return error(400, "malformed enrolment indications");
        }
        EnrolmentService.Enrolled done;
        try (SecretBytes export = peer.export(EnrolmentService.BOOTSTRAP_LABEL)) {
            done = enrolments.enrol(peer.tenantId(), peer.identity(), peer.credential(), export);
        } catch (EnrolmentService.ConcurrentEnrolmentException | EnrolmentService.SessionAlreadyEnrolledException e) {
            return error(409, e.getMessage());
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("keId", done.keId());
        out.put("expirationTime", done.expiresAt().toString());
        Map<String, Object> instructions = new LinkedHashMap<>();
        // the device is told the addresses of the transport it came over: https://… over TLS, coaps://… over DTLS
        String scheme = peer.transport().scheme() + "://";
        String mef = scheme + fqdns.mef(peer.tenantId());
        if (Boolean.TRUE.equals(ind.certificateEnrolmentIndication())) {
            instructions.put("certificateEnrolment", Map.of("instructionType", "EST", "uri", mef + "/.well-known/est"));
        }
        if (Boolean.TRUE.equals(ind.mafEnrolmentIndication())) {
            String maf = scheme + fqdns.maf(peer.tenantId());
            instructions.put(
                    "mafEnrolment",
                    Map.of(
                            "credentialType",
                            "symmetric",
                            "mafClientRegistrationUri",
                            maf + "/clientRegistration",
                            "mafKeyRegistrationUri",
                            maf + "/keyRegistration",
                            "mafKeyRetrievalUri",
                            maf + "/keyRetrieval",
                            "lifetime",
                            done.expiresAt().toString()));
        }
        if (Boolean.TRUE.equals(ind.remoteManagementIndication())) {
            instructions.put(
                    "remoteManagement",
                    Map.of("instructionType", "none", "reason", "no remote management server is configured"));
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
            // fetchCredentials answers in its own shape (Status, ErrorString; TS-0003 §8.3.2.1 f), even in an outage
            return fetchRefused(503, "the HSM is not available; retry later");
        } catch (QuotaExceededException e) {
            // the tenant's HSM quota: still the fetchCredentials shape, with Retry-After
            DeviceHttp.Response r = fetchRefused(429, "the tenant is over its " + e.quota() + " quota; retry later");
            return new DeviceHttp.Response(429, r.contentType(), r.body(), false, e.retryAfterSeconds());
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

    /** MEF Client Command Retrieve / Update (§8.3.9): {@code GET|PUT /clientRegistration/<MEFClientRegID>/command}. */
    private DeviceHttp.Response command(DevicePeer peer, DeviceHttp.Request request, String regId) {
        try {
            if (request.method().equals("GET")) {
                return routes.ok(200, commands.retrieveCommand(peer.tenantId(), peer.identity(), regId));
            }
            if (request.method().equals("PUT")) {
                return routes.ok(
                        200,
                        commands.updateCommand(
                                peer.tenantId(),
                                peer.identity(),
                                regId,
                                routes.body(request, MefCommands.CommandUpdate.class)));
            }
            return routes.error(405, "use GET or PUT");
        } catch (RegistrationProcedures.Problem p) {
            return routes.error(p.status, p.getMessage());
        }
    }

    private static DeviceHttp.Response fetchRefused(int status, String why) {
        return DeviceHttp.Response.json(status, Map.of("status", false, "errorString", why));
    }

    private static DeviceHttp.Response error(int status, String message) {
        return DeviceHttp.Response.error(status, message);
    }
}
