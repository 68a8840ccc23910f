package io.m2mtrust.registration;

import io.m2mtrust.audit.AuditLog;
import io.m2mtrust.common.SecretBytes;
import io.m2mtrust.policy.TenantPolicy;

import java.security.SecureRandom;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Pattern;

/** Rules both registration procedures apply: identifier shapes, label and target checks, expiry caps, refusals. */
final class RegistrationRules {

    private RegistrationRules() {}

    static final Pattern FQDN =
            Pattern.compile("(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?");
    static final Pattern LABEL = Pattern.compile("[\\x21-\\x7e]{1,64}");
    static final Pattern TARGET_ID = Pattern.compile("[\\x21-\\x7e]{1,300}");
    static final Pattern RELATIVE_ID = Pattern.compile("[0-9a-f]{32}");
    static final int MAX_LABELS = 10;
    static final SecureRandom RANDOM = new SecureRandom();

    // ---------------------------------------------------------------- checks

    static Instant capExpiry(TenantPolicy p, Instant proposed, Instant now, Instant notAfter) {
        if (proposed == null) {
            throw new RegistrationProcedures.Problem(400, "expirationTime is required");
        }
        if (!proposed.isAfter(now)) {
            throw new RegistrationProcedures.Problem(400, "expirationTime must be in the future");
        }
        Instant cap = now.plusSeconds(p.maxKeyLifetimeSeconds);
        Instant e = proposed.isAfter(cap) ? cap : proposed;
        if (notAfter != null && e.isAfter(notAfter)) {
            e = notAfter; // a key never outlives the registration it was made under
        }
        return e.truncatedTo(ChronoUnit.SECONDS);
    }

    static List<String> targets(Registrar registrar, List<String> ids, int suid, TenantPolicy policy) {
        if (ids == null || ids.isEmpty()) {
            throw new RegistrationProcedures.Problem(400, "targetIds are required (this MEF does not choose targets)");
        }
        List<String> distinct = ids.stream().distinct().toList();
        for (String id : distinct) {
            if (id == null || !TARGET_ID.matcher(id).matches()) {
                throw new RegistrationProcedures.Problem(400, "each target id is 1-300 printable characters");
            }
        }
        // TS-0003 §8.3.5.2.7 / §8.8.2.7 step 3: exactly one target for SAEF and ESPrim, 1..n for ESData
        if (registrar.singleTarget(suid) && distinct.size() != 1) {
            throw new RegistrationProcedures.Problem(400, "SUID " + suid + " takes exactly one target");
        }
        if (distinct.size() > policy.maxEsdataTargets) {
            throw new RegistrationProcedures.Problem(
                    400, "at most " + policy.maxEsdataTargets + " targets (tenant policy)");
        }
        return distinct;
    }

    static List<String> labels(List<String> labels) {
        if (labels == null) {
            return List.of();
        }
        if (labels.size() > MAX_LABELS) {
            throw new RegistrationProcedures.Problem(400, "at most " + MAX_LABELS + " labels");
        }
        List<String> out = new ArrayList<>();
        for (String l : labels) {
            if (l == null || !LABEL.matcher(l).matches()) {
                throw new RegistrationProcedures.Problem(400, "labels are 1-64 printable characters without spaces");
            }
            out.add(l);
        }
        return out;
    }

    /** A Key Value the client supplies (§8.3.5.2.7): base64 of 32 or 64 bytes; the caller closes it. */
    static SecretBytes suppliedKey(String keyValue) {
        byte[] v;
        try {
            v = java.util.Base64.getDecoder().decode(keyValue);
        } catch (IllegalArgumentException e) {
            throw new RegistrationProcedures.Problem(400, "keyValue is not base64");
        }
        if (v.length != 32 && v.length != 64) {
            java.util.Arrays.fill(v, (byte) 0);
            // checked before adopting: an empty value ("") is a 400 here, not a SecretBytes refusal (a 500)
            throw new RegistrationProcedures.Problem(400, "keyValue must be 32 or 64 bytes");
        }
        return SecretBytes.adopt(v);
    }

    static void requireOwnFqdn(Registrar registrar, String mefFqdn, String mafFqdn, String fqdn) {
        String given = registrar == Registrar.MEF ? mefFqdn : mafFqdn;
        String other = registrar == Registrar.MEF ? mafFqdn : mefFqdn;
        if (other != null) {
            throw new RegistrationProcedures.Problem(
                    400,
                    "unknown field " + (registrar == Registrar.MEF ? "mafFqdn" : "mefFqdn") + " for the " + registrar);
        }
        if (given == null || !given.equalsIgnoreCase(fqdn)) {
            throw new RegistrationProcedures.Problem(
                    400, registrar.prefix() + "Fqdn must be this " + registrar + "'s FQDN, " + fqdn);
        }
    }

    static String requireFqdn(String field, String v) {
        if (v == null || !FQDN.matcher(v).matches()) {
            throw new RegistrationProcedures.Problem(400, field + " must be a lowercase FQDN");
        }
        return v;
    }

    static String actor(Registrar registrar, String clientId) {
        return registrar.prefix() + "-client " + clientId;
    }

    /** One client's {@code action} as the audit log tells it: granted in the caller's transaction, or refused. */
    record ClientAction(AuditLog audit, Registrar registrar, String tenantId, String clientId, String action) {

        void granted(String target, String detail) {
            audit.append(tenantId, actor(registrar, clientId), action, target, AuditLog.Outcome.SUCCESS, detail);
        }

        /** The refusal, chained as DENIED in its own transaction (it stands even when it cannot be chained). */
        RegistrationProcedures.Problem refuse(int status, String why) {
            try {
                audit.appendIndependently(
                        tenantId, actor(registrar, clientId), action, registrar.prefix(), AuditLog.Outcome.DENIED, why);
            } catch (RuntimeException ignored) {
                // the refusal stands even when it cannot be chained
            }
            return new RegistrationProcedures.Problem(status, why);
        }
    }

    static String randomHex(int bytes) {
        byte[] b = new byte[bytes];
        RANDOM.nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    static String safe(String s) {
        return s == null ? "" : s.replaceAll("[^A-Za-z0-9._-]", "?").substring(0, Math.min(40, s.length()));
    }

    static Instant now() {
        return Instant.now().truncatedTo(ChronoUnit.MICROS);
    }
}
