package io.m2mtrust.testsupport;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Debian's HAProxy in front of several replicas, as the chart's ingress would be: readiness-checked servers, admin API
 * round-robin, the oneM2M proxy paths hashed by {@code X-M2M-Origin} (an originator's ESCertKE handshake stays on one
 * replica, ADR 0024), and a retry only where the request never reached a server (a connection failure).
 */
public final class Haproxy implements AutoCloseable {

    public final int port;
    private final Process process;

    private Haproxy(int port, Process process) {
        this.port = port;
        this.process = process;
    }

    public static Haproxy start(Path dir, List<PackagedService> replicas) throws IOException, InterruptedException {
        Files.createDirectories(dir);
        int port = PackagedService.freePort();
        StringBuilder servers = new StringBuilder();
        for (PackagedService r : replicas) {
            servers.append("  server ")
                    .append(r.name)
                    .append(" 127.0.0.1:")
                    .append(r.httpPort)
                    .append(" check\n");
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
                %s""".formatted(port, servers, servers);
        Path file = dir.resolve("haproxy.cfg");
        Files.writeString(file, cfg);
        String bin = Files.isExecutable(Path.of("/usr/sbin/haproxy")) ? "/usr/sbin/haproxy" : "haproxy";
        Process p = new ProcessBuilder(bin, "-db", "-f", file.toString())
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("haproxy.log").toFile())
                .start();
        Haproxy h = new Haproxy(port, p);
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

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        process.waitFor();
    }
}
