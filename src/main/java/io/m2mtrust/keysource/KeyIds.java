package io.m2mtrust.keysource;

import java.util.regex.Pattern;

/** The shapes of symmetric key identifiers (TS-0003 §8.3.5.2.7 Key Identifier; interop profile). */
public final class KeyIds {

    private KeyIds() {}

    /** {@code RelativeKeyID@FQDN}: 16 bytes in lowercase hex at a host name (registered and ESCertKE keys). */
    public static final Pattern RELATIVE_AT_FQDN = Pattern.compile("([0-9a-f]{32})@([a-z0-9.-]{1,253})");

    /** Any {@code name@FQDN} (pre-provisioned keys, named by the admin who imported them). */
    public static final Pattern ANY_AT_FQDN = Pattern.compile("[A-Za-z0-9._-]{1,64}@[a-z0-9.-]{1,253}");

    /** {@code fetchCredentials} keys: {@code <KeID>/<SUID>}, the KeID being {@code RelativeKeID@MEF-FQDN}. */
    public static final Pattern FETCHED = Pattern.compile("([0-9a-f]{32}@[a-z0-9.-]{1,253})/([0-9]{2})");

    /** Longest identifier any source accepts. */
    public static final int MAX_LENGTH = 330;

    /** The host name after the {@code @}, or empty text. */
    public static String fqdnOf(String kid) {
        int at = kid.indexOf('@');
        return at < 0 ? "" : kid.substring(at + 1);
    }
}
