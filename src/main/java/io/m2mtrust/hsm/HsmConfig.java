package io.m2mtrust.hsm;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/** {@code m2m.hsm.*}: which PKCS#11 token to use and how the service watches it. */
@ConfigMapping(prefix = "m2m.hsm")
public interface HsmConfig {

    /** SunPKCS11 configuration file, one per HSM vendor under {@code hsm-config/}. */
    Path providerConfig();

    /** User PIN (env {@code M2M_HSM_PIN}); prefer {@link #pinFile()} in production. */
    Optional<String> pin();

    /** File holding the user PIN, e.g. a mounted Kubernetes Secret. */
    Optional<Path> pinFile();

    /** How often the readiness probe exercises the token (and tries to reopen it when down). */
    @WithDefault("5s")
    Duration probeInterval();

    default HsmSettings settings() {
        return new HsmSettings(providerConfig(), pin(), pinFile());
    }
}
