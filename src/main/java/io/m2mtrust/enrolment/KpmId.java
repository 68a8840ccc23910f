package io.m2mtrust.enrolment;

import java.text.Normalizer;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Identifier of a pre-provisioned Kpm of an enrolment group (docs/interop-profile.md §"KpmID"):
 * {@code <device-id> "~" <epoch> "@" <group-id> "." <MEF-FQDN>}, e.g.
 * {@code meter-000042~1@meters.mef.acme.m2m-trust.example}. The epoch is the group-key version the
 * Kpm was derived under, so a rotated group key yields new KpmIDs and both keep working until the
 * old version is retired. TS-0003 leaves the KpmID format open (§8.3.2.1 only says psk_identity = KpmID).
 */
public record KpmId(String deviceId, int epoch, String groupId, String mefFqdn) {

    public static final String DEVICE_ID_REGEX = "[A-Za-z0-9._-]{1,64}";
    private static final Pattern FORMAT = Pattern.compile(
            "(" + DEVICE_ID_REGEX + ")~([1-9][0-9]{0,5})@([a-z0-9][a-z0-9-]{0,38}[a-z0-9]|[a-z0-9])\\.(.+)");

    public KpmId {
        if (deviceId == null || !deviceId.matches(DEVICE_ID_REGEX) || epoch < 1 || groupId == null || mefFqdn == null) {
            throw new IllegalArgumentException("invalid KpmID parts");
        }
    }

    /** Parses a TLS psk_identity; empty if it is not a group KpmID (wrong shape, bad UTF-8, too long). */
    public static Optional<KpmId> parse(String identity) {
        if (identity == null || identity.length() > 300) {
            return Optional.empty();
        }
        Matcher m = FORMAT.matcher(identity);
        if (!m.matches()) {
            return Optional.empty();
        }
        return Optional.of(new KpmId(m.group(1), Integer.parseInt(m.group(2)), m.group(3), m.group(4)));
    }

    public String value() {
        return deviceId + "~" + epoch + "@" + groupId + "." + mefFqdn;
    }

    /** The KDF input form of the identifier: UTF-8 after NFKC (interop profile). */
    public byte[] kdfBytes() {
        return Normalizer.normalize(value(), Normalizer.Form.NFKC).getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }

    @Override
    public String toString() {
        return value();
    }
}
