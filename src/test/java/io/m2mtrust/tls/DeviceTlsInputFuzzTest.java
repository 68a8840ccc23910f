package io.m2mtrust.tls;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.m2mtrust.common.SecretBytes;
import io.m2mtrust.tenant.DeviceFqdns;
import org.bouncycastle.tls.BasicTlsPSKIdentity;
import org.bouncycastle.tls.CipherSuite;
import org.bouncycastle.tls.NameType;
import org.bouncycastle.tls.PSKTlsClient;
import org.bouncycastle.tls.ProtocolVersion;
import org.bouncycastle.tls.ServerName;
import org.bouncycastle.tls.TlsClientProtocol;
import org.bouncycastle.tls.TlsServerProtocol;
import org.bouncycastle.tls.crypto.TlsCrypto;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Vector;

/**
 * Fuzz target for the device listener's TLS record input (issue 21): what a TCP peer sends reaches Bouncy Castle's
 * non-blocking {@link TlsServerProtocol} driving the listener's own {@link DeviceTlsServer} (SNI routing, tenant
 * suites, PSK lookup, extended master secret). Garbage is offered at three places: as the first flight, inside the
 * handshake (the client's real second flight cut at a point of the fuzzer's choosing, then garbage), and after a
 * completed handshake. The contract, which {@code DeviceConnection} relies on (it catches only {@link IOException}):
 * an {@link IOException} (a TLS alert), or progress — never another exception, never more output than a server
 * flight, never more plaintext than was sent, and a handshake completes only on the client's true bytes.
 *
 * <p>Randomness is seeded, so the same input replays the same handshake (corpora stay meaningful).
 */
class DeviceTlsInputFuzzTest {

    static final DeviceFqdns FQDNS = DeviceFqdns.under("m2m-trust.local");
    static final String SNI = "mef.acme.m2m-trust.local";
    static final String IDENTITY = "device-1";
    static final byte[] PSK = new byte[32];

    static {
        Arrays.fill(PSK, (byte) 0x5a);
    }

    /** Where the fuzzer's bytes go. */
    enum Where {
        FIRST_FLIGHT,
        INSIDE_THE_HANDSHAKE,
        AFTER_THE_HANDSHAKE
    }

    @FuzzTest(maxDuration = "30s")
    void tls_records_get_an_alert_or_a_session(FuzzedDataProvider data) throws Exception {
        Where where = data.pickValue(Where.values());
        int cut = data.consumeInt(0, 4096);
        byte[] garbage = data.consumeRemainingAsBytes();
        DeviceTlsServer server = server();
        TlsServerProtocol tls = new TlsServerProtocol();
        tls.accept(server);
        try {
            switch (where) {
                case FIRST_FLIGHT -> offer(tls, garbage);
                case INSIDE_THE_HANDSHAKE -> {
                    Handshake h = new Handshake(tls);
                    byte[] second = h.clientSecondFlight();
                    int at = Math.min(cut, second.length);
                    byte[] sent = concat(Arrays.copyOf(second, at), garbage);
                    offer(tls, sent);
                    if (server.handshakeComplete()) {
                        // every byte of the client's flight is authenticated (Finished, record MACs)
                        assertThat(sent.length).isGreaterThanOrEqualTo(second.length);
                        assertThat(Arrays.copyOf(sent, second.length)).isEqualTo(second);
                    }
                }
                case AFTER_THE_HANDSHAKE -> {
                    Handshake h = new Handshake(tls);
                    offer(tls, h.clientSecondFlight());
                    assertThat(server.handshakeComplete()).isTrue();
                    offer(tls, garbage);
                    assertThat(tls.getAvailableInputBytes()).isLessThanOrEqualTo(garbage.length);
                }
            }
        } catch (IOException alert) {
            // a TLS alert: what DeviceConnection sends back before it closes the connection
        } finally {
            server.destroySecrets();
        }
    }

    private static void offer(TlsServerProtocol tls, byte[] bytes) throws IOException {
        if (bytes.length > 0) {
            tls.offerInput(bytes);
        }
        // a server flight (ServerHello…Done, or ChangeCipherSpec+Finished, or an alert) is small
        assertThat(tls.getAvailableOutputBytes()).isLessThanOrEqualTo(16 * 1024);
    }

    static DeviceTlsServer server() throws NoSuchAlgorithmException {
        PskResolver psks = new PskResolver() {
            @Override
            public DeviceFqdns.Function function() {
                return DeviceFqdns.Function.MEF;
            }

            @Override
            public Optional<SecretBytes> resolve(String tenantId, String identity) {
                return tenantId.equals("acme") && identity.equals(IDENTITY)
                        ? Optional.of(SecretBytes.copyOf(PSK))
                        : Optional.empty();
            }
        };
        return new DeviceTlsServer(
                TlsCryptos.create(seeded(1)),
                FQDNS,
                tenant -> tenant.equals("acme")
                        ? Optional.of(List.of("TLS_PSK_WITH_AES_128_GCM_SHA256", "TLS_PSK_WITH_AES_128_CBC_SHA256"))
                        : Optional.empty(),
                f -> f == DeviceFqdns.Function.MEF ? psks : null,
                null,
                null,
                null);
    }

    /** SHA1PRNG seeded before first use is deterministic: the same handshake every time. */
    static SecureRandom seeded(long seed) throws NoSuchAlgorithmException {
        SecureRandom r = SecureRandom.getInstance("SHA1PRNG");
        r.setSeed(seed);
        return r;
    }

    static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /** A real TLS-PSK client (Bouncy Castle) for the device, driven through its first round trip. */
    static final class Handshake {
        private final TlsClientProtocol client = new TlsClientProtocol();

        Handshake(TlsServerProtocol server) throws IOException, NoSuchAlgorithmException {
            client.connect(client(TlsCryptos.create(seeded(2))));
            server.offerInput(drain(client));
            client.offerInput(drain(server));
        }

        /** The server's ChangeCipherSpec and Finished into the client (seed corpora). */
        void clientFinish(TlsServerProtocol server) throws IOException {
            client.offerInput(drain(server));
        }

        /** One application data record of the client (seed corpora). */
        byte[] clientRecord(byte[] plain) throws IOException {
            client.writeApplicationData(plain, 0, plain.length);
            return drain(client);
        }

        /** ClientKeyExchange, ChangeCipherSpec, Finished. */
        byte[] clientSecondFlight() {
            return drain(client);
        }

        static byte[] drain(org.bouncycastle.tls.TlsProtocol p) {
            byte[] out = new byte[p.getAvailableOutputBytes()];
            p.readOutput(out, 0, out.length);
            return out;
        }

        static PSKTlsClient client(TlsCrypto crypto) {
            return new PSKTlsClient(crypto, new BasicTlsPSKIdentity(IDENTITY, PSK)) {
                @Override
                protected ProtocolVersion[] getSupportedVersions() {
                    return ProtocolVersion.TLSv12.only();
                }

                @Override
                protected int[] getSupportedCipherSuites() {
                    return new int[] {CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256};
                }

                @Override
                protected Vector<ServerName> getSNIServerNames() {
                    Vector<ServerName> names = new Vector<>();
                    names.add(new ServerName(NameType.host_name, SNI.getBytes(StandardCharsets.US_ASCII)));
                    return names;
                }
            };
        }
    }
}
