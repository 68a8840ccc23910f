package io.m2mtrust.escertke;

import io.m2mtrust.common.SubjectType;

import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Which certificate identity a oneM2M {@code From} stands for (TS-0003 §8.1.2.5; interop profile "ESCertKE"):
 * the From is made absolute with the tenant's M2M-SP-ID and, for a CSE-relative AE-ID, the CSE-ID of the CSE
 * it is registered with; then a CSE-ID {@code //D/X} must be the {@code dNSName} {@code X.D} (TS-0001 §6.5.1.1,
 * the flat form of the public domain name) and an AE-ID {@code //D/path} the {@code uniformResourceIdentifier}
 * {@code https://D/path} (its full URI, TS-0003 §10.1.1.5). An SP-relative ID of one segment is a CSE-ID
 * unless it starts with {@code S} (an SP-relative AE-ID, TS-0001 table 7.2-1); every deeper one is an AE-ID.
 *
 * @param absolute the absolute form, {@code //<sp-fqdn>/...}
 * @param type     CSE_ID or AE_ID
 * @param san      the subjectAltName value the peer's certificate must carry, exactly
 */
public record PeerIdentity(String absolute, SubjectType type, String san) {

    private static final Pattern FQDN =
            Pattern.compile("(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?");
    private static final Pattern SEGMENT = Pattern.compile("[A-Za-z0-9._~-]{1,64}");

    /** The FQDN of an M2M-SP-ID ({@code //acme.example}), or empty when it is not one. */
    public static Optional<String> spFqdn(String spId) {
        if (spId == null || !spId.startsWith("//")) {
            return Optional.empty();
        }
        String f = spId.substring(2);
        return FQDN.matcher(f).matches() ? Optional.of(f) : Optional.empty();
    }

    /**
     * The identity of {@code from} seen by a proxy whose tenant has {@code spId} and fronts {@code cseId}
     * ({@code /id-in}); empty when {@code from} is not a CSE-ID or AE-ID this profile can map.
     */
    public static Optional<PeerIdentity> of(String from, String spId, String cseId) {
        Optional<String> sp = spFqdn(spId);
        if (from == null || from.isEmpty() || from.length() > 300 || sp.isEmpty()) {
            return Optional.empty();
        }
        String domain;
        String rest; // SP-relative part without the leading "/"
        if (from.startsWith("//")) {
            int slash = from.indexOf('/', 2);
            if (slash < 0) {
                return Optional.empty();
            }
            domain = from.substring(2, slash);
            rest = from.substring(slash + 1);
        } else if (from.startsWith("/")) {
            domain = sp.get();
            rest = from.substring(1);
        } else if (from.startsWith("C")) {
            // a CSE-relative AE-ID: registered with the CSE behind this proxy
            domain = sp.get();
            rest = cseId.substring(1) + "/" + from;
        } else if (from.startsWith("S")) {
            domain = sp.get();
            rest = from;
        } else {
            return Optional.empty();
        }
        if (!FQDN.matcher(domain).matches()) {
            return Optional.empty();
        }
        String[] segments = rest.split("/", -1);
        for (String s : segments) {
            if (!SEGMENT.matcher(s).matches()) {
                return Optional.empty();
            }
        }
        String absolute = "//" + domain + "/" + rest;
        if (segments.length == 1 && !segments[0].startsWith("S")) {
            String host = segments[0].toLowerCase(Locale.ROOT) + "." + domain;
            return FQDN.matcher(host).matches()
                    ? Optional.of(new PeerIdentity(absolute, SubjectType.CSE_ID, host))
                    : Optional.empty();
        }
        return Optional.of(new PeerIdentity(absolute, SubjectType.AE_ID, "https://" + domain + "/" + rest));
    }

    /** The host this identity's certificate names: the CSE's domain name, or the host of the AE-ID's URI. */
    public String fqdn() {
        return type == SubjectType.CSE_ID ? san : absolute.substring(2, absolute.indexOf('/', 2));
    }
}
