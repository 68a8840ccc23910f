package io.m2mtrust.bench;

import io.m2mtrust.tls.DeviceDtlsConfig;
import io.m2mtrust.tls.DeviceDtlsListener;
import org.eclipse.californium.elements.RawData;
import org.eclipse.californium.scandium.DTLSConnector;
import org.eclipse.californium.scandium.config.DtlsConnectorConfig;
import org.eclipse.californium.scandium.dtls.pskstore.AdvancedSinglePskStore;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.HexFormat;

/**
 * The memory benchmark's baseline (issue 20): a Scandium DTLS server with the device listener's DTLS settings, one
 * static PSK, an echo for application records and nothing of ours, so the heap its idle sessions take is the library's own state. Arguments: port,
 * identity, PSK (hex).
 *
 * <p>With {@code certificate <sni> <pem-out>} instead of identity and PSK: the certificate-suite baseline — the
 * listener's DTLS settings with its certificate suites, a software P-256 key and a self-signed certificate for
 * {@code sni} (written to {@code pem-out} for the client to trust), any client certificate accepted, and a CoAP
 * resource {@code /.well-known/est/crts} answering fixed bytes: what plain Scandium does without the HSM, the CA's
 * checks and the service.
 */
public final class BareDtlsServer {

    private BareDtlsServer() {}

    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[0]);
        DeviceDtlsConfig same = new DeviceDtlsConfig() {
            public boolean enabled() {
                return true;
            }

            public String host() {
                return "127.0.0.1";
            }

            public int port() {
                return port;
            }

            public int workerThreads() {
                return 2;
            }

            public int maxConnections() {
                return 150_000;
            }

            public Duration staleConnectionThreshold() {
                return Duration.ofMinutes(30);
            }

            public int connectionIdLength() {
                return 6;
            }

            public int maxBodyBytes() {
                return 65536;
            }

            public int maxMessageBytes() {
                return 1152;
            }

            public int preferredBlockBytes() {
                return 512;
            }

            public Duration blockwiseLifetime() {
                return Duration.ofSeconds(60);
            }
        };
        if (args[1].equals("certificate")) {
            certificateServer(same, args[2], java.nio.file.Path.of(args[3]));
            return;
        }
        DTLSConnector connector = new DTLSConnector(DtlsConnectorConfig.builder(DeviceDtlsListener.configuration(same))
                .setAddress(new InetSocketAddress("0.0.0.0", port))
                .setAdvancedPskStore(
                        new AdvancedSinglePskStore(args[1], HexFormat.of().parseHex(args[2])))
                .build());
        // echoes each application record (the memory run's ping waits for an answer; the service answers with CoAP)
        connector.setRawDataReceiver(
                data -> connector.send(RawData.outbound(data.getBytes(), data.getEndpointContext(), null, false)));
        connector.start();
        System.out.println("bare DTLS server on " + port);
        Thread.currentThread().join();
    }

    static void certificateServer(DeviceDtlsConfig same, String sni, java.nio.file.Path pemOut) throws Exception {
        java.security.KeyPairGenerator g = java.security.KeyPairGenerator.getInstance("EC");
        g.initialize(new java.security.spec.ECGenParameterSpec("secp256r1"));
        java.security.KeyPair key = g.generateKeyPair();
        java.time.Instant now = java.time.Instant.now();
        var builder = new org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder(
                new javax.security.auth.x500.X500Principal("CN=" + sni),
                java.math.BigInteger.valueOf(now.toEpochMilli()),
                java.util.Date.from(now.minusSeconds(60)),
                java.util.Date.from(now.plusSeconds(86_400)),
                new javax.security.auth.x500.X500Principal("CN=" + sni),
                key.getPublic());
        builder.addExtension(
                org.bouncycastle.asn1.x509.Extension.subjectAlternativeName,
                false,
                new org.bouncycastle.asn1.x509.GeneralNames(new org.bouncycastle.asn1.x509.GeneralName(
                        org.bouncycastle.asn1.x509.GeneralName.dNSName, sni)));
        java.security.cert.X509Certificate cert = new org.bouncycastle.cert.jcajce.JcaX509CertificateConverter()
                .getCertificate(
                        builder.build(new org.bouncycastle.operator.jcajce.JcaContentSignerBuilder("SHA256withECDSA")
                                .build(key.getPrivate())));
        java.nio.file.Files.writeString(
                pemOut,
                "-----BEGIN CERTIFICATE-----\n"
                        + java.util.Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(cert.getEncoded())
                        + "\n-----END CERTIFICATE-----\n");
        org.eclipse.californium.elements.config.Configuration c = DeviceDtlsListener.configuration(same);
        DeviceDtlsListener.withCertificateSuites(c);
        DTLSConnector connector = new DTLSConnector(DtlsConnectorConfig.builder(c)
                .setAddress(new InetSocketAddress("0.0.0.0", same.port()))
                .setAdvancedPskStore(new AdvancedSinglePskStore("unused", new byte[32]))
                .setCertificateIdentityProvider(
                        new org.eclipse.californium.scandium.dtls.x509.SingleCertificateProvider(
                                key.getPrivate(),
                                new java.security.cert.Certificate[] {cert},
                                org.eclipse.californium.scandium.dtls.CertificateType.X_509))
                .setAdvancedCertificateVerifier(
                        org.eclipse.californium.scandium.dtls.x509.StaticNewAdvancedCertificateVerifier.builder()
                                .setTrustAllCertificates()
                                .build())
                .build());
        byte[] answer = cert.getEncoded(); // about the size of the service's PKCS#7 answer
        org.eclipse.californium.core.CoapResource crts = new org.eclipse.californium.core.CoapResource("crts") {
            @Override
            public void handleGET(org.eclipse.californium.core.server.resources.CoapExchange exchange) {
                exchange.respond(org.eclipse.californium.core.coap.CoAP.ResponseCode.CONTENT, answer, 281);
            }
        };
        org.eclipse.californium.core.CoapServer server = new org.eclipse.californium.core.CoapServer(c);
        server.addEndpoint(new org.eclipse.californium.core.network.CoapEndpoint.Builder()
                .setConfiguration(c)
                .setConnector(connector)
                .build());
        server.add(new org.eclipse.californium.core.CoapResource(".well-known")
                .add(new org.eclipse.californium.core.CoapResource("est").add(crts)));
        server.start();
        System.out.println("bare DTLS certificate server on " + same.port());
        Thread.currentThread().join();
    }
}
