package io.m2mtrust.tls;

import io.m2mtrust.common.SecretBytes;
import io.m2mtrust.tenant.DeviceFqdns;
import org.eclipse.californium.scandium.dtls.ConnectionId;
import org.eclipse.californium.scandium.dtls.HandshakeResultHandler;
import org.eclipse.californium.scandium.dtls.PskPublicInformation;
import org.eclipse.californium.scandium.dtls.PskSecretResult;
import org.eclipse.californium.scandium.dtls.pskstore.AdvancedPskStore;
import org.eclipse.californium.scandium.util.SecretUtil;
import org.eclipse.californium.scandium.util.ServerName;
import org.eclipse.californium.scandium.util.ServerNames;
import org.jboss.logging.Logger;

import javax.crypto.SecretKey;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.BiPredicate;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * The DTLS listener's PSK lookup: which tenant and function a handshake is for, then the same {@link PskResolver} the
 * TLS listener asks, on a worker (the resolvers run DB and HSM calls; Scandium's threads only move datagrams).
 *
 * <p>The tenant and function come from the SNI host name when the device sends one (TS-0003 §10.2: SNI is mandatory),
 * otherwise from the FQDN that ends its psk_identity (KpmID, KeID and KmID all end in {@code @<function FQDN>}): the
 * interop profile's rule for constrained stacks without SNI. When both are present they must name the same tenant.
 * The cipher suite was negotiated at the ClientHello, before any identity: it must be one the tenant's policy allows,
 * else the handshake fails here, before the server's Finished. So does a handshake for a tenant whose quota bucket for
 * the function is known to be empty (ADR 0026), before any worker, database or HSM time. An unknown tenant,
 * function or identity fails the handshake with {@code unknown_psk_identity}; nothing is kept for it.
 */
final class DtlsPskStore implements AdvancedPskStore {

    private static final Logger LOG = Logger.getLogger(DtlsPskStore.class);

    /** Longest psk_identity looked up (RFC 4279 allows 2^16-1; ours are KpmID/KeID/KmID, well under this). */
    static final int MAX_IDENTITY_BYTES = 300;

    private final DeviceFqdns fqdns;
    private final Function<DeviceFqdns.Function, PskResolver> resolvers;
    private final Predicate<String> activeTenant;
    private final Function<ConnectionId, String> negotiatedSuite;
    private final BiPredicate<String, String> suiteAllowed;
    private final Predicate<DeviceFqdns.Host> overQuota;
    private final Executor workers;
    private volatile HandshakeResultHandler results;

    DtlsPskStore(
            DeviceFqdns fqdns,
            Function<DeviceFqdns.Function, PskResolver> resolvers,
            Predicate<String> activeTenant,
            Function<ConnectionId, String> negotiatedSuite,
            BiPredicate<String, String> suiteAllowed,
            Predicate<DeviceFqdns.Host> overQuota,
            Executor workers) {
        this.fqdns = fqdns;
        this.resolvers = resolvers;
        this.activeTenant = activeTenant;
        this.negotiatedSuite = negotiatedSuite;
        this.suiteAllowed = suiteAllowed;
        this.overQuota = overQuota;
        this.workers = workers;
    }

    @Override
    public boolean hasEcdhePskSupported() {
        return false; // no ECDHE_PSK suites are offered
    }

    @Override
    public void setResultHandler(HandshakeResultHandler resultHandler) {
        this.results = resultHandler;
    }

    @Override
    public PskPublicInformation getIdentity(InetSocketAddress peer, ServerNames serverNames) {
        return null; // a server never sends a psk_identity
    }

    @Override
    public PskSecretResult requestPskSecretResult(
            ConnectionId cid,
            ServerNames serverNames,
            PskPublicInformation identity,
            String hmacAlgorithm,
            SecretKey otherSecret,
            byte[] seed,
            boolean useExtendedMasterSecret) {
        byte[] raw = identity.getBytes();
        if (raw.length == 0 || raw.length > MAX_IDENTITY_BYTES || !identity.isCompliantEncoding()) {
            return unknown(cid, identity);
        }
        String id = identity.getPublicInfoAsString();
        String sni = sniHost(serverNames);
        if (sni != null && ipLiteral(sni)) {
            sni = null;
        }
        Optional<DeviceFqdns.Host> host = hostOf(sni, id);
        if (host.isEmpty() || resolvers.apply(host.get().function()) == null) {
            return unknown(cid, identity);
        }
        if (overQuota.test(host.get())) {
            // a tenant whose bucket is known to be empty opens no new sessions: no worker, database or HSM time for
            // it (issue 21, ADR 0026; the TLS listener refuses at the ClientHello the same way)
            return unknown(cid, identity);
        }
        // the suite was chosen at the ClientHello, before the identity named a tenant: read it here (a map lookup),
        // judge it on the worker with the tenant's status (caches that may reach the database on a miss)
        String suite = negotiatedSuite.apply(cid);
        DtlsPeer peer = DtlsPeer.psk(host.get(), sni, id);
        try {
            workers.execute(() -> results.apply(resolve(cid, identity, peer, suite)));
        } catch (RejectedExecutionException busy) {
            LOG.warnf(
                    "DTLS PSK lookup refused: the worker queue is full (tenant %s)",
                    peer.host().tenantId());
            return unknown(cid, identity);
        }
        return null; // the answer follows through the result handler
    }

    private PskSecretResult resolve(ConnectionId cid, PskPublicInformation identity, DtlsPeer peer, String suite) {
        String tenant = peer.host().tenantId();
        Optional<SecretBytes> psk;
        try {
            if (!activeTenant.test(tenant)) {
                return unknown(cid, identity);
            }
            // the suite must be one of this tenant's
            if (suite == null || !suiteAllowed.test(tenant, suite)) {
                LOG.debugf("DTLS handshake for tenant %s refused: suite %s is not in its policy", tenant, suite);
                return unknown(cid, identity);
            }
            psk = resolvers.apply(peer.host().function()).resolve(peer.host().tenantId(), peer.identity());
        } catch (RuntimeException e) {
            LOG.warnf("DTLS PSK lookup failed for tenant %s: %s", peer.host().tenantId(), e.getMessage());
            return unknown(cid, identity);
        }
        if (psk.isEmpty()) {
            return unknown(cid, identity);
        }
        try (SecretBytes k = psk.get()) {
            // Scandium derives the premaster secret from it and destroys the key after the handshake
            SecretKey key = k.reveal(bytes -> SecretUtil.create(bytes, PskSecretResult.ALGORITHM_PSK));
            return new PskSecretResult(cid, identity, key, peer);
        }
    }

    private static PskSecretResult unknown(ConnectionId cid, PskPublicInformation identity) {
        return new PskSecretResult(cid, identity, null); // Scandium answers unknown_psk_identity
    }

    /** Tenant and function: the SNI host's, else the identity's FQDN; both present must name the same. */
    Optional<DeviceFqdns.Host> hostOf(String sni, String identity) {
        Optional<DeviceFqdns.Host> fromIdentity = hostOfIdentity(identity);
        if (sni == null) {
            return fromIdentity;
        }
        Optional<DeviceFqdns.Host> fromSni = fqdns.parse(sni);
        // the function is the SNI's (a KeID, which ends in the MEF's FQDN, is presented to the MAF); the tenant must
        // agree
        if (fromSni.isPresent()
                && fromIdentity.isPresent()
                && !fromSni.get().tenantId().equals(fromIdentity.get().tenantId())) {
            return Optional.empty();
        }
        return fromSni;
    }

    /**
     * The function FQDN an identity ends in: {@code …@mef.<tenant>.<base>}, also below it (a group KpmID ends in
     * {@code @<group>.mef.<tenant>.<base>}); at most a few leading labels are dropped.
     */
    Optional<DeviceFqdns.Host> hostOfIdentity(String identity) {
        int at = identity.lastIndexOf('@');
        if (at < 0) {
            return Optional.empty();
        }
        String domain = identity.substring(at + 1);
        for (int labels = 0; labels < 4 && !domain.isEmpty(); labels++) {
            Optional<DeviceFqdns.Host> host = fqdns.parse(domain);
            if (host.isPresent()) {
                return host;
            }
            int dot = domain.indexOf('.');
            domain = dot < 0 ? "" : domain.substring(dot + 1);
        }
        return Optional.empty();
    }

    /** RFC 6066 §3 forbids address literals in SNI, yet some stacks (libcoap) send the URI's host as it is. */
    static boolean ipLiteral(String host) {
        return host.indexOf(':') >= 0 || host.matches("[0-9]{1,3}(\\.[0-9]{1,3}){3}");
    }

    static String sniHost(ServerNames names) {
        if (names == null) {
            return null;
        }
        ServerName host = names.getServerName(ServerName.NameType.HOST_NAME);
        return host == null ? null : new String(host.getName(), StandardCharsets.US_ASCII);
    }
}
