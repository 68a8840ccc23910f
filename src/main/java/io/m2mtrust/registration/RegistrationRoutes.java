package io.m2mtrust.registration;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.m2mtrust.tenant.DeviceFqdns;
import io.m2mtrust.tls.DeviceHttp;
import io.m2mtrust.tls.DevicePeer;
import jakarta.enterprise.context.ApplicationScoped;

import java.util.Optional;
import java.util.function.Supplier;

/**
 * The registration procedures as JSON resources inside a MEF or MAF session:
 * {@code /clientRegistration[/<regId>]}, {@code /keyRegistration[/<RelativeKeyID>]},
 * {@code /keyRetrieval/<RelativeKeyID>[?suid=NN]} (docs/interop-profile.md). Both functions' handlers
 * mount them; errors are {@code {"error": "…"}} with an HTTP status.
 */
@ApplicationScoped
public class RegistrationRoutes {

    private final RegistrationProcedures procedures;
    private final DeviceFqdns fqdns;
    private final ObjectMapper json;
    private final KeyRegistrationProcedures keyProcedures;

    RegistrationRoutes(
            RegistrationProcedures procedures,
            DeviceFqdns fqdns,
            ObjectMapper mapper,
            KeyRegistrationProcedures keyProcedures) {
        this.keyProcedures = keyProcedures;
        this.procedures = procedures;
        this.fqdns = fqdns;
        this.json = mapper.copy()
                .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES);
    }

    /** Whether {@code path} is one of these resources. */
    public static boolean matches(String path) {
        return path.equals("/clientRegistration")
                || path.startsWith("/clientRegistration/")
                || path.equals("/keyRegistration")
                || path.startsWith("/keyRegistration/")
                || path.equals("/keyRetrieval")
                || path.startsWith("/keyRetrieval/");
    }

    /**
     * Answers one request. {@code remoteKm} (MAF) supplies the Km fetched from the MEF when the peer
     * authenticated with a KeID; null otherwise.
     */
    public DeviceHttp.Response handle(
            Registrar registrar,
            DevicePeer peer,
            DeviceHttp.Request request,
            Supplier<Optional<RegistrationProcedures.RemoteKm>> remoteKm) {
        String full = request.path();
        int q = full.indexOf('?');
        String path = q < 0 ? full : full.substring(0, q);
        String query = q < 0 ? "" : full.substring(q + 1);
        String[] seg = path.substring(1).split("/", -1);
        String method = request.method();
        String tenant = peer.tenantId();
        String fqdn = registrar.fqdn(fqdns, tenant);
        String client = peer.identity();
        try {
            switch (seg[0]) {
                case "clientRegistration" -> {
                    if (seg.length == 1 && method.equals("POST")) {
                        RegistrationProcedures.ClientRegistrationRequest req =
                                body(request, RegistrationProcedures.ClientRegistrationRequest.class);
                        Optional<RegistrationProcedures.RemoteKm> km = remoteKm.get();
                        try {
                            return ok(201, procedures.register(registrar, tenant, fqdn, client, req, km.orElse(null)));
                        } finally {
                            km.ifPresent(k -> k.km().close());
                        }
                    }
                    if (seg.length == 2 && method.equals("GET")) {
                        return ok(200, procedures.configuration(registrar, tenant, fqdn, client, seg[1]));
                    }
                    if (seg.length == 2 && method.equals("PUT")) {
                        return ok(
                                200,
                                procedures.updateRegistration(
                                        registrar,
                                        tenant,
                                        client,
                                        seg[1],
                                        body(request, RegistrationProcedures.ClientRegistrationUpdate.class)));
                    }
                    if (seg.length == 2 && method.equals("DELETE")) {
                        procedures.deregister(registrar, tenant, client, seg[1]);
                        return new DeviceHttp.Response(204, "application/json", new byte[0]);
                    }
                }
                case "keyRegistration" -> {
                    if (seg.length == 1 && method.equals("POST")) {
                        KeyRegistrationProcedures.KeyRegistrationRequest req =
                                body(request, KeyRegistrationProcedures.KeyRegistrationRequest.class);
                        return ok(
                                201,
                                keyProcedures.registerKey(
                                        registrar,
                                        tenant,
                                        fqdn,
                                        client,
                                        req,
                                        () -> peer.export(RegistrationProcedures.CONNECTION_LABEL)));
                    }
                    if (seg.length == 2 && method.equals("PUT")) {
                        return ok(
                                200,
                                keyProcedures.updateKey(
                                        registrar,
                                        tenant,
                                        fqdn,
                                        client,
                                        seg[1],
                                        body(request, KeyRegistrationProcedures.KeyRegistrationUpdate.class)));
                    }
                    if (seg.length == 2 && method.equals("DELETE")) {
                        keyProcedures.deregisterKey(registrar, tenant, fqdn, client, seg[1]);
                        return new DeviceHttp.Response(204, "application/json", new byte[0]);
                    }
                }
                case "keyRetrieval" -> {
                    if (seg.length == 1 && method.equals("POST")) {
                        return ok(
                                200,
                                keyProcedures.retrieveKeys(
                                        registrar,
                                        tenant,
                                        fqdn,
                                        client,
                                        body(request, KeyRegistrationProcedures.BatchRetrieval.class)));
                    }
                    if (seg.length == 2 && method.equals("GET")) {
                        Integer suid = null;
                        if (!query.isEmpty()) {
                            if (!query.matches("suid=[0-9]{2}")) {
                                return error(400, "the only query parameter is suid=NN");
                            }
                            suid = Integer.parseInt(query.substring(5));
                        }
                        return ok(200, keyProcedures.retrieveKey(registrar, tenant, fqdn, client, seg[1], suid));
                    }
                }
                default -> {
                    return error(404, "no such resource");
                }
            }
            return error(405, "method not allowed here");
        } catch (RegistrationProcedures.Problem p) {
            return error(p.status, p.getMessage());
        }
    }

    /** Parses a JSON body strictly (unknown fields refused); 415/400 as {@link RegistrationProcedures.Problem}. */
    public <T> T body(DeviceHttp.Request request, Class<T> type) {
        String ct = request.header("content-type");
        if (ct == null || !ct.toLowerCase().startsWith("application/json")) {
            throw new RegistrationProcedures.Problem(415, "send application/json");
        }
        try {
            T v = json.readValue(request.body(), type);
            if (v == null) {
                throw new RegistrationProcedures.Problem(400, "malformed JSON");
            }
            return v;
        } catch (java.io.IOException e) {
            throw new RegistrationProcedures.Problem(400, "malformed JSON or unknown fields");
        }
    }

    public DeviceHttp.Response ok(int status, Object body) {
        try {
            return DeviceHttp.Response.json(status, json.writeValueAsString(body));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    public DeviceHttp.Response error(int status, String message) {
        return DeviceHttp.Response.error(status, message);
    }
}
