package io.m2mtrust.registration;

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

    MafKms(RegistrationStore store, RegistrationProcedures procedures) {
        this.store = store;
        this.procedures = procedures;
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

    private record Holder(String clientId, Instant liveUntil, long generation) {}

    private final java.util.concurrent.ConcurrentHashMap<String, Holder> holders =
            new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * {@link #liveClientOf}, for every request of a MAF session: answered from memory while the tenant's registrations
     * have not changed since ({@link RegistrationStore#generation}: a revocation, deregistration, replacement or update
     * on this replica moves it, so the very next request is refused) and the Km and its registration are unexpired.
     * Runs its own transaction on a miss; call it outside one.
     */
    public Optional<String> liveClientOfCached(String tenantId, String kmId) {
        String k = tenantId + "|" + kmId;
        long generation = store.generation(tenantId);
        Holder h = holders.get(k);
        Instant now = Instant.now();
        if (h != null && h.generation() == generation && now.isBefore(h.liveUntil())) {
            return Optional.of(h.clientId());
        }
        Optional<ClientRegistration> r =
                io.quarkus.narayana.jta.QuarkusTransaction.requiringNew().call(() -> live(tenantId, kmId));
        if (holders.size() > MAX_CACHED) {
            holders.clear(); // bounded: a miss only costs the query this cache saves
        }
        r.ifPresentOrElse(
                x -> holders.put(
                        k,
                        new Holder(
                                x.clientId,
                                x.expiresAt.isBefore(x.kmExpiresAt) ? x.expiresAt : x.kmExpiresAt,
                                generation)),
                () -> holders.remove(k));
        return r.map(x -> x.clientId);
    }

    private Optional<ClientRegistration> live(String tenantId, String kmId) {
        Instant now = Instant.now();
        return store.mafRegistrationByKmId(tenantId, kmId).filter(r -> !r.expired(now) && r.kmExpiresAt.isAfter(now));
    }
}
