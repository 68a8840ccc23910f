package io.m2mtrust.testsupport;

import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The real OpenSSL command line as the other party: one-shot commands ({@code req}, {@code verify},
 * {@code pkcs7}, {@code crl}) and interactive {@code s_client} sessions in which the test reads what
 * the client printed after the handshake (e.g. an exported value) before it writes the request.
 */
public final class OpenSsl {

    public record Output(int exitCode, String text) {}

    private OpenSsl() {}

    public static Output run(Path dir, String... cmd) throws Exception {
        Path out = Files.createTempFile("openssl", ".out");
        Process p = new ProcessBuilder(cmd)
                .directory(dir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(out.toFile())
                .start();
        p.getOutputStream().close();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException("openssl did not finish: " + String.join(" ", cmd));
        }
        String text = Files.readString(out, StandardCharsets.ISO_8859_1);
        Files.deleteIfExists(out);
        return new Output(p.exitValue(), text);
    }

    /** Runs and requires exit code 0. */
    public static String ok(Path dir, String... cmd) throws Exception {
        Output o = run(dir, cmd);
        if (o.exitCode() != 0) {
            throw new IllegalStateException(String.join(" ", cmd) + " failed: " + o.text());
        }
        return o.text();
    }

    /** {@code s_client} arguments common to every session: TLS 1.2 to the listener with an SNI. */
    public static List<String> sClient(int port, String sni) {
        return new ArrayList<>(List.of(
                "openssl",
                "s_client",
                "-connect",
                "127.0.0.1:" + port,
                "-tls1_2",
                "-servername",
                sni,
                "-ign_eof",
                "-nocommands"));
    }

    /**
     * {@code s_client -dtls1_2} toward a UDP port; {@code sni} null sends none. Data written to the session goes out as
     * one DTLS record per write.
     */
    public static List<String> sClientDtls(int port, String sni) {
        List<String> cmd = new ArrayList<>(
                List.of("openssl", "s_client", "-dtls1_2", "-connect", "127.0.0.1:" + port, "-ign_eof", "-nocommands"));
        if (sni != null) {
            cmd.addAll(List.of("-servername", sni));
        } else {
            cmd.add("-noservername");
        }
        return cmd;
    }

    /** A PSK and one cipher suite (OpenSSL's name), for DTLS or for suites other than the default. */
    public static List<String> withPsk(List<String> cmd, String identity, byte[] psk, String cipher) {
        cmd.addAll(List.of("-psk_identity", identity, "-psk", HexFormat.of().formatHex(psk), "-cipher", cipher));
        return cmd;
    }

    public static List<String> withPsk(List<String> cmd, String identity, byte[] psk) {
        cmd.addAll(List.of(
                "-psk_identity", identity, "-psk", HexFormat.of().formatHex(psk), "-cipher", "PSK-AES128-CBC-SHA256"));
        return cmd;
    }

    /** Mutual certificate authentication, verifying the server's chain and host name against {@code caFile}. */
    public static List<String> withCertificate(List<String> cmd, Path cert, Path key, Path caFile, String host) {
        return withCertificate(cmd, cert, key, caFile, host, "ECDHE-ECDSA-AES128-SHA256");
    }

    /** The same over one cipher suite (OpenSSL's name), e.g. {@code ECDHE-ECDSA-AES128-CCM8} for DTLS. */
    public static List<String> withCertificate(
            List<String> cmd, Path cert, Path key, Path caFile, String host, String cipher) {
        cmd.addAll(List.of(
                "-cipher",
                cipher,
                "-cert",
                cert.toString(),
                "-key",
                key.toString(),
                "-CAfile",
                caFile.toString(),
                "-verify_return_error",
                "-verify_hostname",
                host));
        return cmd;
    }

    public static List<String> withExport(List<String> cmd, String label, int length) {
        cmd.addAll(List.of("-keymatexport", label, "-keymatexportlen", Integer.toString(length)));
        return cmd;
    }

    public static Session start(List<String> cmd) throws Exception {
        Path out = Files.createTempFile("s_client", ".out");
        Process p = new ProcessBuilder(cmd)
                .redirectErrorStream(true)
                .redirectOutput(out.toFile())
                .start();
        return new Session(p, out);
    }

    /** A running {@code s_client}: wait for its handshake output, send one request, read everything. */
    public static final class Session implements AutoCloseable {
        private final Process process;
        private final Path out;

        Session(Process process, Path out) {
            this.process = process;
            this.out = out;
        }

        /** Waits until the output matches {@code regex} (group 1 returned), or the process ends. */
        public String await(String regex, Duration timeout) throws Exception {
            Pattern pattern = Pattern.compile(regex);
            long end = System.nanoTime() + timeout.toNanos();
            while (System.nanoTime() < end) {
                String text = Files.readString(out, StandardCharsets.ISO_8859_1);
                Matcher m = pattern.matcher(text);
                if (m.find()) {
                    return m.groupCount() > 0 ? m.group(1) : m.group();
                }
                if (!process.isAlive()) {
                    throw new IllegalStateException("s_client ended before printing " + regex + ":\n" + text);
                }
                Thread.sleep(20);
            }
            throw new IllegalStateException("s_client did not print " + regex + " in time:\n"
                    + Files.readString(out, StandardCharsets.ISO_8859_1));
        }

        /** The exported keying material s_client printed after a completed handshake (it prints one even after a failure). */
        public byte[] keyingMaterial() throws Exception {
            String hex = await("Keying material: ([0-9A-Fa-f]+)", Duration.ofSeconds(20));
            String text = Files.readString(out, StandardCharsets.ISO_8859_1);
            if (text.contains("Cipher is (NONE)")) {
                throw new IllegalStateException("handshake failed:\n" + text);
            }
            return HexFormat.of().parseHex(hex.toLowerCase());
        }

        /** Writes {@code data} and keeps the session open (for DTLS: one record per write). */
        public void write(byte[] data) throws Exception {
            OutputStream in = process.getOutputStream();
            in.write(data);
            in.flush();
        }

        /** Everything s_client printed so far. */
        public String output() throws Exception {
            return Files.readString(out, StandardCharsets.ISO_8859_1);
        }

        /** Sends the request, closes stdin and returns the whole output once the server closed the session. */
        public OpenSslClient.Result send(byte[] request) throws Exception {
            try (OutputStream in = process.getOutputStream()) {
                in.write(request);
                in.flush();
            } catch (java.io.IOException e) {
                // s_client has already ended (e.g. the handshake failed): its output says why
            }
            return finish();
        }

        public OpenSslClient.Result finish() throws Exception {
            try {
                process.getOutputStream().close();
            } catch (java.io.IOException ignored) {
                // already closed
            }
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
            return new OpenSslClient.Result(
                    process.isAlive() ? -1 : process.exitValue(), Files.readString(out, StandardCharsets.ISO_8859_1));
        }

        @Override
        public void close() throws Exception {
            process.destroyForcibly();
            Files.deleteIfExists(out);
        }
    }

    /** DER PKCS#7 certs-only (an EST answer) to PEM certificates with {@code openssl pkcs7}, as {@code dir/name}. */
    public static Path pkcs7ToPem(Path dir, String name, byte[] der) throws Exception {
        Path p7 = dir.resolve(name + ".p7");
        Files.write(p7, der);
        Path pem = dir.resolve(name);
        ok(dir, "openssl", "pkcs7", "-inform", "DER", "-in", p7.toString(), "-print_certs", "-out", pem.toString());
        return pem;
    }

    /** The body of the first HTTP response in s_client's output, by its Content-Length. */
    public static String httpBody(String output) {
        int at = output.indexOf("HTTP/1.1 ");
        if (at < 0) {
            return null;
        }
        int head = output.indexOf("\r\n\r\n", at);
        Matcher m = Pattern.compile("(?i)Content-Length: (\\d+)").matcher(output.substring(at, head));
        if (head < 0 || !m.find()) {
            return null;
        }
        int len = Integer.parseInt(m.group(1));
        return output.substring(head + 4, Math.min(output.length(), head + 4 + len));
    }

    /** An HTTP answer read from s_client's output. */
    public record Answer(int status, String body, String output) {
        public io.restassured.path.json.JsonPath json() {
            return io.restassured.path.json.JsonPath.from(body);
        }
    }

    /** The first HTTP answer in a session's output; fails (with the output) when there is none. */
    public static Answer answer(OpenSslClient.Result r) {
        Integer status = r.httpStatus();
        if (status == null) {
            throw new AssertionError("no HTTP answer:\n" + r.output());
        }
        return new Answer(status, httpBody(r.output()), r.output());
    }

    /** One JSON request in a fresh TLS-PSK session. */
    public static Answer pskCall(
            int port, String host, String identity, byte[] psk, String method, String path, String json)
            throws Exception {
        try (Session s = start(withPsk(sClient(port, host), identity, psk))) {
            s.await("(?m)^\\s*Cipher\\s*: PSK", Duration.ofSeconds(20));
            return answer(s.send(request(
                    method,
                    host,
                    path,
                    json == null ? null : "application/json",
                    json == null ? new byte[0] : json.getBytes(StandardCharsets.UTF_8))));
        }
    }

    /** A key registration body (TS-0003 §8.3.5.2.7 / §8.8.2.7) for the function whose FQDN field is {@code fqdnField}. */
    public static String keyRegistration(
            String fqdnField,
            String fqdn,
            String adminFqdn,
            int suid,
            List<String> targets,
            String keyValue,
            java.time.Instant expires) {
        StringBuilder b = new StringBuilder("{\"" + fqdnField + "\":\"" + fqdn + "\",\"expirationTime\":\"" + expires
                + "\",\"adminFqdn\":\"" + adminFqdn + "\",\"suid\":" + suid + ",\"targetIds\":[");
        for (int i = 0; i < targets.size(); i++) {
            b.append(i == 0 ? "" : ",").append('"').append(targets.get(i)).append('"');
        }
        b.append(']');
        if (keyValue != null) {
            b.append(",\"keyValue\":\"").append(keyValue).append('"');
        }
        return b.append('}').toString();
    }

    public static byte[] request(String method, String host, String path, String contentType, byte[] body) {
        String head = method + " " + path + " HTTP/1.1\r\nHost: " + host + "\r\n"
                + (contentType == null ? "" : "Content-Type: " + contentType + "\r\n")
                + "Content-Length: " + body.length + "\r\nConnection: close\r\n\r\n";
        byte[] h = head.getBytes(StandardCharsets.US_ASCII);
        byte[] all = new byte[h.length + body.length];
        System.arraycopy(h, 0, all, 0, h.length);
        System.arraycopy(body, 0, all, h.length, body.length);
        return all;
    }
}
