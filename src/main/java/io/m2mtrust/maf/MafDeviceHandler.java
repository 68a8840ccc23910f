package io.m2mtrust.maf;

import io.m2mtrust.esdata.EsDataRoutes;
import io.m2mtrust.registration.Registrar;
import io.m2mtrust.registration.RegistrationProcedures;
import io.m2mtrust.registration.RegistrationRoutes;
import io.m2mtrust.tenant.DeviceFqdns;
import io.m2mtrust.tls.DeviceHttp;
import io.m2mtrust.tls.DevicePeer;
import io.m2mtrust.tls.DeviceRequestHandler;
import jakarta.enterprise.context.ApplicationScoped;

import java.util.Optional;

/**
 * The MAF's requests inside a MAF session (TS-0003 §8.8.2): the generic client and key registration
 * procedures with SUIDs 32–35. The peer is named by its MAF Client ID (the enrolee's identity), not by
 * the KeID/KmID it used as psk_identity.
 */
@ApplicationScoped
public class MafDeviceHandler implements DeviceRequestHandler {

    private final RegistrationRoutes routes;
    private final MafClients clients;
    private final EsDataRoutes esdata;

    MafDeviceHandler(RegistrationRoutes routes, MafClients clients, EsDataRoutes esdata) {
        this.routes = routes;
        this.clients = clients;
        this.esdata = esdata;
    }

    @Override
    public DeviceFqdns.Function function() {
        return DeviceFqdns.Function.MAF;
    }

    @Override
    public DeviceHttp.Response handle(DevicePeer peer, DeviceHttp.Request request) {
        boolean esdataCall = EsDataRoutes.matches(request.path());
        if (!RegistrationRoutes.matches(request.path()) && !esdataCall) {
            return routes.error(404, "no such MAF resource");
        }
        DevicePeer client = peer;
        String keId = null;
        if (peer.credential() == DevicePeer.Credential.PSK) {
            Optional<String> clientId = clients.clientIdOf(peer.tenantId(), peer.identity());
            if (clientId.isEmpty()) {
                // the Km of this session's identity expired or was revoked since the handshake
                return routes.error(401, "the credential of this session is no longer valid; enrol again");
            }
            keId = clients.isKeId(peer.tenantId(), peer.identity()) ? MafClients.canonical(peer.identity()) : null;
            client = peer.namedAs(clientId.get());
        }
        if (esdataCall) {
            return esdata.handle(client, request);
        }
        String presentedKeId = keId;
        return routes.handle(
                Registrar.MAF,
                client,
                request,
                () -> presentedKeId == null
                        ? Optional.empty()
                        : Optional.of(clients.fromMef(peer.tenantId(), presentedKeId)
                                .map(h -> new RegistrationProcedures.RemoteKm(presentedKeId, h.km(), h.expiresAt()))
                                .orElseThrow(() -> new RegistrationProcedures.Problem(
                                        403, "Km cannot be fetched from the MEF for this KeID"))));
    }
}
