package io.m2mtrust.tenant;

import io.m2mtrust.common.ApiProblem;

import java.util.regex.Pattern;

/** Tenant ids are slugs: 3–40 of a–z, 0–9 and inner hyphens. They appear in HSM labels and FQDNs. */
public final class TenantIds {

    public static final String REGEX = "[a-z0-9][a-z0-9-]{1,38}[a-z0-9]";
    private static final Pattern PATTERN = Pattern.compile(REGEX);

    private TenantIds() {}

    public static boolean valid(String id) {
        return id != null && PATTERN.matcher(id).matches() && !id.contains("--");
    }

    /** 400 for a malformed id, before any lookup or permission check can leak anything. */
    public static String require(String id) {
        if (!valid(id)) {
            throw ApiProblem.badRequest(
                    "invalid-tenant-id", "tenant ids are 3-40 characters of a-z, 0-9 and single inner hyphens");
        }
        return id;
    }
}
