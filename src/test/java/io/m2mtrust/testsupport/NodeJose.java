package io.m2mtrust.testsupport;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;

/**
 * An independent JOSE peer: panva's {@code jose} (npm) on Node.js, driven through {@code jose-peer/peer.mjs} —
 * one JSON request in, one JSON answer out. Neither Nimbus nor any code of ours is on that side. The folder
 * holding {@code node_modules/jose} is named by {@code M2M_NODE_JOSE_DIR}; {@code src/bin/test} prepares it
 * (src/bin/lib/nodejose.sh).
 */
public final class NodeJose {

    private static final ObjectMapper JSON = new ObjectMapper();

    private NodeJose() {}

    /** Runs one request; the answer is the peer's JSON ({@code error} set when jose refused). */
    public static JsonNode call(Object request) {
        try {
            Path script = script();
            Process p = new ProcessBuilder("node", script.toString())
                    .directory(script.getParent().toFile())
                    .redirectErrorStream(true)
                    .start();
            p.getOutputStream().write(JSON.writeValueAsBytes(request));
            p.getOutputStream().close();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                p.destroyForcibly();
                throw new IllegalStateException("the jose peer failed: " + new String(out, StandardCharsets.UTF_8));
            }
            return JSON.readTree(out);
        } catch (IOException e) {
            throw new IllegalStateException("cannot run node for the jose peer: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** The peer script beside the installed {@code jose} (ES modules resolve {@code jose} from the script's folder). */
    private static synchronized Path script() throws IOException {
        String env = System.getenv("M2M_NODE_JOSE_DIR");
        if (env == null || !Files.isRegularFile(Path.of(env, "node_modules", "jose", "package.json"))) {
            throw new IllegalStateException(
                    "M2M_NODE_JOSE_DIR does not name a folder with npm's jose installed; run the tests with"
                            + " `bash src/bin/test`, which installs it (src/bin/lib/nodejose.sh)");
        }
        byte[] wanted;
        try (InputStream in = NodeJose.class.getResourceAsStream("/jose-peer/peer.mjs")) {
            wanted = in.readAllBytes();
        }
        Path script = Path.of(env, "m2m-trust-peer.mjs");
        if (!Files.exists(script) || !Arrays.equals(Files.readAllBytes(script), wanted)) {
            Path tmp = Files.createTempFile(Path.of(env), "peer", ".mjs");
            Files.write(tmp, wanted);
            Files.move(
                    tmp,
                    script,
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                    java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        }
        return script;
    }
}
