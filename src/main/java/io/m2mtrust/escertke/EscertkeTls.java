package io.m2mtrust.escertke;

import io.m2mtrust.common.SecretBytes;
import io.m2mtrust.hsm.HsmCrypto;
import io.m2mtrust.hsm.HsmKeyLabel;
import io.m2mtrust.tls.HsmTlsSigner;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.tls.AbstractTlsClient;
import org.bouncycastle.tls.AbstractTlsServer;
import org.bouncycastle.tls.AlertDescription;
import org.bouncycastle.tls.Certificate;
import org.bouncycastle.tls.CertificateRequest;
import org.bouncycastle.tls.ClientCertificateType;
import org.bouncycastle.tls.DefaultTlsCredentialedSigner;
import org.bouncycastle.tls.HashAlgorithm;
import org.bouncycastle.tls.NamedGroup;
import org.bouncycastle.tls.ProtocolVersion;
import org.bouncycastle.tls.SignatureAlgorithm;
import org.bouncycastle.tls.SignatureAndHashAlgorithm;
import org.bouncycastle.tls.TlsAuthentication;
import org.bouncycastle.tls.TlsCredentials;
import org.bouncycastle.tls.TlsFatalAlert;
import org.bouncycastle.tls.TlsServerCertificate;
import org.bouncycastle.tls.crypto.TlsCertificate;
import org.bouncycastle.tls.crypto.TlsCrypto;
import org.bouncycastle.tls.crypto.TlsCryptoParameters;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Vector;

/**
 * The two TLS 1.2 ends of an ESCertKE handshake (TS-0003 §8.7, §10.2.3): ECDHE_ECDSA suites from the tenant
 * policy, ECDHE on secp256r1, {@code ecdsa_secp256r1_sha256} signatures made in the HSM with the end-point's key,
 * mutual certificate authentication, extended master secret (the exporter needs it), no resumption. After the
 * handshake each exports {@code EXPORTER-oneM2M-ESCertKE} (48 bytes, no context).
 */
final class EscertkeTls {

    static final String EXPORTER_LABEL = "EXPORTER-oneM2M-ESCertKE";
    static final SignatureAndHashAlgorithm ECDSA_P256_SHA256 =
            SignatureAndHashAlgorithm.getInstance(HashAlgorithm.sha256, SignatureAlgorithm.ecdsa);

    private EscertkeTls() {}

    /** Our side: the end-point's chain (leaf first) and its key in the HSM. */
    record Credentials(List<byte[]> chainDer, HsmKeyLabel key) {}

    /** Judges the peer's certificate chain; throws the refusal with its alert. */
    interface PeerCheck {
        PeerCertificates.Verified check(List<byte[]> chainDer) throws PeerCertificates.Refused;
    }

    static Certificate certificate(TlsCrypto crypto, List<byte[]> chainDer) throws IOException {
        TlsCertificate[] chain = new TlsCertificate[chainDer.size()];
        for (int i = 0; i < chain.length; i++) {
            chain[i] = crypto.createCertificate(chainDer.get(i));
        }
        return new Certificate(chain);
    }

    /** Our certificate and a signer whose ECDSA runs in the HSM with the end-point's key (never exported). */
    static TlsCredentials signer(
            org.bouncycastle.tls.TlsContext context, TlsCrypto crypto, HsmCrypto hsm, Credentials credentials)
            throws IOException {
        return new DefaultTlsCredentialedSigner(
                new TlsCryptoParameters(context),
                new HsmTlsSigner(hsm, credentials.key()),
                certificate(crypto, credentials.chainDer()),
                ECDSA_P256_SHA256);
    }

    static List<byte[]> chainOf(Certificate c) throws IOException {
        List<byte[]> out = new ArrayList<>();
        for (int i = 0; i < c.getLength(); i++) {
            out.add(c.getCertificateAt(i).getEncoded());
        }
        return out;
    }

    /** What both ends keep from a handshake. */
    static final class Outcome {
        PeerCertificates.Verified peer;
        PeerCertificates.Refused refusal;
        SecretBytes exported;
        boolean complete;
    }

    /** The Terminating end-point: the TLS server. */
    static final class Server extends AbstractTlsServer {
        private final int[] suites;
        private final Credentials credentials;
        private final HsmCrypto hsm;
        private final List<byte[]> acceptedIssuers;
        private final PeerCheck peerCheck;
        final Outcome outcome = new Outcome();

        Server(
                TlsCrypto crypto,
                int[] suites,
                Credentials credentials,
                HsmCrypto hsm,
                List<byte[]> acceptedIssuers,
                PeerCheck peerCheck) {
            super(crypto);
            this.suites = suites;
            this.credentials = credentials;
            this.hsm = hsm;
            this.acceptedIssuers = acceptedIssuers;
            this.peerCheck = peerCheck;
        }

        @Override
        protected ProtocolVersion[] getSupportedVersions() {
            return ProtocolVersion.TLSv12.only();
        }

        @Override
        protected int[] getSupportedCipherSuites() {
            return suites;
        }

        @Override
        protected boolean preferLocalCipherSuites() {
            return true;
        }

        @Override
        public boolean requiresExtendedMasterSecret() {
            return true;
        }

        @Override
        public boolean allowLegacyResumption() {
            return false;
        }

        @Override
        protected int selectECDH(int minimumCurveBits) {
            int[] offered = context.getSecurityParametersHandshake().getClientSupportedGroups();
            return offered == null || Arrays.stream(offered).anyMatch(g -> g == NamedGroup.secp256r1)
                    ? NamedGroup.secp256r1
                    : -1;
        }

        @Override
        public TlsCredentials getCredentials() throws IOException {
            return signer(context, getCrypto(), hsm, credentials);
        }

        @Override
        public CertificateRequest getCertificateRequest() {
            Vector<SignatureAndHashAlgorithm> algs = new Vector<>();
            algs.add(ECDSA_P256_SHA256);
            Vector<X500Name> authorities = new Vector<>();
            for (byte[] der : acceptedIssuers) {
                authorities.add(X500Name.getInstance(der));
            }
            return new CertificateRequest(new short[] {ClientCertificateType.ecdsa_sign}, algs, authorities);
        }

        @Override
        public void notifyClientCertificate(Certificate clientCert) throws IOException {
            try {
                outcome.peer = peerCheck.check(chainOf(clientCert));
            } catch (PeerCertificates.Refused e) {
                outcome.refusal = e;
                throw new TlsFatalAlert(e.alert, e.getMessage());
            }
        }

        @Override
        public void notifyHandshakeComplete() throws IOException {
            super.notifyHandshakeComplete();
            if (outcome.peer == null) {
                throw new TlsFatalAlert(AlertDescription.handshake_failure, "no client certificate");
            }
            outcome.exported = SecretBytes.adopt(context.exportKeyingMaterial(EXPORTER_LABEL, null, 48));
            outcome.complete = true;
        }
    }

    /** The Initiating end-point: the TLS client. */
    static final class Client extends AbstractTlsClient {
        private final int[] suites;
        private final Credentials credentials;
        private final HsmCrypto hsm;
        private final PeerCheck peerCheck;
        final Outcome outcome = new Outcome();

        Client(TlsCrypto crypto, int[] suites, Credentials credentials, HsmCrypto hsm, PeerCheck peerCheck) {
            super(crypto);
            this.suites = suites;
            this.credentials = credentials;
            this.hsm = hsm;
            this.peerCheck = peerCheck;
        }

        @Override
        protected ProtocolVersion[] getSupportedVersions() {
            return ProtocolVersion.TLSv12.only();
        }

        @Override
        protected int[] getSupportedCipherSuites() {
            return suites;
        }

        @Override
        public boolean requiresExtendedMasterSecret() {
            return true;
        }

        @Override
        protected Vector getSupportedGroups(Vector namedGroupRoles) {
            Vector<Integer> groups = new Vector<>();
            groups.add(NamedGroup.secp256r1);
            return groups;
        }

        @Override
        protected Vector getSupportedSignatureAlgorithms() {
            Vector<SignatureAndHashAlgorithm> algs = new Vector<>();
            algs.add(ECDSA_P256_SHA256);
            return algs;
        }

        @Override
        public TlsAuthentication getAuthentication() {
            return new TlsAuthentication() {
                @Override
                public void notifyServerCertificate(TlsServerCertificate serverCertificate) throws IOException {
                    try {
                        outcome.peer = peerCheck.check(chainOf(serverCertificate.getCertificate()));
                    } catch (PeerCertificates.Refused e) {
                        outcome.refusal = e;
                        throw new TlsFatalAlert(e.alert, e.getMessage());
                    }
                }

                @Override
                public TlsCredentials getClientCredentials(CertificateRequest request) throws IOException {
                    return signer(context, getCrypto(), hsm, credentials);
                }
            };
        }

        @Override
        public void notifyHandshakeComplete() throws IOException {
            super.notifyHandshakeComplete();
            outcome.exported = SecretBytes.adopt(context.exportKeyingMaterial(EXPORTER_LABEL, null, 48));
            outcome.complete = true;
        }
    }
}
