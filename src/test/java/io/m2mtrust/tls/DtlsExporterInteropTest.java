package io.m2mtrust.tls;

import static org.assertj.core.api.Assertions.assertThat;

import org.eclipse.californium.elements.config.Configuration;
import org.eclipse.californium.scandium.DTLSConnector;
import org.eclipse.californium.scandium.config.DtlsConfig;
import org.eclipse.californium.scandium.config.DtlsConnectorConfig;
import org.eclipse.californium.scandium.dtls.DTLSContext;
import org.eclipse.californium.scandium.dtls.ExtendedMasterSecretMode;
import org.eclipse.californium.scandium.dtls.Handshaker;
import org.eclipse.californium.scandium.dtls.SessionListener;
import org.eclipse.californium.scandium.dtls.cipher.CipherSuite;
import org.eclipse.californium.scandium.dtls.pskstore.AdvancedSinglePskStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The ground the DTLS listener of issue 20 stands on (ADR 0025), checked against an independent peer: Californium's
 * Scandium as the DTLS 1.2 server with a PSK, OpenSSL's {@code s_client -dtls1_2} as the device. Both ends export
 * {@code EXPORTER-oneM2M-Bootstrap} (48 bytes, no context, TS-0003 §8.3.5.2.1) and must print the same bytes, over
 * the constrained-device suite {@code TLS_PSK_WITH_AES_128_CCM_8} with the extended master secret required; and a
 * ClientHello from a spoofed source gets only a HelloVerifyRequest no larger than itself (no state, no amplification).
 */
class DtlsExporterInteropTest {

    static final String LABEL = "EXPORTER-oneM2M-Bootstrap";
    static final String IDENTITY = "kpm-1@mef.acme.m2m-trust.local";

    DTLSConnector server;
    CompletableFuture<DTLSContext> established = new CompletableFuture<>();
    java.util.concurrent.ExecutorService executor;

    DTLSConnector start(byte[] psk) throws IOException {
        return start(
                CipherSuite.TLS_PSK_WITH_AES_128_CCM_8,
                b -> b.setAdvancedPskStore(new AdvancedSinglePskStore(IDENTITY, psk)));
    }

    DTLSConnector start(CipherSuite suite, java.util.function.Consumer<DtlsConnectorConfig.Builder> credentials)
            throws IOException {
        DtlsConfig.register();
        Configuration c = Configuration.createStandardWithoutFile();
        DtlsConnectorConfig.Builder builder = DtlsConnectorConfig.builder(c)
                .setAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                .set(DtlsConfig.DTLS_ROLE, DtlsConfig.DtlsRole.SERVER_ONLY)
                .setAsList(DtlsConfig.DTLS_CIPHER_SUITES, suite)
                .set(DtlsConfig.DTLS_EXTENDED_MASTER_SECRET_MODE, ExtendedMasterSecretMode.REQUIRED)
                .set(DtlsConfig.DTLS_SUPPORT_KEY_MATERIAL_EXPORT, true)
                .set(DtlsConfig.DTLS_USE_HELLO_VERIFY_REQUEST, true)
                .set(DtlsConfig.DTLS_USE_HELLO_VERIFY_REQUEST_FOR_PSK, true);
        credentials.accept(builder);
        DtlsConnectorConfig config = builder.setSessionListener(new SessionListener() {
                    @Override
                    public void handshakeStarted(Handshaker h) {}

                    @Override
                    public void contextEstablished(Handshaker h, DTLSContext context) {
                        established.complete(context);
                    }

                    @Override
                    public void handshakeCompleted(Handshaker h) {}

                    @Override
                    public void handshakeFailed(Handshaker h, Throwable cause) {
                        established.completeExceptionally(cause);
                    }

                    @Override
                    public void handshakeFlightRetransmitted(Handshaker h, int flight) {}
                })
                .build();
        server = new DTLSConnector(config);
        server.setRawDataReceiver(data -> {});
        if (executor != null) {
            server.setExecutor(executor);
        }
        server.start();
        return server;
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.destroy();
        }
    }

    @Test
    void scandium_and_openssl_export_the_same_bootstrap_bytes_over_psk_ccm_8_with_extended_master_secret()
            throws Exception {
        byte[] psk = new byte[32];
        new SecureRandom().nextBytes(psk);
        start(psk);
        String text =
                sClient("-psk_identity", IDENTITY, "-psk", HexFormat.of().formatHex(psk), "-cipher", "PSK-AES128-CCM8");
        byte[] openssl = keyingMaterial(text);
        assertThat(text).as("the suite OpenSSL negotiated").contains("PSK-AES128-CCM8");
        assertThat(text).as("RFC 7627 on the wire").containsIgnoringCase("Extended master secret: yes");

        DTLSContext context = established.get(10, TimeUnit.SECONDS);
        assertThat(context.getSession().useExtendedMasterSecret()).isTrue();
        byte[] scandium = context.exportKeyMaterial(LABEL.getBytes(StandardCharsets.US_ASCII), null, 48);
        assertThat(scandium).hasSize(48).isEqualTo(openssl);
    }

    /** A server for {@code TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8} that signs with {@code key} (no client certificate). */
    void startCertificateServer(java.security.PrivateKey key, java.security.cert.X509Certificate cert)
            throws IOException {
        startCertificateServer(key, cert, null);
    }

    /** The same, its handshakes run on {@code executor} (null: Scandium's own threads). */
    void startCertificateServer(
            java.security.PrivateKey key,
            java.security.cert.X509Certificate cert,
            java.util.concurrent.ExecutorService executor)
            throws IOException {
        this.executor = executor;
        start(
                CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8,
                b -> b.set(
                                DtlsConfig.DTLS_CLIENT_AUTHENTICATION_MODE,
                                org.eclipse.californium.elements.config.CertificateAuthenticationMode.NONE)
                        .setCertificateIdentityProvider(
                                new org.eclipse.californium.scandium.dtls.x509.SingleCertificateProvider(
                                                key,
                                                new java.security.cert.Certificate[] {cert},
                                                org.eclipse.californium.scandium.dtls.CertificateType.X_509)
                                        .setVerifyKeyPair(false)));
    }

    /** The certificate suite itself works between Scandium and OpenSSL, with a P-256 key in software. */
    @Test
    void scandium_and_openssl_agree_over_ecdhe_ecdsa_ccm_8_with_a_software_key() throws Exception {
        java.security.KeyPairGenerator g = java.security.KeyPairGenerator.getInstance("EC");
        g.initialize(new java.security.spec.ECGenParameterSpec("secp256r1"));
        java.security.KeyPair kp = g.generateKeyPair();
        startCertificateServer(kp.getPrivate(), selfSigned(kp.getPrivate(), kp.getPublic(), null));
        String text = sClient("-cipher", "ECDHE-ECDSA-AES128-CCM8");
        assertThat(text).as(text).contains("ECDHE-ECDSA-AES128-CCM8");
        DTLSContext context = established.get(10, TimeUnit.SECONDS);
        assertThat(context.exportKeyMaterial(LABEL.getBytes(StandardCharsets.US_ASCII), null, 48))
                .isEqualTo(keyingMaterial(text));
    }

    /**
     * ADR 0025, certificate suites: Scandium signs the ServerKeyExchange through a per-thread JCA instance. On a thread
     * bound to {@link ScandiumHsmSignature}'s provider it signs with the tenant's key inside the test SoftHSM2 token
     * (the key never leaves it) and OpenSSL verifies the handshake; on an unbound thread the same handle is refused
     * (SunEC takes only software keys) and the handshake fails — it never signs with anything else.
     */
    @Test
    void scandium_signs_the_server_key_exchange_inside_the_hsm_only_on_threads_bound_to_the_hsm_provider()
            throws Exception {
        io.m2mtrust.hsm.HsmKeyLabel label =
                io.m2mtrust.hsm.HsmKeyLabel.of("dtls-interop-test", io.m2mtrust.hsm.KeyPurpose.TLS, 1);
        try (io.m2mtrust.hsm.Pkcs11Token token =
                new io.m2mtrust.hsm.Pkcs11Token(io.m2mtrust.testsupport.TestHsm.settings())) {
            token.generateReplacingOrphan(label, new io.m2mtrust.hsm.SelfSignedCertificates());
            try {
                java.security.PrivateKey p11 = (java.security.PrivateKey) token.key(label);
                java.security.cert.X509Certificate cert = selfSigned(p11, token.publicKey(label), token.provider());
                ScandiumHsmSignature.HsmSigningKey handle = new ScandiumHsmSignature.HsmSigningKey(
                        new io.m2mtrust.hsm.HsmCrypto(
                                token, new io.micrometer.core.instrument.simple.SimpleMeterRegistry()),
                        label);

                // Scandium's own threads: the handle is no software key, so the handshake fails
                startCertificateServer(handle, cert, null);
                String refused = sClient("-cipher", "ECDHE-ECDSA-AES128-CCM8");
                assertThat(refused).as(refused).doesNotContain("Keying material:");
                org.assertj.core.api.Assertions.assertThatThrownBy(() -> established.get(10, TimeUnit.SECONDS))
                        .isInstanceOf(java.util.concurrent.ExecutionException.class);
                stop();

                // threads bound to the HSM provider: signed in the token, verified by OpenSSL against the certificate
                established = new CompletableFuture<>();
                java.util.concurrent.ExecutorService bound = java.util.concurrent.Executors.newFixedThreadPool(
                        2, ScandiumHsmSignature.bindingThreads("dtls-test-"));
                try {
                    startCertificateServer(handle, cert, bound);
                    Path ca = Files.createTempFile("dtls-server", ".pem");
                    Files.writeString(
                            ca,
                            "-----BEGIN CERTIFICATE-----\n"
                                    + java.util.Base64.getMimeEncoder(64, new byte[] {'\n'})
                                            .encodeToString(cert.getEncoded())
                                    + "\n-----END CERTIFICATE-----\n");
                    String text = sClient(
                            "-cipher", "ECDHE-ECDSA-AES128-CCM8", "-CAfile", ca.toString(), "-verify_return_error");
                    assertThat(text)
                            .as(text)
                            .contains("ECDHE-ECDSA-AES128-CCM8")
                            .contains("Verify return code: 0");
                    DTLSContext context = established.get(10, TimeUnit.SECONDS);
                    assertThat(context.exportKeyMaterial(LABEL.getBytes(StandardCharsets.US_ASCII), null, 48))
                            .isEqualTo(keyingMaterial(text));
                } finally {
                    bound.shutdownNow();
                }
            } finally {
                token.destroyQuietly(label);
            }
        }
    }

    /** A self-signed certificate for {@code key}, signed with {@code provider} (null: the default one). */
    static java.security.cert.X509Certificate selfSigned(
            java.security.PrivateKey key, java.security.PublicKey pub, java.security.Provider provider)
            throws Exception {
        org.bouncycastle.asn1.x500.X500Name name =
                new org.bouncycastle.asn1.x500.X500Name("CN=mef.acme.m2m-trust.local");
        java.time.Instant now = java.time.Instant.now();
        var holder = new org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder(
                        name,
                        java.math.BigInteger.valueOf(now.toEpochMilli()),
                        java.util.Date.from(now.minusSeconds(60)),
                        java.util.Date.from(now.plusSeconds(3600)),
                        name,
                        pub)
                .build(
                        provider == null
                                ? new org.bouncycastle.operator.jcajce.JcaContentSignerBuilder("SHA256withECDSA")
                                        .build(key)
                                : new org.bouncycastle.operator.jcajce.JcaContentSignerBuilder("SHA256withECDSA")
                                        .setProvider(provider)
                                        .build(key));
        return new org.bouncycastle.cert.jcajce.JcaX509CertificateConverter().getCertificate(holder);
    }

    /** {@code openssl s_client -dtls1_2} against the server, exporting the bootstrap label; its whole output. */
    String sClient(String... extra) throws Exception {
        Path out = Files.createTempFile("dtls-s_client", ".out");
        try {
            List<String> cmd = new java.util.ArrayList<>(List.of(
                    "openssl",
                    "s_client",
                    "-dtls1_2",
                    "-connect",
                    "127.0.0.1:" + server.getAddress().getPort(),
                    "-servername",
                    "mef.acme.m2m-trust.local",
                    "-keymatexport",
                    LABEL,
                    "-keymatexportlen",
                    "48"));
            cmd.addAll(List.of(extra));
            Process p = new ProcessBuilder(cmd)
                    .redirectErrorStream(true)
                    .redirectOutput(out.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                    .start();
            assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
            return Files.readString(out, StandardCharsets.ISO_8859_1);
        } finally {
            Files.deleteIfExists(out);
        }
    }

    static byte[] keyingMaterial(String sClientOutput) {
        Matcher m = Pattern.compile("Keying material: ([0-9A-Fa-f]+)").matcher(sClientOutput);
        assertThat(m.find()).as(sClientOutput).isTrue();
        return HexFormat.of().parseHex(m.group(1).toLowerCase());
    }

    @Test
    void a_client_hello_from_a_spoofed_source_gets_only_a_cookie_no_larger_than_itself() throws Exception {
        start(new byte[32]);
        // a DTLS 1.2 ClientHello without a cookie, as any source address could send it (RFC 6347 §4.2.1)
        byte[] hello = clientHelloWithoutCookie();
        try (DatagramSocket spoofed = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            spoofed.setSoTimeout(3000);
            spoofed.send(new DatagramPacket(hello, hello.length, server.getAddress()));
            byte[] buf = new byte[2048];
            DatagramPacket answer = new DatagramPacket(buf, buf.length);
            spoofed.receive(answer);
            // record type handshake (22), DTLS 1.2, handshake type hello_verify_request (3)
            assertThat(buf[0]).isEqualTo((byte) 22);
            assertThat(buf[13]).as("handshake type").isEqualTo((byte) 3);
            assertThat(answer.getLength()).as("no amplification").isLessThanOrEqualTo(hello.length);
            // nothing else follows: no ServerHello, no state for an unverified address
            spoofed.setSoTimeout(500);
            List<Integer> more = new java.util.ArrayList<>();
            try {
                spoofed.receive(new DatagramPacket(new byte[2048], 2048));
                more.add(1);
            } catch (java.net.SocketTimeoutException expected) {
                // only the cookie
            }
            assertThat(more).isEmpty();
        }
    }

    /** A minimal DTLS 1.2 ClientHello (epoch 0, message sequence 0) offering TLS_PSK_WITH_AES_128_CCM_8. */
    static byte[] clientHelloWithoutCookie() {
        byte[] random = new byte[32];
        new SecureRandom().nextBytes(random);
        java.io.ByteArrayOutputStream body = new java.io.ByteArrayOutputStream();
        body.write(0xfe);
        body.write(0xfd); // DTLS 1.2
        body.writeBytes(random);
        body.write(0); // session id
        body.write(0); // cookie
        body.writeBytes(new byte[] {0, 2, (byte) 0xc0, (byte) 0xa8}); // TLS_PSK_WITH_AES_128_CCM_8
        body.writeBytes(new byte[] {1, 0}); // compression: null
        byte[] b = body.toByteArray();
        java.io.ByteArrayOutputStream hs = new java.io.ByteArrayOutputStream();
        hs.write(1); // client_hello
        hs.writeBytes(u24(b.length));
        hs.writeBytes(new byte[] {0, 0}); // message_seq
        hs.writeBytes(u24(0)); // fragment_offset
        hs.writeBytes(u24(b.length)); // fragment_length
        hs.writeBytes(b);
        byte[] h = hs.toByteArray();
        java.io.ByteArrayOutputStream rec = new java.io.ByteArrayOutputStream();
        rec.write(22);
        rec.write(0xfe);
        rec.write(0xfd);
        rec.writeBytes(new byte[8]); // epoch 0, sequence 0
        rec.write(h.length >> 8);
        rec.write(h.length & 0xff);
        rec.writeBytes(h);
        return rec.toByteArray();
    }

    static byte[] u24(int n) {
        return new byte[] {(byte) (n >> 16), (byte) (n >> 8), (byte) n};
    }
}
