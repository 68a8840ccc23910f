package io.m2mtrust.tls;

import io.m2mtrust.hsm.HsmCrypto;
import io.m2mtrust.tenant.DeviceFqdns;
import org.eclipse.californium.scandium.dtls.AlertMessage;
import org.eclipse.californium.scandium.dtls.CertificateIdentityResult;
import org.eclipse.californium.scandium.dtls.CertificateMessage;
import org.eclipse.californium.scandium.dtls.CertificateType;
import org.eclipse.californium.scandium.dtls.CertificateVerificationResult;
import org.eclipse.californium.scandium.dtls.ConnectionId;
import org.eclipse.californium.scandium.dtls.HandshakeException;
import org.eclipse.californium.scandium.dtls.HandshakeResultHandler;
import org.eclipse.californium.scandium.dtls.SignatureAndHashAlgorithm;
import org.eclipse.californium.scandium.dtls.cipher.CipherSuite;
import org.eclipse.californium.scandium.dtls.cipher.XECDHECryptography;
import org.eclipse.californium.scandium.dtls.x509.CertificateProvider;
import org.eclipse.californium.scandium.dtls.x509.NewAdvancedCertificateVerifier;
import org.eclipse.californium.scandium.util.ServerNames;
import org.jboss.logging.Logger;

import javax.security.auth.x500.X500Principal;
import java.io.ByteArrayInputStream;
import java.net.InetSocketAddress;
import java.security.cert.CertPath;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.BiPredicate;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * The DTLS listener's certificate suites (TS-0003 §10.2.3, certificate RSPF §8.3.2.2), the same rules as the TLS
 * listener's: the server presents the tenant's FQDN certificate and signs with its key inside the HSM
 * ({@link ScandiumHsmSignature}); the device must present a certificate of the tenant's CA, valid, P-256, recorded and
 * not revoked ({@link CertificateAuthentication#authenticateClient}).
 *
 * <p>The tenant comes from SNI only: a certificate handshake has no psk_identity to name it, so a ClientHello without
 * SNI is offered the PSK suites alone. The lookups run on a worker (the CA cache and the client check may reach the
 * database), and the answer returns through Scandium's result handler. The negotiated suite is checked against the
 * tenant's policy at the client's certificate, before the server's Finished.
 */
final class DtlsCertificates implements CertificateProvider, NewAdvancedCertificateVerifier {

    private static final Logger LOG = Logger.getLogger(DtlsCertificates.class);

    private final DeviceFqdns fqdns;
    private final CertificateAuthentication certificates;
    private final HsmCrypto hsm;
    private final Predicate<DeviceFqdns.Function> served;
    private final Predicate<String> activeTenant;
    private final Function<ConnectionId, String> negotiatedSuite;
    private final BiPredicate<String, String> suiteAllowed;
    private final Predicate<String> anyCertificateSuiteAllowed;
    private final Executor workers;
    private volatile HandshakeResultHandler results;

    DtlsCertificates(
            DeviceFqdns fqdns,
            CertificateAuthentication certificates,
            HsmCrypto hsm,
            Predicate<DeviceFqdns.Function> served,
            Predicate<String> activeTenant,
            Function<ConnectionId, String> negotiatedSuite,
            BiPredicate<String, String> suiteAllowed,
            Predicate<String> anyCertificateSuiteAllowed,
            Executor workers) {
        this.fqdns = fqdns;
        this.certificates = certificates;
        this.hsm = hsm;
        this.served = served;
        this.activeTenant = activeTenant;
        this.negotiatedSuite = negotiatedSuite;
        this.suiteAllowed = suiteAllowed;
        this.anyCertificateSuiteAllowed = anyCertificateSuiteAllowed;
        this.workers = workers;
    }

    @Override
    public void setResultHandler(HandshakeResultHandler resultHandler) {
        this.results = resultHandler;
    }

    @Override
    public List<CipherSuite.CertificateKeyAlgorithm> getSupportedCertificateKeyAlgorithms() {
        return List.of(CipherSuite.CertificateKeyAlgorithm.EC);
    }

    @Override
    public List<CertificateType> getSupportedCertificateTypes() {
        return List.of(CertificateType.X_509); // no raw public keys: the tenant CA vouches for every device key
    }

    // ---------------------------------------------------------------- the server's certificate and key

    @Override
    public CertificateIdentityResult requestCertificateIdentity(
            ConnectionId cid,
            boolean client,
            List<X500Principal> issuers,
            ServerNames serverNames,
            List<CipherSuite.CertificateKeyAlgorithm> keyAlgorithms,
            List<SignatureAndHashAlgorithm> signatures,
            List<XECDHECryptography.SupportedGroup> curves) {
        Optional<DeviceFqdns.Host> host = hostOf(serverNames);
        if (client || host.isEmpty()) {
            return new CertificateIdentityResult(cid); // no identity: only PSK suites can be chosen
        }
        try {
            workers.execute(() -> results.apply(serverIdentity(cid, host.get())));
        } catch (RejectedExecutionException busy) {
            LOG.warnf(
                    "DTLS certificate lookup refused: the worker queue is full (tenant %s)",
                    host.get().tenantId());
            return new CertificateIdentityResult(cid);
        }
        return null; // the answer follows through the result handler
    }

    private CertificateIdentityResult serverIdentity(ConnectionId cid, DeviceFqdns.Host host) {
        String tenant = host.tenantId();
        try {
            // certificate suites only for an active tenant whose policy allows one and which has a CA
            if (!activeTenant.test(tenant)
                    || !anyCertificateSuiteAllowed.test(tenant)
                    || !certificates.serverIdentityAvailable(tenant)) {
                return new CertificateIdentityResult(cid);
            }
            Optional<CertificateAuthentication.ServerIdentity> id = certificates.serverIdentity(tenant);
            if (id.isEmpty()) {
                return new CertificateIdentityResult(cid);
            }
            List<X509Certificate> chain = new ArrayList<>();
            CertificateFactory x509 = CertificateFactory.getInstance("X.509");
            for (byte[] der : id.get().chainDer()) {
                chain.add((X509Certificate) x509.generateCertificate(new ByteArrayInputStream(der)));
            }
            return new CertificateIdentityResult(
                    cid, new ScandiumHsmSignature.HsmSigningKey(hsm, id.get().key()), chain, null);
        } catch (CertificateException | RuntimeException e) {
            LOG.warnf("server certificate of tenant %s unavailable: %s", tenant, e.getMessage());
            return new CertificateIdentityResult(cid);
        }
    }

    // ---------------------------------------------------------------- the client's certificate

    /**
     * Empty: the issuers are the tenant's, and Scandium asks for them once per listener, not per SNI; an empty
     * certificate_authorities lets the device send its certificate (RFC 5246 §7.4.4), which is then checked.
     */
    @Override
    public List<X500Principal> getAcceptedIssuers() {
        return List.of();
    }

    @Override
    public CertificateVerificationResult verifyCertificate(
            ConnectionId cid,
            ServerNames serverNames,
            InetSocketAddress remotePeer,
            boolean clientUsage,
            boolean verifySubject,
            boolean truncateCertificatePath,
            CertificateMessage message) {
        Optional<DeviceFqdns.Host> host = hostOf(serverNames);
        CertPath path = message.getCertificateChain();
        if (host.isEmpty()) {
            return refused(cid, AlertMessage.AlertDescription.HANDSHAKE_FAILURE, "no SNI");
        }
        if (path == null || path.getCertificates().isEmpty()) {
            // TS-0003 §8.3.2.2: mutual authentication is mandatory on certificate suites
            return refused(cid, AlertMessage.AlertDescription.HANDSHAKE_FAILURE, "a client certificate is required");
        }
        String suite = negotiatedSuite.apply(cid);
        String sni = DtlsPskStore.sniHost(serverNames);
        try {
            workers.execute(() -> results.apply(verify(cid, host.get(), sni, suite, path)));
        } catch (RejectedExecutionException busy) {
            LOG.warnf(
                    "DTLS certificate check refused: the worker queue is full (tenant %s)",
                    host.get().tenantId());
            return refused(cid, AlertMessage.AlertDescription.INTERNAL_ERROR, "busy");
        }
        return null;
    }

    private CertificateVerificationResult verify(
            ConnectionId cid, DeviceFqdns.Host host, String sni, String suite, CertPath path) {
        String tenant = host.tenantId();
        try {
            if (!activeTenant.test(tenant) || suite == null || !suiteAllowed.test(tenant, suite)) {
                return refused(cid, AlertMessage.AlertDescription.HANDSHAKE_FAILURE, "suite or tenant not allowed");
            }
            List<byte[]> chain = new ArrayList<>();
            for (Certificate c : path.getCertificates()) {
                chain.add(c.getEncoded());
            }
            CertificateAuthentication.AuthenticatedCertificate cert = certificates.authenticateClient(tenant, chain);
            return new CertificateVerificationResult(
                    cid, path, DtlsPeer.certificate(host, sni, cert.identity(), cert.serial()));
        } catch (CertificateAuthentication.RejectedCertificate e) {
            LOG.debugf("client certificate refused for tenant %s: %s", tenant, e.getMessage());
            AlertMessage.AlertDescription alert = AlertMessage.AlertDescription.getDescriptionByCode(e.alert());
            return refused(cid, alert == null ? AlertMessage.AlertDescription.BAD_CERTIFICATE : alert, e.getMessage());
        } catch (CertificateException | RuntimeException e) {
            LOG.warnf("client certificate check failed for tenant %s: %s", tenant, e.getMessage());
            return refused(cid, AlertMessage.AlertDescription.INTERNAL_ERROR, "certificate check unavailable");
        }
    }

    private static CertificateVerificationResult refused(
            ConnectionId cid, AlertMessage.AlertDescription alert, String why) {
        return new CertificateVerificationResult(
                cid, new HandshakeException(why, new AlertMessage(AlertMessage.AlertLevel.FATAL, alert)), null);
    }

    /** The tenant and function of the SNI host; none without SNI, with an address literal, or for a function not served. */
    private Optional<DeviceFqdns.Host> hostOf(ServerNames serverNames) {
        String sni = DtlsPskStore.sniHost(serverNames);
        if (sni == null || DtlsPskStore.ipLiteral(sni)) {
            return Optional.empty();
        }
        return fqdns.parse(sni).filter(h -> served.test(h.function()));
    }
}
