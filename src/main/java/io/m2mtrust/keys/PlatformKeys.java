package io.m2mtrust.keys;

import io.m2mtrust.audit.AuditLog;
import io.m2mtrust.cluster.ClusterLocks;
import io.m2mtrust.hsm.HsmBeans;
import io.m2mtrust.hsm.HsmKeyLabel;
import io.m2mtrust.hsm.KeyPurpose;
import io.m2mtrust.hsm.Pkcs11Token;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.transaction.Transactional;
import org.jboss.logging.Logger;

/** Keys of the service itself: the signing key of the {@code _platform} audit chain. */
@ApplicationScoped
public class PlatformKeys {

    private static final Logger LOG = Logger.getLogger(PlatformKeys.class);
    public static final HsmKeyLabel PLATFORM_SIGN = HsmKeyLabel.of(HsmKeyLabel.PLATFORM, KeyPurpose.SIGN, 1);

    /** Several replicas may start at once on a fresh HSM: one creates the key (under the cluster lock), the others see it. */
    @Transactional
    void onStart(
            @Observes StartupEvent ev,
            Pkcs11Token token,
            Pkcs11Token.CertificateMaker certificates,
            AuditLog audit,
            ClusterLocks locks) {
        locks.run(HsmBeans.SHARED_OBJECTS_LOCK, () -> ensure(token, certificates, audit));
    }

    private static void ensure(Pkcs11Token token, Pkcs11Token.CertificateMaker certificates, AuditLog audit) {
        if (!token.exists(PLATFORM_SIGN)) {
            token.generate(PLATFORM_SIGN, certificates);
            audit.append(
                    HsmKeyLabel.PLATFORM,
                    "system",
                    "key.create",
                    PLATFORM_SIGN.value(),
                    AuditLog.Outcome.SUCCESS,
                    "platform audit signing key generated in the HSM");
            LOG.infof("created platform signing key %s", PLATFORM_SIGN);
        }
    }
}
