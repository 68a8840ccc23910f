package io.m2mtrust.escertke;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.m2mtrust.ca.Certificates;
import io.m2mtrust.common.SubjectType;
import io.m2mtrust.hsm.HsmCrypto;
import io.m2mtrust.hsm.HsmKeyLabel;
import io.m2mtrust.hsm.KeyPurpose;
import io.m2mtrust.hsm.Pkcs11Token;
import io.m2mtrust.hsm.SelfSignedCertificates;
import io.m2mtrust.testsupport.TestHsm;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.bouncycastle.tls.AlertDescription;
import org.bouncycastle.tls.CipherSuite;
import org.bouncycastle.tls.TlsClientProtocol;
import org.bouncycastle.tls.TlsProtocol;
import org.bouncycastle.tls.TlsServerProtocol;
import org.bouncycastle.tls.crypto.impl.bc.BcTlsCrypto;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;

/**
 * Fuzz target for ESCertKE messages a remote Initiating end-point sends the proxy's Terminating role (issue 21; TS-0003
 * §8.7): message 1 (a ClientHello flight) and message 3 (Certificate, ClientKeyExchange, CertificateVerify,
 * ChangeCipherSpec, Finished), through {@link EscertkeService#messageOne} and {@link EscertkeService#messageThree} with
 * the Terminating end-point's real TLS server, its key in the SoftHSM2 token of the run. Message 3 is the real
 * Initiating end-point's flight cut at a point of the fuzzer's choosing, then the fuzzer's bytes. The contract: a
 * {@link EscertkeService.Step} — 2000 with message 2 or 4, or a refusal with a oneM2M code — never an exception; and a
 * handshake completes only on the initiator's true flight.
 */
class EscertkeInputFuzzTest {

    static final int[] SUITES = {CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256};
    static final HsmKeyLabel SERVER_KEY = HsmKeyLabel.named("escertke-fuzz", KeyPurpose.ENDPOINT, "terminating", 1);
    static final HsmKeyLabel CLIENT_KEY = HsmKeyLabel.named("escertke-fuzz", KeyPurpose.ENDPOINT, "initiating", 1);

    static Pkcs11Token token;
    static HsmCrypto hsm;
    static EscertkeTls.Credentials server;
    static EscertkeTls.Credentials client;
    static final SecureRandom RANDOM = new SecureRandom();

    @BeforeAll
    static void endPointKeysInTheHsm() {
        token = new Pkcs11Token(TestHsm.settings());
        hsm = new HsmCrypto(token, new SimpleMeterRegistry());
        token.generateReplacingOrphan(SERVER_KEY, new SelfSignedCertificates());
        token.generateReplacingOrphan(CLIENT_KEY, new SelfSignedCertificates());
        server = new EscertkeTls.Credentials(List.of(certificate("CN=terminating", SERVER_KEY)), SERVER_KEY);
        client = new EscertkeTls.Credentials(List.of(certificate("CN=initiating", CLIENT_KEY)), CLIENT_KEY);
    }

    /** A self-signed end-point certificate for a key in the HSM, signed there. */
    static byte[] certificate(String dn, HsmKeyLabel key) {
        try {
            org.bouncycastle.asn1.x500.X500Name name = new org.bouncycastle.asn1.x500.X500Name(dn);
            java.io.ByteArrayOutputStream tbs = new java.io.ByteArrayOutputStream();
            org.bouncycastle.operator.ContentSigner signer = new org.bouncycastle.operator.ContentSigner() {
                @Override
                public org.bouncycastle.asn1.x509.AlgorithmIdentifier getAlgorithmIdentifier() {
                    return new org.bouncycastle.operator.DefaultSignatureAlgorithmIdentifierFinder()
                            .find("SHA256withECDSA");
                }

                @Override
                public java.io.OutputStream getOutputStream() {
                    return tbs;
                }

                @Override
                public byte[] getSignature() {
                    return hsm.signEcdsaP256(key, tbs.toByteArray());
                }
            };
            Instant now = Instant.now();
            return new org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder(
                            name,
                            java.math.BigInteger.valueOf(now.toEpochMilli()),
                            java.util.Date.from(now.minusSeconds(60)),
                            java.util.Date.from(now.plusSeconds(86_400)),
                            name,
                            token.publicKey(key))
                    .build(signer)
                    .getEncoded();
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }

    @AfterAll
    static void cleanUp() {
        token.destroyQuietly(SERVER_KEY);
        token.destroyQuietly(CLIENT_KEY);
        token.close();
    }

    @FuzzTest(maxDuration = "30s")
    void escertke_messages_get_message_2_or_4_or_a_oneM2M_refusal(FuzzedDataProvider data) throws Exception {
        boolean messageThree = data.consumeBoolean();
        int cut = data.consumeInt(0, 8192);
        byte[] garbage = data.consumeRemainingAsBytes();
        TlsServerProtocol protocol = new TlsServerProtocol();
        EscertkeTls.Server terminating = terminating();
        if (!messageThree) {
            EscertkeService.Step step = EscertkeService.messageOne(protocol, terminating, garbage);
            checkStep(step);
            return;
        }
        // the real Initiating end-point's message 1, then its message 3 cut and followed by the fuzzer's bytes
        EscertkeTls.Client initiating =
                new EscertkeTls.Client(new BcTlsCrypto(RANDOM), SUITES, client, hsm, peer(server));
        TlsClientProtocol clientProtocol = new TlsClientProtocol();
        clientProtocol.connect(initiating);
        EscertkeService.Step two = EscertkeService.messageOne(protocol, terminating, drain(clientProtocol));
        assertThat(two.ok()).as(two.problem()).isTrue();
        clientProtocol.offerInput(two.reply());
        byte[] three = drain(clientProtocol);
        byte[] sent = Arrays.copyOf(three, Math.min(cut, three.length) + garbage.length);
        System.arraycopy(garbage, 0, sent, Math.min(cut, three.length), garbage.length);
        EscertkeService.Step four = EscertkeService.messageThree(protocol, terminating, sent);
        checkStep(four);
        if (four.ok()) {
            assertThat(terminating.outcome.complete).isTrue();
            assertThat(sent.length).isGreaterThanOrEqualTo(three.length);
            assertThat(Arrays.copyOf(sent, three.length)).isEqualTo(three);
            terminating.outcome.exported.close();
        }
    }

    static void checkStep(EscertkeService.Step step) {
        if (step.ok()) {
            assertThat(step.reply()).isNotEmpty().hasSizeLessThanOrEqualTo(EscertkeService.MAX_MESSAGE);
        } else {
            assertThat(step.rsc()).isIn(EscertkeService.BAD_REQUEST, EscertkeService.NOT_AUTHENTICATED);
            assertThat(step.problem()).isNotBlank();
        }
    }

    static EscertkeTls.Server terminating() {
        return new EscertkeTls.Server(
                new BcTlsCrypto(RANDOM),
                SUITES,
                server,
                hsm,
                List.of(Certificates.parse(client.chainDer().get(0))
                        .getSubjectX500Principal()
                        .getEncoded()),
                peer(client));
    }

    /** Accepts exactly the other end's certificate (the chain checks of PeerCertificates need the database). */
    static EscertkeTls.PeerCheck peer(EscertkeTls.Credentials expected) {
        return chain -> {
            if (chain.isEmpty()
                    || !Arrays.equals(chain.get(0), expected.chainDer().get(0))) {
                throw new PeerCertificates.Refused(AlertDescription.bad_certificate, "not the expected certificate");
            }
            X509Certificate leaf = Certificates.parse(chain.get(0));
            return new PeerCertificates.Verified(
                    new PeerIdentity("//acme.example/cse-in", SubjectType.CSE_ID, "cse-in.acme.example"),
                    leaf.getSerialNumber().toString(16),
                    PeerCertificates.sha256(chain.get(0)),
                    Instant.now().plusSeconds(3600));
        };
    }

    static byte[] drain(TlsProtocol p) {
        byte[] out = new byte[p.getAvailableOutputBytes()];
        p.readOutput(out, 0, out.length);
        return out;
    }
}
