package io.m2mtrust.testsupport;

import io.m2mtrust.hsm.HsmSettings;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/** The fresh SoftHSM2 token that src/bin/test initialises for this run. */
public final class TestHsm {

    private TestHsm() {}

    public static HsmSettings settings() {
        String conf = System.getenv("SOFTHSM2_CONF");
        String pin = System.getenv("M2M_HSM_PIN");
        if (conf == null || pin == null) {
            throw new IllegalStateException(
                    "run the tests with src/bin/test: it initialises a fresh SoftHSM2 token and sets "
                            + "SOFTHSM2_CONF and M2M_HSM_PIN");
        }
        return new HsmSettings(Path.of("hsm-config/softhsm2.cfg").toAbsolutePath(), Optional.of(pin), Optional.empty());
    }

    /** The token directory from SOFTHSM2_CONF (moved away to simulate an HSM outage). */
    public static Path tokenDirectory() {
        try {
            for (String line : Files.readAllLines(Path.of(System.getenv("SOFTHSM2_CONF")))) {
                if (line.strip().startsWith("directories.tokendir")) {
                    return Path.of(line.substring(line.indexOf('=') + 1).strip());
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        throw new IllegalStateException("no tokendir in SOFTHSM2_CONF");
    }

    /** Runs OpenSC's pkcs11-tool against the token: an independent view of the objects and their attributes. */
    public static String pkcs11ToolListObjects() throws IOException, InterruptedException {
        Process p = new ProcessBuilder(
                        "pkcs11-tool",
                        "--module",
                        "/usr/lib/softhsm/libsofthsm2.so",
                        "--login",
                        "--pin",
                        System.getenv("M2M_HSM_PIN"),
                        "--list-objects")
                // stderr (OpenSC's CKR_ATTRIBUTE_SENSITIVE warnings) would interleave with the object blocks
                .redirectError(ProcessBuilder.Redirect.DISCARD)
                .start();
        String out = new String(p.getInputStream().readAllBytes());
        p.waitFor();
        return out;
    }
}
