package io.m2mtrust.testsupport;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Debian's HAProxy in front of several replicas, as the chart's ingress would be: readiness-checked servers, admin API
 * round-robin, the oneM2M proxy paths hashed by {@code X-M2M-Origin} (an originator's ESCertKE handshake stays on one
 * replica, ADR 0024), a retry only where the request never reached a server (a connection failure); and the device
 * listener behind a TCP frontend that routes by the ClientHello's SNI and passes TLS through (the chart's device
 * Service and an SNI router in front of it).
 */
public final class Haproxy implements AutoCloseable {

    public final int port;
    /** The device listener's TCP frontend: routed by the TLS ClientHello's SNI, passed through untouched. */
    public final int devicePort;
    /** A frontend that ignores the originator (round robin per request): what a plain balancer would do. */
    public final int roundRobinPort;

    private final Process process;

    private Haproxy(int port, int devicePort, int roundRobinPort, Process process) {
        this.port = port;
        this.devicePort = devicePort;
        this.roundRobinPort = roundRobinPort;
        this.process = process;
    }

    public static Haproxy start(Path dir, List<PackagedService> replicas) throws IOException, InterruptedException {
        Files.createDirectories(dir);
        int port = PackagedService.freePort();
        int devicePort = PackagedService.freePort();
        int roundRobinPort = PackagedService.freePort();
        StringBuilder servers = new StringBuilder();
        StringBuilder deviceServers = new StringBuilder();
        for (PackagedService r : replicas) {
            servers.append("  server ")
                    .append(r.name)
                    .append(" 127.0.0.1:")
                    .append(r.httpPort)
                    .append(" check\n");
            deviceServers
                    .append("  server ")
                    .append(r.name)
                    .append(" 127.0.0.1:")
                    .append(r.devicePort)
                    .append(" check port ")
                    .append(r.httpPort)
                    .append('\n');
        }
        String cfg = """
                global
                  maxconn 4000
                defaults
                  mode http
                  timeout connect 2s
                  timeout client 60s
                  timeout server 60s
                  retries 3
                  option redispatch
                  retry-on conn-failure
                frontend front
                  bind 127.0.0.1:%d
                  use_backend onem2m if { path_beg /onem2m }
                  default_backend api
                backend api
                  balance roundrobin
                  option httpchk GET /q/health/ready
                  default-server inter 300ms fall 1 rise 2
                %sbackend onem2m
                  balance hdr(X-M2M-Origin)
                  hash-type consistent
                  option httpchk GET /q/health/ready
                  default-server inter 300ms fall 1 rise 2
                %sfrontend round_robin
                  bind 127.0.0.1:%d
                  default_backend round_robin
                backend round_robin
                  balance roundrobin
                  option httpchk GET /q/health/ready
                  default-server inter 300ms fall 1 rise 2
                %sfrontend devices
                  mode tcp
                  bind 127.0.0.1:%d
                  tcp-request inspect-delay 5s
                  tcp-request content accept if { req_ssl_hello_type 1 }
                  use_backend devices if { req_ssl_sni -m end .m2m-trust.local }
                backend devices
                  mode tcp
                  balance roundrobin
                  option httpchk GET /q/health/ready
                  default-server inter 300ms fall 1 rise 2
                %s""".formatted(port, servers, servers, roundRobinPort, servers, devicePort, deviceServers);
        Path file = dir.resolve("haproxy.cfg");
        Files.writeString(file, cfg);
        String bin = Files.isExecutable(Path.of("/usr/sbin/haproxy")) ? "/usr/sbin/haproxy" : "haproxy";
        Process p = new ProcessBuilder(bin, "-db", "-f", file.toString())
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("haproxy.log").toFile())
                .start();
        Haproxy h = new Haproxy(port, devicePort, roundRobinPort, p);
        long end = System.nanoTime() + 10_000_000_000L;
        while (System.nanoTime() < end) {
            if (!p.isAlive()) {
                throw new IllegalStateException("haproxy stopped: " + Files.readString(dir.resolve("haproxy.log")));
            }
            try (java.net.Socket s = new java.net.Socket("127.0.0.1", port)) {
                return h;
            } catch (IOException notYet) {
                Thread.sleep(100);
            }
        }
        h.close();
        throw new IllegalStateException("haproxy did not listen on " + port);
    }

    public String base() {
        return "http://127.0.0.1:" + port;
    }

    public String roundRobinBase() {
        return "http://127.0.0.1:" + roundRobinPort;
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        process.waitFor();
    }
}
