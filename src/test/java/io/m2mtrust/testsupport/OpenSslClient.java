package io.m2mtrust.testsupport;

import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A real OpenSSL {@code s_client} as the device: TLS 1.2 PSK, SNI, RFC 5705 export, one HTTP request. */
public final class OpenSslClient {

    public record Result(int exitCode, String output) {
        /** The exported keying material OpenSSL printed, or null. */
        public byte[] keyingMaterial() {
            Matcher m = Pattern.compile("Keying material: ([0-9A-Fa-f]+)").matcher(output);
            return m.find() ? HexFormat.of().parseHex(m.group(1).toLowerCase()) : null;
        }

        /** The HTTP response body (after the blank line of the first HTTP response), or null. */
        public String httpBody() {
            int at = output.indexOf("HTTP/1.1 ");
            if (at < 0) {
                return null;
            }
            int body = output.indexOf("\r\n\r\n", at);
            if (body < 0) {
                return null;
            }
            String rest = output.substring(body + 4);
            int end = rest.indexOf("closed");
            return (end >= 0 ? rest.substring(0, end) : rest).strip();
        }

        public Integer httpStatus() {
            Matcher m = Pattern.compile("HTTP/1\\.1 (\\d{3})").matcher(output);
            return m.find() ? Integer.parseInt(m.group(1)) : null;
        }
    }

    private OpenSslClient() {}

    public static Result pskRequest(
            int port, String sni, String identity, byte[] psk, String cipher, String exportLabel, String httpRequest)
            throws Exception {
        List<String> cmd = new ArrayList<>(List.of(
                "openssl",
                "s_client",
                "-connect",
                "127.0.0.1:" + port,
                "-tls1_2",
                "-psk_identity",
                identity,
                "-psk",
                HexFormat.of().formatHex(psk),
                "-cipher",
                cipher,
                "-ign_eof",
                "-nocommands"));
        if (sni != null) {
            cmd.addAll(List.of("-servername", sni));
        } else {
            cmd.add("-noservername");
        }
        if (exportLabel != null) {
            cmd.addAll(List.of("-keymatexport", exportLabel, "-keymatexportlen", "48"));
        }
        Path out = Files.createTempFile("s_client", ".out");
        Process p = new ProcessBuilder(cmd)
                .redirectErrorStream(true)
                .redirectOutput(out.toFile())
                .start();
        try (OutputStream in = p.getOutputStream()) {
            if (httpRequest != null) {
                in.write(httpRequest.getBytes(StandardCharsets.UTF_8));
                in.flush();
            }
        }
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
        }
        String text = Files.readString(out, StandardCharsets.ISO_8859_1);
        Files.deleteIfExists(out);
        return new Result(p.isAlive() ? -1 : p.exitValue(), text);
    }

    public static String get(String host, String path) {
        return "GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n";
    }

    public static String post(String host, String path, String json) {
        byte[] body = json.getBytes(StandardCharsets.UTF_8);
        return "POST " + path + " HTTP/1.1\r\nHost: " + host + "\r\nContent-Type: application/json\r\nContent-Length: "
                + body.length + "\r\nConnection: close\r\n\r\n" + json;
    }
}
