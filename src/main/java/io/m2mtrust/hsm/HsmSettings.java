package io.m2mtrust.hsm;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * How to reach the token: a SunPKCS11 configuration file (from {@code hsm-config/}) and the user PIN,
 * taken from an environment variable or a file (a mounted Kubernetes Secret), never from the repo.
 */
public record HsmSettings(Path providerConfig, Optional<String> pin, Optional<Path> pinFile) {

    public HsmSettings {
        if (providerConfig == null) {
            throw new IllegalArgumentException("m2m.hsm.provider-config is required");
        }
    }

    char[] readPin() {
        if (pin.isPresent() && !pin.get().isEmpty()) {
            return pin.get().toCharArray();
        }
        if (pinFile.isPresent()) {
            try {
                String s =
                        Files.readString(pinFile.get(), StandardCharsets.UTF_8).strip();
                if (!s.isEmpty()) {
                    return s.toCharArray();
                }
            } catch (IOException e) {
                throw new HsmStartupException(
                        "HSM PIN file " + pinFile.get() + " cannot be read: " + e.getMessage(), e);
            }
        }
        throw new HsmStartupException("No HSM PIN: set M2M_HSM_PIN or m2m.hsm.pin-file", null);
    }

    @Override
    public String toString() {
        return "HsmSettings[providerConfig=" + providerConfig + ", pin=" + (pin.isPresent() ? "[redacted]" : "none")
                + ", pinFile=" + pinFile.orElse(null) + "]";
    }
}
