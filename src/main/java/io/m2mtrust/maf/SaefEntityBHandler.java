package io.m2mtrust.maf;

import io.m2mtrust.registration.SaefKeys;
import io.m2mtrust.tenant.DeviceFqdns;
import io.m2mtrust.tls.DeviceHttp;
import io.m2mtrust.tls.DevicePeer;
import io.m2mtrust.tls.DeviceRequestHandler;
import jakarta.enterprise.context.ApplicationScoped;

/**
 * The Entity B endpoint of the MAF-based SAEF. Until the end-to-end proxy serves the oneM2M binding
 * here, it answers {@code GET /association}: the security association this session established (the
 * key identifier, Entity A and the key's expiry); every request first checks the key is still live.
 */
@ApplicationScoped
public class SaefEntityBHandler implements DeviceRequestHandler {

    private final SaefKeys keys;

    SaefEntityBHandler(SaefKeys keys) {
        this.keys = keys;
    }

    @Override
    public DeviceFqdns.Function function() {
        return DeviceFqdns.Function.SAEF;
    }

    @Override
    public DeviceHttp.Response handle(DevicePeer peer, DeviceHttp.Request request) {
        var association = keys.association(peer.tenantId(), peer.identity());
        if (association.isEmpty()) {
            return DeviceHttp.Response.error(401, "the key of this association expired or was revoked");
        }
        if (!request.path().equals("/association") || !request.method().equals("GET")) {
            return DeviceHttp.Response.error(404, "only GET /association is served here until the proxy is mounted");
        }
        var a = association.get();
        return DeviceHttp.Response.json(
                200,
                new io.vertx.core.json.JsonObject()
                        .put("keyIdentifier", a.keyIdentifier())
                        .put("entityA", a.entityA())
                        .put("expirationTime", a.expiresAt().toString())
                        .encode());
    }
}
