package io.m2mtrust.hsm;

import io.m2mtrust.cluster.ClusterLocks;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.arc.DefaultBean;
import io.quarkus.runtime.LaunchMode;
import io.quarkus.runtime.Startup;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Disposes;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import org.jboss.logging.Logger;

/** CDI wiring of the plain {@link Pkcs11Token} and {@link HsmCrypto} (which the benchmark builds by hand). */
@ApplicationScoped
public class HsmBeans {

    private static final Logger LOG = Logger.getLogger(HsmBeans.class);

    /** The cluster lock under which replicas create the token objects they share (probe and platform keys). */
    public static final String SHARED_OBJECTS_LOCK = "hsm-shared-objects";

    @Produces
    @Singleton
    @Startup
    Pkcs11Token token(HsmConfig config, MeterRegistry registry, ClusterLocks locks) {
        Pkcs11Token token;
        try {
            token = new Pkcs11Token(config.settings(), work -> locks.run(SHARED_OBJECTS_LOCK, work));
        } catch (HsmStartupException e) {
            // One clear line; the service must not start without its HSM. In production the process
            // ends here (exit 78, EX_CONFIG) rather than under pages of framework stack traces.
            LOG.error("HSM start-up failed: " + e.getMessage());
            if (LaunchMode.current() == LaunchMode.NORMAL) {
                // halt, not exit: exit's shutdown hooks wait for this very start-up thread and hang
                System.out.flush();
                System.err.flush();
                Runtime.getRuntime().halt(78);
            }
            throw new HsmStartupException(e.getMessage(), null);
        }
        warnUnlessWrapperOpen();
        Gauge.builder("m2m.hsm.up", token, t -> t.isUp() ? 1 : 0)
                .description("1 when the PKCS#11 token answers")
                .register(registry);
        Gauge.builder("m2m.hsm.reopens", token, Pkcs11Token::reopenCount)
                .description("times the token was reopened after an outage")
                .register(registry);
        Gauge.builder("m2m.hsm.sessions", token, t -> {
                    int pooled = t.providerSessions();
                    return pooled < 0 ? Double.NaN : pooled + EcdhInToken.OPEN_SESSIONS.get();
                })
                .description(
                        "PKCS#11 sessions open on the token (SunPKCS11's and ECDH's); NaN when the JVM does not open"
                                + " sun.security.pkcs11 to the service")
                .register(registry);
        return token;
    }

    /** PKCS#11 ECDH and HSM recovery reach into the JDK's PKCS#11 wrapper; say at once when the JVM forbids it. */
    private static void warnUnlessWrapperOpen() {
        boolean open = ModuleLayer.boot()
                .findModule("jdk.crypto.cryptoki")
                .map(m -> m.isOpen("sun.security.pkcs11.wrapper", HsmBeans.class.getModule()))
                .orElse(false);
        if (!open) {
            LOG.error("the JVM was started without --add-opens=jdk.crypto.cryptoki/sun.security.pkcs11.wrapper="
                    + "ALL-UNNAMED: ECDH with HSM keys (ESData, ESCertKE end-points) will fail and an HSM outage will"
                    + " need a restart; add it to the java command line or JDK_JAVA_OPTIONS");
        }
    }

    void close(@Disposes Pkcs11Token token) {
        token.close();
    }

    @Produces
    @Singleton
    HsmCrypto crypto(Pkcs11Token token, MeterRegistry registry) {
        return new HsmCrypto(token, registry);
    }

    @Produces
    @Singleton
    @DefaultBean
    Pkcs11Token.CertificateMaker certificateMaker() {
        return new SelfSignedCertificates();
    }
}
