package io.m2mtrust.hsm;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The CKA_LABEL of a per-tenant key: {@code m2m/<tenant>/<purpose>[/<name>]/v<version>}. Every HSM object the
 * service creates carries tenant, purpose and version in its label, so an operator can list and
 * audit the token with vendor tools and nothing is shared between tenants.
 */
public record HsmKeyLabel(String owner, KeyPurpose purpose, String name, int version) {

    /** Owner of keys that belong to the service itself (health probe, platform audit chain). */
    public static final String PLATFORM = "_platform";

    private static final Pattern OWNER = Pattern.compile("_platform|[a-z0-9][a-z0-9-]{1,38}[a-z0-9]");
    private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9-]{0,38}[a-z0-9]|[a-z0-9]");
    private static final Pattern LABEL = Pattern.compile("m2m/([^/]+)/([a-z]+)(?:/([^/]+))?/v([0-9]{1,6})");

    public HsmKeyLabel {
        if (owner == null || !OWNER.matcher(owner).matches()) {
            throw new IllegalArgumentException("invalid key owner");
        }
        if (purpose == null || version < 1 || version > 999_999) {
            throw new IllegalArgumentException("invalid key purpose or version");
        }
        if (purpose.isNamed() != (name != null)) {
            throw new IllegalArgumentException("group and end-point keys, and only they, carry a name");
        }
        if (name != null && !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("invalid key name");
        }
    }

    public static HsmKeyLabel of(String owner, KeyPurpose purpose, int version) {
        return new HsmKeyLabel(owner, purpose, null, version);
    }

    /** A named key, e.g. the key of enrolment group {@code name}: {@code m2m/<owner>/group/<name>/v<n>}. */
    public static HsmKeyLabel named(String owner, KeyPurpose purpose, String name, int version) {
        return new HsmKeyLabel(owner, purpose, name, version);
    }

    public String value() {
        return "m2m/" + owner + "/" + purpose.code() + (name == null ? "" : "/" + name) + "/v" + version;
    }

    /** Parses a label written by {@link #value()}; null for objects the service did not create. */
    public static HsmKeyLabel parse(String label) {
        Matcher m = LABEL.matcher(label);
        if (!m.matches()) {
            return null;
        }
        try {
            return new HsmKeyLabel(
                    m.group(1), KeyPurpose.fromCode(m.group(2)), m.group(3), Integer.parseInt(m.group(4)));
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    @Override
    public String toString() {
        return value();
    }
}
