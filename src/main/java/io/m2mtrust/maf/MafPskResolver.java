package io.m2mtrust.maf;

import io.m2mtrust.common.SecretBytes;
import io.m2mtrust.tenant.DeviceFqdns;
import io.m2mtrust.tls.PskResolver;
import jakarta.enterprise.context.ApplicationScoped;

import java.util.Optional;

/** PSK of the MAF Handshake (TS-0003 §8.8.2.2, psk_identity = KmID, psk = Km; or a KeID at first registration). */
@ApplicationScoped
public class MafPskResolver implements PskResolver {

    private final MafClients clients;

    MafPskResolver(MafClients clients) {
        this.clients = clients;
    }

    @Override
    public DeviceFqdns.Function function() {
        return DeviceFqdns.Function.MAF;
    }

    @Override
    public Optional<SecretBytes> resolve(String tenantId, String identity) {
        return clients.km(tenantId, identity).map(MafClients.KmHolder::km);
    }
}
