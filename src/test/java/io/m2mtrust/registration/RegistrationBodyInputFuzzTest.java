package io.m2mtrust.registration;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.m2mtrust.common.SecretBytes;
import io.m2mtrust.mef.MefCommands;
import io.m2mtrust.mef.MefDeviceHandler;
import io.m2mtrust.policy.TenantPolicy;
import io.m2mtrust.tls.DeviceHttp;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * Fuzz target for the JSON bodies a MEF or MAF client sends inside its TLS session (issue 21): enrolment indications,
 * client and key registration (and their updates), batch key retrieval and MEF Client Command updates, read by
 * {@link RegistrationRoutes#body} with the service's Jackson settings, then put through the rules every procedure
 * applies before it touches the database ({@link RegistrationRules}: own FQDN, FQDNs, labels, targets, SUIDs,
 * expiry cap, supplied Key Value). The contract: a {@link RegistrationProcedures.Problem} with a 4xx status, or values
 * that meet each rule's postcondition — never another exception.
 */
class RegistrationBodyInputFuzzTest {

    /** As Quarkus builds its mapper (every module on the class path; the routes add strictness themselves). */
    static final ObjectMapper QUARKUS_MAPPER =
            JsonMapper.builder().findAndAddModules().build();

    static final RegistrationRoutes ROUTES = new RegistrationRoutes(null, null, QUARKUS_MAPPER, null);
    static final String MEF = "mef.acme.m2m-trust.local";
    static final String MAF = "maf.acme.m2m-trust.local";
    static final TenantPolicy POLICY = new TenantPolicy();

    static {
        POLICY.maxKeyLifetimeSeconds = 86_400;
        POLICY.maxEsdataTargets = 8;
    }

    static final Class<?>[] BODIES = {
        MefDeviceHandler.EnrolmentIndications.class,
        RegistrationProcedures.ClientRegistrationRequest.class,
        RegistrationProcedures.ClientRegistrationUpdate.class,
        KeyRegistrationProcedures.KeyRegistrationRequest.class,
        KeyRegistrationProcedures.KeyRegistrationUpdate.class,
        KeyRegistrationProcedures.BatchRetrieval.class,
        MefCommands.CommandUpdate.class
    };

    @FuzzTest(maxDuration = "30s")
    void registration_bodies_read_or_get_a_4xx(FuzzedDataProvider data) {
        Class<?> type = data.pickValue(BODIES);
        Registrar registrar = data.pickValue(Registrar.values());
        String contentType = data.consumeBoolean() ? "application/json" : data.consumeString(40);
        byte[] body = data.consumeRemainingAsBytes();
        DeviceHttp.Request request = new DeviceHttp.Request("POST", "/x", Map.of("content-type", contentType), body);
        try {
            Object v = ROUTES.body(request, type);
            assertThat(v).isNotNull();
            applyRules(registrar, v);
        } catch (RegistrationProcedures.Problem refused) {
            assertThat(refused.status).isBetween(400, 499);
            assertThat(refused.getMessage()).isNotBlank();
        }
    }

    /** The checks each procedure makes of its body before any database work, with their postconditions. */
    static void applyRules(Registrar registrar, Object body) {
        String fqdn = registrar == Registrar.MEF ? MEF : MAF;
        Instant now = Instant.now();
        if (body instanceof RegistrationProcedures.ClientRegistrationRequest r) {
            RegistrationRules.requireOwnFqdn(registrar, r.mefFqdn(), r.mafFqdn(), fqdn);
            fqdnOf(r.adminFqdn());
            labelsOf(r.labels());
            expiryOf(r.expirationTime(), now);
        } else if (body instanceof RegistrationProcedures.ClientRegistrationUpdate u) {
            labelsOf(u.labels());
            if (u.expirationTime() != null) {
                expiryOf(u.expirationTime(), now);
            }
        } else if (body instanceof KeyRegistrationProcedures.KeyRegistrationRequest r) {
            RegistrationRules.requireOwnFqdn(registrar, r.mefFqdn(), r.mafFqdn(), fqdn);
            fqdnOf(r.adminFqdn());
            labelsOf(r.labels());
            if (r.suid() == null || !registrar.suids().contains(r.suid())) {
                return; // the procedure refuses it with 400 here
            }
            targetsOf(registrar, r.targetIds(), r.suid());
            if (r.keyValue() != null) {
                try (SecretBytes k = RegistrationRules.suppliedKey(r.keyValue())) {
                    assertThat(k.length()).isIn(32, 64);
                }
            }
            expiryOf(r.expirationTime(), now);
        } else if (body instanceof KeyRegistrationProcedures.KeyRegistrationUpdate u) {
            labelsOf(u.labels());
            if (u.targetIds() != null) {
                targetsOf(registrar, u.targetIds(), registrar == Registrar.MEF ? 24 : 34);
            }
        }
        // enrolment indications, batch retrievals and command updates are typed values, checked item by item later
    }

    static void fqdnOf(String v) {
        assertThat(RegistrationRules.requireFqdn("adminFqdn", v)).matches(RegistrationRules.FQDN);
    }

    static void labelsOf(List<String> labels) {
        List<String> out = RegistrationRules.labels(labels);
        assertThat(out).hasSizeLessThanOrEqualTo(RegistrationRules.MAX_LABELS);
        assertThat(out).allMatch(l -> RegistrationRules.LABEL.matcher(l).matches());
    }

    static void targetsOf(Registrar registrar, List<String> ids, int suid) {
        List<String> out = RegistrationRules.targets(registrar, ids, suid, POLICY);
        assertThat(out).isNotEmpty().doesNotHaveDuplicates().hasSizeLessThanOrEqualTo(POLICY.maxEsdataTargets);
        assertThat(out).allMatch(t -> RegistrationRules.TARGET_ID.matcher(t).matches());
    }

    static void expiryOf(Instant proposed, Instant now) {
        Instant e = RegistrationRules.capExpiry(POLICY, proposed, now, null);
        assertThat(e).isAfter(now.minusSeconds(1)).isBeforeOrEqualTo(now.plusSeconds(POLICY.maxKeyLifetimeSeconds));
    }
}
