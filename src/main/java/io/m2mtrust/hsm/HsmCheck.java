package io.m2mtrust.hsm;

import java.nio.file.Path;
import java.util.Optional;

/**
 * Operator tool: opens the token exactly as the service would and prints one line.
 * {@code java -cp <service classpath> HsmCheck <provider-config>} with the PIN in
 * {@code M2M_HSM_PIN} or {@code M2M_HSM_PIN_FILE}. Exit status 0 when the token opens, 1 otherwise.
 */
public final class HsmCheck {

    private HsmCheck() {}

    public static void main(String[] args) {
        Path cfg = Path.of(args.length > 0 ? args[0] : "hsm-config/softhsm2.cfg");
        HsmSettings settings = new HsmSettings(
                cfg,
                Optional.ofNullable(System.getenv("M2M_HSM_PIN")).filter(s -> !s.isEmpty()),
                Optional.ofNullable(System.getenv("M2M_HSM_PIN_FILE"))
                        .filter(s -> !s.isEmpty())
                        .map(Path::of));
        try (Pkcs11Token token = new Pkcs11Token(settings)) {
            System.out.println("HSM OK: " + token.provider().getName() + ", "
                    + token.labels(null).size() + " m2m-trust objects");
        } catch (HsmStartupException e) {
            System.err.println("HSM start-up failed: " + e.getMessage());
            System.exit(1);
        }
    }
}
