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
}
