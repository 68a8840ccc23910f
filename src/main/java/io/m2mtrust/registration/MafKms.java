package io.m2mtrust.registration;

import io.m2mtrust.cluster.ReplicaCache;
import io.m2mtrust.cluster.ReplicaCaches;
import io.m2mtrust.common.SecretBytes;
import jakarta.enterprise.context.ApplicationScoped;

import java.time.Instant;
import java.util.Optional;

/**
 * The Km of MAF client registrations (TS-0003 §8.8.2.3), by the KmID the MAF assigned: what the MAF's TLS-PSK
 * listener needs. A Km never outlives its Ke (§10.7), nor the registration. Callers run inside a transaction.
 */
@ApplicationScoped
public class MafKms {

    /** An opened Km and whom it belongs to. The caller closes {@code km}. */
    public record OpenedKm(String clientId, SecretBytes km, Instant kmExpiresAt, String keId) {}

    private final RegistrationStore store;
    private final RegistrationProcedures procedures;

    MafKms(RegistrationStore store, RegistrationProcedures procedures, ReplicaCaches caches) {
        this.store = store;
        this.procedures = procedures;
        this.holders = caches.cache(RegistrationStore.TOPIC, java.time.Duration.ZERO, MAX_CACHED);
    }

    /** The live Km named {@code kmId}, opened; empty when unknown, expired or its registration expired. */
    public Optional<OpenedKm> openLive(String tenantId, String kmId) {
        return live(tenantId, kmId).map(r -> new OpenedKm(r.clientId, procedures.openKm(r), r.kmExpiresAt, r.keId));
    }

    /** Who holds the live Km named {@code kmId}, without opening it. */
    public Optional<String> liveClientOf(String tenantId, String kmId) {
        return live(tenantId, kmId).map(r -> r.clientId);
    }

    static final int MAX_CACHED = 200_000;

    private record Holder(String clientId, Instant liveUntil) {}

    /** Live Km holders; any write of the tenant's registrations on any replica drops its entries everywhere. */
    private final ReplicaCache<Holder> holders;

    /**
     * {@link #liveClientOf}, for every request of a MAF session: answered from memory until the tenant's registrations
     * change on any replica (a revocation, deregistration, replacement or update: {@link
     * RegistrationStore#registrationsChanging}) and while the Km and its registration are unexpired. Runs its own
     * transaction on a miss; call it outside one.
     */
    public Optional<String> liveClientOfCached(String tenantId, String kmId) {
        Holder h = holders.get(
                tenantId + "|" + kmId,
                x -> Instant.now().isBefore(x.liveUntil()),
                () -> io.quarkus.narayana.jta.QuarkusTransaction.requiringNew()
                        .call(() -> live(tenantId, kmId))
                        .map(x -> new Holder(
                                x.clientId, x.expiresAt.isBefore(x.kmExpiresAt) ? x.expiresAt : x.kmExpiresAt))
                        .orElse(null),
                x -> true);
        return Optional.ofNullable(h).map(Holder::clientId);
    }

    private Optional<ClientRegistration> live(String tenantId, String kmId) {
        Instant now = Instant.now();
        return store.mafRegistrationByKmId(tenantId, kmId).filter(r -> !r.expired(now) && r.kmExpiresAt.isAfter(now));
    }
}
