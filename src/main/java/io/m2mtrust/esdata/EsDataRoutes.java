package io.m2mtrust.esdata;

import io.m2mtrust.registration.RegistrationProcedures;
import io.m2mtrust.registration.RegistrationRoutes;
import io.m2mtrust.tls.DeviceHttp;
import io.m2mtrust.tls.DevicePeer;
import jakarta.enterprise.context.ApplicationScoped;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * ESData for end-points inside their MAF session (the session identity is the end-point):
 * {@code POST /esdata/protect}, {@code /esdata/unprotect}, {@code /esdata/dry-run}, and the batch forms
 * {@code /esdata/protect/batch}, {@code /esdata/unprotect/batch} ({@code {"items": [...]}} → per-item results).
 */
@ApplicationScoped
public class EsDataRoutes {

    public record ProtectBatch(List<EsDataService.ProtectRequest> items) {}

    public record UnprotectBatch(List<EsDataService.UnprotectRequest> items) {}

    private final EsDataService esdata;
    private final RegistrationRoutes json;

    EsDataRoutes(EsDataService esdata, RegistrationRoutes json) {
        this.esdata = esdata;
        this.json = json;
    }

    public static boolean matches(String path) {
        return path.startsWith("/esdata/");
    }

    public DeviceHttp.Response handle(DevicePeer peer, DeviceHttp.Request request) {
        if (!request.method().equals("POST")) {
            return json.error(405, "use POST");
        }
        String t = peer.tenantId();
        String caller = peer.identity();
        try {
            return switch (request.path()) {
                case "/esdata/protect" ->
                    answer(esdata.protect(t, caller, json.body(request, EsDataService.ProtectRequest.class)));
                case "/esdata/dry-run" ->
                    answer(esdata.dryRun(t, caller, json.body(request, EsDataService.ProtectRequest.class)));
                case "/esdata/unprotect" ->
                    answer(esdata.unprotect(t, caller, json.body(request, EsDataService.UnprotectRequest.class)));
                case "/esdata/protect/batch" -> {
                    ProtectBatch b = json.body(request, ProtectBatch.class);
                    yield oversized(b.items()) ? batchRefused() : batch(esdata.protectAll(t, caller, b.items()));
                }
                case "/esdata/unprotect/batch" -> {
                    UnprotectBatch b = json.body(request, UnprotectBatch.class);
                    yield oversized(b.items()) ? batchRefused() : batch(esdata.unprotectAll(t, caller, b.items()));
                }
                default -> json.error(404, "no such ESData resource");
            };
        } catch (RegistrationProcedures.Problem p) {
            return json.error(p.status, p.getMessage());
        }
    }

    private DeviceHttp.Response answer(EsDataService.Outcome o) {
        return json.ok(o.status(), o.body());
    }

    /** The size is checked before any item runs: an oversized batch is refused whole, no key is opened for it. */
    private boolean oversized(List<?> items) {
        return items == null || items.isEmpty() || items.size() > esdata.maxBatch();
    }

    private DeviceHttp.Response batchRefused() {
        return json.error(400, "items: 1 to " + esdata.maxBatch());
    }

    private DeviceHttp.Response batch(List<EsDataService.Outcome> outcomes) {
        List<Map<String, Object>> results = new ArrayList<>();
        for (EsDataService.Outcome o : outcomes) {
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("status", o.status());
            r.putAll(o.body());
            results.add(r);
        }
        return json.ok(200, Map.of("results", results));
    }
}
